#include "cdbmake.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdb.h"

static void cdbmake_pack(char *s, uint32_t u)
{
  s[0] = (char)(u & 255);
  s[1] = (char)(u >> 8 & 255);
  s[2] = (char)(u >> 16 & 255);
  s[3] = (char)(u >> 24);
}

static int cdbmake_advance(struct cdbmake *m, size_t len)
{
  if (len > UINT32_MAX - m->pos) { errno = E2BIG; return -1; }
  m->pos += (uint32_t)len;
  return 0;
}

int cdbmake_start(struct cdbmake *m, int fd)
{
  char zero[2048];

  m->r = 0;
  m->n = 0;
  m->a = 0;
  m->pos = 0;
  m->fd = fd;
  buffer_init(&m->b, fd, m->bspace, sizeof m->bspace, 0);
  memset(zero, 0, sizeof zero);
  if (buffer_put(&m->b, zero, sizeof zero) == -1) return -1;
  return cdbmake_advance(m, sizeof zero);
}

int cdbmake_add(struct cdbmake *m, const char *key, size_t klen, const char *data, size_t dlen)
{
  char head[8];
  uint32_t pos = m->pos;

  if (klen > UINT32_MAX - 8 || dlen > UINT32_MAX - 8 - klen) { errno = E2BIG; return -1; }
  if (m->n == m->a) {
    size_t a = m->a ? m->a * 2 : 256;
    struct cdbmake_rec *r;
    if (a > SIZE_MAX / sizeof *r) { errno = ENOMEM; return -1; }
    r = realloc(m->r, a * sizeof *r);
    if (!r) { errno = ENOMEM; return -1; }
    m->r = r;
    m->a = a;
  }
  if (cdbmake_advance(m, 8 + klen + dlen) == -1) return -1;
  cdbmake_pack(head, (uint32_t)klen);
  cdbmake_pack(head + 4, (uint32_t)dlen);
  if (buffer_put(&m->b, head, 8) == -1) return -1;
  if (buffer_put(&m->b, key, klen) == -1) return -1;
  if (buffer_put(&m->b, data, dlen) == -1) return -1;
  m->r[m->n].hash = cdb_hash(key, klen);
  m->r[m->n].pos = pos;
  ++m->n;
  return 0;
}

int cdbmake_finish(struct cdbmake *m)
{
  char header[2048];
  size_t count[256], start[256];
  struct cdbmake_rec *sorted = 0, *table = 0;
  size_t i, maxslots = 0;
  int r = -1;

  memset(count, 0, sizeof count);
  for (i = 0; i < m->n; ++i) ++count[m->r[i].hash & 255];
  for (i = 0; i < 256; ++i) {
    start[i] = i ? start[i - 1] + count[i - 1] : 0;
    if (count[i] * 2 > maxslots) maxslots = count[i] * 2;
  }
  /* Bucket the records by hash & 255, keeping their order. */
  sorted = malloc((m->n ? m->n : 1) * sizeof *sorted);
  table = malloc((maxslots ? maxslots : 1) * sizeof *table);
  if (!sorted || !table) { errno = ENOMEM; goto done; }
  {
    size_t fill[256];
    memcpy(fill, start, sizeof fill);
    for (i = 0; i < m->n; ++i) sorted[fill[m->r[i].hash & 255]++] = m->r[i];
  }
  for (i = 0; i < 256; ++i) {
    size_t slots = count[i] * 2, j;
    cdbmake_pack(header + i * 8, m->pos);
    cdbmake_pack(header + i * 8 + 4, (uint32_t)slots);
    memset(table, 0, slots * sizeof *table);
    for (j = 0; j < count[i]; ++j) {
      struct cdbmake_rec rec = sorted[start[i] + j];
      size_t where = (rec.hash >> 8) % slots;
      while (table[where].pos) if (++where == slots) where = 0;
      table[where] = rec;
    }
    for (j = 0; j < slots; ++j) {
      char slot[8];
      cdbmake_pack(slot, table[j].hash);
      cdbmake_pack(slot + 4, table[j].pos);
      if (cdbmake_advance(m, 8) == -1) goto done;
      if (buffer_put(&m->b, slot, 8) == -1) goto done;
    }
  }
  if (buffer_flush(&m->b) == -1) goto done;
  if (lseek(m->fd, 0, SEEK_SET) == -1) goto done;
  {
    size_t off = 0;
    while (off < sizeof header) {
      ssize_t w = write(m->fd, header + off, sizeof header - off);
      if (w < 0) { if (errno == EINTR) continue; goto done; }
      off += (size_t)w;
    }
  }
  r = 0;
done:
  free(sorted);
  free(table);
  cdbmake_free(m);
  return r;
}

void cdbmake_free(struct cdbmake *m)
{
  free(m->r);
  m->r = 0;
  m->n = 0;
  m->a = 0;
}
