#ifndef CONSTMAP_H
#define CONSTMAP_H

#include <stddef.h>

/* A read-only lookup table built from a control-file list (items
 * NUL-terminated, as control_readfile gives them). Keys are compared
 * without regard to ASCII case, as qmail compares host names. With
 * splitcolon set, each item is "key:value" and constmap returns the value
 * (qmail's virtualdomains); otherwise it returns the key itself. */
struct constmap_entry {
  const char *key;
  size_t keylen;
  const char *value;
  unsigned long hash;
  size_t next; /* index + 1 of the next entry in the bucket chain, 0 = end */
};

struct constmap {
  struct constmap_entry *e;
  size_t n;
  size_t *bucket; /* index + 1 of the first entry, 0 = empty */
  size_t nbuckets;
};

/* 1 or 0 (ENOMEM). The map points into list, which must stay alive.
 * With duplicate keys the last one wins, as in qmail. */
int constmap_init(struct constmap *cm, const char *list, size_t len, int splitcolon);
void constmap_free(struct constmap *cm);
/* The value for key[0..len), or null. */
const char *constmap(const struct constmap *cm, const char *key, size_t len);

#endif
