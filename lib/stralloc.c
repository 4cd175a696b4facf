#include "stralloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"

int stralloc_ready(stralloc *sa, size_t n)
{
  size_t want;
  char *p;

  if (sa->s && n <= sa->a) return 1;
  /* Grow by an eighth plus a little, as qmail does, but never overflow. */
  want = n;
  if (want <= SIZE_MAX - 30) want += 30;
  if (want <= SIZE_MAX - want / 8) want += want / 8;
  p = realloc(sa->s, want);
  if (!p) {
    /* Retry with exactly what was asked for before giving up. */
    want = n ? n : 1;
    p = realloc(sa->s, want);
    if (!p) { errno = ENOMEM; return 0; }
  }
  sa->s = p;
  sa->a = want;
  return 1;
}

int stralloc_readyplus(stralloc *sa, size_t n)
{
  if (n > SIZE_MAX - sa->len) { errno = ENOMEM; return 0; }
  return stralloc_ready(sa, sa->len + n);
}

int stralloc_copyb(stralloc *sa, const char *s, size_t n)
{
  if (!stralloc_ready(sa, n)) return 0;
  if (n) memmove(sa->s, s, n);
  sa->len = n;
  return 1;
}

int stralloc_copys(stralloc *sa, const char *s)
{
  return stralloc_copyb(sa, s, strlen(s));
}

int stralloc_copy(stralloc *sa, const stralloc *from)
{
  return stralloc_copyb(sa, from->s, from->len);
}

int stralloc_catb(stralloc *sa, const char *s, size_t n)
{
  /* s may point into sa itself (stralloc_cat(sa, sa)): growing may move
   * it, so remember where it was. */
  uintptr_t p = (uintptr_t)s, base = (uintptr_t)sa->s;
  if (sa->s && p >= base && p < base + sa->a) {
    size_t off = (size_t)(p - base);
    if (!stralloc_readyplus(sa, n)) return 0;
    s = sa->s + off;
  } else if (!stralloc_readyplus(sa, n))
    return 0;
  if (n) memmove(sa->s + sa->len, s, n);
  sa->len += n;
  return 1;
}

int stralloc_cats(stralloc *sa, const char *s)
{
  return stralloc_catb(sa, s, strlen(s));
}

int stralloc_cat(stralloc *sa, const stralloc *from)
{
  return stralloc_catb(sa, from->s, from->len);
}

int stralloc_append(stralloc *sa, char c)
{
  return stralloc_catb(sa, &c, 1);
}

int stralloc_catulong(stralloc *sa, unsigned long u)
{
  char buf[FMT_ULONG];
  return stralloc_catb(sa, buf, fmt_ulong(buf, u));
}

int stralloc_0(stralloc *sa)
{
  return stralloc_append(sa, 0);
}

int stralloc_starts(const stralloc *sa, const char *s)
{
  size_t n = strlen(s);
  return sa->len >= n && memcmp(sa->s, s, n) == 0;
}

void stralloc_free(stralloc *sa)
{
  free(sa->s);
  sa->s = 0;
  sa->len = 0;
  sa->a = 0;
}
