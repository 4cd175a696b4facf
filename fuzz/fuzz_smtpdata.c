/* fuzz_smtpdata: lib/smtpdata on arbitrary bytes, with DATA's dot rule and
 * with BDAT's, fed whole and in pieces whose sizes come from the input.
 * Checked: the answers (used, end, bare, hops, toolong, the text passed
 * on) do not depend on how the input was split; nothing passed on holds a
 * CR; with dots, a message that ended was followed in the input by
 * "\r\n.\r\n" (or was just ".\r\n"); the bytes used never exceed the
 * input. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "smtpdata.h"
#include "stralloc.h"

static void collect(void *ctx, const char *s, size_t n)
{
  if (!stralloc_catb((stralloc *)ctx, s, n)) abort();
}

struct run {
  stralloc out;
  size_t used;
  int end;
  struct smtpdata d;
};

static void feed(struct run *r, const char *s, size_t len, int dots, const unsigned char *steps, size_t nsteps)
{
  size_t pos = 0, k = 0;
  r->out.len = 0;
  r->end = 0;
  smtpdata_start(&r->d, dots, 100);
  while (pos < len && !r->end && !r->d.bare) {
    size_t step = nsteps ? (size_t)steps[k++ % nsteps] % 17 + 1 : len - pos;
    size_t n = step < len - pos ? step : len - pos;
    size_t u = smtpdata_feed(&r->d, s + pos, n, &r->end, collect, &r->out);
    if (u > n) abort();
    if (u < n && !r->end && !r->d.bare) abort();
    pos += u;
  }
  if (!dots) smtpdata_finish(&r->d);
  r->used = pos;
}

static void compare(const struct run *a, const struct run *b)
{
  if (a->used != b->used || a->end != b->end || a->d.bare != b->d.bare) abort();
  if (a->d.hops != b->d.hops || a->d.toolong != b->d.toolong) abort();
  if (!a->d.bare && (a->out.len != b->out.len || memcmp(a->out.s, b->out.s, a->out.len))) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  static struct run whole, split;
  const unsigned char *steps = data;
  size_t nsteps = size < 8 ? size : 8;
  const char *s = (const char *)data + nsteps;
  size_t len = size - nsteps;
  int dots;

  for (dots = 0; dots <= 1; ++dots) {
    feed(&whole, s, len, dots, 0, 0);
    feed(&split, s, len, dots, steps, nsteps);
    compare(&whole, &split);
    if (whole.out.len && memchr(whole.out.s, '\r', whole.out.len)) abort();
    if (dots && whole.end) {
      if (whole.used < 3 || memcmp(s + whole.used - 3, ".\r\n", 3)) abort();
      if (whole.used > 3 && (whole.used < 5 || memcmp(s + whole.used - 5, "\r\n", 2))) abort();
    }
    if (!dots && whole.end) abort();
  }
  return 0;
}
