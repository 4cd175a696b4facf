/* fuzz_envelope: the envelope scanner fed the input at once and in chunks
 * whose sizes come from the input itself must reach the same status at the
 * same byte; a complete envelope must read back with envelope_next; and
 * envelope_next must stay inside whatever bytes it is given. */
#include <stdlib.h>

#include "envelope.h"
#include "fuzz.h"

/* Feeds s[0..len) in chunks; returns the status, *used the bytes consumed
 * in all. Chunk sizes (0 included) are taken from the bytes at the end of
 * the input, read backwards, so they change with every mutation. */
static enum envelope_status chunked(struct envelope_scan *sc, size_t maxaddr,
                                    const unsigned char *s, size_t len, size_t *used)
{
  enum envelope_status st;
  size_t pos = 0, k = 0;

  envelope_start(sc, maxaddr);
  for (;;) {
    unsigned char b = len ? s[len - 1 - k % len] : 0;
    size_t n = b & 0x80 ? (size_t)(b & 0x7f) * 13 : (size_t)(b & 7);
    size_t u = 0;
    /* Empty chunks only every other time, so that the loop always ends. */
    if (!n && k % 2) n = 1;
    ++k;
    if (n > len - pos) n = len - pos;
    st = envelope_feed(sc, (const char *)s + pos, n, &u);
    if (u > n) abort();
    if (st == ENVELOPE_MORE && u != n) abort();
    pos += u;
    if (st != ENVELOPE_MORE || pos == len) break;
  }
  *used = pos;
  return st;
}

/* A complete envelope s[0..len), as envelope_feed accepted it, read with
 * envelope_next: F first, then rcpts T records, then the empty one. */
static void readback(const char *s, size_t len, size_t maxaddr, unsigned long rcpts)
{
  size_t pos = 0, alen;
  unsigned long n = 0;
  const char *addr;
  char type;
  int r;

  while ((r = envelope_next(s, len, &pos, &type, &addr, &alen)) == 1) {
    if (type != (n ? 'T' : 'F') || alen > maxaddr) abort();
    ++n;
  }
  if (r != 0 || pos != len || n != rcpts + 1) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  static const size_t maxes[] = { ENVELOPE_MAXADDR, 0, 1, 5 };
  struct envelope_scan whole, parts;
  const char *s = (const char *)data, *addr;
  size_t i, used, used2, pos, last, alen;
  char type;
  int r;

  for (i = 0; i < sizeof maxes / sizeof maxes[0]; ++i) {
    enum envelope_status st, st2;
    envelope_start(&whole, maxes[i]);
    st = envelope_feed(&whole, s, size, &used);
    if (used > size || (st == ENVELOPE_MORE && used != size)) abort();
    st2 = chunked(&parts, maxes[i], data, size, &used2);
    if (st != st2 || used != used2 || whole.rcpts != parts.rcpts) abort();
    if (st == ENVELOPE_DONE) readback(s, used, maxes[i], whole.rcpts);
  }

  /* Records over the whole input, whatever it holds. */
  pos = 0;
  for (;;) {
    last = pos;
    r = envelope_next(s, size, &pos, &type, &addr, &alen);
    if (r == -1) break;
    if (r != 0 && r != 1) abort();
    if (pos <= last || pos > size) abort();
    if (r == 0) break;
    if (addr != s + last + 1 || type != s[last] || alen != pos - last - 2 || addr[alen]) abort();
  }
  return 0;
}
