#include "scan.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

static size_t scan_base(const char *s, size_t n, unsigned base, unsigned long max, unsigned long *u)
{
  unsigned long r = 0;
  size_t i;

  for (i = 0; i < n; ++i) {
    unsigned d = (unsigned char)s[i] - '0';
    if (d >= base) break;
    /* d > max first: max - d would wrap and let a single digit through. */
    if (d > max || r > (max - d) / base) return 0;
    r = r * base + d;
  }
  if (!i) return 0;
  *u = r;
  return i;
}

size_t scan_ulong(const char *s, unsigned long *u)
{
  return scan_base(s, strlen(s), 10, ULONG_MAX, u);
}

size_t scan_ulongn(const char *s, size_t n, unsigned long *u)
{
  return scan_base(s, n, 10, ULONG_MAX, u);
}

size_t scan_sizen(const char *s, size_t n, size_t *sz)
{
  unsigned long u;
  size_t len = scan_base(s, n, 10, SIZE_MAX < ULONG_MAX ? SIZE_MAX : ULONG_MAX, &u);
  if (len) *sz = u;
  return len;
}

size_t scan_octal(const char *s, unsigned long *u)
{
  return scan_base(s, strlen(s), 8, ULONG_MAX, u);
}

int scan_whole_ulong(const char *s, unsigned long max, unsigned long *u)
{
  size_t n = strlen(s);
  unsigned long r;
  if (!n || scan_base(s, n, 10, max, &r) != n) return 0;
  *u = r;
  return 1;
}
