/* qmail-clean: the queue user's hands for qmail-send.
 *
 * qmail-send runs as qmails and may not change the queue directories,
 * which belong to qmailq; qmail-clean, started by qmail-start as qmailq,
 * does it on request. Commands on descriptor 0, one answer byte each on
 * descriptor 1 ('+' done, '!' failed, 'x' not understood):
 *
 *   C <id> NUL <msglen> NUL   commit a preprocessed message: cut
 *                             todo/N/<id> back to its message (the
 *                             envelope now lives in qmail-send's journal)
 *                             and move it to mess/N/<id> (link, then the
 *                             todo/ name goes once mess/N is synced:
 *                             settle)
 *   T <id> NUL <msglen> NUL   cut mess/N/<id> back to msglen (recovery)
 *   D <id> NUL                drop todo/N/<id>: a file qmail-send found
 *                             not whole after a crash (qfile_verify),
 *                             removed as by R; or the second name of a
 *                             committed message a crash left (a file with
 *                             another link), unlinked as by settle
 *   R <id> NUL                remove mess/N/<id>: into queue/pool/ for
 *                             qmail-queue to reuse when nobody reads it
 *                             (past the pool's slots under an overflow
 *                             name, deleted when there is nothing else
 *                             to do), else deleted
 *   P NUL                     remove files in pid/ older than 36 hours
 *                             (left by a qmail-queue that died on a
 *                             filesystem without O_TMPFILE)
 *
 * It exits when qmail-send closes descriptor 0.
 *
 * At start it takes lock/cleanmutex, waiting for a qmail-clean left over
 * from a killed qmail-send to finish the commands it had already
 * received, then says '+' once: qmail-send recovers its state only after
 * that, so nothing moves under its feet while it looks. */

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "commit.h"
#include "fmt.h"
#include "lock.h"
#include "qfile.h"
#include "qpool.h"
#include "scan.h"
#include "sig.h"
#include "stralloc.h"

#define OSSIFIED 129600 /* 36 hours, well past qmail-queue's 24-hour timer */
#define TRIM_IDLE 1000   /* ms without a command before pool overflow files go */
#define TRIM_BACKLOG 10000 /* unless more wait: then one whenever no command waits */

static char inspace[1024];
static char outspace[256];
static buffer in;
static buffer out;

static int num(const stralloc *f, unsigned long *u)
{
  return f->len && scan_whole_ulong(f->s, (unsigned long)-1, u);
}

static stralloc fn = STRALLOC_ZERO;
static stralloc fn2 = STRALLOC_ZERO;

static int name(stralloc *sa, const char *dir, unsigned long id)
{
  sa->len = 0;
  return qfile_name(sa, dir, id, auto_split) && stralloc_0(sa);
}

/* A commit moves a file from todo/N to mess/N, two directories that reach
 * the disk separately on a filesystem without a journal: todo/N is synced
 * by every qmail-queue naming a file there, mess/N by nobody. With a
 * rename, a power cut could find the todo/ name gone and the mess/ one
 * not yet there, and the message lost. So a commit links the file into
 * mess/N, and its todo/ name goes only once mess/N is synced: here, for
 * all commits since at once, SETTLE_WAIT after the first of them (or
 * past SETTLE_MAX of them), when no command waits. Nothing hurries:
 * until then the todo/ name is what survives a power cut. A file with
 * both names is a committed message to qmail-send (its recovery has the
 * second name dropped with D). Each mess/N synced is a disk flush, and a
 * burst touches every N in milliseconds: settling at once cost most of
 * an fsync per message.
 *
 * A message removed (R) before its commit settled is finished: its todo/
 * name goes at once then, with no sync (a power cut losing both names
 * loses nothing now), and leaves the list, before the file is pooled: a
 * reused file gets the same number, and the todo/ name with it. */
#define SETTLE_WAIT 100  /* ms */
#define SETTLE_MAX 4096  /* commits */
static unsigned long *settling;     /* ids whose todo/ name is to go */
static size_t nsettling;
static struct timespec settlesince; /* when the first of them came */
static char *dirty;                 /* per mess/ subdirectory: to sync first */

static void settle(void);

static int settle_add(unsigned long id)
{
  size_t i;
  for (i = 0; i < nsettling; ++i)
    if (settling[i] == id) return 1; /* asked again (D after C) */
  if (!nsettling) {
    clock_gettime(CLOCK_MONOTONIC, &settlesince);
    if (!settling && !(settling = malloc(SETTLE_MAX * sizeof *settling))) return 0;
  }
  settling[nsettling++] = id;
  dirty[auto_split ? id % auto_split : 0] = 1;
  if (nsettling >= SETTLE_MAX) settle();
  return 1;
}

/* Takes id off the list: 1 if it was there. */
static int settle_drop(unsigned long id)
{
  size_t i;
  for (i = 0; i < nsettling; ++i)
    if (settling[i] == id) {
      settling[i] = settling[--nsettling];
      return 1;
    }
  return 0;
}

/* ms until the commits waiting are to be settled: -1 if none waits. */
static int settle_left(void)
{
  struct timespec now;
  long ms;
  if (!nsettling) return -1;
  clock_gettime(CLOCK_MONOTONIC, &now);
  ms = (long)(now.tv_sec - settlesince.tv_sec) * 1000 + (now.tv_nsec - settlesince.tv_nsec) / 1000000;
  return ms >= SETTLE_WAIT ? 0 : (int)(SETTLE_WAIT - ms);
}

static void settle(void)
{
  char dir[16 + FMT_ULONG];
  unsigned long i;
  size_t k;
  if (!nsettling) return;
  for (i = 0; i < (auto_split ? auto_split : 1); ++i) {
    size_t n;
    if (!dirty[i]) continue;
    n = fmt_str(dir, "mess");
    if (auto_split) n += fmt_str(dir + n, "/") + fmt_ulong(dir + n + 1, i);
    dir[n] = 0;
    if (commit_dir(dir) == -1) {
      /* The todo/ names stay, and all is tried again SETTLE_WAIT later. */
      clock_gettime(CLOCK_MONOTONIC, &settlesince);
      return;
    }
    dirty[i] = 0;
  }
  for (k = 0; k < nsettling; ++k)
    if (name(&fn2, "todo", settling[k])) unlink(fn2.s);
  nsettling = 0;
}

/* Idempotent: qmail-send may ask again after a crash. */
static char commit(unsigned long id, unsigned long msglen)
{
  struct stat st;
  if (!name(&fn, "todo", id) || !name(&fn2, "mess", id)) return '!';
  if (stat(fn.s, &st) == -1) {
    if (errno == ENOENT && stat(fn2.s, &st) == 0) return '+'; /* done already */
    return '!';
  }
  if ((uint64_t)st.st_size < msglen) return '!'; /* not the file qmail-send read */
  /* qmail-queue names the file before its fsync, and marks it once that
   * returns (lib/qfile.h). Not marked: it is still at it, or died; either
   * way the message must be on disk before it is in mess/, where nothing
   * checks it after a crash. */
  if (!(st.st_mode & QFILE_SYNCED)) {
    int fd = open(fn.s, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    int r;
    if (fd == -1) return '!';
    r = fsync(fd);
    close(fd);
    if (r == -1) return '!';
  }
  if ((uint64_t)st.st_size > msglen && truncate(fn.s, (off_t)msglen) == -1) return '!';
  if (link(fn.s, fn2.s) == -1) {
    struct stat m;
    /* linked already (asked again before the todo/ name went) */
    if (errno != EEXIST || stat(fn2.s, &m) == -1 || m.st_ino != st.st_ino || m.st_dev != st.st_dev) return '!';
  }
  return settle_add(id) ? '+' : '!';
}

static char cut(unsigned long id, unsigned long msglen)
{
  struct stat st;
  if (!name(&fn, "mess", id)) return '!';
  if (stat(fn.s, &st) == -1) return '!';
  if ((uint64_t)st.st_size > msglen && truncate(fn.s, (off_t)msglen) == -1) return '!';
  return '+';
}

static unsigned long poolnext;

/* Overflow names in the pool (lib/qpool.h), to delete when idle: their
 * text, NUL-terminated one after the other, from trimpos on. */
static stralloc trim = STRALLOC_ZERO;
static size_t trimpos;
static unsigned long trimcount; /* names from trimpos on */
static stralloc overflow = STRALLOC_ZERO;

static void trim_add(const char *name)
{
  if (trimpos && trimpos == trim.len) trim.len = trimpos = 0;
  /* Out of memory: the file just stays in the pool, for reuse. */
  if (!stralloc_cats(&trim, name)) return;
  if (!stralloc_0(&trim)) { trim.len -= strlen(name); return; }
  ++trimcount;
}

/* Deletes one overflow file. qmail-queue may have taken it: that's fine. */
static void trim_one(void)
{
  const char *f = trim.s + trimpos;
  qpool_trim(f);
  trimpos += strlen(f) + 1;
  --trimcount;
  if (trimpos == trim.len) trim.len = trimpos = 0;
}

/* At start: overflow files a previous qmail-clean left, to delete when
 * idle; and pool names that a power cut left on a live message's file
 * (qpool_aliased), unlinked at once. */
static void pool_scan(void)
{
  DIR *d = opendir(QPOOL_DIR);
  struct dirent *e;
  if (!d) return;
  while ((e = readdir(d))) {
    struct stat st;
    if (e->d_name[0] == '.') continue;
    fn.len = 0;
    if (!stralloc_cats(&fn, QPOOL_DIR "/") || !stralloc_cats(&fn, e->d_name) || !stralloc_0(&fn)) continue;
    if (lstat(fn.s, &st) == 0 && S_ISREG(st.st_mode) && qpool_aliased(&st))
      unlink(fn.s);
    else if (qpool_isoverflow(e->d_name))
      trim_add(fn.s);
  }
  closedir(d);
}

static char removefile(const char *dir, unsigned long id)
{
  if (!name(&fn, dir, id)) return '!';
  switch (qpool_put(fn.s, &poolnext, &overflow)) {
    case 2: trim_add(overflow.s); /* fall through */
    case 1: return '+';
  }
  if (unlink(fn.s) == -1 && errno != ENOENT) return '!';
  return '+';
}

static char removemess(unsigned long id)
{
  /* Finished before its commit settled: the todo/ name goes now (above). */
  if (settle_drop(id) && name(&fn, "todo", id)) unlink(fn.s);
  return removefile("mess", id);
}

static char droptodo(unsigned long id)
{
  struct stat st;
  if (!name(&fn, "todo", id)) return '!';
  if (stat(fn.s, &st) == -1) return errno == ENOENT ? '+' : '!';
  if (st.st_nlink > 1) return settle_add(id) ? '+' : '!';
  return removefile("todo", id);
}

static char cleanpid(void)
{
  DIR *d = opendir("pid");
  struct dirent *e;
  time_t now = time(0);
  if (!d) return '!';
  while ((e = readdir(d))) {
    struct stat st;
    if (e->d_name[0] == '.') continue;
    fn.len = 0;
    if (!stralloc_cats(&fn, "pid/") || !stralloc_cats(&fn, e->d_name) || !stralloc_0(&fn)) break;
    if (stat(fn.s, &st) == 0 && st.st_mtime + OSSIFIED < now) unlink(fn.s);
  }
  closedir(d);
  return '+';
}

int main(void)
{
  stralloc f[3] = { STRALLOC_ZERO, STRALLOC_ZERO, STRALLOC_ZERO };

  sig_ignore(SIGPIPE);
  if (chdir(auto_qmail) == -1 || chdir("queue") == -1) _exit(111);
  buffer_init(&in, 0, inspace, sizeof inspace, 0);
  buffer_init(&out, 1, outspace, sizeof outspace, 0);
  {
    int fd = open("lock/cleanmutex", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd == -1 || lock_ex(fd) == -1) _exit(111);
    /* the lock is held until this process exits */
  }
  if (!(dirty = calloc(auto_split ? auto_split : 1, 1))) _exit(111);
  if (buffer_putflush(&out, "+", 1) == -1) _exit(0);
  pool_scan();

  for (;;) {
    unsigned long id, len;
    char answer, cmd;
    int r, k, want;

    /* No command waits: settle the commits when due (settle), and delete
     * overflow files one by one once no command has come for TRIM_IDLE
     * and as long as none waits. A new message's commit must not wait
     * behind them; nor may a delivery just started: the discard a
     * deletion issues here slows every fsync for a millisecond or more,
     * so the deletions wait until the work of the moment is surely done.
     * Until then qmail-queue may reuse these files too. But a queue never
     * idle that long after a huge burst must not keep its disk space
     * forever: past TRIM_BACKLOG files they go as before. */
    if (in.p == in.n) {
      int trimwait = trimcount > TRIM_BACKLOG ? 0 : TRIM_IDLE;
      for (;;) {
        int left = settle_left(), wait = left, trimming = 0;
        struct pollfd p;
        if (left == 0) { settle(); continue; }
        if (trimpos < trim.len && (wait < 0 || trimwait <= wait)) { wait = trimwait; trimming = 1; }
        if (wait < 0) break; /* nothing to do but wait for a command */
        p.fd = 0;
        p.events = POLLIN;
        if (poll(&p, 1, wait) != 0) break;
        if (trimming) { trim_one(); trimwait = 0; }
      }
    }

    f[0].len = 0;
    r = buffer_getline(&in, &f[0], '\0', 64);
    if (r <= 0) { settle(); break; } /* qmail-send is gone, or a broken command stream */
    cmd = f[0].s[0];
    want = cmd == 'C' || cmd == 'T' ? 1 : 0;
    for (k = 1; k <= want; ++k) {
      f[k].len = 0;
      if (buffer_getline(&in, &f[k], '\0', 64) != 1) _exit(0);
      --f[k].len;
    }
    --f[0].len;
    if (!stralloc_0(&f[0]) || (want && !stralloc_0(&f[1]))) _exit(111);
    {
      stralloc idf = STRALLOC_ZERO;
      int ok = stralloc_copyb(&idf, f[0].s + 1, f[0].len - 1) && stralloc_0(&idf);
      switch (cmd) {
        case 'C': answer = ok && num(&idf, &id) && num(&f[1], &len) ? commit(id, len) : 'x'; break;
        case 'T': answer = ok && num(&idf, &id) && num(&f[1], &len) ? cut(id, len) : 'x'; break;
        case 'R': answer = ok && num(&idf, &id) ? removemess(id) : 'x'; break;
        case 'D': answer = ok && num(&idf, &id) ? droptodo(id) : 'x'; break;
        case 'P': answer = cleanpid(); break;
        default: answer = 'x';
      }
      stralloc_free(&idf);
    }
    if (buffer_put(&out, &answer, 1) == -1) break;
    /* Answer at once unless more commands are already waiting; but the
     * last of a run of commits at once anyway: their deliveries wait for
     * it, and need not wait for the removals qmail-send sent along. */
    if ((in.p == in.n || (cmd == 'C' && *buffer_peek(&in) != 'C')) && buffer_flush(&out) == -1) break;
  }
  _exit(0);
}
