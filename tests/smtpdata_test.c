/* Tests for lib/smtpdata.c: where a message ends, dot-unstuffing, bare CR
 * and LF (the SMTP smuggling cases), hop counting, long lines, and the same
 * answers whatever the input's split into reads.
 * not tested: nothing known. */

#include <stdlib.h>

#include "check.h"
#include "smtpdata.h"
#include "stralloc.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static void collect(void *ctx, const char *s, size_t n)
{
  if (!stralloc_catb((stralloc *)ctx, s, n)) exit(111);
}

struct result {
  stralloc out;
  size_t used;
  int end, bare;
};

/* Feeds in pieces of at most step bytes (0: all at once), as qmail-smtpd
 * does with whatever read() returned. */
static void run(const char *in, size_t len, int dots, unsigned long long maxline, size_t step,
                struct result *r, struct smtpdata *d)
{
  size_t pos = 0;
  r->out.len = 0;
  r->used = 0;
  r->end = r->bare = 0;
  smtpdata_start(d, dots, maxline);
  while (pos < len && !r->end && !d->bare) {
    size_t k = step && len - pos > step ? step : len - pos;
    size_t u = smtpdata_feed(d, in + pos, k, &r->end, collect, &r->out);
    if (u > k) { printf("not ok - used more than given\n"); exit(1); }
    pos += u;
    if (u < k && !r->end && !d->bare) { printf("not ok - stopped early\n"); exit(1); }
  }
  if (!dots) smtpdata_finish(d);
  r->used = pos;
  r->bare = d->bare;
}

static void test_data(void)
{
  static const struct {
    const char *in;
    int end, bare;
    const char *out;     /* what was passed on (if not bare) */
    size_t used;         /* bytes consumed (end or bare) */
  } cases[] = {
    { ".\r\n", 1, 0, "", 3 },
    { "a\r\n.\r\n", 1, 0, "a\n", 6 },
    { "a\r\n.\r\nMAIL FROM:<x>\r\n", 1, 0, "a\n", 6 },
    { "..\r\n.\r\n", 1, 0, ".\n", 7 },
    { "..x\r\n.\r\n", 1, 0, ".x\n", 8 },
    { ".x\r\n.\r\n", 1, 0, "x\n", 7 },
    { "a.\r\n.\r\n", 1, 0, "a.\n", 7 },
    { "\r\n.\r\n", 1, 0, "\n", 5 },
    { "a\r\n..\r\n.\r\n", 1, 0, "a\n.\n", 10 },
    { "a\r\nb", 0, 0, "a\nb", 4 },
    /* the 2023 smuggling shapes: all refused at the bare byte */
    { "a\n.\nMAIL", 0, 1, 0, 2 },
    { "a\n.\r\nMAIL", 0, 1, 0, 2 },
    { "a\r\n.\nMAIL", 0, 1, 0, 5 },
    { "a\r.\r\nMAIL", 0, 1, 0, 3 },
    { "a\r\n.\rMAIL", 0, 1, 0, 6 },
    { "a\r\n.\r.\r\n", 0, 1, 0, 6 },
    { "\n", 0, 1, 0, 1 },
    { "\r\r\n", 0, 1, 0, 2 },
    { ".\n", 0, 1, 0, 2 },
    { "a\rb\r\n.\r\n", 0, 1, 0, 3 },
    { "a\x00" "b\r\n.\r\n", 1, 0, "a\x00" "b\n", 8 },
  };
  size_t i, steps[] = { 0, 1, 2, 3, 7 };
  struct result r = { STRALLOC_ZERO, 0, 0, 0 };
  struct smtpdata d;
  for (i = 0; i < N(cases); ++i) {
    size_t j, len = strlen(cases[i].in);
    if (i == N(cases) - 1) len = 9; /* the case with a NUL */
    for (j = 0; j < N(steps); ++j) {
      run(cases[i].in, len, 1, 0, steps[j], &r, &d);
      check_long(r.end, cases[i].end, "data %zu step %zu end", i, steps[j]);
      check_long(r.bare, cases[i].bare, "data %zu step %zu bare", i, steps[j]);
      if (cases[i].end || cases[i].bare) check_long(r.used, cases[i].used, "data %zu step %zu used", i, steps[j]);
      if (cases[i].out) check_bytes(r.out.s ? r.out.s : "", r.out.len, cases[i].out, strlen(cases[i].out) + (i == N(cases) - 1 ? 3 : 0), "data %zu step %zu out", i, steps[j]);
    }
  }
  /* Nothing is fed after a bare byte. */
  run("\n", 1, 1, 0, 0, &r, &d);
  {
    int end;
    check_long(smtpdata_feed(&d, "abc\r\n", 5, &end, collect, &r.out), 0, "no feeding after bare");
  }
  stralloc_free(&r.out);
}

static void test_bdat(void)
{
  static const struct { const char *in; int bare; const char *out; } cases[] = {
    { "a\r\n.\r\nb\r\n", 0, "a\n.\nb\n" },   /* no dots rule: "." is text */
    { "..x\r\n", 0, "..x\n" },
    { "a\r\nb", 0, "a\nb" },               /* a last line without CRLF */
    { "a\r", 1, 0 },                        /* ends in a bare CR */
    { "a\nb", 1, 0 },
    { "a\rb", 1, 0 },
    { "", 0, "" },
  };
  size_t i, steps[] = { 0, 1, 2 };
  struct result r = { STRALLOC_ZERO, 0, 0, 0 };
  struct smtpdata d;
  for (i = 0; i < N(cases); ++i) {
    size_t j;
    for (j = 0; j < N(steps); ++j) {
      run(cases[i].in, strlen(cases[i].in), 0, 0, steps[j], &r, &d);
      check_long(r.end, 0, "bdat %zu step %zu never ends by itself", i, steps[j]);
      check_long(r.bare, cases[i].bare, "bdat %zu step %zu bare", i, steps[j]);
      if (cases[i].out) check_bytes(r.out.s ? r.out.s : "", r.out.len, cases[i].out, strlen(cases[i].out), "bdat %zu step %zu out", i, steps[j]);
    }
  }
  stralloc_free(&r.out);
}

static void test_hops(void)
{
  static const struct { const char *in; unsigned long hops; } cases[] = {
    { "Received: x\r\nDelivered-To: y\r\n\r\nReceived: body\r\n.\r\n", 2 },
    { "received:x\r\nDELIVERED-TO:y\r\nX-Received: z\r\n\r\n.\r\n", 2 },
    { "Received x\r\nReceived\r\nDelivered-To\r\n\r\n.\r\n", 0 },
    { "Subject: a\r\n Received: folded\r\n\r\n.\r\n", 0 },
    { "..Received: z\r\n\r\n.\r\n", 0 },
    { ".Received: z\r\n\r\n.\r\n", 1 },
    { "\r\nReceived: after the header\r\n.\r\n", 0 },
  };
  size_t i;
  struct result r = { STRALLOC_ZERO, 0, 0, 0 };
  struct smtpdata d;
  for (i = 0; i < N(cases); ++i) {
    run(cases[i].in, strlen(cases[i].in), 1, 0, 1, &r, &d);
    check_long(d.hops, cases[i].hops, "hops %zu", i);
  }
  stralloc_free(&r.out);
}

static void test_toolong(void)
{
  char line[1100];
  struct result r = { STRALLOC_ZERO, 0, 0, 0 };
  struct smtpdata d;
  memset(line, 'x', sizeof line);
  memcpy(line + 998, "\r\n.\r\n", 5);
  run(line, 1003, 1, 1000, 0, &r, &d);
  check_long(d.toolong, 0, "998 bytes + CRLF = 1000: not too long");
  memset(line, 'x', sizeof line);
  memcpy(line + 999, "\r\n.\r\n", 5);
  run(line, 1004, 1, 1000, 0, &r, &d);
  check_long(d.toolong, 1, "999 bytes + CRLF: too long");
  check_long(r.end, 1, "too long still reads to the end");
  run(line, 1004, 1, 0, 0, &r, &d);
  check_long(d.toolong, 0, "maxline 0: no limit");
  stralloc_free(&r.out);
}

static void test_nul(void)
{
  static const struct { const char *in; size_t len; int nul, end; } cases[] = {
    { "a\r\n.\r\n", 6, 0, 1 },
    { "a\0b\r\n.\r\n", 8, 1, 1 },
    { "\r\n\0.\r\nx\r\n.\r\n", 13, 1, 1 },
    { ".\0\r\n.\r\n", 7, 1, 1 },
  };
  size_t i;
  struct result r = { STRALLOC_ZERO, 0, 0, 0 };
  struct smtpdata d;
  for (i = 0; i < N(cases); ++i) {
    run(cases[i].in, cases[i].len, 1, 0, 1, &r, &d);
    check_long(d.nul, cases[i].nul, "nul %zu", i);
    check_long(r.end, cases[i].end, "nul %zu: read to the end", i);
  }
  stralloc_free(&r.out);
}

int main(void)
{
  test_data();
  test_bdat();
  test_hops();
  test_toolong();
  test_nul();
  return check_end();
}
