/* Tests for lib/fmt.c and lib/scan.c.
 * not tested: platforms where size_t is narrower than unsigned long (the
 * scan_sizen limit is checked against SIZE_MAX, whatever it is here). */

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "fmt.h"
#include "scan.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

/* The decimal (or octal) text of ULONG_MAX, and of ULONG_MAX + 1. */
static char dec_max[32], dec_over[32], oct_max[32], oct_over[32], dec_sizemax[32], dec_sizeover[32];

/* Adds one to the decimal or octal number in s, in place (s has room). */
static void text_increment(char *s, unsigned base)
{
  size_t len = strlen(s), i = len;
  while (i > 0) {
    --i;
    if ((unsigned)(s[i] - '0') + 1 < base) { ++s[i]; return; }
    s[i] = '0';
  }
  memmove(s + 1, s, len + 1);
  s[0] = '1';
}

static void setup(void)
{
  snprintf(dec_max, sizeof dec_max, "%lu", ULONG_MAX);
  snprintf(dec_over, sizeof dec_over, "%lu", ULONG_MAX);
  text_increment(dec_over, 10);
  snprintf(oct_max, sizeof oct_max, "%lo", ULONG_MAX);
  snprintf(oct_over, sizeof oct_over, "%lo", ULONG_MAX);
  text_increment(oct_over, 8);
  snprintf(dec_sizemax, sizeof dec_sizemax, "%zu", (size_t)SIZE_MAX);
  snprintf(dec_sizeover, sizeof dec_sizeover, "%zu", (size_t)SIZE_MAX);
  text_increment(dec_sizeover, 10);
}

/* ---- fmt ---- */

static void test_fmt(void)
{
  static const struct {
    const char *name;
    size_t (*f)(char *, unsigned long);
    unsigned long u;
    const char *want;
  } cases[] = {
    { "fmt_ulong", fmt_ulong, 0, "0" },
    { "fmt_ulong", fmt_ulong, 9, "9" },
    { "fmt_ulong", fmt_ulong, 10, "10" },
    { "fmt_ulong", fmt_ulong, 1234567, "1234567" },
    { "fmt_ulong", fmt_ulong, 4294967295UL, "4294967295" },
    { "fmt_octal", fmt_octal, 0, "0" },
    { "fmt_octal", fmt_octal, 7, "7" },
    { "fmt_octal", fmt_octal, 8, "10" },
    { "fmt_octal", fmt_octal, 0644, "644" },
    { "fmt_octal", fmt_octal, 511, "777" },
    { "fmt_xlong", fmt_xlong, 0, "0" },
    { "fmt_xlong", fmt_xlong, 15, "f" },
    { "fmt_xlong", fmt_xlong, 16, "10" },
    { "fmt_xlong", fmt_xlong, 0xdeadbeefUL, "deadbeef" },
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    char buf[FMT_ULONG + 8];
    size_t len, n;
    memset(buf, '#', sizeof buf);
    n = cases[i].f(0, cases[i].u);
    len = cases[i].f(buf, cases[i].u);
    check_long(n, strlen(cases[i].want), "%s(NULL, %lu) length", cases[i].name, cases[i].u);
    check_bytes(buf, len, cases[i].want, strlen(cases[i].want), "%s(buf, %lu)", cases[i].name, cases[i].u);
    check_long(buf[len], '#', "%s(buf, %lu) writes nothing past its length", cases[i].name, cases[i].u);
  }

  /* The largest values, whose text comes from printf. */
  {
    char buf[FMT_ULONG], want[64];
    size_t len;
    len = fmt_ulong(buf, ULONG_MAX);
    check_bytes(buf, len, dec_max, strlen(dec_max), "fmt_ulong(ULONG_MAX)");
    check_long(fmt_ulong(0, ULONG_MAX), strlen(dec_max), "fmt_ulong(NULL, ULONG_MAX)");
    len = fmt_octal(buf, ULONG_MAX);
    check_bytes(buf, len, oct_max, strlen(oct_max), "fmt_octal(ULONG_MAX)");
    check(len <= FMT_ULONG, "fmt_octal(ULONG_MAX) fits FMT_ULONG");
    snprintf(want, sizeof want, "%lx", ULONG_MAX);
    len = fmt_xlong(buf, ULONG_MAX);
    check_bytes(buf, len, want, strlen(want), "fmt_xlong(ULONG_MAX)");
  }
}

static void test_fmt_ulong0(void)
{
  static const struct { unsigned long u; size_t n; const char *want; } cases[] = {
    { 0, 0, "0" },
    { 0, 1, "0" },
    { 0, 3, "000" },
    { 5, 3, "005" },
    { 42, 2, "42" },
    { 1234, 2, "1234" },      /* never truncates */
    { 1234, 4, "1234" },
    { 1234, 20, "00000000000000001234" },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    char buf[64];
    size_t len;
    memset(buf, '#', sizeof buf);
    check_long(fmt_ulong0(0, cases[i].u, cases[i].n), strlen(cases[i].want),
               "fmt_ulong0(NULL, %lu, %zu) length", cases[i].u, cases[i].n);
    len = fmt_ulong0(buf, cases[i].u, cases[i].n);
    check_bytes(buf, len, cases[i].want, strlen(cases[i].want), "fmt_ulong0(buf, %lu, %zu)", cases[i].u, cases[i].n);
    check_long(buf[len], '#', "fmt_ulong0(buf, %lu, %zu) writes nothing past its length", cases[i].u, cases[i].n);
  }
}

static void test_fmt_str(void)
{
  char buf[16];
  size_t len;
  memset(buf, '#', sizeof buf);
  check_long(fmt_str(0, "hello"), 5, "fmt_str(NULL) length");
  len = fmt_str(buf, "hello");
  check_bytes(buf, len, "hello", 5, "fmt_str(buf)");
  check_long(buf[5], '#', "fmt_str adds no NUL");
  check_long(fmt_str(buf, ""), 0, "fmt_str of empty string");
}

/* ---- scan ---- */

/* want_len 0 means failure: the output must stay untouched. */
struct scan_case { const char *in; size_t want_len; unsigned long want; };

static void run_scan(const char *name, size_t (*f)(const char *, unsigned long *),
                     const struct scan_case *cases, size_t n)
{
  size_t i;
  for (i = 0; i < n; ++i) {
    unsigned long u = 12345;
    size_t len = f(cases[i].in, &u);
    check_long(len, cases[i].want_len, "%s(\"%s\") length", name, cases[i].in);
    if (cases[i].want_len)
      check(u == cases[i].want, "%s(\"%s\") value %lu, want %lu", name, cases[i].in, u, cases[i].want);
    else
      check(u == 12345, "%s(\"%s\") leaves the output alone (got %lu)", name, cases[i].in, u);
  }
}

static void test_scan_ulong(void)
{
  const struct scan_case cases[] = {
    { "", 0, 0 },
    { "abc", 0, 0 },
    { "0", 1, 0 },
    { "007", 3, 7 },
    { "123abc", 3, 123 },
    { "42", 2, 42 },
    { "4294967295", 10, 4294967295UL },
    { " 1", 0, 0 },
    { "+1", 0, 0 },
    { "-1", 0, 0 },
    { "1 2", 1, 1 },
    { "9/", 1, 9 },     /* '/' is just below '0' */
    { "9:", 1, 9 },     /* ':' is just above '9' */
    { dec_max, strlen(dec_max), ULONG_MAX },
    { dec_over, 0, 0 },                     /* ULONG_MAX + 1: no wrapping */
    { "99999999999999999999999999", 0, 0 },
  };
  run_scan("scan_ulong", scan_ulong, cases, N(cases));
}

static void test_scan_octal(void)
{
  const struct scan_case cases[] = {
    { "", 0, 0 },
    { "abc", 0, 0 },
    { "0", 1, 0 },
    { "007", 3, 7 },
    { "644", 3, 0644 },
    { "777", 3, 511 },
    { "8", 0, 0 },
    { "1238", 3, 0123 },
    { "19", 1, 1 },
    { oct_max, strlen(oct_max), ULONG_MAX },
    { oct_over, 0, 0 },
  };
  run_scan("scan_octal", scan_octal, cases, N(cases));
}

static void test_scan_ulongn(void)
{
  static const struct { const char *in; size_t n; size_t want_len; unsigned long want; } cases[] = {
    { "12345", 5, 5, 12345 },
    { "12345", 3, 3, 123 },
    { "12345", 0, 0, 0 },
    { "12345", 1, 1, 1 },
    { "12a45", 5, 2, 12 },
    { "abc", 3, 0, 0 },
    { "0", 1, 1, 0 },
    { "007", 3, 3, 7 },
    { "5\0" "5", 3, 1, 5 },   /* stops at the NUL like at any non-digit */
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    unsigned long u = 777;
    size_t len = scan_ulongn(cases[i].in, cases[i].n, &u);
    check_long(len, cases[i].want_len, "scan_ulongn(\"%s\", %zu) length", cases[i].in, cases[i].n);
    check(u == (cases[i].want_len ? cases[i].want : 777), "scan_ulongn(\"%s\", %zu) value %lu",
          cases[i].in, cases[i].n, u);
  }
  {
    unsigned long u = 777;
    check_long(scan_ulongn(dec_max, strlen(dec_max), &u), strlen(dec_max), "scan_ulongn(ULONG_MAX) length");
    check(u == ULONG_MAX, "scan_ulongn(ULONG_MAX) value");
    u = 777;
    check_long(scan_ulongn(dec_over, strlen(dec_over), &u), 0, "scan_ulongn(ULONG_MAX + 1) fails");
    check(u == 777, "scan_ulongn(ULONG_MAX + 1) stores nothing");
    /* Bounded by n, the overflow is never seen. */
    check_long(scan_ulongn(dec_over, strlen(dec_over) - 1, &u), strlen(dec_over) - 1,
               "scan_ulongn(ULONG_MAX + 1, n - 1)");
  }
}

static void test_scan_sizen(void)
{
  static const struct { const char *in; size_t want_len; size_t want; } cases[] = {
    { "", 0, 0 },
    { "abc", 0, 0 },
    { "0", 1, 0 },
    { "007", 3, 7 },
    { "123abc", 3, 123 },
    { "65536", 5, 65536 },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    size_t sz = 777;
    size_t len = scan_sizen(cases[i].in, strlen(cases[i].in), &sz);
    check_long(len, cases[i].want_len, "scan_sizen(\"%s\") length", cases[i].in);
    check(sz == (cases[i].want_len ? cases[i].want : 777), "scan_sizen(\"%s\") value %zu", cases[i].in, sz);
  }
  {
    size_t sz = 777;
    check_long(scan_sizen(dec_sizemax, strlen(dec_sizemax), &sz), strlen(dec_sizemax), "scan_sizen(SIZE_MAX) length");
    check(sz == SIZE_MAX, "scan_sizen(SIZE_MAX) value");
    sz = 777;
    check_long(scan_sizen(dec_sizeover, strlen(dec_sizeover), &sz), 0, "scan_sizen(SIZE_MAX + 1) fails");
    check(sz == 777, "scan_sizen(SIZE_MAX + 1) stores nothing");
  }
}

static void test_scan_whole_ulong(void)
{
  const struct { const char *in; unsigned long max; int ok; unsigned long want; } cases[] = {
    { "", ULONG_MAX, 0, 0 },
    { "abc", ULONG_MAX, 0, 0 },
    { "0", ULONG_MAX, 1, 0 },
    { "007", ULONG_MAX, 1, 7 },
    { "123abc", ULONG_MAX, 0, 0 },
    { "12 ", ULONG_MAX, 0, 0 },
    { " 12", ULONG_MAX, 0, 0 },
    { "-1", ULONG_MAX, 0, 0 },
    { dec_max, ULONG_MAX, 1, ULONG_MAX },
    { dec_over, ULONG_MAX, 0, 0 },
    /* limits below ULONG_MAX */
    { "0", 0, 1, 0 },
    { "1", 0, 0, 0 },
    { "5", 5, 1, 5 },
    { "6", 5, 0, 0 },
    { "9", 5, 0, 0 },            /* a digit bigger than max itself */
    { "9", 8, 0, 0 },
    { "10", 9, 0, 0 },
    { "255", 255, 1, 255 },
    { "256", 255, 0, 0 },
    { "300", 255, 0, 0 },
    { "1000", 255, 0, 0 },
    { "4294967295", 4294967295UL, 1, 4294967295UL },
    { "4294967296", 4294967295UL, 0, 0 },
    { "42949672950", 4294967295UL, 0, 0 },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    unsigned long u = 777;
    int r = scan_whole_ulong(cases[i].in, cases[i].max, &u);
    check_long(r, cases[i].ok, "scan_whole_ulong(\"%s\", %lu)", cases[i].in, cases[i].max);
    check(u == (cases[i].ok ? cases[i].want : 777), "scan_whole_ulong(\"%s\", %lu) value %lu",
          cases[i].in, cases[i].max, u);
  }
}

/* fmt and scan are inverses over a spread of values. */
static void test_roundtrip(void)
{
  unsigned long u = 1, bad = 0;
  int i;
  for (i = 0; i < 200; ++i) {
    char buf[FMT_ULONG + 1];
    unsigned long back = 0;
    size_t len = fmt_ulong(buf, u);
    buf[len] = 0;
    if (scan_ulong(buf, &back) != len || back != u) ++bad;
    len = fmt_octal(buf, u);
    buf[len] = 0;
    if (scan_octal(buf, &back) != len || back != u) ++bad;
    u = u * 3 + (unsigned long)i;
  }
  check_long(bad, 0, "fmt/scan round trip over 200 values");
}

int main(void)
{
  setup();
  test_fmt();
  test_fmt_ulong0();
  test_fmt_str();
  test_scan_ulong();
  test_scan_octal();
  test_scan_ulongn();
  test_scan_sizen();
  test_scan_whole_ulong();
  test_roundtrip();
  return check_end();
}
