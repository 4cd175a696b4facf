#include "qfile.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "fmt.h"
#include "scan.h"

static const char qfile_magic[] = "\nQQ2 ";
static const char qfile_magic1[] = "\nQQ1 ";

/* ---- the hash: eight bytes at a time, each step a bijection of the
 * state, so one changed word always changes the result; then the length,
 * and a final mix. Bytes are taken little-endian whatever the machine. */

#define QFILE_K 0x9e3779b97f4a7c15ULL

static uint64_t qfile_mix(uint64_t h, uint64_t w)
{
  h = (h ^ w) * QFILE_K;
  return h ^ (h >> 32);
}

static uint64_t qfile_le64(const unsigned char *p)
{
  return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24
         | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

void qfile_hash_init(struct qfile_hash *q)
{
  q->h = 0x5155414951513200ULL; /* "QUAIQQ2\0" */
  q->len = 0;
  q->npart = 0;
}

void qfile_hash_add(struct qfile_hash *q, const char *s, size_t len)
{
  const unsigned char *p = (const unsigned char *)s;
  q->len += len;
  if (q->npart) {
    while (len && q->npart < 8) { q->part[q->npart++] = *p++; --len; }
    if (q->npart < 8) return;
    q->h = qfile_mix(q->h, qfile_le64(q->part));
    q->npart = 0;
  }
  for (; len >= 8; p += 8, len -= 8) q->h = qfile_mix(q->h, qfile_le64(p));
  while (len--) q->part[q->npart++] = *p++;
}

uint64_t qfile_hash_end(const struct qfile_hash *q)
{
  uint64_t h = q->h;
  if (q->npart) {
    unsigned char last[8] = { 0 };
    memcpy(last, q->part, q->npart);
    h = qfile_mix(h, qfile_le64(last));
  }
  h = qfile_mix(h, q->len);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}

/* ---- the trailer */

static char *qfile_field(char *s, const char *tag, uint64_t u)
{
  size_t n = fmt_str(s, tag);
  return s + n + fmt_ulong0(s + n, (unsigned long)u, 20);
}

void qfile_trailer_fmt(char *buf, uint64_t msglen, uint64_t envlen, uint64_t qtime, uint64_t hash)
{
  static const char hex[] = "0123456789abcdef";
  char *s = buf + fmt_str(buf, qfile_magic);
  int i;
  s = qfile_field(s, "m=", msglen);
  s = qfile_field(s, " e=", envlen);
  s = qfile_field(s, " t=", qtime);
  s += fmt_str(s, " h=");
  for (i = 60; i >= 0; i -= 4) *s++ = hex[(hash >> i) & 15];
  *s = '\n';
}

static int qfile_getfield(const char *s, const char *tag, uint64_t *u)
{
  size_t n = strlen(tag);
  unsigned long v;
  if (memcmp(s, tag, n)) return 0;
  if (scan_ulongn(s + n, 20, &v) != 20) return 0;
  *u = v;
  return 1;
}

/* The part both versions share, after the magic: m, e and t; s then points
 * past them. */
static int qfile_numbers(const char **s, struct qfile_trailer *t)
{
  if (!qfile_getfield(*s, "m=", &t->msglen)) return 0;
  *s += 22;
  if (!qfile_getfield(*s, " e=", &t->envlen)) return 0;
  *s += 23;
  if (!qfile_getfield(*s, " t=", &t->qtime)) return 0;
  *s += 23;
  return 1;
}

int qfile_trailer_parse(const char *buf, size_t len, struct qfile_trailer *t)
{
  const char *s;
  if (len == QFILE_TRAILER && !memcmp(buf, qfile_magic, sizeof qfile_magic - 1)) {
    int i;
    s = buf + sizeof qfile_magic - 1;
    if (!qfile_numbers(&s, t) || memcmp(s, " h=", 3)) return 0;
    s += 3;
    t->hash = 0;
    for (i = 0; i < 16; ++i, ++s) {
      unsigned d;
      if (*s >= '0' && *s <= '9') d = (unsigned)(*s - '0');
      else if (*s >= 'a' && *s <= 'f') d = (unsigned)(*s - 'a' + 10);
      else return 0;
      t->hash = t->hash << 4 | d;
    }
    t->hashed = 1;
    t->len = QFILE_TRAILER;
    return *s == '\n';
  }
  if (len < QFILE_TRAILER1) return 0;
  buf += len - QFILE_TRAILER1;
  if (memcmp(buf, qfile_magic1, sizeof qfile_magic1 - 1)) return 0;
  s = buf + sizeof qfile_magic1 - 1;
  if (!qfile_numbers(&s, t)) return 0;
  t->hash = 0;
  t->hashed = 0;
  t->len = QFILE_TRAILER1;
  return *s == '\n';
}

static int qfile_pread(int fd, char *s, size_t len, uint64_t off)
{
  while (len) {
    ssize_t r = pread(fd, s, len, (off_t)off);
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    if (r == 0) return 0;
    s += r;
    len -= (size_t)r;
    off += (uint64_t)r;
  }
  return 1;
}

/* The trailer of the file on fd, checked against its size: 1, 0 if it is
 * not a valid one, -1 read error. */
static int qfile_gettrailer(int fd, uint64_t filesize, struct qfile_trailer *t)
{
  char buf[QFILE_TRAILER];
  size_t len = filesize < QFILE_TRAILER ? (size_t)filesize : QFILE_TRAILER;
  int r;
  if (filesize < QFILE_TRAILER1) return 0;
  r = qfile_pread(fd, buf, len, filesize - len);
  if (r <= 0) return r;
  if (!qfile_trailer_parse(buf, len, t)) return 0;
  /* msglen may not reach into the trailer: filesize - t->len - msglen
   * would wrap, and a huge envlen would then match it. */
  if (t->msglen > filesize - t->len || t->envlen != filesize - t->len - t->msglen) return 0;
  return 1;
}

int qfile_read(int fd, uint64_t filesize, uint64_t *msglen, uint64_t *qtime, stralloc *env)
{
  struct qfile_trailer t;
  size_t pos = 0, alen;
  const char *addr;
  char type;
  int r;

  r = qfile_gettrailer(fd, filesize, &t);
  if (r <= 0) return r;
  *msglen = t.msglen;
  *qtime = t.qtime;
  if (t.envlen > (uint64_t)SIZE_MAX) return 0;
  if (!stralloc_ready(env, (size_t)t.envlen)) return -1;
  r = qfile_pread(fd, env->s, (size_t)t.envlen, t.msglen);
  if (r <= 0) return r;
  env->len = (size_t)t.envlen;
  /* The records must be u, p, F, then T only, and the envelope must end
   * exactly at its terminating empty record. */
  {
    static const char order[] = "upF";
    unsigned k = 0;
    while ((r = envelope_next(env->s, env->len, &pos, &type, &addr, &alen)) == 1) {
      if (type != (k < 3 ? order[k] : 'T')) return 0;
      ++k;
    }
    return r == 0 && k >= 3 && pos == env->len;
  }
}

int qfile_verify(int fd, uint64_t filesize)
{
  struct qfile_trailer t;
  struct qfile_hash h;
  char buf[65536];
  uint64_t off = 0, end;
  int r = qfile_gettrailer(fd, filesize, &t);
  if (r <= 0) return r;
  if (!t.hashed) return 1;
  end = t.msglen + t.envlen;
  qfile_hash_init(&h);
  while (off < end) {
    size_t n = end - off < sizeof buf ? (size_t)(end - off) : sizeof buf;
    r = qfile_pread(fd, buf, n, off);
    if (r <= 0) return r; /* 0: shorter than its size said, meanwhile */
    qfile_hash_add(&h, buf, n);
    off += n;
  }
  return qfile_hash_end(&h) == t.hash;
}

int qfile_name(stralloc *sa, const char *dir, unsigned long id, unsigned long split)
{
  if (!stralloc_cats(sa, dir) || !stralloc_append(sa, '/')) return 0;
  if (split) {
    if (!stralloc_catulong(sa, id % split) || !stralloc_append(sa, '/')) return 0;
  }
  return stralloc_catulong(sa, id);
}
