/* fuzz_cdbmake: builds a cdb from records taken from the input and reads it
 * back. Records are separated by '\n'; within one, the first ':' separates
 * key from data (no ':': empty data). Every record must be found again, with
 * duplicate keys in the order added, and a walk must give them back in
 * order. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdb.h"
#include "cdbmake.h"
#include "fuzz.h"

#define MAXREC 256

struct rec {
  const char *key, *data;
  size_t klen, dlen;
};

static struct rec recs[MAXREC];

static size_t split(const char *s, size_t len)
{
  size_t n = 0;
  while (len && n < MAXREC) {
    const char *nl = memchr(s, '\n', len);
    size_t l = nl ? (size_t)(nl - s) : len;
    const char *colon = memchr(s, ':', l);
    recs[n].key = s;
    recs[n].klen = colon ? (size_t)(colon - s) : l;
    recs[n].data = colon ? colon + 1 : s + l;
    recs[n].dlen = colon ? l - recs[n].klen - 1 : 0;
    ++n;
    if (!nl) break;
    s += l + 1;
    len -= l + 1;
  }
  return n;
}

static int same(const char *a, size_t alen, const char *b, size_t blen)
{
  return alen == blen && (!alen || !memcmp(a, b, alen));
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  struct cdbmake m;
  struct cdb c;
  size_t n = split((const char *)data, size), i, j;
  uint32_t pos = 0, klen, dlen;
  const char *key, *val;
  int fd = fuzz_memfd((const unsigned char *)"", 0);

  if (cdbmake_start(&m, fd) == -1) abort();
  for (i = 0; i < n; ++i)
    if (cdbmake_add(&m, recs[i].key, recs[i].klen, recs[i].data, recs[i].dlen) == -1) abort();
  if (cdbmake_finish(&m) == -1) abort();
  if (cdb_init(&c, fd) == -1) abort();
  close(fd);

  for (i = 0; i < n; ++i) {
    size_t nth = 0; /* earlier records with the same key */
    for (j = 0; j < i; ++j)
      if (same(recs[j].key, recs[j].klen, recs[i].key, recs[i].klen)) ++nth;
    cdb_findstart(&c);
    for (j = 0; j <= nth; ++j)
      if (cdb_findnext(&c, recs[i].key, recs[i].klen) != 1) abort();
    val = cdb_get(&c, cdb_datapos(&c), cdb_datalen(&c));
    if (!val || !same(val, cdb_datalen(&c), recs[i].data, recs[i].dlen)) abort();
  }
  for (i = 0; i < n; ++i) {
    if (cdb_next(&c, &pos, &key, &klen, &val, &dlen) != 1) abort();
    if (!same(key, klen, recs[i].key, recs[i].klen) || !same(val, dlen, recs[i].data, recs[i].dlen)) abort();
  }
  if (cdb_next(&c, &pos, &key, &klen, &val, &dlen) != 0) abort();
  /* A key that was never added is not found. */
  if (cdb_find(&c, "\n", 1) != 0) abort();
  cdb_free(&c);
  return 0;
}
