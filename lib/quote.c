#include "quote.h"

#include <string.h>

/* Characters that may appear unquoted in a box name: every printable
 * ASCII character except space and the RFC 822 specials ()<>@,;:\".[]
 * (the dot is allowed here and checked for position separately). */
static int quote_ok(unsigned char c)
{
  if (c <= 32 || c >= 127) return 0;
  switch (c) {
    case '(': case ')': case '<': case '>': case '@': case ',':
    case ';': case ':': case '\\': case '"': case '[': case ']':
      return 0;
  }
  return 1;
}

int quote_need(const char *s, size_t n)
{
  size_t i;
  if (!n) return 1;
  for (i = 0; i < n; ++i)
    if (!quote_ok((unsigned char)s[i])) return 1;
  if (s[0] == '.' || s[n - 1] == '.') return 1;
  for (i = 0; i + 1 < n; ++i)
    if (s[i] == '.' && s[i + 1] == '.') return 1;
  return 0;
}

int quote(stralloc *out, const char *s, size_t n)
{
  size_t i;
  if (!quote_need(s, n)) return stralloc_copyb(out, s, n);
  out->len = 0;
  if (!stralloc_append(out, '"')) return 0;
  for (i = 0; i < n; ++i) {
    char c = s[i];
    if (c == '\r' || c == '\n' || c == '"' || c == '\\')
      if (!stralloc_append(out, '\\')) return 0;
    if (!stralloc_append(out, c)) return 0;
  }
  return stralloc_append(out, '"');
}

int quote_addr(stralloc *out, const char *s, size_t n)
{
  size_t at = n;
  size_t i;
  if (!n) return stralloc_copyb(out, "", 0);
  for (i = n; i > 0; --i)
    if (s[i - 1] == '@') { at = i - 1; break; }
  if (!quote(out, s, at)) return 0;
  return stralloc_catb(out, s + at, n - at);
}
