/* fuzz_assign: users/assign lines, each line of the input without its
 * newline. An entry's key is "!" and the lowercased address (with a NUL
 * for '=' entries), and its data is six fields joined by exactly five
 * NULs. */
#include <stdlib.h>
#include <string.h>

#include "assign.h"
#include "fuzz.h"
#include "stralloc.h"

static char lower(char c)
{
  return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static void check(const char *line, size_t len, const stralloc *key, const stralloc *data, char wild)
{
  const char *colon = memchr(line, ':', len);
  size_t addrlen, i, nuls = 0;
  int plus = line[0] == '+';

  if (!colon || colon == line) abort();
  addrlen = (size_t)(colon - line) - 1;
  if (key->len != 1 + addrlen + !plus || key->s[0] != '!') abort();
  for (i = 0; i < addrlen; ++i)
    if (key->s[1 + i] != lower(line[1 + i])) abort();
  if (!plus && key->s[key->len - 1]) abort();
  if (wild != (plus && addrlen ? line[addrlen] : 0)) abort();
  for (i = 0; i < data->len; ++i) nuls += !data->s[i];
  if (nuls != 5) abort();
  /* data is the line after the address, colons turned into NULs. */
  if (data->len > len - (size_t)(colon + 1 - line)) abort();
  for (i = 0; i < data->len; ++i)
    if (data->s[i] != (colon[1 + i] == ':' ? 0 : colon[1 + i])) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  stralloc key = STRALLOC_ZERO, val = STRALLOC_ZERO;
  const char *s = (const char *)data;

  while (size) {
    const char *nl = memchr(s, '\n', size);
    size_t len = nl ? (size_t)(nl - s) : size;
    char wild = 'x';

    switch (assign_parse(s, len, &key, &val, &wild)) {
      case ASSIGN_ENTRY: check(s, len, &key, &val, wild); break;
      case ASSIGN_END: if (!len || s[0] != '.') abort(); break;
      case ASSIGN_BAD: break;
      default: abort(); /* ASSIGN_NOMEM */
    }
    if (!nl) break;
    s += len + 1;
    size -= len + 1;
  }
  stralloc_free(&key);
  stralloc_free(&val);
  return 0;
}
