/* fuzz_cdb: the cdb reader on arbitrary bytes. cdb.h promises that a
 * corrupt or hostile file gives -1, never a crash or an endless loop, and
 * every pointer it hands out must lie inside the file. */
#include <stdlib.h>
#include <string.h>

#include "cdb.h"
#include "fuzz.h"

/* The most records a walk or a lookup may yield: each takes at least 8 bytes
 * of the file (walk) or one hash slot (lookup), so a bigger count is a loop. */
#define MAXSTEPS(size) ((size) / 8 + 1)

/* Aborts unless p[0..len) lies inside the cdb's bytes (the input). */
static void check_range(const struct cdb *c, const char *p, size_t len)
{
  const char *base = (const char *)c->map;
  if (!p || p < base || (size_t)(p - base) > c->size || len > c->size - (size_t)(p - base)) abort();
}

static void lookup(struct cdb *c, const char *key, size_t klen)
{
  size_t steps = 0;
  int r;

  for (r = cdb_find(c, key, klen); r == 1; r = cdb_findnext(c, key, klen)) {
    const char *d = cdb_get(c, cdb_datapos(c), cdb_datalen(c));
    check_range(c, d, cdb_datalen(c));
    /* The key sits just before the data. */
    if (cdb_datapos(c) < klen) abort();
    check_range(c, d - klen, klen);
    if (klen && memcmp(d - klen, key, klen)) abort();
    if (++steps > MAXSTEPS(c->size)) abort();
  }
  if (r != 0 && r != -1) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  static const char *const fixed[] = { "", "a", "key", "!user-", "example.com", "\0" };
  struct cdb c;
  uint32_t pos = 0, klen, dlen, last = 0;
  const char *key, *val;
  size_t i, steps = 0;
  int r;

  cdb_initmem(&c, (const char *)data, size);

  for (i = 0; i < sizeof fixed / sizeof fixed[0]; ++i)
    lookup(&c, fixed[i], i == 5 ? 1 : strlen(fixed[i]));
  /* Keys taken from the input: a few short slices of it. */
  for (i = 0; i + 1 < size && i < 64; i += 7)
    lookup(&c, (const char *)data + i + 1, data[i] % 16 < size - i - 1 ? data[i] % 16 : size - i - 1);

  /* Every record, in file order; each found key is looked up too. */
  while ((r = cdb_next(&c, &pos, &key, &klen, &val, &dlen)) == 1) {
    check_range(&c, key, klen);
    check_range(&c, val, dlen);
    if (val != key + klen || pos <= last) abort();
    last = pos;
    if (steps < 16) lookup(&c, key, klen);
    if (++steps > MAXSTEPS(size)) abort();
  }
  if (r != 0 && r != -1) abort();
  cdb_free(&c);
  return 0;
}
