/* fuzz_handoff: handoff_unpack on any bytes, for 0 to 12 fields. What it
 * accepts is exactly n NUL-terminated fields, and packing them again gives
 * the input back. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "handoff.h"
#include "stralloc.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  const char *fields[12];
  size_t n, i, nuls = 0;
  for (i = 0; i < size; ++i) nuls += !data[i];
  for (n = 0; n <= 12; ++n) {
    if (!handoff_unpack((const char *)data, size, fields, n)) continue;
    if (n != nuls || (size && data[size - 1])) abort();
    if (size <= HANDOFF_MAX) {
      stralloc sa = STRALLOC_ZERO;
      if (!handoff_pack(&sa, fields, n)) abort();
      if (sa.len != size || (size && memcmp(sa.s, data, size))) abort();
      stralloc_free(&sa);
    }
  }
  return 0;
}
