#ifndef CDB_H
#define CDB_H

#include <stddef.h>
#include <stdint.h>

/* Reader for djb's constant database format (cr.yp.to/cdb/cdb.txt):
 * a 2048-byte header of 256 (position, slots) pairs, then records
 * (key length, data length, key, data), then the hash tables; all numbers
 * 32-bit little-endian. The file is mapped read-only. Every offset read
 * from the file is checked against its size, so a corrupt or hostile cdb
 * gives -1 (errno EPROTO), never a crash or an endless loop. */
struct cdb {
  const unsigned char *map;
  size_t size;
  int mapped;       /* map came from mmap() */
  uint32_t loop;    /* slots probed so far for this key */
  uint32_t khash;
  uint32_t kpos;    /* next slot to probe */
  uint32_t hpos;    /* start of this key's hash table */
  uint32_t hslots;
  uint32_t dpos;    /* data of the last hit */
  uint32_t dlen;
};

uint32_t cdb_hash(const char *key, size_t len);

/* Maps the file open on fd (fd may be closed afterwards). 0 or -1. */
int cdb_init(struct cdb *c, int fd);
/* Reads from memory the caller keeps alive (tests and fuzzing). */
void cdb_initmem(struct cdb *c, const char *buf, size_t len);
void cdb_free(struct cdb *c);

/* Starts a new search. cdb_find = cdb_findstart + cdb_findnext. */
void cdb_findstart(struct cdb *c);
/* 1 found (data at cdb_datapos, cdb_datalen), 0 no more, -1 corrupt. */
int cdb_findnext(struct cdb *c, const char *key, size_t len);
int cdb_find(struct cdb *c, const char *key, size_t len);
#define cdb_datapos(c) ((c)->dpos)
#define cdb_datalen(c) ((c)->dlen)
/* Pointer to len bytes at pos, or null if out of range. */
const char *cdb_get(const struct cdb *c, uint32_t pos, uint32_t len);

/* Walks every record in file order: *pos starts at 0 (meaning "first").
 * 1 and key/data set, 0 at the end, -1 corrupt. */
int cdb_next(const struct cdb *c, uint32_t *pos,
             const char **key, uint32_t *klen, const char **data, uint32_t *dlen);

#endif
