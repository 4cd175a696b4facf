#include "route.h"

#include <string.h>

static size_t route_rchr(const char *s, size_t len, char c)
{
  size_t i = len;
  while (i--)
    if (s[i] == c) return i;
  return len;
}

/* Steps 1 and 2 into addr (not NUL-terminated): the number of '%' turned
 * into '@', or -1 when out of memory. */
static long route_steps12(const struct route *r, const char *recip, stralloc *addr)
{
  size_t at;
  long n = 0;
  if (!stralloc_copys(addr, recip)) return -1;
  at = route_rchr(addr->s, addr->len, '@');
  if (at == addr->len) {
    if (!stralloc_append(addr, '@') || !stralloc_cats(addr, r->envnoathost)) return -1;
  }
  while (constmap(&r->percenthack, addr->s + at + 1, addr->len - at - 1)) {
    size_t pct = route_rchr(addr->s, at, '%');
    if (pct == at) break;
    addr->len = at;
    at = pct;
    addr->s[at] = '@';
    ++n;
  }
  return n;
}

int route_percenthack(const struct route *r, const char *recip, stralloc *out)
{
  long n = route_steps12(r, recip, out);
  if (n == -1 || !stralloc_0(out)) return -1;
  --out->len;
  return n > 0;
}

int route_rewrite(const struct route *r, const char *recip, stralloc *out)
{
  static stralloc addr = STRALLOC_ZERO;
  size_t at, i;

  if (route_steps12(r, recip, &addr) == -1) return -1;
  at = route_rchr(addr.s, addr.len, '@');

  if (constmap(&r->locals, addr.s + at + 1, addr.len - at - 1)) {
    if (!stralloc_copy(out, &addr) || !stralloc_0(out)) return -1;
    return ROUTE_LOCAL;
  }

  /* The whole address, the domain, each .suffix, then "": the positions
   * 0, at+1, every '.' after the '@', and the end, in that order. */
  for (i = 0; i <= addr.len; ++i) {
    const char *prepend;
    if (!(i == 0 || i == at + 1 || i == addr.len || (i > at && addr.s[i] == '.'))) continue;
    prepend = constmap(&r->vdoms, addr.s + i, addr.len - i);
    if (!prepend) continue;
    if (!*prepend) break; /* an exception: not virtual */
    if (!stralloc_copys(out, prepend) || !stralloc_append(out, '-')) return -1;
    if (!stralloc_cat(out, &addr) || !stralloc_0(out)) return -1;
    return ROUTE_LOCAL;
  }

  if (!stralloc_copy(out, &addr) || !stralloc_0(out)) return -1;
  return ROUTE_REMOTE;
}

const char *route_stripprepend(const struct route *r, const char *recip)
{
  const char *at = strrchr(recip, '@');
  const char *domain;
  size_t domainlen, i;

  if (!at) return recip;
  domain = at + 1;
  domainlen = strlen(domain);
  for (i = 0; i <= domainlen; ++i) {
    const char *prepend;
    size_t plen;
    if (!(i == 0 || i == domainlen || domain[i] == '.')) continue;
    prepend = constmap(&r->vdoms, domain + i, domainlen - i);
    if (!prepend) continue;
    if (!*prepend) break;
    plen = strlen(prepend);
    if (strncmp(recip, prepend, plen) || recip[plen] != '-') break;
    return recip + plen + 1;
  }
  return recip;
}
