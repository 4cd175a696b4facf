/* fuzz_qfile: queue files. The trailer parser on the input's first
 * QFILE_TRAILER bytes (a parsed trailer formats back to the same bytes), and
 * qfile_read on two files: the input as it is, and one built from it with a
 * well-formed trailer whose sizes are then skewed by amounts the input
 * chooses. The file is in memory, so qfile_read never has a read error to
 * report: it answers 1 or 0. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "fuzz.h"
#include "qfile.h"
#include "stralloc.h"

/* qfile_read on file[0..size); for an accepted file, checks the sizes and
 * that env holds the envelope from the file. Returns qfile_read's answer. */
static int readq(const char *file, size_t size)
{
  stralloc env = STRALLOC_ZERO;
  uint64_t msglen, qtime;
  int fd = fuzz_memfd((const unsigned char *)file, size);
  int r = qfile_read(fd, size, &msglen, &qtime, &env);

  if (r == 1) {
    if (msglen > size - QFILE_TRAILER || env.len != size - QFILE_TRAILER - msglen) abort();
    if (env.len && memcmp(env.s, file + msglen, env.len)) abort();
    if (!env.len || env.s[env.len - 1]) abort(); /* ends with the empty record */
  } else if (r != 0)
    abort();
  stralloc_free(&env);
  close(fd);
  return r;
}

static uint64_t get64(const unsigned char *s)
{
  uint64_t u = 0;
  int i;
  for (i = 7; i >= 0; --i) u = u << 8 | s[i];
  return u;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  char t[QFILE_TRAILER], f[QFILE_TRAILER];
  uint64_t m, e, q;

  if (size >= QFILE_TRAILER) {
    memcpy(t, data, QFILE_TRAILER); /* exactly as long as the parser may read */
    if (qfile_trailer_parse(t, &m, &e, &q)) {
      qfile_trailer_fmt(f, m, e, q);
      if (memcmp(f, t, QFILE_TRAILER)) abort();
    }
  }

  readq((const char *)data, size);

  /* Built: 2 bytes message length, 1 flags byte, 8 bytes skew each for m, e
   * (flag 1, 2) and the time, then message and envelope. */
  if (size >= 27) {
    const unsigned char *body = data + 27;
    size_t blen = size - 27;
    size_t msglen = ((size_t)data[0] << 8 | data[1]) % (blen + 1);
    uint64_t dm = data[2] & 1 ? get64(data + 3) : 0;
    uint64_t de = data[2] & 2 ? get64(data + 11) : 0;
    stralloc file = STRALLOC_ZERO;
    size_t pos = 0, alen;
    const char *addr;
    char type;
    int r, valid;

    if (data[2] & 4) dm = (uint64_t)(int8_t)data[3]; /* small skews, either way */
    if (data[2] & 8) de = (uint64_t)(int8_t)data[11];
    qfile_trailer_fmt(t, msglen + dm, blen - msglen + de, get64(data + 19));
    if (!stralloc_copyb(&file, (const char *)body, blen) || !stralloc_catb(&file, t, sizeof t)) abort();
    r = readq(file.s, file.len);
    if (!dm && !de) {
      /* Sizes right: the answer is whether the envelope is whole: records
       * u, p, F, then T only, ending exactly at the extra NUL. */
      const char *env = (const char *)body + msglen;
      size_t envlen = blen - msglen;
      unsigned k = 0, inorder = 1;
      while ((valid = envelope_next(env, envlen, &pos, &type, &addr, &alen)) == 1) {
        if (type != (k < 3 ? "upF"[k] : 'T')) inorder = 0;
        ++k;
      }
      valid = valid == 0 && pos == envlen && inorder && k >= 3;
      if (r != valid) abort();
    }
    stralloc_free(&file);
  }
  return 0;
}
