/* Tests for lib/date822.c.
 * not tested: platforms with a 32-bit time_t (the cases past 2038 and
 * before year 0 are skipped there). */

#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "date822.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static void test_fixed(void)
{
  static const struct { long long t; const char *want; } cases[] = {
    { 0, "1 Jan 1970 00:00:00 -0000" },
    { 1, "1 Jan 1970 00:00:01 -0000" },
    { 1795313113, "22 Nov 2026 02:05:13 -0000" },
    { 1795312380, "22 Nov 2026 01:53:00 -0000" },          /* the example in date822.h */
    { 1709210096, "29 Feb 2024 12:34:56 -0000" },          /* leap day */
    { 951782400, "29 Feb 2000 00:00:00 -0000" },           /* leap day of a century */
    { 1704067199, "31 Dec 2023 23:59:59 -0000" },          /* last second of a year */
    { 1704067200, "1 Jan 2024 00:00:00 -0000" },
    { 946684799, "31 Dec 1999 23:59:59 -0000" },
    { 2147483647, "19 Jan 2038 03:14:07 -0000" },
    { 1000000000, "9 Sep 2001 01:46:40 -0000" },
    { -1, "31 Dec 1969 23:59:59 -0000" },
    { 4102444800LL, "1 Jan 2100 00:00:00 -0000" },
    { 4107542400LL, "1 Mar 2100 00:00:00 -0000" },         /* 2100 is not a leap year */
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    char buf[DATE822_MAX + 8];
    size_t len;
    if ((long long)(time_t)cases[i].t != cases[i].t) continue;
    memset(buf, '#', sizeof buf);
    len = date822_fmt(buf, (time_t)cases[i].t);
    check_bytes(buf, len, cases[i].want, strlen(cases[i].want), "date822_fmt(%lld)", cases[i].t);
    check_long(buf[len], '#', "date822_fmt(%lld) writes no NUL", cases[i].t);
  }
}

/* Any time_t at all fits in DATE822_MAX bytes. The buffer is malloc'd at
 * exactly that size so that AddressSanitizer sees an overrun. */
static void test_extremes(void)
{
  long long cases[] = {
    -62167219200LL,            /* 1 Jan of year 0 */
    -62167219200LL - 1,        /* 31 Dec of year -1 */
    -62167219200LL - 86400LL * 366 * 1000,
    -67768040609740800LL,      /* near the most negative year gmtime gives */
    67767976233316800LL,       /* near the largest year */
    INT64_MAX, INT64_MIN, INT64_MIN + 1, -4102444800LL,
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    char *buf = malloc(DATE822_MAX);
    size_t len;
    if ((long long)(time_t)cases[i] != cases[i]) { free(buf); continue; }
    len = date822_fmt(buf, (time_t)cases[i]);
    check(len <= DATE822_MAX, "date822_fmt(%lld) length %zu fits DATE822_MAX", cases[i], len);
    check(len > 0 && buf[len - 1] == '0' && buf[0] != ' ', "date822_fmt(%lld) looks like a date", cases[i]);
    check(memchr(buf, '-', len) == buf + len - 5, "date822_fmt(%lld) has no negative number", cases[i]);
    free(buf);
  }
}

int main(void)
{
  test_fixed();
  test_extremes();
  return check_end();
}
