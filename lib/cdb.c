#include "cdb.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

uint32_t cdb_hash(const char *key, size_t len)
{
  uint32_t h = 5381;
  while (len--) h = ((h << 5) + h) ^ (unsigned char)*key++;
  return h;
}

static uint32_t cdb_unpack(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int cdb_init(struct cdb *c, int fd)
{
  struct stat st;
  void *m;

  memset(c, 0, sizeof *c);
  if (fstat(fd, &st) == -1) return -1;
  if (st.st_size < 2048 || (uint64_t)st.st_size > UINT32_MAX) { errno = EPROTO; return -1; }
  m = mmap(0, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) return -1;
  c->map = m;
  c->size = (size_t)st.st_size;
  c->mapped = 1;
  return 0;
}

void cdb_initmem(struct cdb *c, const char *buf, size_t len)
{
  memset(c, 0, sizeof *c);
  c->map = (const unsigned char *)buf;
  c->size = len > UINT32_MAX ? UINT32_MAX : len;
}

void cdb_free(struct cdb *c)
{
  if (c->mapped) munmap((void *)c->map, c->size);
  c->map = 0;
  c->size = 0;
  c->mapped = 0;
}

const char *cdb_get(const struct cdb *c, uint32_t pos, uint32_t len)
{
  if (pos > c->size || len > c->size - pos) return 0;
  return (const char *)c->map + pos;
}

void cdb_findstart(struct cdb *c)
{
  c->loop = 0;
}

static int cdb_corrupt(void)
{
  errno = EPROTO;
  return -1;
}

int cdb_findnext(struct cdb *c, const char *key, size_t len)
{
  const unsigned char *p;

  if (c->size < 2048) return cdb_corrupt();
  if (!c->loop) {
    uint32_t h = cdb_hash(key, len);
    p = c->map + (h & 255) * 8;
    c->hpos = cdb_unpack(p);
    c->hslots = cdb_unpack(p + 4);
    if (!c->hslots) return 0;
    if (c->hslots > (c->size - 2048) / 8 || !cdb_get(c, c->hpos, c->hslots * 8)) return cdb_corrupt();
    c->khash = h;
    c->kpos = c->hpos + ((h >> 8) % c->hslots) * 8;
  }
  while (c->loop < c->hslots) {
    uint32_t h, pos, klen;
    p = c->map + c->kpos;
    h = cdb_unpack(p);
    pos = cdb_unpack(p + 4);
    if (!pos) return 0;
    ++c->loop;
    c->kpos += 8;
    if (c->kpos == c->hpos + c->hslots * 8) c->kpos = c->hpos;
    if (h != c->khash) continue;
    p = (const unsigned char *)cdb_get(c, pos, 8);
    if (!p) return cdb_corrupt();
    klen = cdb_unpack(p);
    if (klen != len) continue;
    c->dlen = cdb_unpack(p + 4);
    if (pos > UINT32_MAX - 8 - klen) return cdb_corrupt();
    p = (const unsigned char *)cdb_get(c, pos + 8, klen);
    if (!p || !cdb_get(c, pos + 8 + klen, c->dlen)) return cdb_corrupt();
    if (len && memcmp(p, key, len)) continue;
    c->dpos = pos + 8 + klen;
    return 1;
  }
  return 0;
}

int cdb_find(struct cdb *c, const char *key, size_t len)
{
  cdb_findstart(c);
  return cdb_findnext(c, key, len);
}

int cdb_next(const struct cdb *c, uint32_t *pos,
             const char **key, uint32_t *klen, const char **data, uint32_t *dlen)
{
  const unsigned char *p;
  uint32_t end, kl, dl;

  if (c->size < 2048) return cdb_corrupt();
  /* Records run from 2048 to the first hash table, which header entry 0
   * names (cdbmake writes the tables in order). */
  end = cdb_unpack(c->map);
  if (end < 2048 || end > c->size) return cdb_corrupt();
  if (!*pos) *pos = 2048;
  if (*pos >= end) return 0;
  if (end - *pos < 8) return cdb_corrupt();
  p = c->map + *pos;
  kl = cdb_unpack(p);
  dl = cdb_unpack(p + 4);
  if (kl > end - *pos - 8 || dl > end - *pos - 8 - kl) return cdb_corrupt();
  *key = (const char *)p + 8;
  *klen = kl;
  *data = (const char *)p + 8 + kl;
  *dlen = dl;
  *pos += 8 + kl + dl;
  return 1;
}
