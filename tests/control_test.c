/* Tests for lib/control.c.
 * not tested: a read error in the middle of a file (other than a line
 * over CONTROL_MAXLINE); running out of memory. As root, an unreadable
 * file cannot be made with chmod, so "cannot be read" is a directory. */

#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "control.h"
#include "tmpdir.h"

#define N(a) (sizeof (a) / sizeof (a)[0])
#define IN(s) s, sizeof s - 1

static char longline[CONTROL_MAXLINE + 64];

static void putfile(const char *fn, const char *s, size_t len)
{
  tmpdir_write(fn, s, len);
}

/* "x" repeated n times, then the tail. Points into longline. */
static const char *repeat(size_t n, const char *tail)
{
  memset(longline, 'x', n);
  strcpy(longline + n, tail);
  return longline;
}

static void test_readline(void)
{
  static const struct { const char *name; const char *in; size_t len; const char *want; } cases[] = {
    { "plain", IN("hello\n"), "hello" },
    { "no newline", IN("hello"), "hello" },
    { "trailing blanks", IN("hello \t\r \n"), "hello" },
    { "CRLF", IN("hello\r\n"), "hello" },
    { "inner blanks kept", IN("a b\tc\n"), "a b\tc" },
    { "leading blanks kept", IN("  lead\n"), "  lead" },
    { "first line only", IN("first\nsecond\n"), "first" },
    { "empty file", IN(""), "" },
    { "empty line", IN("\n"), "" },
    { "blank line", IN(" \t\r\n"), "" },
    { "empty first line", IN("\nsecond\n"), "" },
  };
  stralloc sa = STRALLOC_ZERO;
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    putfile("control/t", cases[i].in, cases[i].len);
    stralloc_copys(&sa, "junk");
    check_long(control_readline(&sa, "control/t"), 1, "readline %s: result", cases[i].name);
    check_bytes(sa.s, sa.len, cases[i].want, strlen(cases[i].want), "readline %s: line", cases[i].name);
  }
  check_long(control_readline(&sa, "control/missing"), 0, "readline of a missing file");
  errno = 0;
  check_long(control_readline(&sa, "control"), -1, "readline of a directory");
  check_long(errno, EISDIR, "readline of a directory: errno");

  /* line limits */
  repeat(CONTROL_MAXLINE - 1, "\n");
  putfile("control/t", longline, CONTROL_MAXLINE);
  check_long(control_readline(&sa, "control/t"), 1, "readline of a line of CONTROL_MAXLINE bytes with newline");
  check_long(sa.len, CONTROL_MAXLINE - 1, "readline CONTROL_MAXLINE: length");
  repeat(CONTROL_MAXLINE, "");
  putfile("control/t", longline, CONTROL_MAXLINE);
  check_long(control_readline(&sa, "control/t"), 1, "readline of CONTROL_MAXLINE bytes, no newline");
  check_long(sa.len, CONTROL_MAXLINE, "readline CONTROL_MAXLINE no newline: length");
  repeat(CONTROL_MAXLINE, "\n");
  putfile("control/t", longline, CONTROL_MAXLINE + 1);
  errno = 0;
  check_long(control_readline(&sa, "control/t"), -1, "readline of a line over CONTROL_MAXLINE");
  check_long(errno, E2BIG, "readline over CONTROL_MAXLINE: errno");
  repeat(CONTROL_MAXLINE + 10, "");
  putfile("control/t", longline, CONTROL_MAXLINE + 10);
  errno = 0;
  check_long(control_readline(&sa, "control/t"), -1, "readline of a long last line");
  check_long(errno, E2BIG, "readline of a long last line: errno");
  /* a NUL byte in the line is an error (control.h) */
  putfile("control/t", IN("ab\0cd\n"));
  errno = 0;
  check_long(control_readline(&sa, "control/t"), -1, "readline of a line with a NUL");
  check_long(errno, EINVAL, "readline of a line with a NUL: errno");
  /* only the first line counts */
  {
    char buf[CONTROL_MAXLINE + 64];
    memcpy(buf, "short\n", 6);
    memset(buf + 6, 'y', sizeof buf - 6);
    putfile("control/t", buf, sizeof buf);
    check_long(control_readline(&sa, "control/t"), 1, "readline: a long second line does not matter");
    check_bytes(sa.s, sa.len, "short", 5, "readline: short first line");
  }
  unlink("control/t");
  stralloc_free(&sa);
}

/* Before control_init: flagme has no control/me to fall back on. */
static void test_rldef_without_me(void)
{
  stralloc sa = STRALLOC_ZERO;

  stralloc_copys(&sa, "junk");
  check_long(control_rldef(&sa, "control/missing", 1, "def"), 0, "rldef without me: flagme falls back to def");
  check_bytes(sa.s, sa.len, "def", 4, "rldef without me: def value");
  stralloc_copys(&sa, "junk");
  check_long(control_rldef(&sa, "control/missing", 1, 0), 0, "rldef without me, no def");
  check_long(control_init(), 0, "control_init without control/me");
  stralloc_free(&sa);
}

static void test_rldef(void)
{
  stralloc sa = STRALLOC_ZERO;

  putfile("control/me", IN("me.example \n"));
  check_long(control_init(), 1, "control_init");
  check_bytes(control_me.s, control_me.len, "me.example", 11, "control_me is NUL-terminated");

  putfile("control/helohost", IN("helo.example\t\n"));
  check_long(control_rldef(&sa, "control/helohost", 1, "def"), 1, "rldef, file present");
  check_bytes(sa.s, sa.len, "helo.example", 13, "rldef, file present: value");
  check_long(control_rldef(&sa, "control/helohost", 0, 0), 1, "rldef, file present, no defaults");
  check_bytes(sa.s, sa.len, "helo.example", 13, "rldef, file present, no defaults: value");
  stralloc_copys(&sa, "junk");
  check_long(control_rldef(&sa, "control/missing", 1, "def"), 0, "rldef, absent, flagme");
  check_bytes(sa.s, sa.len, "me.example", 11, "rldef, absent, flagme: me wins over def");
  stralloc_copys(&sa, "junk");
  check_long(control_rldef(&sa, "control/missing", 0, "def.example"), 0, "rldef, absent, def");
  check_bytes(sa.s, sa.len, "def.example", 12, "rldef, absent, def: value");
  stralloc_copys(&sa, "junk");
  check_long(control_rldef(&sa, "control/missing", 0, 0), 0, "rldef, absent, neither");
  check_long(control_rldef(&sa, "control", 1, "def"), -1, "rldef of a directory");
  putfile("control/empty", "", 0);
  check_long(control_rldef(&sa, "control/empty", 1, "def"), 1, "rldef of an empty file");
  check_bytes(sa.s, sa.len, "", 1, "rldef of an empty file: empty string, not the default");
  unlink("control/empty");
  unlink("control/helohost");
  stralloc_free(&sa);
}

static void test_readulong(void)
{
  static const struct { const char *name; const char *in; size_t len; int r; unsigned long want; int err; } cases[] = {
    { "number", IN("123\n"), 1, 123, 0 },
    { "no newline", IN("42"), 1, 42, 0 },
    { "trailing blanks", IN("7 \t\r\n"), 1, 7, 0 },
    { "leading zeros", IN("007\n"), 1, 7, 0 },
    { "zero", IN("0\n"), 1, 0, 0 },
    { "first line only", IN("5\nx\n"), 1, 5, 0 },
    { "garbage after digits", IN("12x\n"), -1, 0, EINVAL },
    { "leading blank", IN(" 12\n"), -1, 0, EINVAL },
    { "sign", IN("-1\n"), -1, 0, EINVAL },
    { "empty file", IN(""), -1, 0, EINVAL },
    { "word", IN("abc\n"), -1, 0, EINVAL },
    { "overflow", IN("99999999999999999999999\n"), -1, 0, EINVAL },
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    unsigned long u = 777;
    int r;
    putfile("control/n", cases[i].in, cases[i].len);
    errno = 0;
    r = control_readulong(&u, "control/n");
    check_long(r, cases[i].r, "readulong %s: result", cases[i].name);
    if (r == 1) check(u == cases[i].want, "readulong %s: value %lu, want %lu", cases[i].name, u, cases[i].want);
    else check_long(errno, cases[i].err, "readulong %s: errno", cases[i].name);
  }
  {
    unsigned long u = 777;
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%lu\n", (unsigned long)-1);
    putfile("control/n", buf, (size_t)n);
    check_long(control_readulong(&u, "control/n"), 1, "readulong ULONG_MAX");
    check(u == (unsigned long)-1, "readulong ULONG_MAX: value");
    u = 777;
    check_long(control_readulong(&u, "control/missing"), 0, "readulong of a missing file");
    check_long(u, 777, "readulong of a missing file keeps the default");
  }
  unlink("control/n");
}

static void test_readfile(void)
{
  static const struct { const char *name; const char *in; size_t len; const char *want; size_t wantlen; } cases[] = {
    { "two lines", IN("a\nb\n"), IN("a\0b\0") },
    { "comments and blank lines", IN("# comment\na\n\n  \n#x\nb\n"), IN("a\0b\0") },
    { "trailing blanks", IN("a \t\r\nb\t\n"), IN("a\0b\0") },
    { "last line without newline", IN("a\nlast"), IN("a\0last\0") },
    { "leading blanks kept", IN(" a\n"), IN(" a\0") },
    { "indented hash is not a comment", IN(" #a\n"), IN(" #a\0") },
    { "empty file", IN(""), IN("") },
    { "only comments", IN("#a\n#b"), IN("") },
    { "CRLF lines", IN("x.example\r\ny.example\r\n"), IN("x.example\0y.example\0") },
  };
  stralloc sa = STRALLOC_ZERO;
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    putfile("control/list", cases[i].in, cases[i].len);
    stralloc_copys(&sa, "junk");
    check_long(control_readfile(&sa, "control/list", 0), 1, "readfile %s: result", cases[i].name);
    check_bytes(sa.len ? sa.s : "", sa.len, cases[i].want, cases[i].wantlen, "readfile %s: items", cases[i].name);
    stralloc_copys(&sa, "junk");
    check_long(control_readfile(&sa, "control/list", 1), 1, "readfile %s with flagme: result", cases[i].name);
    check_bytes(sa.len ? sa.s : "", sa.len, cases[i].want, cases[i].wantlen, "readfile %s with flagme: items",
                cases[i].name);
  }

  stralloc_copys(&sa, "junk");
  check_long(control_readfile(&sa, "control/missing", 0), 0, "readfile of a missing file");
  check_long(sa.len, 0, "readfile of a missing file: empty list");
  stralloc_copys(&sa, "junk");
  check_long(control_readfile(&sa, "control/missing", 1), 0, "readfile of a missing file, flagme");
  check_bytes(sa.s, sa.len, "me.example", 11, "readfile of a missing file, flagme: me");
  check_long(control_readfile(&sa, "control", 0), -1, "readfile of a directory");

  /* a long line anywhere is an error */
  {
    stralloc in = STRALLOC_ZERO;
    stralloc_copys(&in, "ok\n");
    stralloc_cats(&in, repeat(CONTROL_MAXLINE, "\n"));
    stralloc_cats(&in, "after\n");
    putfile("control/list", in.s, in.len);
    errno = 0;
    check_long(control_readfile(&sa, "control/list", 0), -1, "readfile with a line over CONTROL_MAXLINE");
    check_long(errno, E2BIG, "readfile with a long line: errno");
    /* a NUL byte on any line is an error */
    putfile("control/list", IN("ok\nx\0y\nafter\n"));
    errno = 0;
    check_long(control_readfile(&sa, "control/list", 0), -1, "readfile with a NUL in a line");
    check_long(errno, EINVAL, "readfile with a NUL in a line: errno");
    /* the longest allowed line */
    stralloc_copys(&in, "ok\n");
    stralloc_cats(&in, repeat(CONTROL_MAXLINE - 1, "\n"));
    putfile("control/list", in.s, in.len);
    check_long(control_readfile(&sa, "control/list", 0), 1, "readfile with a line of CONTROL_MAXLINE bytes");
    check_long(sa.len, 3 + CONTROL_MAXLINE, "readfile with a line of CONTROL_MAXLINE bytes: length");
    stralloc_free(&in);
  }
  /* many lines, through the buffer's refills */
  {
    stralloc in = STRALLOC_ZERO, want = STRALLOC_ZERO;
    unsigned long k;
    for (k = 0; k < 3000; ++k) {
      stralloc_cats(&in, "host");
      stralloc_catulong(&in, k);
      stralloc_cats(&in, ".example\n");
      stralloc_cats(&want, "host");
      stralloc_catulong(&want, k);
      stralloc_cats(&want, ".example");
      stralloc_0(&want);
    }
    putfile("control/list", in.s, in.len);
    check_long(control_readfile(&sa, "control/list", 0), 1, "readfile of 3000 lines");
    check_bytes(sa.s, sa.len, want.s, want.len, "readfile of 3000 lines: items");
    stralloc_free(&in);
    stralloc_free(&want);
  }
  unlink("control/list");
  stralloc_free(&sa);
}

static int memfd(const char *s, size_t len)
{
  int fd = memfd_create("control_test", 0);
  if (fd == -1) {
    /* an old kernel: a file in the scratch directory instead */
    fd = open("control/memfd", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd == -1) { perror("open"); exit(111); }
    unlink("control/memfd");
  }
  if (len && write(fd, s, len) != (ssize_t)len) { perror("write"); exit(111); }
  lseek(fd, 0, SEEK_SET);
  return fd;
}

static void test_fd(void)
{
  stralloc sa = STRALLOC_ZERO;
  int fd;

  fd = memfd(IN("line one \r\nline two\n"));
  check_long(control_readline_fd(&sa, fd), 1, "readline_fd");
  check_bytes(sa.s, sa.len, "line one", 8, "readline_fd: value");
  check(fcntl(fd, F_GETFD) != -1, "readline_fd leaves the fd open");
  close(fd);

  fd = memfd("", 0);
  stralloc_copys(&sa, "junk");
  check_long(control_readline_fd(&sa, fd), 1, "readline_fd of an empty file");
  check_long(sa.len, 0, "readline_fd of an empty file: empty");
  close(fd);

  fd = memfd(IN("# c\nx \n\ny\n"));
  check_long(control_readfile_fd(&sa, fd), 1, "readfile_fd");
  check_bytes(sa.s, sa.len, "x\0y\0", 4, "readfile_fd: items");
  check(fcntl(fd, F_GETFD) != -1, "readfile_fd leaves the fd open");
  close(fd);

  repeat(CONTROL_MAXLINE + 1, "\n");
  fd = memfd(longline, CONTROL_MAXLINE + 2);
  errno = 0;
  check_long(control_readline_fd(&sa, fd), -1, "readline_fd of a long line");
  check_long(errno, E2BIG, "readline_fd of a long line: errno");
  lseek(fd, 0, SEEK_SET);
  errno = 0;
  check_long(control_readfile_fd(&sa, fd), -1, "readfile_fd of a long line");
  check_long(errno, E2BIG, "readfile_fd of a long line: errno");
  close(fd);

  fd = open("/dev/null", O_WRONLY);
  check_long(control_readline_fd(&sa, fd), -1, "readline_fd on a write-only fd");
  check_long(control_readfile_fd(&sa, fd), -1, "readfile_fd on a write-only fd");
  close(fd);
  stralloc_free(&sa);
}

int main(void)
{
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) { perror("getcwd"); return 111; }
  if (chdir(tmpdir_make("control_test")) == -1 || mkdir("control", 0755) == -1) { perror("setup"); return 111; }
  test_readline();
  test_rldef_without_me();
  test_rldef();
  test_readulong();
  test_readfile();
  test_fd();
  if (chdir(cwd) == -1) perror("chdir");
  tmpdir_remove();
  return check_end();
}
