/* fuzz_netstring: the netstring parser on arbitrary bytes, in memory
 * (netstring_parse) and through a buffer over a file (netstring_get). A
 * parsed netstring lies inside the input, is at most max bytes long, and
 * netstring_cat of its data gives back exactly the bytes consumed; both
 * readers agree on every netstring of a stream. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buffer.h"
#include "fuzz.h"
#include "netstring.h"
#include "stralloc.h"

/* netstring_parse at s[0..len) with its checks; returns its answer. */
static int parse(stralloc *sa, const char *s, size_t len, size_t max, const char **d, size_t *dlen,
                 size_t *used)
{
  int r = netstring_parse(s, len, max, d, dlen, used);
  if (r == 1) {
    const char *d2;
    size_t dlen2, used2;
    if (*used > len || *d < s || *dlen > len - (size_t)(*d - s)) abort();
    if (*dlen > max) abort();
    sa->len = 0;
    if (!netstring_cat(sa, *d, *dlen)) abort();
    if (sa->len != *used || memcmp(sa->s, s, *used)) abort();
    /* Every proper prefix is incomplete, not malformed. */
    if (netstring_parse(s, *used - 1, max, &d2, &dlen2, &used2) != 0) abort();
  } else if (r == 0) {
    /* "Incomplete" promises a prefix of a valid netstring: its length, as
     * far as it goes, is within max. */
    size_t i, n = 0;
    for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; ++i) {
      size_t dig = (size_t)(s[i] - '0');
      if (n > (SIZE_MAX - dig) / 10) abort(); /* past any max */
      n = n * 10 + dig;
    }
    if (n > max) abort();
  } else if (r != -1)
    abort();
  return r;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  /* netstring_get allocates the announced length before reading, so its max
   * stays small; callers bound it the same way. */
  static const size_t maxes[] = { 0, 1, 3, 9, 10, 99, 1000 };
  stralloc sa = STRALLOC_ZERO, got = STRALLOC_ZERO;
  const char *s = (const char *)data, *d;
  size_t i, dlen, used;
  int r;

  parse(&sa, s, size, SIZE_MAX, &d, &dlen, &used);
  parse(&sa, s, size, size, &d, &dlen, &used);
  for (i = 0; i < sizeof maxes / sizeof maxes[0]; ++i) {
    /* The stream read both ways, netstring after netstring. */
    char space[16]; /* small, so that reads straddle refills */
    buffer b;
    size_t pos = 0;
    int fd = fuzz_memfd(data, size);

    buffer_init(&b, fd, space, sizeof space, 0);
    for (;;) {
      int g = netstring_get(&b, &got, maxes[i]);
      r = parse(&sa, s + pos, size - pos, maxes[i], &d, &dlen, &used);
      if (r == 1) {
        if (g != 1 || got.len != dlen || memcmp(got.s, d, dlen)) abort();
        pos += used;
        continue;
      }
      if (r == -1 && g != -2) abort();
      if (r == 0 && g != (pos == size ? 0 : -1)) abort();
      break;
    }
    close(fd);
  }
  stralloc_free(&sa);
  stralloc_free(&got);
  return 0;
}
