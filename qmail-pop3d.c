/* qmail-pop3d: distribute the mail of a Maildir by POP3 (RFC 1939), after
 * a checkpassword program has logged the user in:
 *
 *   tcpserver ... qmail-popup HOST checkpassword qmail-pop3d Maildir
 *
 * It runs as the user, in the user's home, and serves the Maildir named
 * by its argument. As qmail-pop3d does: the messages of new/ and cur/ are
 * listed once, at the start, oldest first; STAT LIST UIDL TOP RETR DELE
 * RSET NOOP LAST QUIT; UIDL is the Maildir unique name; deletions happen
 * only at QUIT, which then moves what is left in new/ to cur/ with ":2,";
 * a connection that ends any other way (dropped, timed out) changes
 * nothing. Added: CAPA (RFC 2449) with PIPELINING and RESP-CODES, replies
 * flushed only when no command is waiting, command lines bounded to 512
 * bytes, messages of the current second listed (see lib/maildirlist.h),
 * and a message that another client moved or removed is looked up by its
 * unique name instead of failing the session.
 *
 * Every reply has been written when it exits 0; it exits 1 only when run
 * as root, before saying anything (qmail-popup then reports a failed
 * login). */

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buffer.h"
#include "error.h"
#include "fmt.h"
#include "maildirlist.h"
#include "open.h"
#include "pop3.h"
#include "sig.h"
#include "stralloc.h"
#include "strerr.h"

#define WARNING "qmail-pop3d: warning: "
/* qmail-pop3d's fixed idle timeout. It runs as the user, so it reads no
 * control files. */
#define TIMEOUT 1200
/* RFC 2449 section 4: 255 octets; qmail-popup allows 512 (with CRLF). */
#define LINEMAX 512

static char inbuf[1024];
static char outbuf[16384];
static buffer in;
static buffer out;

/* The client is gone, or too slow: end without touching the Maildir. */
static NORETURN void die(void) { _exit(0); }

static void put(const char *s, size_t n) { if (buffer_put(&out, s, n) == -1) die(); }
static void puts_(const char *s) { put(s, strlen(s)); }
static void flush(void) { if (buffer_flush(&out) == -1) die(); }
static void putnum(uint64_t u)
{
  char s[FMT_ULONG];
  put(s, fmt_ulong(s, u > ULONG_MAX ? ULONG_MAX : (unsigned long)u));
}
static void ok(void) { puts_("+OK \r\n"); }
static void err(const char *s) { puts_("-ERR "); puts_(s); puts_("\r\n"); }
static void err2(const char *s, const char *t) { puts_("-ERR "); puts_(s); puts_(t); puts_("\r\n"); }

static NORETURN void die_err(const char *s) { err(s); flush(); die(); }
static NORETURN void die_nomem(void) { die_err("[SYS/TEMP] out of memory"); }
static NORETURN void die_root(void) { strerr_die(1, "qmail-pop3d invoked as uid 0, terminating"); }

/* ---- the messages, as listed at the start ---- */

static struct maildirlist ml;
static unsigned char *deleted;  /* one flag per message: DELE'd */
static unsigned long last;      /* LAST: the highest message number accessed */
static stralloc tmp = STRALLOC_ZERO;

static void getlist(const char *maildir)
{
  if (chdir(maildir) == -1) {
    if (errno == ENOENT || errno == ENOTDIR) die_err("[SYS/PERM] this user has no $HOME/Maildir");
    if (error_temp(errno)) die_err("[SYS/TEMP] unable to enter $HOME/Maildir");
    die_err("[SYS/PERM] unable to enter $HOME/Maildir");
  }
  maildirlist_clean(time(0));
  if (maildirlist_scan(&ml) == -1) {
    if (errno == ENOMEM) die_nomem();
    err2("[SYS/TEMP] unable to scan $HOME/Maildir: ", error_str(errno));
    flush();
    die();
  }
  deleted = calloc(ml.len ? ml.len : 1, 1);
  if (!deleted) die_nomem();
}

/* The message numbered u (from 1), or -1 after an error reply. */
static long msgno(unsigned long u)
{
  if (!u) { err("messages are counted from 1"); return -1; }
  if (u > ml.len) { err("not that many messages"); return -1; }
  if (deleted[u - 1]) { err("already deleted"); return -1; }
  return (long)(u - 1);
}

/* A message number argument (exactly one) and the message it names. */
static long onemsg(const char *arg, size_t len)
{
  unsigned long n[2];
  if (pop3_nums(arg, len, 1, 1, n) == -1) { err("syntax error"); return -1; }
  return msgno(n[0]);
}

/* The unique name as UIDL gives it: RFC 1939 allows bytes 0x21 to 0x7e
 * only, so any other byte of a (foreign) file name is written as \ooo.
 * Names qmail and Quail deliver need no change, so UIDLs stay those
 * qmail-pop3d gave (longer than the RFC's 70 bytes when the host name is
 * long, as with qmail). */
static void putuidl(const struct maildirlist_msg *m)
{
  const char *u = m->fn + 4;
  size_t i, j = 0;
  for (i = 0; i < m->uniqlen; ++i) {
    unsigned char c = (unsigned char)u[i];
    if (c >= 0x21 && c <= 0x7e) continue;
    put(u + j, i - j);
    {
      char o[4] = { '\\', (char)('0' + (c >> 6)), (char)('0' + ((c >> 3) & 7)), (char)('0' + (c & 7)) };
      put(o, 4);
    }
    j = i + 1;
  }
  put(u + j, i - j);
}

static void listline(size_t i, int uidl)
{
  putnum(i + 1);
  put(" ", 1);
  if (uidl) putuidl(&ml.m[i]);
  else putnum(ml.m[i].size);
  put("\r\n", 2);
}

/* ---- commands ---- */

static void pop3_stat(void)
{
  uint64_t total = 0;
  size_t i, count = 0;
  for (i = 0; i < ml.len; ++i)
    if (!deleted[i]) {
      ++count;
      total = ml.m[i].size > UINT64_MAX - total ? UINT64_MAX : total + ml.m[i].size;
    }
  puts_("+OK ");
  putnum(count);
  put(" ", 1);
  putnum(total);
  put("\r\n", 2);
}

static void dolisting(const char *arg, size_t len, int uidl)
{
  unsigned long n[2];
  size_t i;
  int k = pop3_nums(arg, len, 0, 1, n);

  if (k == -1) { err("syntax error"); return; }
  if (k == 1) {
    long m = msgno(n[0]);
    if (m == -1) return;
    puts_("+OK ");
    listline((size_t)m, uidl);
    return;
  }
  ok();
  for (i = 0; i < ml.len; ++i)
    if (!deleted[i]) listline(i, uidl);
  put(".\r\n", 3);
}

/* Opens message i. When its file is gone, another client has moved it
 * (new/X to cur/X:2,, or cur/X:2, to cur/X:2,S) or removed it: it is
 * looked up again by its unique name, and the new name kept for QUIT. */
static int openmsg(size_t i)
{
  struct maildirlist_msg *m = &ml.m[i];
  int fd = open_read(m->fn);
  if (fd == -1 && errno == ENOENT) {
    int r = maildirlist_find(m->fn + 4, m->uniqlen, &tmp);
    if (r == -1) return -1;
    if (r == 0) { errno = ENOENT; return -1; }
    fd = open_read(tmp.s);
    if (fd != -1) {
      char *fn = strdup(tmp.s);
      if (!fn) die_nomem();
      free(m->fn);
      m->fn = fn;
    }
  }
  return fd;
}

static char msgbuf[16384];

static void retr(size_t i, int top, unsigned long k)
{
  struct pop3_msg pm;
  buffer b;
  int fd = openmsg(i);

  if (fd == -1) {
    if (errno == ENOENT) err("message gone: another client has removed it");
    else if (errno == ENOMEM) err("[SYS/TEMP] out of memory");
    else err2("[SYS/TEMP] unable to open that message: ", error_str(errno));
    return;
  }
  ok();
  buffer_init(&b, fd, msgbuf, sizeof msgbuf, 0);
  pop3_msg_start(&pm, top, k);
  while (!pm.done) {
    ssize_t n = buffer_feed(&b);
    if (n == 0) break;
    if (n == -1) {
      /* The +OK and part of the text have gone out; ending the
       * connection without the final "." is the only way to keep a
       * client from taking a truncated message for the whole one. */
      strerr_warn(WARNING, "unable to read ", ml.m[i].fn, ": ", error_str(errno));
      flush();
      die();
    }
    if (pop3_msg_put(&pm, &out, buffer_peek(&b), (size_t)n) == -1) die();
    buffer_seek(&b, (size_t)n);
  }
  close(fd);
  if (pop3_msg_end(&pm, &out) == -1) die();
}

static void pop3_retr(const char *arg, size_t len)
{
  long m = onemsg(arg, len);
  if (m == -1) return;
  if ((unsigned long)m + 1 > last) last = (unsigned long)m + 1;
  retr((size_t)m, 0, 0);
}

/* TOP n k: both numbers are required (RFC 1939). qmail took "TOP n" as
 * RETR; no client relies on that. TOP is not an access for LAST. */
static void pop3_top(const char *arg, size_t len)
{
  unsigned long n[2];
  long m;
  if (pop3_nums(arg, len, 2, 2, n) == -1) { err("syntax error"); return; }
  m = msgno(n[0]);
  if (m == -1) return;
  retr((size_t)m, 1, n[1]);
}

static void pop3_dele(const char *arg, size_t len)
{
  long m = onemsg(arg, len);
  if (m == -1) return;
  deleted[m] = 1;
  if ((unsigned long)m + 1 > last) last = (unsigned long)m + 1;
  ok();
}

static void pop3_rset(void)
{
  memset(deleted, 0, ml.len);
  last = 0;
  ok();
}

static void pop3_last(void)
{
  puts_("+OK ");
  putnum(last);
  put("\r\n", 2);
}

static void pop3_capa(void)
{
  puts_("+OK capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nPIPELINING\r\nRESP-CODES\r\n.\r\n");
}

/* Removes one DELE'd message. A file already gone is fine: another
 * client removed it, or moved it, and then it is removed where it went.
 * 0, or -1 when the message may still be there. */
static int removemsg(const struct maildirlist_msg *m)
{
  int r;
  if (unlink(m->fn) == 0) return 0;
  if (errno != ENOENT) return -1;
  r = maildirlist_find(m->fn + 4, m->uniqlen, &tmp);
  if (r == 0) return 0;
  if (r == -1) return errno == ENOENT ? 0 : -1;
  if (unlink(tmp.s) == 0 || errno == ENOENT) return 0;
  return -1;
}

/* The only place where the Maildir changes: first every DELE'd message
 * is removed, then what is left in new/ moves to cur/ (the client has
 * seen it listed). Each step is one unlink or rename, so a crash between
 * two leaves every message either where it was or where it belongs, and
 * nothing removed that the client did not DELE. A crash may undo an
 * unlink not yet on disk; that message then comes back, which is better
 * than an fsync per message. */
static NORETURN void pop3_quit(void)
{
  size_t i;
  int failed = 0;

  for (i = 0; i < ml.len; ++i)
    if (deleted[i] && removemsg(&ml.m[i]) == -1) {
      strerr_warn(WARNING, "unable to remove ", ml.m[i].fn, ": ", error_str(errno));
      failed = 1;
    }
  /* As qmail: a message that cannot be moved stays in new/ and is listed
   * again next time; nothing is lost. */
  for (i = 0; i < ml.len; ++i)
    if (!deleted[i]) maildirlist_seen(ml.m[i].fn, &tmp);
  if (failed) err("[SYS/TEMP] unable to remove all deleted messages");
  else ok();
  flush();
  _exit(0);
}

static stralloc line = STRALLOC_ZERO;

static void docommand(void)
{
  const char *arg;
  size_t arglen, n = line.len;

  if (n && line.s[n - 1] == '\n') --n;
  if (n && line.s[n - 1] == '\r') --n;
  if (memchr(line.s, 0, n)) { err("bad command"); return; }
  switch (pop3_verb(line.s, n, &arg, &arglen)) {
    case POP3_QUIT: pop3_quit();
    case POP3_STAT: pop3_stat(); return;
    case POP3_LIST: dolisting(arg, arglen, 0); return;
    case POP3_UIDL: dolisting(arg, arglen, 1); return;
    case POP3_RETR: pop3_retr(arg, arglen); return;
    case POP3_TOP: pop3_top(arg, arglen); return;
    case POP3_DELE: pop3_dele(arg, arglen); return;
    case POP3_RSET: pop3_rset(); return;
    case POP3_LAST: pop3_last(); return;
    case POP3_NOOP: ok(); return;
    case POP3_CAPA: pop3_capa(); return;
    default: err("unimplemented"); return;
  }
}

int main(int argc, char **argv)
{
  (void)argc;
  sig_ignore(SIGPIPE);
  if (getuid() == 0 || geteuid() == 0) die_root();
  buffer_init(&in, 0, inbuf, sizeof inbuf, TIMEOUT);
  buffer_init(&out, 1, outbuf, sizeof outbuf, TIMEOUT);
  if (!argv[1]) die_err("[SYS/PERM] this user has no $HOME/Maildir");
  getlist(argv[1]);
  ok();

  for (;;) {
    int r;
    /* Pipelining (RFC 2449): replies wait while more commands are
     * already here, and go out together before the next read blocks. */
    if (in.p == in.n) flush();
    line.len = 0;
    r = buffer_getline(&in, &line, '\n', LINEMAX);
    if (r == -1 && errno == ENOMEM) die_nomem();
    if (r == -1) die();
    if (r == 0) {
      /* The client has stopped sending (it may have half-closed after a
       * burst of commands): the replies owed still go out. A partial
       * line at the end is no command, and no QUIT. */
      buffer_flush(&out);
      die();
    }
    if (r == -2) {
      if (buffer_skipline(&in, '\n') != 1) die();
      err("line too long");
      continue;
    }
    docommand();
  }
}
