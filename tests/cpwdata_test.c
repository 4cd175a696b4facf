/* Tests for lib/cpwdata.c.
 * not tested: read errors other than a descriptor that is not open; that
 * cpwdata_same takes the same time wherever the bytes differ (timing
 * tests are too noisy to fail reliably; the code has no early exit). */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "cpwdata.h"

#define N(a) (sizeof (a) / sizeof (a)[0])
#define IN(s) s, sizeof s - 1

static void test_parse(void)
{
  static const struct {
    const char *in; size_t len;
    int ok; const char *user, *pass, *stamp;
  } cases[] = {
    { IN("joe\0secret\0<1.2@h>\0"), 1, "joe", "secret", "<1.2@h>" },
    { IN("joe\0secret\0\0"), 1, "joe", "secret", "" },
    { IN("\0\0\0"), 1, "", "", "" },                  /* empty fields are the caller's to refuse */
    { IN("joe\0pass word\0x\0"), 1, "joe", "pass word", "x" },
    { IN("joe\0\xff\x01\n\0x\0"), 1, "joe", "\xff\x01\n", "x" },
    { IN("joe\0secret\0"), 0, 0, 0, 0 },              /* no timestamp */
    { IN("joe\0secret\0stamp"), 0, 0, 0, 0 },         /* timestamp without its NUL */
    { IN("joe\0secret"), 0, 0, 0, 0 },
    { IN("joe\0"), 0, 0, 0, 0 },
    { IN("joe"), 0, 0, 0, 0 },
    { IN(""), 0, 0, 0, 0 },
    { IN("\0"), 0, 0, 0, 0 },
    { IN("\0\0"), 0, 0, 0, 0 },
    { IN("joe\0secret\0x\0y"), 0, 0, 0, 0 },         /* bytes after the third field */
    { IN("joe\0secret\0x\0\0"), 0, 0, 0, 0 },
    { IN("joe\0secret\0x\0y\0"), 0, 0, 0, 0 },
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    struct cpwdata d;
    int ok = cpwdata_parse(cases[i].in, cases[i].len, &d);
    check_long(ok, cases[i].ok, "parse case %zu: result", i);
    if (ok && cases[i].ok) {
      check_str(d.user, cases[i].user, "parse case %zu: user", i);
      check_long(d.ulen, strlen(cases[i].user), "parse case %zu: user length", i);
      check_str(d.pass, cases[i].pass, "parse case %zu: password", i);
      check_long(d.plen, strlen(cases[i].pass), "parse case %zu: password length", i);
      check_str(d.stamp, cases[i].stamp, "parse case %zu: timestamp", i);
      check_long(d.slen, strlen(cases[i].stamp), "parse case %zu: timestamp length", i);
      check(d.user >= cases[i].in && d.stamp + d.slen < cases[i].in + cases[i].len,
            "parse case %zu: fields inside the buffer", i);
    }
  }

  /* A password holding what looks like more fields cannot: a NUL ends it. */
  {
    static const char s[] = "root\0x\0joe\0";
    struct cpwdata d;
    check_long(cpwdata_parse(s, sizeof s - 1, &d), 1, "parse: three short fields");
    check_str(d.user, "root", "parse: the first field is the user");
  }
}

static void test_user(void)
{
  static char longest[CPWDATA_USERMAX + 2];
  static const struct { const char *in; size_t len; int ok; } cases[] = {
    { IN("joe"), 1 },
    { IN("j"), 1 },
    { IN("joe.smith"), 1 },
    { IN("j.o.e"), 1 },
    { IN(".joe"), 1 },
    { IN("joe."), 1 },
    { IN("joe-1_x"), 1 },
    { IN(""), 0 },
    { IN("/"), 0 },
    { IN("a/b"), 0 },
    { IN("/etc/passwd"), 0 },
    { IN("joe/"), 0 },
    { IN(".."), 0 },
    { IN("..joe"), 0 },
    { IN("joe.."), 0 },
    { IN("a..b"), 0 },
    { IN("..."), 0 },
    { IN("jo\0e"), 0 },
  };
  size_t i;

  for (i = 0; i < N(cases); ++i)
    check_long(cpwdata_user_ok(cases[i].in, cases[i].len), cases[i].ok, "user case %zu (%s)", i, cases[i].in);

  memset(longest, 'a', sizeof longest);
  check_long(cpwdata_user_ok(longest, CPWDATA_USERMAX), 1, "user: %d bytes", CPWDATA_USERMAX);
  check_long(cpwdata_user_ok(longest, CPWDATA_USERMAX + 1), 0, "user: %d bytes", CPWDATA_USERMAX + 1);
}

static void test_hash(void)
{
  static const struct { const char *in; int ok; } cases[] = {
    { "$6$salt$abc", 1 },
    { "$y$j9T$salt$abc", 1 },
    { "$1$salt$abc", 1 },
    { "ab01FAX.bQRSU", 1 },   /* DES */
    { "", 0 },
    { "!", 0 },
    { "!!", 0 },
    { "!$6$salt$abc", 0 },    /* usermod -L */
    { "*", 0 },
    { "*0", 0 },
    { "*1", 0 },
    { "*LK*", 0 },
    { 0, 0 },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i)
    check_long(cpwdata_hash_ok(cases[i].in), cases[i].ok, "hash case %zu (%s)", i, cases[i].in ? cases[i].in : "null");
}

static void test_same(void)
{
  static const struct { const char *a; size_t alen; const char *b; size_t blen; int same; } cases[] = {
    { IN("$6$s$abc"), IN("$6$s$abc"), 1 },
    { IN(""), IN(""), 1 },
    { IN("a\0b"), IN("a\0b"), 1 },
    { IN("$6$s$abd"), IN("$6$s$abc"), 0 },    /* last byte */
    { IN("%6$s$abc"), IN("$6$s$abc"), 0 },    /* first byte */
    { IN("$6$s$ab"), IN("$6$s$abc"), 0 },     /* a prefix */
    { IN("$6$s$abc"), IN("$6$s$ab"), 0 },     /* longer */
    { IN("$6$s$ab\0"), IN("$6$s$ab"), 0 },    /* longer by a NUL */
    { IN("$6$s$ab"), IN("$6$s$ab\0"), 0 },    /* shorter by a NUL: the padding byte must not match it */
    { IN(""), IN("x"), 0 },
    { IN("x"), IN(""), 0 },
    { IN("\x80"), IN("\x00"), 0 },            /* high bit only */
    { IN("\x01"), IN("\x00"), 0 },            /* low bit only */
  };
  size_t i;
  for (i = 0; i < N(cases); ++i)
    check_long(cpwdata_same(cases[i].a, cases[i].alen, cases[i].b, cases[i].blen), cases[i].same, "same case %zu", i);
}

/* cpwdata_read on a pipe fed n bytes by a child, in pieces of step. */
static int readpipe(size_t n, size_t step, char *buf, size_t *len)
{
  int pi[2], r, wstat;
  pid_t pid;
  if (pipe(pi) == -1) return -2;
  pid = fork();
  if (pid == -1) return -2;
  if (pid == 0) {
    char out[2048];
    size_t done = 0;
    close(pi[0]);
    memset(out, 'x', sizeof out);
    while (done < n) {
      size_t k = n - done < step ? n - done : step;
      if (write(pi[1], out, k) != (ssize_t)k) _exit(1);
      done += k;
    }
    _exit(0);
  }
  close(pi[1]);
  r = cpwdata_read(pi[0], buf, len);
  close(pi[0]); /* a writer with more to say gets SIGPIPE */
  waitpid(pid, &wstat, 0);
  return r;
}

static void test_read(void)
{
  static const struct { size_t n, step; int r; } cases[] = {
    { 0, 1, 1 },
    { 1, 1, 1 },
    { 20, 1, 1 },                   /* one byte at a time */
    { CPWDATA_MAX, 7, 1 },
    { CPWDATA_MAX, CPWDATA_MAX, 1 },
    { CPWDATA_MAX + 1, 1, 0 },
    { CPWDATA_MAX + 1, CPWDATA_MAX + 1, 0 },
    { 2048, 100, 0 },
  };
  char buf[CPWDATA_MAX + 1];
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    size_t len = 7777;
    int r = readpipe(cases[i].n, cases[i].step, buf, &len);
    check_long(r, cases[i].r, "read %zu bytes in pieces of %zu: result", cases[i].n, cases[i].step);
    if (r == 1 && cases[i].r == 1) check_long(len, cases[i].n, "read %zu bytes: length", cases[i].n);
  }

  {
    size_t len;
    int fd = open("/dev/null", O_RDONLY);
    close(fd);
    errno = 0;
    check_long(cpwdata_read(fd, buf, &len), -1, "read: a closed descriptor");
    check_long(errno, EBADF, "read: a closed descriptor: errno");
  }
}

int main(void)
{
  signal(SIGPIPE, SIG_IGN);
  test_parse();
  test_user();
  test_hash();
  test_same();
  test_read();
  return check_end();
}
