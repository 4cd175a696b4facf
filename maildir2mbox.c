/* maildir2mbox: move the mail in $MAILDIR into the mbox $MAIL.
 *
 * As qmail's maildir2mbox: the old mbox and every message in new/ and
 * cur/ (oldest first) are written into $MAILTMP, which is fsynced and
 * renamed over $MAIL; only then are the messages removed from the
 * Maildir. A crash leaves the old mbox or the new one, never a mixture,
 * and a message is never lost (at worst it is moved twice). $MAIL is
 * locked (flock) while this runs, and qmail-local, which appends under the
 * same lock, notices the renamed file and appends to the new one. The
 * From_ line and >From quoting are lib/mbox's. */

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buffer.h"
#include "commit.h"
#include "env.h"
#include "error.h"
#include "lock.h"
#include "maildirlist.h"
#include "mbox.h"
#include "open.h"
#include "stralloc.h"
#include "strerr.h"

#define FATAL "maildir2mbox: fatal: "
#define WARNING "maildir2mbox: warning: "
/* The first line is read whole only to find a Return-Path in it. */
#define FIRSTLINE_MAX 65536

static const char *mbox, *mboxtmp;

static NORETURN void die_nomem(void) { strerr_die(111, FATAL, "out of memory"); }
static NORETURN void die_write(void) { strerr_die(111, FATAL, "unable to write to ", mboxtmp, ": ", error_str(errno)); }
static NORETURN void die_readmsg(const char *fn)
{
  strerr_die(111, FATAL, "unable to read $MAILDIR/", fn, ": ", error_str(errno));
}

struct msg {
  char *fn;   /* "new/..." or "cur/..." */
  time_t mtime;
};

static struct msg *msgs;
static size_t nmsgs, amsgs;

static int msg_cmp(const void *a, const void *b)
{
  const struct msg *x = a, *y = b;
  if (x->mtime != y->mtime) return x->mtime < y->mtime ? -1 : 1;
  return strcmp(x->fn, y->fn);
}

/* Adds the messages of sub/ that are older than now (a message delivered
 * in this very second could be older than one not yet seen). */
static void scan(const char *sub, time_t now)
{
  struct dirent *de;
  DIR *dir = opendir(sub);
  if (!dir) strerr_die(111, FATAL, "unable to scan $MAILDIR/", sub, ": ", error_str(errno));
  for (;;) {
    stralloc fn = STRALLOC_ZERO;
    struct stat st;
    errno = 0;
    de = readdir(dir);
    if (!de) break;
    if (de->d_name[0] == '.') continue;
    if (!stralloc_copys(&fn, sub) || !stralloc_append(&fn, '/') || !stralloc_cats(&fn, de->d_name)
        || !stralloc_0(&fn))
      die_nomem();
    if (stat(fn.s, &st) == -1 || !S_ISREG(st.st_mode) || st.st_mtime >= now) {
      stralloc_free(&fn);
      continue;
    }
    if (nmsgs == amsgs) {
      struct msg *p;
      if (amsgs > ((size_t)-1) / 4 / sizeof *msgs) die_nomem();
      amsgs = amsgs ? amsgs * 2 : 64;
      p = realloc(msgs, amsgs * sizeof *msgs);
      if (!p) die_nomem();
      msgs = p;
    }
    msgs[nmsgs].fn = fn.s;
    msgs[nmsgs].mtime = st.st_mtime;
    ++nmsgs;
  }
  if (errno) strerr_die(111, FATAL, "unable to read $MAILDIR/", sub, ": ", error_str(errno));
  closedir(dir);
}

static char inspace[65536];
static char outspace[65536];

/* One message: its From_ line (sender from its Return-Path line, date
 * from its file's mtime), then the message, >From-quoted. */
static void copy_message(buffer *out, const struct msg *m)
{
  stralloc line = STRALLOC_ZERO, ufline = STRALLOC_ZERO;
  struct mbox_quote q;
  buffer in;
  int r, fd;

  fd = open_read(m->fn);
  if (fd == -1) die_readmsg(m->fn);
  buffer_init(&in, fd, inspace, sizeof inspace, 0);
  r = buffer_getline(&in, &line, '\n', FIRSTLINE_MAX);
  if (r == -1) die_readmsg(m->fn);

  if (r == 1 && stralloc_starts(&line, "Return-Path: <")) {
    /* "Return-Path: <sender>\n": what is between the brackets. */
    size_t n = line.len >= 16 ? line.len - 16 : 0;
    if (!mbox_ufline(&ufline, line.s + 14, line.s[14] == '>' ? 0 : n, m->mtime)) die_nomem();
  } else if (!mbox_ufline(&ufline, "XXX", 3, m->mtime)) {
    die_nomem();
  }
  if (buffer_put(out, ufline.s, ufline.len) == -1) die_write();

  mbox_quote_start(&q);
  if (mbox_quote_put(&q, out, line.s, line.len) == -1) die_write();
  for (;;) {
    ssize_t n = buffer_feed(&in);
    if (n == -1) die_readmsg(m->fn);
    if (n == 0) break;
    if (mbox_quote_put(&q, out, buffer_peek(&in), (size_t)n) == -1) die_write();
    buffer_seek(&in, (size_t)n);
  }
  if (mbox_quote_end(&q, out) == -1) die_write();
  close(fd);
  stralloc_free(&line);
  stralloc_free(&ufline);
}

int main(void)
{
  const char *maildir;
  buffer in, out;
  time_t now;
  size_t i;
  int fdlock, fdold, fdnew;

  umask(077);
  mbox = env_get("MAIL");
  if (!mbox) strerr_die(111, FATAL, "MAIL not set");
  mboxtmp = env_get("MAILTMP");
  if (!mboxtmp) strerr_die(111, FATAL, "MAILTMP not set");
  maildir = env_get("MAILDIR");
  if (!maildir) strerr_die(111, FATAL, "MAILDIR not set");
  if (chdir(maildir) == -1) strerr_die(111, FATAL, "unable to chdir to ", maildir, ": ", error_str(errno));

  now = time(0);
  maildirlist_clean(now);
  scan("new", now);
  scan("cur", now);
  if (!nmsgs) return 0; /* nothing new: the mbox is not touched */
  qsort(msgs, nmsgs, sizeof *msgs, msg_cmp);

  fdlock = open_append(mbox);
  if (fdlock == -1 || lock_ex(fdlock) == -1)
    strerr_die(111, FATAL, "unable to lock ", mbox, ": ", error_str(errno));
  fdold = open_read(mbox);
  if (fdold == -1) strerr_die(111, FATAL, "unable to read ", mbox, ": ", error_str(errno));
  fdnew = open_trunc(mboxtmp);
  if (fdnew == -1) strerr_die(111, FATAL, "unable to create ", mboxtmp, ": ", error_str(errno));

  buffer_init(&in, fdold, inspace, sizeof inspace, 0);
  buffer_init(&out, fdnew, outspace, sizeof outspace, 0);
  switch (buffer_copy(&out, &in)) {
    case -2: strerr_die(111, FATAL, "unable to read ", mbox, ": ", error_str(errno));
    case -3: die_write();
  }
  close(fdold);

  for (i = 0; i < nmsgs; ++i) copy_message(&out, &msgs[i]);

  if (buffer_flush(&out) == -1 || commit_fsyncclose(fdnew) == -1) die_write();
  if (commit_rename(mboxtmp, mbox) == -1)
    strerr_die(111, FATAL, "unable to move ", mboxtmp, " to ", mbox, ": ", error_str(errno));

  for (i = 0; i < nmsgs; ++i)
    if (unlink(msgs[i].fn) == -1)
      strerr_warn(WARNING, "$MAILDIR/", msgs[i].fn, " will be delivered twice; unable to unlink: ", error_str(errno));
  return 0;
}
