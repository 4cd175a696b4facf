/* Tests for lib/newfield.c.
 * not tested: running out of memory. */

#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "newfield.h"
#include "stralloc.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static void test_fixed(void)
{
  static const struct { long long t; unsigned long pid; const char *date, *msgid; } cases[] = {
    { 0, 1, "Date: 1 Jan 1970 00:00:00 -0000\n", "Message-ID: <19700101000000.1.qmail@id.example>\n" },
    { 1795312380, 1234, "Date: 22 Nov 2026 01:53:00 -0000\n",
      "Message-ID: <20261122015300.1234.qmail@id.example>\n" },
    { 1709210096, 4294967295UL, "Date: 29 Feb 2024 12:34:56 -0000\n",
      "Message-ID: <20240229123456.4294967295.qmail@id.example>\n" },
    { 1000000000, 99, "Date: 9 Sep 2001 01:46:40 -0000\n", "Message-ID: <20010909014640.99.qmail@id.example>\n" },
    { 4102444799LL, 7, "Date: 31 Dec 2099 23:59:59 -0000\n", "Message-ID: <20991231235959.7.qmail@id.example>\n" },
  };
  stralloc sa = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    if ((long long)(time_t)cases[i].t != cases[i].t) continue;
    sa.len = 0;
    check_long(newfield_date(&sa, (time_t)cases[i].t), 1, "newfield_date(%lld) succeeds", cases[i].t);
    check_str((stralloc_0(&sa), sa.s), cases[i].date, "newfield_date(%lld)", cases[i].t);
    sa.len = 0;
    check_long(newfield_msgid(&sa, (time_t)cases[i].t, cases[i].pid, "id.example", 10), 1,
               "newfield_msgid(%lld) succeeds", cases[i].t);
    check_str((stralloc_0(&sa), sa.s), cases[i].msgid, "newfield_msgid(%lld)", cases[i].t);
  }
  /* Fields are appended. */
  sa.len = 0;
  stralloc_cats(&sa, "X: y\n");
  newfield_date(&sa, 0);
  newfield_msgid(&sa, 0, 5, "h", 1);
  check_str((stralloc_0(&sa), sa.s),
            "X: y\nDate: 1 Jan 1970 00:00:00 -0000\nMessage-ID: <19700101000000.5.qmail@h>\n", "fields are appended");
  stralloc_free(&sa);
}

/* The Message-ID's stamp agrees with the C library's UTC calendar. */
static void test_agree(void)
{
  stralloc sa = STRALLOC_ZERO;
  unsigned long bad = 0, i;
  srand(822);
  for (i = 0; i < 20000; ++i) {
    time_t t = (time_t)(((unsigned long)rand() << 16 ^ (unsigned long)rand()) % 4102444800UL);
    struct tm tm;
    char want[64];
    sa.len = 0;
    newfield_msgid(&sa, t, 0, "", 0);
    gmtime_r(&t, &tm);
    strftime(want, sizeof want, "Message-ID: <%Y%m%d%H%M%S.0.qmail@>\n", &tm);
    if (sa.len != strlen(want) || memcmp(sa.s, want, sa.len)) {
      if (!bad) check_bytes(sa.s, sa.len, want, strlen(want), "msgid stamp for %lld", (long long)t);
      ++bad;
    }
  }
  check_long(bad, 0, "20000 random times: the stamp agrees with gmtime_r");
  stralloc_free(&sa);
}

int main(void)
{
  test_fixed();
  test_agree();
  return check_end();
}
