/* Tests for lib/netstring.c.
 * not tested: read errors other than a descriptor that cannot be read;
 * running out of memory for a large netstring. */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "buffer.h"
#include "check.h"
#include "netstring.h"
#include "stralloc.h"
#include "tmpdir.h"

#define N(a) (sizeof (a) / sizeof (a)[0])
#define IN(s) s, sizeof s - 1

static void test_parse(void)
{
  static const struct {
    const char *in; size_t len; size_t max;
    int r; const char *data; size_t dlen; size_t used;
  } cases[] = {
    { IN("0:,"), 100, 1, IN(""), 3 },
    { IN("3:abc,"), 100, 1, IN("abc"), 6 },
    { IN("3:abc,rest"), 100, 1, IN("abc"), 6 },
    { IN("3:a\0c,"), 100, 1, IN("a\0c"), 6 },
    { IN("3:,,,,"), 100, 1, IN(",,,"), 6 },
    { IN("10:0123456789,"), 100, 1, IN("0123456789"), 14 },
    { IN("3:ab"), 100, 0, 0, 0, 0 },
    { IN("3:abc"), 100, 0, 0, 0, 0 },
    { IN("3:"), 100, 0, 0, 0, 0 },
    { IN("3"), 100, 0, 0, 0, 0 },
    { IN("12"), 100, 0, 0, 0, 0 },
    { IN("0"), 100, 0, 0, 0, 0 },
    { IN("0:"), 100, 0, 0, 0, 0 },
    { IN(""), 100, 0, 0, 0, 0 },
    { IN("03:abc,"), 100, -1, 0, 0, 0 },
    { IN("00:,"), 100, -1, 0, 0, 0 },
    { IN("3:abcX"), 100, -1, 0, 0, 0 },
    { IN("0:x"), 100, -1, 0, 0, 0 },
    { IN(":"), 100, -1, 0, 0, 0 },
    { IN(":,"), 100, -1, 0, 0, 0 },
    { IN("abc"), 100, -1, 0, 0, 0 },
    { IN("3x"), 100, -1, 0, 0, 0 },
    { IN("-1:"), 100, -1, 0, 0, 0 },
    { IN(" 3:abc,"), 100, -1, 0, 0, 0 },
    { IN("3 :abc,"), 100, -1, 0, 0, 0 },
    /* lengths against max */
    { IN("101:"), 100, -1, 0, 0, 0 },
    { IN("100:"), 100, 0, 0, 0, 0 },
    { IN("1000"), 100, -1, 0, 0, 0 },          /* over max before the colon */
    { IN("5:abcde,"), 5, 1, IN("abcde"), 8 },
    { IN("6:abcdef,"), 5, -1, 0, 0, 0 },
    { IN("3:abc,"), 2, -1, 0, 0, 0 },          /* a single digit over a small max */
    { IN("9:"), 8, -1, 0, 0, 0 },
    { IN("1:a,"), 0, -1, 0, 0, 0 },
    { IN("0:,"), 0, 1, IN(""), 3 },
    { IN("10:"), 9, -1, 0, 0, 0 },
    { IN("99999999999999999999999:"), SIZE_MAX, -1, 0, 0, 0 },
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    const char *data = 0;
    size_t dlen = 777, used = 777;
    int r = netstring_parse(cases[i].in, cases[i].len, cases[i].max, &data, &dlen, &used);
    check_long(r, cases[i].r, "parse case %zu (%.10s, max %zu): result", i, cases[i].in, cases[i].max);
    if (r == 1 && cases[i].r == 1) {
      check_bytes(data, dlen, cases[i].data, cases[i].dlen, "parse case %zu: data", i);
      check_long(used, cases[i].used, "parse case %zu: used", i);
    }
  }

  /* every proper prefix of a valid netstring is incomplete, never malformed */
  {
    static const char s[] = "12:hello world!,";
    size_t k;
    for (k = 0; k < sizeof s - 1; ++k) {
      const char *data;
      size_t dlen, used;
      check_long(netstring_parse(s, k, 100, &data, &dlen, &used), 0, "prefix of %zu bytes is incomplete", k);
    }
  }
}

static void test_cat(void)
{
  static const struct { const char *in; size_t len; const char *want; size_t wantlen; } cases[] = {
    { IN(""), IN("0:,") },
    { IN("abc"), IN("3:abc,") },
    { IN("a\0b"), IN("3:a\0b,") },
    { IN("hello world"), IN("11:hello world,") },
  };
  stralloc sa = STRALLOC_ZERO;
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    stralloc_copys(&sa, "");
    check_long(netstring_cat(&sa, cases[i].in, cases[i].len), 1, "cat case %zu", i);
    check_bytes(sa.s, sa.len, cases[i].want, cases[i].wantlen, "cat case %zu: bytes", i);
  }
  stralloc_copys(&sa, "pre");
  netstring_cat(&sa, "x", 1);
  netstring_cat(&sa, "", 0);
  check_bytes(sa.s, sa.len, "pre1:x,0:,", 10, "cat appends");

  /* cat and parse round trip, for a long one too */
  {
    char big[1000];
    const char *data;
    size_t dlen, used;
    memset(big, 'q', sizeof big);
    stralloc_copys(&sa, "");
    netstring_cat(&sa, big, sizeof big);
    check(sa.len == 1006 && !memcmp(sa.s, "1000:", 5) && sa.s[1005] == ',', "cat of 1000 bytes: framing");
    check_long(netstring_parse(sa.s, sa.len, 1000, &data, &dlen, &used), 1, "parse of cat of 1000 bytes");
    check_bytes(data, dlen, big, sizeof big, "round trip of 1000 bytes");
    check_long(used, sa.len, "round trip used everything");
    check_long(netstring_parse(sa.s, sa.len, 999, &data, &dlen, &used), -1, "1000 bytes with max 999");
  }
  stralloc_free(&sa);
}

static unsigned filecount;

static int datafd(const char *s, size_t len)
{
  char fn[32];
  int fd;
  snprintf(fn, sizeof fn, "n%u", filecount++);
  tmpdir_write(tmpdir_path(fn), s, len);
  fd = open(tmpdir_path(fn), O_RDONLY);
  if (fd == -1) { perror("open"); exit(111); }
  return fd;
}

static void test_get(void)
{
  static const struct {
    const char *name; const char *in; size_t len; size_t max;
    int r; const char *data; size_t dlen;
  } cases[] = {
    { "normal", IN("5:hello,"), 100, 1, IN("hello") },
    { "empty netstring", IN("0:,"), 100, 1, IN("") },
    { "binary", IN("3:\0\n\0,"), 100, 1, IN("\0\n\0") },
    { "exactly max", IN("5:hello,"), 5, 1, IN("hello") },
    { "eof before any byte", IN(""), 100, 0, 0, 0 },
    { "eof in the length", IN("5"), 100, -1, 0, 0 },
    { "eof in the data", IN("5:hel"), 100, -1, 0, 0 },
    { "eof before the comma", IN("5:hello"), 100, -1, 0, 0 },
    { "missing comma", IN("5:hello;"), 100, -2, 0, 0 },
    { "over max", IN("6:hello!,"), 5, -2, 0, 0 },
    { "far over max", IN("99999999999999999999999:"), 100, -2, 0, 0 },
    { "single digit over a small max", IN("3:abc,"), 2, -2, 0, 0 },
    { "not a digit", IN("x:"), 100, -2, 0, 0 },
    { "no digits", IN(":,"), 100, -2, 0, 0 },
    { "leading zero", IN("05:hello,"), 100, -2, 0, 0 },
    { "double zero", IN("00:,"), 100, -2, 0, 0 },
    { "space", IN(" 5:hello,"), 100, -2, 0, 0 },
  };
  size_t i;
  stralloc sa = STRALLOC_ZERO;

  for (i = 0; i < N(cases); ++i) {
    char space[4];
    buffer b;
    int fd = datafd(cases[i].in, cases[i].len), r;
    buffer_init(&b, fd, space, sizeof space, 0);
    stralloc_copys(&sa, "junk");
    errno = 0;
    r = netstring_get(&b, &sa, cases[i].max);
    check_long(r, cases[i].r, "get %s: result", cases[i].name);
    if (cases[i].r == 1) check_bytes(sa.s, sa.len, cases[i].data, cases[i].dlen, "get %s: data", cases[i].name);
    if (cases[i].r == -1) check_long(errno, EPROTO, "get %s: errno", cases[i].name);
    close(fd);
  }

  /* getlen alone */
  {
    static const struct { const char *in; size_t len; size_t max; int r; size_t want; } lens[] = {
      { IN("0:"), 10, 1, 0 },
      { IN("42:"), 100, 1, 42 },
      { IN("42:"), 42, 1, 42 },
      { IN("43:"), 42, -2, 0 },
      { IN(""), 10, 0, 0 },
      { IN("4"), 10, -1, 0 },
      { IN(":"), 10, -2, 0 },
      { IN("01:"), 10, -2, 0 },
      { IN("4x"), 10, -2, 0 },
      { IN("7:"), 6, -2, 0 },
    };
    for (i = 0; i < N(lens); ++i) {
      char space[16];
      buffer b;
      size_t len = 777;
      int fd = datafd(lens[i].in, lens[i].len), r;
      buffer_init(&b, fd, space, sizeof space, 0);
      r = netstring_getlen(&b, lens[i].max, &len);
      check_long(r, lens[i].r, "getlen \"%s\" max %zu: result", lens[i].in, lens[i].max);
      if (r == 1) check_long(len, lens[i].want, "getlen \"%s\": length", lens[i].in);
      close(fd);
    }
  }

  /* several in a row, then end of file */
  {
    static const char in[] = "3:abc,0:,2:xy,";
    char space[5];
    buffer b;
    int fd = datafd(in, sizeof in - 1);
    buffer_init(&b, fd, space, sizeof space, 0);
    check_long(netstring_get(&b, &sa, 10), 1, "sequence 1");
    check_bytes(sa.s, sa.len, "abc", 3, "sequence 1 data");
    check_long(netstring_get(&b, &sa, 10), 1, "sequence 2");
    check_long(sa.len, 0, "sequence 2 data is empty");
    check_long(netstring_get(&b, &sa, 10), 1, "sequence 3");
    check_bytes(sa.s, sa.len, "xy", 2, "sequence 3 data");
    check_long(netstring_get(&b, &sa, 10), 0, "sequence end");
    close(fd);
  }

  /* a read error */
  {
    char space[5];
    buffer b;
    int fd = open("/dev/null", O_WRONLY);
    buffer_init(&b, fd, space, sizeof space, 0);
    check_long(netstring_get(&b, &sa, 10), -1, "get on an unreadable fd");
    close(fd);
  }
  stralloc_free(&sa);
}

int main(void)
{
  tmpdir_make("netstring_test");
  test_parse();
  test_cat();
  test_get();
  tmpdir_remove();
  return check_end();
}
