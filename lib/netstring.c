#include "netstring.h"

#include <errno.h>

#include "fmt.h"

int netstring_parse(const char *s, size_t len, size_t max,
                    const char **data, size_t *dlen, size_t *used)
{
  size_t i = 0, n = 0;

  while (i < len && s[i] >= '0' && s[i] <= '9') {
    unsigned d = (unsigned)(s[i] - '0');
    if (i == 1 && s[0] == '0') return -1; /* leading zero */
    /* d > max first: max - d would wrap and let any length through. */
    if (d > max || n > (max - d) / 10) return -1;
    n = n * 10 + d;
    ++i;
  }
  if (i == len) return 0;
  if (!i || s[i] != ':') return -1;
  ++i;
  if (len - i <= n) return 0; /* the data and comma have not all arrived */
  if (s[i + n] != ',') return -1;
  *data = s + i;
  *dlen = n;
  *used = i + n + 1;
  return 1;
}

int netstring_getlen(buffer *b, size_t max, size_t *len)
{
  size_t n = 0, digits = 0;
  char c;

  for (;;) {
    ssize_t r = buffer_get(b, &c, 1);
    if (r < 0) return -1;
    if (r == 0) { if (!digits) return 0; errno = EPROTO; return -1; }
    if (c == ':') break;
    if (c < '0' || c > '9') return -2;
    if (digits == 1 && n == 0) return -2; /* leading zero */
    if ((size_t)(c - '0') > max || n > (max - (size_t)(c - '0')) / 10) return -2;
    n = n * 10 + (size_t)(c - '0');
    ++digits;
  }
  if (!digits) return -2;
  *len = n;
  return 1;
}

int netstring_get(buffer *b, stralloc *sa, size_t max)
{
  size_t n;
  char comma;
  int r = netstring_getlen(b, max, &n);

  if (r <= 0 || r == -2) return r;
  if (!stralloc_ready(sa, n)) return -1;
  sa->len = 0;
  r = buffer_getall(b, sa->s, n);
  if (r <= 0) { if (r == 0) errno = EPROTO; return -1; }
  sa->len = n;
  r = buffer_getall(b, &comma, 1);
  if (r <= 0) { if (r == 0) errno = EPROTO; return -1; }
  if (comma != ',') return -2;
  return 1;
}

int netstring_cat(stralloc *sa, const char *s, size_t len)
{
  char num[FMT_ULONG];
  return stralloc_catb(sa, num, fmt_ulong(num, len)) && stralloc_append(sa, ':')
      && stralloc_catb(sa, s, len) && stralloc_append(sa, ',');
}
