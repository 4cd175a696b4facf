/* fuzz_qfile: queue files. The trailer parser on the input's first
 * QFILE_TRAILER bytes (a parsed trailer formats back to the same bytes; a
 * QQ1 one to the same numbers), and qfile_read and qfile_verify on two
 * files: the input as it is, and one built from it with a well-formed
 * trailer, with the right hash unless the input changes a byte after
 * hashing, and sizes then skewed by amounts the input chooses. The file is
 * in memory, so neither ever has a read error to report: each answers 1
 * or 0, and qfile_verify 1 exactly when nothing was changed. */
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
  int v = qfile_verify(fd, size);

  if (v != 0 && v != 1) abort();
  if (r == 1) {
    size_t tlen = size - msglen - env.len; /* the trailer's, either version */
    if (tlen != QFILE_TRAILER && tlen != QFILE_TRAILER1) abort();
    if (msglen > size - tlen) abort();
    if (env.len && memcmp(env.s, file + msglen, env.len)) abort();
    if (!env.len || env.s[env.len - 1]) abort(); /* ends with the empty record */
  } else if (r != 0)
    abort();
  stralloc_free(&env);
  close(fd);
  return r == 1 ? 1 + v : r; /* 2: whole */
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
  struct qfile_trailer tr;

  if (size >= QFILE_TRAILER1) {
    size_t len = size < QFILE_TRAILER ? size : QFILE_TRAILER;
    memcpy(t, data, len); /* exactly as long as the parser may read */
    if (qfile_trailer_parse(t, len, &tr)) {
      qfile_trailer_fmt(f, tr.msglen, tr.envlen, tr.qtime, tr.hash);
      if (tr.hashed) {
        if (len != QFILE_TRAILER || tr.len != QFILE_TRAILER || memcmp(f, t, QFILE_TRAILER)) abort();
      } else {
        /* QQ1 is QQ2 without " h=...", from the same numbers */
        const char *q1 = t + len - QFILE_TRAILER1;
        if (tr.len != QFILE_TRAILER1 || memcmp(q1, "\nQQ1 ", 5) || memcmp(q1 + 5, f + 5, QFILE_TRAILER1 - 6)) abort();
        if (q1[QFILE_TRAILER1 - 1] != '\n') abort();
      }
    }
  }

  readq((const char *)data, size);

  /* Built: 2 bytes message length, 1 flags byte, 8 bytes skew each for m, e
   * (flag 1, 2) and the time, then message and envelope; flag 16: the
   * byte at data[3] % length is changed after hashing. */
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
    int r, valid, changed = 0;
    struct qfile_hash h;

    if (data[2] & 4) dm = (uint64_t)(int8_t)data[3]; /* small skews, either way */
    if (data[2] & 8) de = (uint64_t)(int8_t)data[11];
    qfile_hash_init(&h);
    qfile_hash_add(&h, (const char *)body, blen);
    qfile_trailer_fmt(t, msglen + dm, blen - msglen + de, get64(data + 19), qfile_hash_end(&h));
    if (!stralloc_copyb(&file, (const char *)body, blen) || !stralloc_catb(&file, t, sizeof t)) abort();
    if (data[2] & 16 && blen) {
      file.s[data[3] % blen] ^= 1;
      changed = 1;
    }
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
      if (changed) valid = 0; /* the envelope may still frame: r is 1 or 0 */
      if (valid && r != 2) abort();
      if (changed && r == 2) abort(); /* a changed byte must fail the hash */
      if (!changed && r != (valid ? 2 : 0)) abort();
    }
    stralloc_free(&file);
  }
  return 0;
}
