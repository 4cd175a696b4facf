/* Tests for lib/stralloc.c.
 * not tested: failure of realloc itself (stralloc_ready's retry path). */

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "stralloc.h"

static void test_copy_cat(void)
{
  stralloc a = STRALLOC_ZERO, b = STRALLOC_ZERO;

  check_long(stralloc_copys(&a, "hello"), 1, "copys returns 1");
  check_bytes(a.s, a.len, "hello", 5, "copys content");
  check(a.a >= a.len, "copys: a >= len");
  check_long(stralloc_copyb(&a, "x\0y", 3), 1, "copyb returns 1");
  check_bytes(a.s, a.len, "x\0y", 3, "copyb keeps NUL bytes");
  check_long(stralloc_copys(&a, ""), 1, "copys empty");
  check_long(a.len, 0, "copys \"\" resets len");
  check(a.s != 0, "copys \"\" keeps the buffer");
  check_long(stralloc_cats(&a, "ab"), 1, "cats");
  check_long(stralloc_catb(&a, "cd", 2), 1, "catb");
  check_long(stralloc_append(&a, 'e'), 1, "append");
  check_bytes(a.s, a.len, "abcde", 5, "cats+catb+append");
  check_long(stralloc_copy(&b, &a), 1, "copy");
  check_bytes(b.s, b.len, "abcde", 5, "copy content");
  check_long(stralloc_cat(&b, &a), 1, "cat");
  check_bytes(b.s, b.len, "abcdeabcde", 10, "cat content");
  check_long(stralloc_0(&a), 1, "0");
  check_bytes(a.s, a.len, "abcde\0", 6, "0 counts the NUL in len");
  check_long(stralloc_catb(&a, 0, 0), 1, "catb of nothing");
  check_long(a.len, 6, "catb of nothing keeps len");

  /* copy of an empty stralloc that was never allocated */
  {
    stralloc z = STRALLOC_ZERO;
    check_long(stralloc_copy(&b, &z), 1, "copy from zero stralloc");
    check_long(b.len, 0, "copy from zero stralloc gives len 0");
    check_long(stralloc_cat(&b, &z), 1, "cat from zero stralloc");
    check_long(b.len, 0, "cat from zero stralloc keeps len 0");
  }
  stralloc_free(&a);
  check(a.s == 0 && a.len == 0 && a.a == 0, "free zeroes the stralloc");
  stralloc_free(&a); /* twice is harmless */
  stralloc_free(&b);
}

static void test_starts(void)
{
  static const struct { const char *s; const char *prefix; int want; } cases[] = {
    { "hello", "", 1 },
    { "hello", "h", 1 },
    { "hello", "hello", 1 },
    { "hello", "hello!", 0 },
    { "hello", "help", 0 },
    { "", "", 1 },
    { "", "a", 0 },
    { "Hello", "h", 0 },
  };
  stralloc sa = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    stralloc_copys(&sa, cases[i].s);
    check_long(stralloc_starts(&sa, cases[i].prefix), cases[i].want,
               "starts(\"%s\", \"%s\")", cases[i].s, cases[i].prefix);
  }
  stralloc_free(&sa);
}

static void test_catulong(void)
{
  static const struct { unsigned long u; const char *want; } cases[] = {
    { 0, "x0" },
    { 7, "x7" },
    { 10, "x10" },
    { 1234567890UL, "x1234567890" },
    { 4294967295UL, "x4294967295" },
  };
  stralloc sa = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    stralloc_copys(&sa, "x");
    check_long(stralloc_catulong(&sa, cases[i].u), 1, "catulong %lu returns 1", cases[i].u);
    check_bytes(sa.s, sa.len, cases[i].want, strlen(cases[i].want), "catulong %lu", cases[i].u);
  }
  {
    char want[32];
    int n = snprintf(want, sizeof want, "x%lu", ULONG_MAX);
    stralloc_copys(&sa, "x");
    stralloc_catulong(&sa, ULONG_MAX);
    check_bytes(sa.s, sa.len, want, (size_t)n, "catulong ULONG_MAX");
  }
  stralloc_free(&sa);
}

static void test_growth(void)
{
  stralloc sa = STRALLOC_ZERO;
  size_t i, bad = 0, n = 100000;
  int ok = 1;

  for (i = 0; i < n; ++i) ok &= stralloc_append(&sa, (char)('a' + i % 26));
  check_long(ok, 1, "100000 appends all succeed");
  check_long(sa.len, n, "len after 100000 appends");
  check(sa.a >= sa.len, "allocated >= len after growth");
  for (i = 0; i < sa.len; ++i) if (sa.s[i] != (char)('a' + i % 26)) ++bad;
  check_long(bad, 0, "bytes intact after growth");

  /* catb in chunks of varying size */
  stralloc_copys(&sa, "");
  for (i = 0, ok = 1; i < 1000; ++i) {
    char chunk[64];
    memset(chunk, (int)('A' + i % 26), sizeof chunk);
    ok &= stralloc_catb(&sa, chunk, i % 64);
  }
  check_long(ok, 1, "chunked catb all succeed");
  {
    size_t want = 0, pos = 0;
    for (i = 0; i < 1000; ++i) want += i % 64;
    check_long(sa.len, want, "len after chunked catb");
    for (i = 0, bad = 0; i < 1000; ++i) {
      size_t j;
      for (j = 0; j < i % 64; ++j)
        if (sa.s[pos++] != (char)('A' + i % 26)) ++bad;
    }
    check_long(bad, 0, "chunked catb content");
  }
  stralloc_free(&sa);
}

static void test_overflow(void)
{
  stralloc sa = STRALLOC_ZERO;
  char *s;
  size_t a;

  stralloc_copys(&sa, "keep");
  s = sa.s;
  a = sa.a;
  errno = 0;
  check_long(stralloc_readyplus(&sa, SIZE_MAX), 0, "readyplus(SIZE_MAX) fails");
  check_long(errno, ENOMEM, "readyplus(SIZE_MAX) errno ENOMEM");
  check(sa.s == s, "readyplus(SIZE_MAX) keeps s");
  check_long(sa.a, a, "readyplus(SIZE_MAX) keeps a");
  check_bytes(sa.s, sa.len, "keep", 4, "readyplus(SIZE_MAX) keeps content");

  errno = 0;
  check_long(stralloc_readyplus(&sa, SIZE_MAX - 3), 0, "readyplus(SIZE_MAX - len + 1) fails");
  check_long(errno, ENOMEM, "readyplus(SIZE_MAX - len + 1) errno ENOMEM");
  errno = 0;
  check_long(stralloc_catb(&sa, "x", SIZE_MAX), 0, "catb of SIZE_MAX bytes fails");
  check_long(errno, ENOMEM, "catb of SIZE_MAX bytes errno ENOMEM");
  check_bytes(sa.s, sa.len, "keep", 4, "failed catb keeps content");

  check_long(stralloc_readyplus(&sa, 100), 1, "readyplus(100) works");
  check(sa.a >= sa.len + 100, "readyplus(100) gives room");
  check_bytes(sa.s, sa.len, "keep", 4, "readyplus keeps content");
  check_long(stralloc_ready(&sa, 1), 1, "ready(smaller) works");
  check_bytes(sa.s, sa.len, "keep", 4, "ready(smaller) does not truncate");
  stralloc_free(&sa);
}

/* Appending a stralloc to itself, or a piece of itself, while it grows. */
static void test_selfappend(void)
{
  stralloc sa = STRALLOC_ZERO;
  int i;
  stralloc_copys(&sa, "ab");
  for (i = 0; i < 20; ++i) stralloc_cat(&sa, &sa);
  check_long(sa.len, 2L << 20, "cat(sa, sa) twenty times doubles the length each time");
  check(sa.s[0] == 'a' && sa.s[sa.len - 1] == 'b' && sa.s[sa.len / 2] == 'a', "and the content is abab...");
  stralloc_copys(&sa, "xyz");
  sa.a = sa.len; /* force a reallocation on the next growth */
  stralloc_catb(&sa, sa.s + 1, 2);
  check_bytes(sa.s, sa.len, "xyzyz", 5, "catb from inside sa, with a reallocation");
  stralloc_free(&sa);
}

int main(void)
{
  test_selfappend();
  test_copy_cat();
  test_starts();
  test_catulong();
  test_growth();
  test_overflow();
  return check_end();
}
