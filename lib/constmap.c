#include "constmap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static unsigned char constmap_lower(unsigned char c)
{
  return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static unsigned long constmap_hash(const char *s, size_t len)
{
  unsigned long h = 5381;
  while (len--) h = (h * 33) ^ constmap_lower((unsigned char)*s++);
  return h;
}

static int constmap_equal(const char *a, const char *b, size_t len)
{
  while (len--)
    if (constmap_lower((unsigned char)*a++) != constmap_lower((unsigned char)*b++)) return 0;
  return 1;
}

int constmap_init(struct constmap *cm, const char *list, size_t len, int splitcolon)
{
  size_t i, start, count = 0;

  cm->e = 0;
  cm->bucket = 0;
  cm->n = 0;
  for (i = 0; i < len; ++i)
    if (!list[i]) ++count;
  cm->nbuckets = 64;
  while (cm->nbuckets < count * 2 && cm->nbuckets < SIZE_MAX / 4) cm->nbuckets *= 2;
  cm->e = calloc(count ? count : 1, sizeof *cm->e);
  cm->bucket = calloc(cm->nbuckets, sizeof *cm->bucket);
  if (!cm->e || !cm->bucket) { constmap_free(cm); errno = ENOMEM; return 0; }

  for (start = i = 0; i < len; ++i) {
    const char *item = list + start;
    size_t itemlen = i - start, keylen = itemlen, b, k;
    const char *value = item;
    if (list[i]) continue;
    start = i + 1;
    if (splitcolon) {
      const char *colon = memchr(item, ':', itemlen);
      if (!colon) continue; /* not "key:value": ignored, as qmail does */
      keylen = (size_t)(colon - item);
      value = colon + 1;
    }
    /* The last of duplicate keys wins, as in qmail, whose hash chains are
     * last in, first out. */
    for (k = cm->bucket[constmap_hash(item, keylen) & (cm->nbuckets - 1)]; k; k = cm->e[k - 1].next) {
      struct constmap_entry *e = &cm->e[k - 1];
      if (e->keylen == keylen && constmap_equal(e->key, item, keylen)) break;
    }
    if (k) { cm->e[k - 1].value = value; continue; }
    k = cm->n++;
    cm->e[k].key = item;
    cm->e[k].keylen = keylen;
    cm->e[k].value = value;
    cm->e[k].hash = constmap_hash(item, keylen);
    b = cm->e[k].hash & (cm->nbuckets - 1);
    cm->e[k].next = cm->bucket[b];
    cm->bucket[b] = k + 1;
  }
  return 1;
}

void constmap_free(struct constmap *cm)
{
  free(cm->e);
  free(cm->bucket);
  cm->e = 0;
  cm->bucket = 0;
  cm->n = 0;
}

const char *constmap(const struct constmap *cm, const char *key, size_t len)
{
  unsigned long h;
  size_t k;
  if (!cm->bucket) return 0;
  h = constmap_hash(key, len);
  for (k = cm->bucket[h & (cm->nbuckets - 1)]; k; k = cm->e[k - 1].next) {
    const struct constmap_entry *e = &cm->e[k - 1];
    if (e->hash == h && e->keylen == len && constmap_equal(e->key, key, len)) return e->value;
  }
  return 0;
}
