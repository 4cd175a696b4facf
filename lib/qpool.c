#define _GNU_SOURCE /* renameat2 */
#include "qpool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auto.h"
#include "fmt.h"
#include "qfile.h"

/* "pool/<slot>" */
static void slotname(char *buf, unsigned long slot)
{
  size_t n = fmt_str(buf, QPOOL_DIR "/");
  buf[n + fmt_ulong(buf + n, slot)] = 0;
}

int qpool_isoverflow(const char *name)
{
  return name[0] == 'x';
}

int qpool_put(const char *path, unsigned long *next, stralloc *overflow)
{
  char to[sizeof QPOOL_DIR + FMT_ULONG + 1];
  int fd, tries, ok = 0;
  struct stat st;

  fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -1) return 0;
  /* Someone still reads it (a delivery left over from before a restart,
   * say): it must not become another message under their eyes. */
  if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || flock(fd, LOCK_EX | LOCK_NB) == -1) {
    close(fd);
    return 0;
  }
  /* A few slots from the rotating start: a pool that full has enough. */
  for (tries = 0; tries < 8; ++tries) {
    slotname(to, (*next)++ % QPOOL_SLOTS);
    if (renameat2(AT_FDCWD, path, AT_FDCWD, to, RENAME_NOREPLACE) == 0) { ok = 1; break; }
    if (errno != EEXIST) { tries = -1; break; } /* ENOENT (no pool), EINVAL/ENOSYS (no NOREPLACE here) */
  }
  if (!ok && tries != -1) {
    /* The slots are full: an overflow name, unique since it is the
     * message number (the inode), which only this file has. */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    overflow->len = 0;
    if (stralloc_cats(overflow, QPOOL_DIR "/x") && stralloc_cats(overflow, base) && stralloc_0(overflow)
        && renameat2(AT_FDCWD, path, AT_FDCWD, overflow->s, RENAME_NOREPLACE) == 0)
      ok = 2;
  }
  close(fd); /* drops the lock: the file is out of mess/ now */
  return ok;
}

int qpool_aliased(const struct stat *st)
{
  static const char *const dirs[] = { "todo", "mess" };
  static stralloc fn = STRALLOC_ZERO; /* kept: this is on every message's path */
  struct stat o;
  int i, found = 0;
  for (i = 0; i < 2 && !found; ++i) {
    fn.len = 0;
    /* Out of memory: say yes, the file is then only left alone. */
    if (!qfile_name(&fn, dirs[i], (unsigned long)st->st_ino, auto_split) || !stralloc_0(&fn)) found = 1;
    else if (stat(fn.s, &o) == 0 && o.st_ino == st->st_ino && o.st_dev == st->st_dev) found = 1;
  }
  return found;
}

/* One candidate from the pool: its descriptor, locked, or -1. */
static int take(stralloc *path, const char *name)
{
  struct stat a, b;
  int fd;
  path->len = 0;
  if (!stralloc_cats(path, QPOOL_DIR "/") || !stralloc_cats(path, name) || !stralloc_0(path)) return -1;
  fd = open(path->s, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd == -1) return -1; /* taken meanwhile */
  /* Taken meanwhile (by another qmail-queue, which may even have queued
   * it already): do not lock it, a delivery may be opening it. The
   * check after the lock below is what decides; this one only keeps
   * such locks rare (qpool_hold waits the rest out). */
  if (fstat(fd, &a) == -1 || stat(path->s, &b) == -1 || a.st_ino != b.st_ino) {
    close(fd);
    return -1;
  }
  /* Another qmail-queue may have opened it too: the lock decides; and
   * the winner may have moved it on already: the name must still be
   * this file's. Only regular files of the queue user are queue files. */
  if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &a) == 0 && stat(path->s, &b) == 0
      && a.st_ino == b.st_ino && a.st_dev == b.st_dev && S_ISREG(a.st_mode) && a.st_uid == geteuid()
      && a.st_nlink == 1 && !qpool_aliased(&a))
    return fd;
  close(fd);
  return -1;
}

int qpool_take(stralloc *path)
{
  /* The directory is read a little at a time, not with readdir's 32 KiB:
   * the first few names almost always do, and the kernel's cost grows
   * with the names it returns (a full pool: about 30 us against 6). */
  union { struct dirent64 e; char b[1024]; } buf; /* aligned for the records */
  int dir = open(QPOOL_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int fd = -1;
  ssize_t n;
  if (dir == -1) return -1;
  while (fd == -1 && (n = getdents64(dir, buf.b, sizeof buf.b)) > 0) {
    ssize_t off = 0;
    while (fd == -1 && off < n) {
      struct dirent64 *e = (struct dirent64 *)(buf.b + off);
      if (!e->d_reclen) break;
      off += e->d_reclen;
      if (e->d_name[0] != '.') fd = take(path, e->d_name);
    }
  }
  close(dir);
  return fd;
}

void qpool_trim(const char *path)
{
  struct stat a, b;
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -1) return; /* taken, or gone */
  /* The lock qmail-queue takes: while we hold it, nobody writes the file;
   * and the name must still be this file's. */
  if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino
      && a.st_dev == b.st_dev)
    unlink(path);
  close(fd);
}

void qpool_share(int fd)
{
  /* flock(2) does not promise an atomic conversion: a qmail-queue that
   * opened this file in the pool before the rename may get the lock in
   * between, and lets go on finding the name gone (take); this request
   * waits for that. qmail-clean cannot be the one: it pools a file only
   * after its message was committed, delivered and removed. */
  flock(fd, LOCK_SH);
}

int qpool_hold(int fd, const char *path, unsigned long id)
{
  struct stat a, b;
  int tries;
  /* A qmail-queue that opened this file while it was still in the pool,
   * and lost it to another, may hold the lock for the few system calls it
   * takes to see that (qpool_take): wait that out, up to 50 ms. */
  for (tries = 0; flock(fd, LOCK_SH | LOCK_NB) == -1; ++tries) {
    struct timespec ms = { 0, 1000000 };
    if (errno != EWOULDBLOCK || tries >= 50) return 0;
    nanosleep(&ms, 0);
  }
  if (fstat(fd, &a) == -1 || stat(path, &b) == -1) return 0;
  if (a.st_ino != b.st_ino || a.st_dev != b.st_dev || (unsigned long)a.st_ino != id) return 0;
  return 1;
}
