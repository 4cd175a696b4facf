#include "destlimit.h"

#include <stdlib.h>
#include <string.h>

#include "scan.h"
#include "smtproutes.h"

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

static size_t hashname(const char *s, size_t len)
{
  size_t h = 5381, i;
  for (i = 0; i < len; ++i) h = (h * 33) ^ (unsigned char)lower(s[i]);
  return h;
}

static int samename(const struct dest *d, const char *s, size_t len)
{
  size_t i;
  if (d->namelen != len) return 0;
  for (i = 0; i < len; ++i)
    if (d->name[i] != lower(s[i])) return 0;
  return 1;
}

/* A value that is not a plain decimal number sets no limit: a typo must
 * not hold a domain's mail. */
static unsigned long limitof(const char *v)
{
  unsigned long u;
  size_t n;
  if (!v) return DESTLIMIT_NONE;
  n = scan_ulong(v, &u);
  if (!n || v[n] || u == DESTLIMIT_NONE) return DESTLIMIT_NONE;
  return u;
}

unsigned long destlimit_lookup(const struct destlimit *dl, const char *domain, size_t len)
{
  if (!dl->havemap) return DESTLIMIT_NONE;
  return limitof(smtproutes_find(&dl->map, domain, len));
}

int destlimit_config(struct destlimit *dl, const char *lines, size_t len)
{
  stralloc text = STRALLOC_ZERO;
  struct constmap map;
  size_t b;
  struct dest *d;

  if (!stralloc_copyb(&text, lines, len)) return 0;
  if (!constmap_init(&map, text.s ? text.s : "", text.len, 1)) { stralloc_free(&text); return 0; }
  if (dl->havemap) constmap_free(&dl->map);
  stralloc_free(&dl->text);
  dl->text = text;
  dl->map = map;
  dl->havemap = 1;
  for (b = 0; b < dl->size; ++b)
    for (d = dl->tab[b]; d; d = d->next) d->limit = destlimit_lookup(dl, d->name, d->namelen);
  return 1;
}

static int grow(struct destlimit *dl)
{
  size_t nsize = dl->size ? dl->size * 2 : 64, b;
  struct dest **n;
  if (nsize < dl->size || nsize > (size_t)-1 / sizeof *n) return 0;
  if (!(n = calloc(nsize, sizeof *n))) return 0;
  for (b = 0; b < dl->size; ++b)
    while (dl->tab[b]) {
      struct dest *d = dl->tab[b];
      size_t h = hashname(d->name, d->namelen) % nsize;
      dl->tab[b] = d->next;
      d->next = n[h];
      n[h] = d;
    }
  free(dl->tab);
  dl->tab = n;
  dl->size = nsize;
  return 1;
}

struct dest *destlimit_get(struct destlimit *dl, const char *domain, size_t len)
{
  struct dest *d;
  size_t h, i;
  if (dl->size) {
    for (d = dl->tab[hashname(domain, len) % dl->size]; d; d = d->next)
      if (samename(d, domain, len)) return d;
  }
  if (dl->count + 1 > dl->size / 2 && !grow(dl)) return 0;
  if (len == (size_t)-1 || !(d = calloc(1, sizeof *d))) return 0;
  if (!(d->name = malloc(len + 1))) { free(d); return 0; }
  for (i = 0; i < len; ++i) d->name[i] = lower(domain[i]);
  d->name[len] = 0;
  d->namelen = len;
  d->limit = destlimit_lookup(dl, domain, len);
  h = hashname(domain, len) % dl->size;
  d->next = dl->tab[h];
  dl->tab[h] = d;
  ++dl->count;
  return d;
}

int destlimit_may(const struct dest *d)
{
  return d->inflight < d->limit && d->whead == d->wlen;
}

int destlimit_wait(struct dest *d, unsigned long id, uint64_t serial, size_t idx)
{
  if (d->wlen == d->wsize) {
    /* Reuse the space popped at the front before growing. */
    if (d->whead > 0 && d->whead >= d->wsize / 2) {
      memmove(d->w, d->w + d->whead, (d->wlen - d->whead) * sizeof *d->w);
      d->wlen -= d->whead;
      d->whead = 0;
    } else {
      size_t n = d->wsize ? d->wsize * 2 : 16;
      struct destwait *w;
      if (n < d->wsize || n > (size_t)-1 / sizeof *w) return 0;
      if (!(w = realloc(d->w, n * sizeof *w))) return 0;
      d->w = w;
      d->wsize = n;
    }
  }
  d->w[d->wlen].id = id;
  d->w[d->wlen].serial = serial;
  d->w[d->wlen].idx = idx;
  ++d->wlen;
  return 1;
}

int destlimit_pop(struct dest *d, struct destwait *w)
{
  if (d->whead == d->wlen || d->inflight >= d->limit) return 0;
  *w = d->w[d->whead++];
  if (d->whead == d->wlen) d->whead = d->wlen = 0;
  return 1;
}

static void destfree(struct dest *d)
{
  free(d->name);
  free(d->w);
  free(d);
}

void destlimit_drop(struct destlimit *dl, struct dest *d)
{
  struct dest **p;
  if (d->inflight || d->whead != d->wlen) return;
  for (p = &dl->tab[hashname(d->name, d->namelen) % dl->size]; *p; p = &(*p)->next)
    if (*p == d) {
      *p = d->next;
      --dl->count;
      destfree(d);
      return;
    }
}

void destlimit_each(struct destlimit *dl, void (*fn)(struct dest *, void *), void *arg)
{
  size_t b;
  struct dest *d;
  for (b = 0; b < dl->size; ++b)
    for (d = dl->tab[b]; d; d = d->next) fn(d, arg);
}

const char *destlimit_domain(const char *addr, size_t *len)
{
  const char *at = strrchr(addr, '@');
  if (!at) { *len = 0; return ""; }
  *len = strlen(at + 1);
  return at + 1;
}

void destlimit_free(struct destlimit *dl)
{
  size_t b;
  for (b = 0; b < dl->size; ++b)
    while (dl->tab[b]) {
      struct dest *d = dl->tab[b];
      dl->tab[b] = d->next;
      destfree(d);
    }
  free(dl->tab);
  dl->tab = 0;
  dl->size = dl->count = 0;
  if (dl->havemap) constmap_free(&dl->map);
  dl->havemap = 0;
  stralloc_free(&dl->text);
}
