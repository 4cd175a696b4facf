/* fuzz_smtpreply: lib/smtpreply on arbitrary server output, read as a
 * stream of replies, whole and in pieces whose sizes come from the input.
 * Checked: the replies, their codes and texts do not depend on how the
 * input was split; a code is 0 or in 200..559; the text is bounded, ends
 * in '\n' when not empty and holds no NUL or CR; the bytes used never
 * exceed the input. The EHLO parser runs on every text. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "smtpreply.h"
#include "stralloc.h"

struct run {
  stralloc all;   /* code and text of every reply, joined */
  size_t nreplies;
};

static void one(const char *s, size_t len, size_t step, struct run *out)
{
  struct smtpreply r = SMTPREPLY_ZERO;
  size_t pos = 0;
  out->all.len = 0;
  out->nreplies = 0;
  smtpreply_start(&r);
  while (pos < len) {
    size_t n = step < len - pos ? step : len - pos, used = 0;
    int x = smtpreply_feed(&r, s + pos, n, &used);
    if (x == -1) abort();
    if (used > n) abort();
    if (x == 0 && used != n) abort();
    pos += used;
    if (x == 1) {
      struct smtpreply_ehlo e;
      char c[2] = { (char)(r.code / 256), (char)(r.code % 256) };
      if (r.code && (r.code < 200 || r.code > 559)) abort();
      if (r.text.len > SMTPREPLY_MAX) abort();
      if (r.text.len && r.text.s[r.text.len - 1] != '\n') abort();
      if (memchr(r.text.s, 0, r.text.len) || memchr(r.text.s, '\r', r.text.len)) abort();
      smtpreply_ehlo(r.text.s, r.text.len, &e);
      if (!stralloc_catb(&out->all, c, 2) || !stralloc_cat(&out->all, &r.text)) abort();
      ++out->nreplies;
      smtpreply_start(&r);
    }
  }
  stralloc_free(&r.text);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  struct run a = { STRALLOC_ZERO, 0 }, b = { STRALLOC_ZERO, 0 };
  size_t step = size ? (size_t)data[0] % 13 + 1 : 1;
  one((const char *)data, size, size ? size : 1, &a);
  one((const char *)data, size, step, &b);
  if (a.nreplies != b.nreplies || a.all.len != b.all.len || memcmp(a.all.s, b.all.s, a.all.len)) abort();
  /* the EHLO parser on the raw bytes too */
  {
    struct smtpreply_ehlo e;
    smtpreply_ehlo((const char *)data, size, &e);
  }
  stralloc_free(&a.all);
  stralloc_free(&b.all);
  return 0;
}
