#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commit.h"
#include "fmt.h"
#include "scan.h"

static uint32_t journal_hash(const char *s, size_t len)
{
  uint32_t h = 2166136261u;
  while (len--) {
    h ^= (unsigned char)*s++;
    h *= 16777619u;
  }
  return h;
}

static int journal_hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int journal_open(struct journal *j, const char *fn)
{
  struct stat st;
  j->out.s = 0;
  j->out.len = 0;
  j->out.a = 0;
  do j->fd = open(fn, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600); while (j->fd == -1 && errno == EINTR);
  if (j->fd == -1) return -1;
  if (fstat(j->fd, &st) == -1) { close(j->fd); j->fd = -1; return -1; }
  j->size = (uint64_t)st.st_size;
  return 0;
}

void journal_close(struct journal *j)
{
  if (j->fd != -1) close(j->fd);
  j->fd = -1;
  stralloc_free(&j->out);
}

int journal_parse(const char *s, size_t len, const char **payload, size_t *plen, size_t *used)
{
  size_t i = 0, n = 0, end;
  uint32_t want = 0;
  unsigned k;

  while (i < len && s[i] >= '0' && s[i] <= '9') {
    if (i >= 9) return -1; /* longer than JOURNAL_MAXRECORD allows */
    n = n * 10 + (size_t)(s[i] - '0');
    ++i;
  }
  if (i == len) return 0;
  if (!i || s[i] != ':' || n > JOURNAL_MAXRECORD) return -1;
  ++i;
  if (len - i < n + 10) return 0; /* payload, ',', 8 hex, '\n' */
  end = i + n;
  if (s[end] != ',' || s[end + 9] != '\n') return -1;
  for (k = 0; k < 8; ++k) {
    int v = journal_hexval(s[end + 1 + k]);
    if (v < 0) return -1;
    want = want << 4 | (uint32_t)v;
  }
  if (journal_hash(s + i, n) != want) return -1;
  *payload = s + i;
  *plen = n;
  *used = end + 10;
  return 1;
}

int journal_replay(struct journal *j, int (*cb)(void *arg, const char *payload, size_t len), void *arg)
{
  stralloc buf = STRALLOC_ZERO;
  uint64_t good = 0;
  size_t start = 0;
  int r = 0;

  if (lseek(j->fd, 0, SEEK_SET) == -1) return -1;
  for (;;) {
    ssize_t got;
    const char *payload;
    size_t plen, used;
    int p;

    /* Parse what is buffered; read more when a record is incomplete. */
    p = journal_parse(buf.s + start, buf.len - start, &payload, &plen, &used);
    if (p == 1) {
      if (cb(arg, payload, plen) == -1) { r = -1; break; }
      start += used;
      good += used;
      continue;
    }
    if (p == -1) break; /* a torn or damaged record: the rest is not trusted */
    if (start) { /* keep only the unparsed tail */
      memmove(buf.s, buf.s + start, buf.len - start);
      buf.len -= start;
      start = 0;
    }
    if (!stralloc_readyplus(&buf, 65536)) { r = -1; break; }
    do got = read(j->fd, buf.s + buf.len, 65536); while (got == -1 && errno == EINTR);
    if (got < 0) { r = -1; break; }
    if (got == 0) break;
    buf.len += (size_t)got;
  }
  stralloc_free(&buf);
  if (r == 0 && good != j->size) {
    if (ftruncate(j->fd, (off_t)good) == -1) return -1;
    j->size = good;
  }
  return r;
}

int journal_add(struct journal *j, const char *payload, size_t len)
{
  char num[FMT_ULONG];
  char tail[10];
  uint32_t h;
  size_t before = j->out.len;
  int k;

  if (len > JOURNAL_MAXRECORD) { errno = E2BIG; return -1; }
  h = journal_hash(payload, len);
  tail[0] = ',';
  for (k = 7; k >= 0; --k) {
    tail[1 + k] = "0123456789abcdef"[h & 15];
    h >>= 4;
  }
  tail[9] = '\n';
  if (!stralloc_catb(&j->out, num, fmt_ulong(num, len)) || !stralloc_append(&j->out, ':')
      || !stralloc_catb(&j->out, payload, len) || !stralloc_catb(&j->out, tail, sizeof tail)) {
    j->out.len = before;
    return -1;
  }
  j->size += j->out.len - before;
  return 0;
}

int journal_flush(struct journal *j)
{
  if (!j->out.len) return 0;
  if (commit_writeall(j->fd, j->out.s, j->out.len) == -1) return -1;
  j->out.len = 0;
  return 0;
}

int journal_sync(struct journal *j)
{
  if (journal_flush(j) == -1) return -1;
  return fdatasync(j->fd);
}

int journal_replace(struct journal *j, struct journal *tmp, const char *tmpfn, const char *fn)
{
  if (journal_sync(tmp) == -1) return -1;
  if (commit_rename(tmpfn, fn) == -1) return -1;
  /* Records still queued in j are in the snapshot the caller wrote. */
  close(j->fd);
  stralloc_free(&j->out);
  *j = *tmp;
  tmp->fd = -1;
  tmp->out.s = 0;
  tmp->out.len = tmp->out.a = 0;
  return 0;
}

int journal_field(const char *payload, size_t len, size_t *pos, const char **f, size_t *flen)
{
  const char *nul;
  if (*pos >= len) return 0;
  nul = memchr(payload + *pos, 0, len - *pos);
  if (!nul) return -1;
  *f = payload + *pos;
  *flen = (size_t)(nul - *f);
  *pos = (size_t)(nul - payload) + 1;
  return 1;
}

int journal_number(const char *f, size_t flen, unsigned long *u)
{
  return flen && scan_ulongn(f, flen, u) == flen;
}
