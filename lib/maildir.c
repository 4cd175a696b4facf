#include "maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commit.h"
#include "uniq.h"

static char maildir_buf[65536];
static stralloc maildir_dir = STRALLOC_ZERO;  /* dir, ending in '/' */
static stralloc maildir_uniq = STRALLOC_ZERO;
static stralloc maildir_tmpfn = STRALLOC_ZERO;
static stralloc maildir_newfn = STRALLOC_ZERO;
static const char *volatile maildir_tmpname; /* the named tmp/ file, while it exists */

void maildir_cleanup(void)
{
  const char *fn = maildir_tmpname;
  if (fn) unlink(fn);
}

/* Writes head and then fd's content to out, in buffer-sized writes (a
 * small message is one write). -1 with *readerr set if fd could not be
 * read, -1 with *readerr clear if out could not be written. */
static int maildir_copy(int out, int fd, const char *head, size_t headlen, int *readerr)
{
  off_t off = 0;
  size_t n = 0;

  *readerr = 0;
  if (headlen >= sizeof maildir_buf) {
    if (commit_writeall(out, head, headlen) == -1) return -1;
  } else {
    memcpy(maildir_buf, head, headlen);
    n = headlen;
  }
  for (;;) {
    ssize_t r = pread(fd, maildir_buf + n, sizeof maildir_buf - n, off);
    if (r == -1) {
      if (errno == EINTR) continue;
      *readerr = 1;
      return -1;
    }
    if (r == 0) break;
    off += r;
    n += (size_t)r;
    if (n == sizeof maildir_buf) {
      if (commit_writeall(out, maildir_buf, n) == -1) return -1;
      n = 0;
    }
  }
  if (n && commit_writeall(out, maildir_buf, n) == -1) return -1;
  return 0;
}

static int maildir_names(const char *host)
{
  maildir_uniq.len = 0;
  if (!uniq_maildir(&maildir_uniq, host)) return 0;
  return stralloc_copy(&maildir_newfn, &maildir_dir) && stralloc_cats(&maildir_newfn, "new/")
         && stralloc_cat(&maildir_newfn, &maildir_uniq) && stralloc_0(&maildir_newfn);
}

static enum maildir_status maildir_fail(int fd, enum maildir_status st)
{
  int e = errno;
  if (fd != -1) close(fd);
  errno = e;
  return st;
}

/* The classic delivery through a named file in tmp/. */
static enum maildir_status maildir_named(int msgfd, const char *head, size_t headlen, const char *host)
{
  int fd = -1, readerr, e;
  unsigned tries;

  for (tries = 0; tries < 3; ++tries) {
    if (!maildir_names(host)) return MAILDIR_ENOMEM;
    if (!stralloc_copy(&maildir_tmpfn, &maildir_dir) || !stralloc_cats(&maildir_tmpfn, "tmp/")
        || !stralloc_cat(&maildir_tmpfn, &maildir_uniq) || !stralloc_0(&maildir_tmpfn))
      return MAILDIR_ENOMEM;
    do fd = open(maildir_tmpfn.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600); while (fd == -1 && errno == EINTR);
    if (fd != -1 || errno != EEXIST) break;
  }
  if (fd == -1) return MAILDIR_ETMP;
  maildir_tmpname = maildir_tmpfn.s;

  if (maildir_copy(fd, msgfd, head, headlen, &readerr) == -1) {
    e = errno;
    close(fd);
    goto unlinktmp;
  }
  readerr = 0;
  if (commit_fsyncclose(fd) == -1) { e = errno; goto unlinktmp; }
  if (link(maildir_tmpfn.s, maildir_newfn.s) == -1) {
    e = errno;
    unlink(maildir_tmpfn.s);
    maildir_tmpname = 0;
    errno = e;
    return MAILDIR_ENEW;
  }
  /* Delivered once the directory is on disk; a stale tmp/ name left by a
   * crash here is what readers clean up after 36 hours. */
  unlink(maildir_tmpfn.s);
  maildir_tmpname = 0;
  if (commit_dirof(maildir_newfn.s) == -1) return MAILDIR_ENEW;
  return MAILDIR_OK;

unlinktmp:
  unlink(maildir_tmpfn.s);
  maildir_tmpname = 0;
  errno = e;
  return readerr ? MAILDIR_EREAD : MAILDIR_EWRITE;
}

/* 1 if dir/new is a directory. */
static int maildir_hasnew(void)
{
  struct stat st;
  size_t len = maildir_dir.len;
  int r;
  if (!stralloc_cats(&maildir_dir, "new") || !stralloc_0(&maildir_dir)) return 0;
  r = stat(maildir_dir.s, &st) == 0 && S_ISDIR(st.st_mode);
  maildir_dir.len = len;
  return r;
}

enum maildir_status maildir_deliver(const char *dir, int msgfd, const char *head, size_t headlen,
                                    const char *host, stralloc *name)
{
  enum maildir_status st;
  size_t len;
  int fd, readerr, e;

  if (!stralloc_copys(&maildir_dir, dir)) return MAILDIR_ENOMEM;
  if (!maildir_dir.len || maildir_dir.s[maildir_dir.len - 1] != '/')
    if (!stralloc_append(&maildir_dir, '/')) return MAILDIR_ENOMEM;

  len = maildir_dir.len;
  if (!stralloc_cats(&maildir_dir, "tmp") || !stralloc_0(&maildir_dir)) return MAILDIR_ENOMEM;
  fd = commit_tmpfile(maildir_dir.s, 0600);
  maildir_dir.len = len;
  if (fd == -1) {
    if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
      st = maildir_named(msgfd, head, headlen, host);
      goto done;
    }
    return MAILDIR_ETMP;
  }
  if (maildir_copy(fd, msgfd, head, headlen, &readerr) == -1)
    return maildir_fail(fd, readerr ? MAILDIR_EREAD : MAILDIR_EWRITE);
  /* Data and inode on disk before the file has a name. */
  if (fsync(fd) == -1) return maildir_fail(fd, MAILDIR_EWRITE);
  if (!maildir_names(host)) return maildir_fail(fd, MAILDIR_ENOMEM);
  if (commit_linkfd(fd, maildir_newfn.s) == -1) {
    e = errno;
    close(fd);
    /* ENOENT with new/ there: this kernel cannot name an unnamed file
     * (no /proc); write the message again the classic way. */
    if (e == ENOENT && maildir_hasnew()) {
      st = maildir_named(msgfd, head, headlen, host);
      goto done;
    }
    errno = e;
    return MAILDIR_ENEW;
  }
  /* Named and fsynced: a failing close can no longer undo the delivery. */
  close(fd);
  st = MAILDIR_OK;
done:
  /* Delivered: running out of memory for the caller's copy of the name
   * must not turn that into a failure (and a second delivery). */
  if (st == MAILDIR_OK && name && (!stralloc_copy(name, &maildir_uniq) || !stralloc_0(name))) name->len = 0;
  return st;
}
