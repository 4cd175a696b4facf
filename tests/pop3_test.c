/* Tests for lib/pop3.c.
 * not tested: write errors in pop3_msg_put other than a closed descriptor. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "buffer.h"
#include "check.h"
#include "pop3.h"
#include "tmpdir.h"

#define N(a) (sizeof (a) / sizeof (a)[0])
#define IN(s) s, sizeof s - 1

static void test_verb(void)
{
  static const struct {
    const char *in; size_t len; enum pop3_verb want; const char *arg; size_t arglen;
  } cases[] = {
    { IN("STAT"), POP3_STAT, IN("") },
    { IN("stat"), POP3_STAT, IN("") },
    { IN("StAt"), POP3_STAT, IN("") },
    { IN("LIST"), POP3_LIST, IN("") },
    { IN("LIST 1"), POP3_LIST, IN("1") },
    { IN("LIST "), POP3_LIST, IN("") },
    { IN("UIDL 12"), POP3_UIDL, IN("12") },
    { IN("RETR 1"), POP3_RETR, IN("1") },
    { IN("TOP 1 5"), POP3_TOP, IN("1 5") },
    { IN("top 1 5"), POP3_TOP, IN("1 5") },
    { IN("DELE 3"), POP3_DELE, IN("3") },
    { IN("RSET"), POP3_RSET, IN("") },
    { IN("NOOP"), POP3_NOOP, IN("") },
    { IN("LAST"), POP3_LAST, IN("") },
    { IN("QUIT"), POP3_QUIT, IN("") },
    { IN("CAPA"), POP3_CAPA, IN("") },
    { IN("USER joe"), POP3_USER, IN("joe") },
    { IN("PASS a b  c "), POP3_PASS, IN("a b  c ") },     /* argument unchanged */
    { IN("PASS "), POP3_PASS, IN("") },
    { IN("APOP joe 0123"), POP3_APOP, IN("joe 0123") },
    { IN("PASS a\0b"), POP3_PASS, IN("a\0b") },
    /* not verbs */
    { IN(""), POP3_UNKNOWN, IN("") },
    { IN(" STAT"), POP3_UNKNOWN, IN("STAT") },
    { IN("STAT\t"), POP3_UNKNOWN, IN("") },
    { IN("STAT\r"), POP3_UNKNOWN, IN("") },
    { IN("STATS"), POP3_UNKNOWN, IN("") },
    { IN("STA"), POP3_UNKNOWN, IN("") },
    { IN("TO"), POP3_UNKNOWN, IN("") },
    { IN("TOPP 1 2"), POP3_UNKNOWN, IN("1 2") },
    { IN("ST\0T"), POP3_UNKNOWN, IN("") },
    { IN("AUTH PLAIN"), POP3_UNKNOWN, IN("PLAIN") },
    { IN("STLS"), POP3_UNKNOWN, IN("") },
    { IN("\xd3TAT"), POP3_UNKNOWN, IN("") },
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    const char *arg = 0;
    size_t arglen = 999;
    enum pop3_verb v = pop3_verb(cases[i].in, cases[i].len, &arg, &arglen);
    check_long(v, cases[i].want, "verb case %zu: verb", i);
    check_bytes(arg, arglen, cases[i].arg, cases[i].arglen, "verb case %zu: argument", i);
    if (arglen == 0)
      check(arg == cases[i].in + cases[i].len || arg[-1] == ' ', "verb case %zu: empty arg points at the end", i);
  }
}

static void test_nums(void)
{
  static const struct {
    const char *in; size_t len; unsigned min, max; int want; unsigned long n0, n1;
  } cases[] = {
    { IN(""), 0, 1, 0, 0, 0 },
    { IN("   "), 0, 1, 0, 0, 0 },
    { IN("1"), 0, 1, 1, 1, 0 },
    { IN("1 "), 0, 1, 1, 1, 0 },
    { IN("1   "), 1, 1, 1, 1, 0 },
    { IN(" 1"), 1, 1, 1, 1, 0 },               /* "RETR  1", as qmail */
    { IN("007"), 1, 1, 1, 7, 0 },
    { IN("0"), 1, 1, 1, 0, 0 },                /* zero is the caller's to refuse */
    { IN("1 2"), 2, 2, 2, 1, 2 },
    { IN("1  2"), 2, 2, 2, 1, 2 },
    { IN("1 2 "), 2, 2, 2, 1, 2 },
    { IN("4294967295 0"), 2, 2, 2, 4294967295UL, 0 },
    /* wrong counts */
    { IN(""), 1, 1, -1, 0, 0 },
    { IN("1"), 2, 2, -1, 0, 0 },
    { IN("1 2"), 1, 1, -1, 0, 0 },
    { IN("1 2 3"), 2, 2, -1, 0, 0 },
    { IN("1"), 0, 0, -1, 0, 0 },
    /* not decimal */
    { IN("x"), 1, 1, -1, 0, 0 },
    { IN("1x"), 1, 1, -1, 0, 0 },
    { IN("+1"), 1, 1, -1, 0, 0 },
    { IN("-1"), 1, 1, -1, 0, 0 },
    { IN("1.0"), 1, 1, -1, 0, 0 },
    { IN("0x10"), 1, 1, -1, 0, 0 },
    { IN("1\t"), 1, 1, -1, 0, 0 },
    { IN("\t1"), 1, 1, -1, 0, 0 },
    { IN("1\r"), 1, 1, -1, 0, 0 },
    { IN("1\0"), 1, 1, -1, 0, 0 },
    { IN("1 -2"), 2, 2, -1, 0, 0 },
    { IN("1 2x"), 2, 2, -1, 0, 0 },
    /* never wrapped */
    { IN("99999999999999999999999999"), 1, 1, -1, 0, 0 },
    { IN("18446744073709551616"), 1, 1, -1, 0, 0 },
    { IN("1 18446744073709551616"), 2, 2, -1, 0, 0 },
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    unsigned long n[2] = { 777, 777 };
    int r = pop3_nums(cases[i].in, cases[i].len, cases[i].min, cases[i].max, n);
    /* ULONG_MAX-sized cases only on 64-bit longs */
    if (cases[i].len >= 20 && ULONG_MAX == 4294967295UL) continue;
    check_long(r, cases[i].want, "nums case %zu (%.30s): count", i, cases[i].in);
    if (r >= 1) check_long(n[0], cases[i].n0, "nums case %zu: first", i);
    if (r >= 2) check_long(n[1], cases[i].n1, "nums case %zu: second", i);
  }
  {
    unsigned long n[2];
    int r = pop3_nums(IN("18446744073709551615"), 1, 1, n);
    if (ULONG_MAX > 4294967295UL) {
      check_long(r, 1, "nums: ULONG_MAX fits");
      check(n[0] == ULONG_MAX, "nums: ULONG_MAX value");
    } else {
      check_long(r, -1, "nums: 2^64-1 refused with 32-bit longs");
    }
  }
}

/* The message writer's output for in[0..len), fed in pieces of step
 * bytes through an output buffer of outsize bytes. */
static const char *msgout(const char *in, size_t len, int top, unsigned long k, size_t step, size_t outsize,
                          size_t *outlen, int *done_early)
{
  static char got[4096];
  char space[4096];
  struct pop3_msg m;
  buffer b;
  size_t i;
  ssize_t r;
  int fd = open(tmpdir_path("out"), O_RDWR | O_CREAT | O_TRUNC, 0600);

  if (fd == -1) { perror("open"); exit(111); }
  buffer_init(&b, fd, space, outsize, 0);
  pop3_msg_start(&m, top, k);
  *done_early = 0;
  for (i = 0; i < len; i += step) {
    size_t n = len - i < step ? len - i : step;
    if (m.done) { *done_early = 1; break; }
    if (pop3_msg_put(&m, &b, in + i, n) == -1) { perror("put"); exit(111); }
  }
  if (pop3_msg_end(&m, &b) == -1 || buffer_flush(&b) == -1) { perror("end"); exit(111); }
  r = pread(fd, got, sizeof got, 0);
  close(fd);
  if (r < 0) { perror("pread"); exit(111); }
  *outlen = (size_t)r;
  return got;
}

static void test_msg(void)
{
  static const struct {
    const char *in; size_t len; int top; unsigned long k; const char *want; size_t wantlen;
  } cases[] = {
    { IN(""), 0, 0, IN(".\r\n") },
    { IN("a\n"), 0, 0, IN("a\r\n.\r\n") },
    { IN("a"), 0, 0, IN("a\r\n.\r\n") },                    /* last line without LF */
    { IN("a\nb"), 0, 0, IN("a\r\nb\r\n.\r\n") },
    { IN("\n"), 0, 0, IN("\r\n.\r\n") },
    { IN("\n\n"), 0, 0, IN("\r\n\r\n.\r\n") },
    { IN("a\r\nb\r\n"), 0, 0, IN("a\r\nb\r\n.\r\n") },        /* CRLF stays CRLF */
    { IN("a\r\nb\n"), 0, 0, IN("a\r\nb\r\n.\r\n") },
    { IN("a\rb\n"), 0, 0, IN("a\rb\r\n.\r\n") },              /* a lone CR is text */
    { IN("a\r"), 0, 0, IN("a\r\n.\r\n") },                   /* ends in CR: only the LF added */
    { IN("\r"), 0, 0, IN("\r\n.\r\n") },
    { IN(".\n"), 0, 0, IN("..\r\n.\r\n") },                  /* dot stuffing */
    { IN("."), 0, 0, IN("..\r\n.\r\n") },
    { IN("..\n"), 0, 0, IN("...\r\n.\r\n") },
    { IN("a.\n.b\n"), 0, 0, IN("a.\r\n..b\r\n.\r\n") },
    { IN("a\n.\n.\n"), 0, 0, IN("a\r\n..\r\n..\r\n.\r\n") },
    { IN("a\r.b\n"), 0, 0, IN("a\r.b\r\n.\r\n") },           /* not after a line end */
    { IN(".\r\n"), 0, 0, IN("..\r\n.\r\n") },
    { IN("a\0b\n"), 0, 0, IN("a\0b\r\n.\r\n") },              /* NUL bytes pass */
    { IN("\xff\xfe\n"), 0, 0, IN("\xff\xfe\r\n.\r\n") },
    /* TOP n k */
    { IN("H: 1\n\nb1\nb2\nb3\n"), 1, 0, IN("H: 1\r\n\r\n.\r\n") },
    { IN("H: 1\n\nb1\nb2\nb3\n"), 1, 1, IN("H: 1\r\n\r\nb1\r\n.\r\n") },
    { IN("H: 1\n\nb1\nb2\nb3\n"), 1, 2, IN("H: 1\r\n\r\nb1\r\nb2\r\n.\r\n") },
    { IN("H: 1\n\nb1\nb2\nb3\n"), 1, 3, IN("H: 1\r\n\r\nb1\r\nb2\r\nb3\r\n.\r\n") },
    { IN("H: 1\n\nb1\nb2\nb3\n"), 1, 99, IN("H: 1\r\n\r\nb1\r\nb2\r\nb3\r\n.\r\n") },
    { IN("H: 1\n\nb1\nb2\nb3"), 1, 3, IN("H: 1\r\n\r\nb1\r\nb2\r\nb3\r\n.\r\n") },
    { IN("H: 1\n\nb1\nb2\nb3"), 1, 2, IN("H: 1\r\n\r\nb1\r\nb2\r\n.\r\n") },
    { IN("H: 1\nH: 2\n"), 1, 0, IN("H: 1\r\nH: 2\r\n.\r\n") },      /* no body */
    { IN("H: 1\nH: 2"), 1, 0, IN("H: 1\r\nH: 2\r\n.\r\n") },
    { IN("H: 1\n\n\n\nx\n"), 1, 2, IN("H: 1\r\n\r\n\r\n\r\n.\r\n") }, /* blank body lines count */
    { IN("H: 1\r\n\r\nb1\r\nb2\r\n"), 1, 1, IN("H: 1\r\n\r\nb1\r\n.\r\n") }, /* CRLF file */
    { IN("H: 1\n\n.b1\n.\n"), 1, 2, IN("H: 1\r\n\r\n..b1\r\n..\r\n.\r\n") },
    { IN("\nb1\nb2\n"), 1, 1, IN("\r\nb1\r\n.\r\n") },              /* empty header */
    { IN(""), 1, 5, IN(".\r\n") },
    { IN("H: a\rb\n\nx\n"), 1, 0, IN("H: a\rb\r\n\r\n.\r\n") },     /* "\r" inside is no blank line */
    { IN("H:\n \n\nx\n"), 1, 0, IN("H:\r\n \r\n\r\n.\r\n") },        /* " " is not blank */
    { IN("H: 1\n\nb1\nb2\n"), 1, 4294967295UL, IN("H: 1\r\n\r\nb1\r\nb2\r\n.\r\n") },
  };
  static const size_t steps[] = { 1, 2, 3, 7, 4096 };
  static const size_t outsizes[] = { 1, 5, 4096 };
  size_t i, s, o;

  for (i = 0; i < N(cases); ++i)
    for (s = 0; s < N(steps); ++s)
      for (o = 0; o < N(outsizes); ++o) {
        size_t gotlen;
        int early;
        const char *got = msgout(cases[i].in, cases[i].len, cases[i].top, cases[i].k, steps[s], outsizes[o],
                                 &gotlen, &early);
        check_bytes(got, gotlen, cases[i].want, cases[i].wantlen, "msg case %zu (step %zu, out %zu)", i,
                    steps[s], outsizes[o]);
      }

  /* TOP stops asking for input once its lines are out. */
  {
    size_t gotlen;
    int early;
    msgout(IN("H: 1\n\nb1\nb2\nb3\n"), 1, 1, 1, 4096, &gotlen, &early);
    check_long(early, 1, "TOP 1: done before the end of the file");
    msgout(IN("H: 1\n\nb1\nb2\nb3\n"), 0, 0, 1, 4096, &gotlen, &early);
    check_long(early, 0, "RETR: never done early");
  }

  /* A write error is reported. */
  {
    struct pop3_msg m;
    char space[1];
    buffer b;
    int fds[2];
    if (pipe(fds) == -1) { perror("pipe"); exit(111); }
    close(fds[0]);
    signal(SIGPIPE, SIG_IGN);
    buffer_init(&b, fds[1], space, sizeof space, 0);
    pop3_msg_start(&m, 0, 0);
    check_long(pop3_msg_put(&m, &b, IN("abc\n")), -1, "write error: put fails");
    check_long(errno, EPIPE, "write error: errno");
    close(fds[1]);
  }
}

int main(void)
{
  tmpdir_make("pop3_test");
  test_verb();
  test_nums();
  test_msg();
  tmpdir_remove();
  return check_end();
}
