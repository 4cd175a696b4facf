#ifndef CDBMAKE_H
#define CDBMAKE_H

#include <stddef.h>
#include <stdint.h>

#include "buffer.h"

/* Writer for the cdb format (see cdb.h). Records go out through a buffer
 * as they are added; the hash tables and header are written by
 * cdbmake_finish(). The caller commits the file (fsync, rename). */
struct cdbmake_rec {
  uint32_t hash;
  uint32_t pos;
};

struct cdbmake {
  buffer b;
  char bspace[8192];
  uint32_t pos;               /* bytes written so far */
  struct cdbmake_rec *r;
  size_t n, a;
  int fd;
};

/* Each returns 0 or -1 (errno set; E2BIG when the file would pass 4 GB). */
int cdbmake_start(struct cdbmake *m, int fd);
int cdbmake_add(struct cdbmake *m, const char *key, size_t klen, const char *data, size_t dlen);
int cdbmake_finish(struct cdbmake *m);
/* Frees memory after an error (cdbmake_finish frees on its own). */
void cdbmake_free(struct cdbmake *m);

#endif
