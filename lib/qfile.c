#include "qfile.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "fmt.h"
#include "scan.h"

static const char qfile_magic[] = "\nQQ1 ";

static char *qfile_field(char *s, const char *tag, uint64_t u)
{
  size_t n = fmt_str(s, tag);
  return s + n + fmt_ulong0(s + n, (unsigned long)u, 20);
}

void qfile_trailer_fmt(char *buf, uint64_t msglen, uint64_t envlen, uint64_t qtime)
{
  char *s = buf + fmt_str(buf, qfile_magic);
  s = qfile_field(s, "m=", msglen);
  s = qfile_field(s, " e=", envlen);
  s = qfile_field(s, " t=", qtime);
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

int qfile_trailer_parse(const char *buf, uint64_t *msglen, uint64_t *envlen, uint64_t *qtime)
{
  const char *s = buf + sizeof qfile_magic - 1;
  if (memcmp(buf, qfile_magic, sizeof qfile_magic - 1)) return 0;
  if (!qfile_getfield(s, "m=", msglen)) return 0;
  s += 22;
  if (!qfile_getfield(s, " e=", envlen)) return 0;
  s += 23;
  if (!qfile_getfield(s, " t=", qtime)) return 0;
  s += 23;
  return *s == '\n' && s + 1 == buf + QFILE_TRAILER;
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

int qfile_read(int fd, uint64_t filesize, uint64_t *msglen, uint64_t *qtime, stralloc *env)
{
  char t[QFILE_TRAILER];
  uint64_t envlen;
  size_t pos = 0, alen;
  const char *addr;
  char type;
  int r;

  if (filesize < QFILE_TRAILER) return 0;
  r = qfile_pread(fd, t, sizeof t, filesize - QFILE_TRAILER);
  if (r <= 0) return r;
  if (!qfile_trailer_parse(t, msglen, &envlen, qtime)) return 0;
  /* msglen may not reach into the trailer: filesize - QFILE_TRAILER -
   * msglen would wrap, and a huge envlen would then match it. */
  if (*msglen > filesize - QFILE_TRAILER || envlen != filesize - QFILE_TRAILER - *msglen) return 0;
  if (envlen > (uint64_t)SIZE_MAX) return 0;
  if (!stralloc_ready(env, (size_t)envlen)) return -1;
  r = qfile_pread(fd, env->s, (size_t)envlen, *msglen);
  if (r <= 0) return r;
  env->len = (size_t)envlen;
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

int qfile_name(stralloc *sa, const char *dir, unsigned long id, unsigned long split)
{
  if (!stralloc_cats(sa, dir) || !stralloc_append(sa, '/')) return 0;
  if (split) {
    if (!stralloc_catulong(sa, id % split) || !stralloc_append(sa, '/')) return 0;
  }
  return stralloc_catulong(sa, id);
}
