/* fuzz_maildirquota: the quota field of a vpasswd line and the contents
 * of a maildirsize file. A quota that parses formats back to text that
 * parses to the same quota; a maildirsize that parses has a definition
 * that does; and "would exceed" and "percent" agree with each other on
 * what the file says (a mailbox that already exceeds its quota for a
 * message of 0 bytes is at least 100% full). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "maildirquota.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  const char *s = (const char *)data;
  struct maildirquota q, back;
  struct maildirquota_usage u;
  char buf[MAILDIRQUOTA_FMT];
  size_t n;

  if (maildirquota_parse(s, size, &q)) {
    n = maildirquota_fmt(buf, &q);
    if (n > sizeof buf || n != maildirquota_fmt(0, &q)) abort();
    if (!maildirquota_parse(buf, n, &back) || back.bytes != q.bytes || back.count != q.count) abort();
    if (size > MAILDIRQUOTA_FIELDMAX) abort();
  }
  if (maildirquota_parsesize(s, size, &q, &u)) {
    const char *nl = memchr(s, '\n', size);
    if (!nl || !maildirquota_parse(s, (size_t)(nl - s), &back)) abort();
    if (back.bytes != q.bytes || back.count != q.count) abort();
    if (size && s[size - 1] != '\n') abort();
    if (maildirquota_limited(&q) && maildirquota_exceeds(&q, &u, 0) && maildirquota_percent(&q, &u) < 100) abort();
    if (!maildirquota_limited(&q) && (maildirquota_exceeds(&q, &u, UINT64_MAX) || maildirquota_percent(&q, &u))) abort();
  }
  return 0;
}
