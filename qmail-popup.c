/* qmail-popup: the POP3 login, run under tcpserver.
 *
 *   qmail-popup hostname subprogram [args...]
 *
 * It greets the client with an APOP timestamp, reads USER and PASS (or
 * APOP), and runs the subprogram -- normally checkpassword qmail-pop3d
 * Maildir -- with "user\0password\0timestamp\0" on descriptor 3 and the
 * client on descriptors 0 and 1. A subprogram that accepts the login
 * becomes the POP3 session; one that refuses it exits non-zero, and the
 * client may try again, slower each time, a few times.
 *
 * The connection is read one byte at a time: whatever the client sends
 * after PASS (a pipelining client sends STAT at once) belongs to the
 * session, so none of it may sit in a buffer here when the subprogram
 * starts. */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "checkpw.h"
#include "control.h"
#include "fmt.h"
#include "sig.h"
#include "stralloc.h"
#include "strerr.h"

#define LINEMAX 512      /* bytes, with the CRLF */
#define TIMEOUT 1200     /* seconds without input, as qmail-popup; control/timeoutpop3 */
#define FAILMAX 5        /* failed logins before the connection is closed */

static char outspace[1024];
static buffer out;
static unsigned long timeout = TIMEOUT;

static void put(const char *s) { buffer_puts(&out, s); }
static void flush(void) { buffer_flush(&out); }
static NORETURN void quit(const char *s)
{
  put(s);
  flush();
  _exit(1);
}
static NORETURN void die_nomem(void) { quit("-ERR [SYS/TEMP] out of memory\r\n"); }
static NORETURN void die_usage(void)
{
  static const char msg[] = "qmail-popup: usage: qmail-popup hostname subprogram [args...]\n";
  if (write(2, msg, sizeof msg - 1) < 0) {}
  _exit(100);
}

/* One line, read byte by byte, without its CRLF. 1; 0 if it was too long
 * or held a NUL (the rest of the line is discarded). End of file, a read
 * error or the timeout end the session. */
static int getline_raw(stralloc *sa)
{
  int bad = 0;
  sa->len = 0;
  flush();
  for (;;) {
    char c;
    ssize_t r = buffer_unixread(0, &c, 1, (int)timeout);
    if (r == -1) {
      if (errno == ETIMEDOUT) quit("-ERR [SYS/TEMP] timeout\r\n");
      _exit(1);
    }
    if (r == 0) _exit(1);
    if (c == '\n') break;
    if (!c || sa->len + 2 > LINEMAX) bad = 1; /* this byte and the LF must fit */
    if (!bad && !stralloc_append(sa, c)) die_nomem();
  }
  if (bad) return 0;
  if (sa->len && sa->s[sa->len - 1] == '\r') --sa->len;
  return 1;
}

static int verb(const stralloc *line, const char *v, const char **arg)
{
  size_t n = strlen(v), i;
  if (line->len < n) return 0;
  for (i = 0; i < n; ++i) {
    char c = line->s[i];
    if (c >= 'a' && c <= 'z') c = (char)(c - 32);
    if (c != v[i]) return 0;
  }
  if (line->len > n && line->s[n] != ' ') return 0;
  *arg = line->len > n ? line->s + n + 1 : line->s + line->len;
  return 1;
}

static stralloc line, user, timestamp;
static char **subprogram;
static unsigned long failures;

/* Runs the subprogram; returns only if it refused the login. */
static void login(const char *pass, size_t plen)
{
  int r;
  flush();
  r = checkpw_runv(subprogram, user.s, user.len, pass, plen, timestamp.s, 0, 1);
  if (r == 0) _exit(0); /* the session happened, and is over */
  ++failures;
  /* Slow down guessing: 1, 2, 4, 8 s, then hang up. */
  sleep(failures >= 4 ? 8 : 1U << (failures - 1));
  if (r == 1 || r == 2) put("-ERR [AUTH] authorization failed\r\n");
  else put("-ERR [SYS/TEMP] temporary failure\r\n");
  if (failures >= FAILMAX) quit("-ERR too many failures, closing connection\r\n");
  user.len = 0;
}

int main(int argc, char **argv)
{
  char num[FMT_ULONG];
  const char *arg;

  sig_ignore(SIGPIPE);
  if (argc < 3 || !*argv[1]) die_usage();
  /* Read by its full name: the subprogram runs in this directory, and a
   * relative name on the command line must keep its meaning. */
  {
    stralloc fn = STRALLOC_ZERO;
    if (!stralloc_copys(&fn, auto_qmail) || !stralloc_cats(&fn, "/control/timeoutpop3") || !stralloc_0(&fn))
      die_nomem();
    if (control_readulong(&timeout, fn.s) == -1) {
      buffer_init(&out, 1, outspace, sizeof outspace, TIMEOUT);
      quit("-ERR [SYS/TEMP] unable to read controls\r\n");
    }
    stralloc_free(&fn);
    if (!timeout || timeout > 1000000) timeout = TIMEOUT;
  }
  buffer_init(&out, 1, outspace, sizeof outspace, (int)timeout);
  subprogram = argv + 2;

  if (!stralloc_copys(&timestamp, "<")
      || !stralloc_catb(&timestamp, num, fmt_ulong(num, (unsigned long)getpid()))
      || !stralloc_append(&timestamp, '.')
      || !stralloc_catb(&timestamp, num, fmt_ulong(num, (unsigned long)time(0)))
      || !stralloc_append(&timestamp, '@') || !stralloc_cats(&timestamp, argv[1])
      || !stralloc_append(&timestamp, '>') || !stralloc_0(&timestamp))
    die_nomem();
  put("+OK ");
  put(timestamp.s);
  put("\r\n");

  for (;;) {
    if (!getline_raw(&line)) {
      put("-ERR bad command\r\n");
      continue;
    }
    if (verb(&line, "QUIT", &arg)) {
      put("+OK \r\n");
      flush();
      _exit(0);
    } else if (verb(&line, "NOOP", &arg)) {
      put("+OK \r\n");
    } else if (verb(&line, "CAPA", &arg)) {
      put("+OK capability list follows\r\nUSER\r\nPIPELINING\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n.\r\n");
    } else if (verb(&line, "USER", &arg)) {
      size_t n = line.len - (size_t)(arg - line.s);
      if (!n) { put("-ERR syntax error\r\n"); continue; }
      if (!stralloc_copyb(&user, arg, n) || !stralloc_0(&user)) die_nomem();
      --user.len;
      put("+OK \r\n");
    } else if (verb(&line, "PASS", &arg)) {
      size_t n = line.len - (size_t)(arg - line.s);
      if (!user.len) { put("-ERR USER first\r\n"); continue; }
      login(arg, n);
      explicit_bzero(line.s, line.len);
    } else if (verb(&line, "APOP", &arg)) {
      const char *sp = memchr(arg, ' ', line.len - (size_t)(arg - line.s));
      size_t n;
      if (!sp || sp == arg) { put("-ERR syntax error\r\n"); continue; }
      if (!stralloc_copyb(&user, arg, (size_t)(sp - arg)) || !stralloc_0(&user)) die_nomem();
      --user.len;
      n = line.len - (size_t)(sp + 1 - line.s);
      login(sp + 1, n);
    } else
      put("-ERR authorization first\r\n");
  }
}
