/* fuzz_dotstuff: lib/dotstuff on arbitrary messages, whole and in pieces
 * whose sizes come from the input. Checked: the output does not depend on
 * how the input was split; it holds no bare CR or LF; qmail-smtpd's
 * reader (lib/smtpdata, with dots) finds exactly one message in it, ending
 * exactly at its end, and that message is the input with CR LF, CR and LF
 * each turned into one LF, plus a final LF if the input had none: no
 * message can smuggle a second one through, and nothing else changes. */
#include <stdlib.h>
#include <string.h>

#include "dotstuff.h"
#include "fuzz.h"
#include "smtpdata.h"
#include "stralloc.h"

static void stuff(const char *in, size_t len, size_t step, stralloc *out)
{
  struct dotstuff d;
  size_t pos = 0;
  char buf[2 * 32 + DOTSTUFF_ENDMAX];
  out->len = 0;
  dotstuff_start(&d);
  while (pos < len) {
    size_t n = step < len - pos ? step : len - pos;
    if (n > 32) n = 32;
    if (!stralloc_catb(out, buf, dotstuff_feed(&d, in + pos, n, buf))) abort();
    pos += n;
  }
  if (!stralloc_catb(out, buf, dotstuff_end(&d, buf))) abort();
}

static void collect(void *ctx, const char *s, size_t n)
{
  if (!stralloc_catb((stralloc *)ctx, s, n)) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  const char *s = (const char *)data;
  stralloc a = STRALLOC_ZERO, b = STRALLOC_ZERO, got = STRALLOC_ZERO, want = STRALLOC_ZERO;
  struct smtpdata d;
  size_t i, used;
  int end = 0;

  stuff(s, size, 32, &a);
  stuff(s, size, size ? (size_t)data[0] % 7 + 1 : 1, &b);
  if (a.len != b.len || memcmp(a.s, b.s, a.len)) abort();
  for (i = 0; i < a.len; ++i) {
    if (a.s[i] == '\r' && (i + 1 == a.len || a.s[i + 1] != '\n')) abort();
    if (a.s[i] == '\n' && (i == 0 || a.s[i - 1] != '\r')) abort();
  }
  smtpdata_start(&d, 1, 0);
  used = smtpdata_feed(&d, a.s, a.len, &end, collect, &got);
  if (!end || used != a.len || d.bare) abort();
  for (i = 0; i < size; ++i) {
    if (s[i] == '\r') { if (!stralloc_append(&want, '\n')) abort(); if (i + 1 < size && s[i + 1] == '\n') ++i; }
    else if (!stralloc_append(&want, s[i])) abort();
  }
  if (want.len && want.s[want.len - 1] != '\n' && !stralloc_append(&want, '\n')) abort();
  if (got.len != want.len || memcmp(got.s, want.s, got.len)) abort();
  stralloc_free(&a);
  stralloc_free(&b);
  stralloc_free(&got);
  stralloc_free(&want);
  return 0;
}
