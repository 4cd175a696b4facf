#include "fmt.h"

static size_t fmt_base(char *s, unsigned long u, unsigned base)
{
  static const char digits[] = "0123456789abcdef";
  size_t len = 1;
  unsigned long q = u;

  while (q >= base) { ++len; q /= base; }
  if (s) {
    s += len;
    do { *--s = digits[u % base]; u /= base; } while (u);
  }
  return len;
}

size_t fmt_ulong(char *s, unsigned long u) { return fmt_base(s, u, 10); }
size_t fmt_octal(char *s, unsigned long u) { return fmt_base(s, u, 8); }
size_t fmt_xlong(char *s, unsigned long u) { return fmt_base(s, u, 16); }

size_t fmt_ulong0(char *s, unsigned long u, size_t n)
{
  size_t len = fmt_ulong(0, u);
  size_t pad = len < n ? n - len : 0;
  if (s) {
    size_t i;
    for (i = 0; i < pad; ++i) s[i] = '0';
    fmt_ulong(s + pad, u);
  }
  return pad + len;
}

size_t fmt_str(char *s, const char *t)
{
  size_t len = 0;
  while (t[len]) {
    if (s) s[len] = t[len];
    ++len;
  }
  return len;
}
