/* fuzz_base64: strict base64 (lib/base64) and SASL PLAIN. Checked:
 *   - decoding is canonical: what decodes, encodes back to the very same
 *     bytes (one credential, one encoding); what does not decode appends
 *     nothing;
 *   - any bytes encode to 4 characters per 3 bytes and decode back;
 *   - sasl_plain's three parts lie in the input, hold no NUL, tile it
 *     with two NULs between them, and keep their documented bounds, for
 *     the raw input and for its decoding. */
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "fuzz.h"
#include "stralloc.h"

static stralloc dec, enc, back;

static void plain(const char *s, size_t len)
{
  const char *z = 0, *c = 0, *p = 0;
  size_t zl = 777, cl = 777, pl = 777, i;
  int r = sasl_plain(s, len, &z, &zl, &c, &cl, &p, &pl);

  if (r != 0 && r != 1) abort();
  if (!r) return;
  if (z != s || c != z + zl + 1 || p != c + cl + 1 || p + pl != s + len) abort();
  if (s[zl] != 0 || c[cl] != 0) abort();
  if (memchr(z, 0, zl) || memchr(c, 0, cl) || memchr(p, 0, pl)) abort();
  if (!cl || !pl || zl > 255 || cl > 255 || pl > 255) abort();
  for (i = 0; i < cl; ++i)
    if ((unsigned char)c[i] < 32 || c[i] == 127) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  const char *s = (const char *)data;
  int r;

  /* the input as base64 */
  if (!stralloc_copys(&dec, "x")) abort();
  r = base64_decode(&dec, s, size);
  if (r != 0 && r != 1) abort(); /* -1 only when out of memory */
  if (dec.len < 1 || dec.s[0] != 'x') abort();
  if (r == 0 && dec.len != 1) abort();
  if (r == 1) {
    if (size % 4 || dec.len - 1 > size / 4 * 3 || dec.len - 1 + 2 < size / 4 * 3) abort();
    if (!stralloc_copys(&enc, "")) abort();
    if (!base64_encode(&enc, dec.s + 1, dec.len - 1)) abort();
    if (enc.len != size || (size && memcmp(enc.s, s, size))) abort();
    plain(dec.s + 1, dec.len - 1);
  }

  /* the input as bytes to encode */
  if (!stralloc_copys(&enc, "")) abort();
  if (!base64_encode(&enc, s, size)) abort();
  if (enc.len != (size + 2) / 3 * 4) abort();
  if (!stralloc_copys(&back, "")) abort();
  if (base64_decode(&back, enc.s, enc.len) != 1) abort();
  if (back.len != size || (size && memcmp(back.s, s, size))) abort();

  /* the input as a decoded PLAIN message */
  plain(s, size);
  return 0;
}
