#include "assign.h"

#include <string.h>

static void assign_lower(char *s, size_t len)
{
  for (; len; ++s, --len)
    if (*s >= 'A' && *s <= 'Z') *s = (char)(*s + 32);
}

enum assign_result assign_parse(const char *line, size_t len, stralloc *key, stralloc *data, char *wildchar)
{
  const char *colon;
  size_t i, addrlen, colons = 0;

  *wildchar = 0;
  if (len && line[0] == '.') return ASSIGN_END;
  if (memchr(line, 0, len)) return ASSIGN_BAD;
  colon = memchr(line, ':', len);
  if (!colon || colon == line) return ASSIGN_BAD;
  addrlen = (size_t)(colon - line) - 1; /* without the type character */

  if (!stralloc_copys(key, "!") || !stralloc_catb(key, line + 1, addrlen)) return ASSIGN_NOMEM;
  if (line[0] == '+') {
    if (addrlen) *wildchar = line[addrlen];
  } else if (!stralloc_0(key))
    return ASSIGN_NOMEM;
  assign_lower(key->s, key->len);

  ++colon;
  if (!stralloc_copyb(data, colon, len - (size_t)(colon - line))) return ASSIGN_NOMEM;
  for (i = 0; i < data->len; ++i) {
    if (data->s[i] != ':') continue;
    data->s[i] = 0;
    if (++colons == 6) break;
  }
  if (colons < 6) return ASSIGN_BAD;
  data->len = i;
  return ASSIGN_ENTRY;
}
