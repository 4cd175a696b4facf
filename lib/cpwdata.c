#include "cpwdata.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int cpwdata_read(int fd, char *buf, size_t *len)
{
  size_t n = 0;
  /* Read one byte past the bound: 513 bytes means the writer sent too much,
   * whatever else it would have sent. */
  while (n < CPWDATA_MAX + 1) {
    ssize_t r = read(fd, buf + n, CPWDATA_MAX + 1 - n);
    if (r == -1) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  if (n > CPWDATA_MAX) return 0;
  *len = n;
  return 1;
}

/* The field starting at buf[*pos], up to its NUL: 1 and *pos past the
 * NUL, or 0 if there is no NUL before len. */
static int field(const char *buf, size_t len, size_t *pos, const char **f, size_t *flen)
{
  const char *nul;
  if (*pos >= len) return 0;
  nul = memchr(buf + *pos, 0, len - *pos);
  if (!nul) return 0;
  *f = buf + *pos;
  *flen = (size_t)(nul - *f);
  *pos += *flen + 1;
  return 1;
}

int cpwdata_parse(const char *buf, size_t len, struct cpwdata *d)
{
  size_t pos = 0;
  if (!field(buf, len, &pos, &d->user, &d->ulen)) return 0;
  if (!field(buf, len, &pos, &d->pass, &d->plen)) return 0;
  if (!field(buf, len, &pos, &d->stamp, &d->slen)) return 0;
  /* djb's checkpassword ignores what follows; a writer that sends more
   * does not speak this interface, and guessing what it meant is how a
   * password ends up read as a user name. */
  return pos == len;
}

int cpwdata_user_ok(const char *user, size_t len)
{
  size_t i;
  if (len == 0 || len > CPWDATA_USERMAX) return 0;
  for (i = 0; i < len; ++i) {
    if (user[i] == 0 || user[i] == '/') return 0;
    if (user[i] == '.' && i + 1 < len && user[i + 1] == '.') return 0;
  }
  return 1;
}

int cpwdata_hash_ok(const char *hash)
{
  return hash && hash[0] && hash[0] != '!' && hash[0] != '*';
}

int cpwdata_same(const char *a, size_t alen, const char *b, size_t blen)
{
  /* volatile, so that the compiler cannot turn the loop back into one that
   * stops at the first difference. */
  volatile unsigned char d = (unsigned char)(alen != blen);
  size_t i;
  for (i = 0; i < blen; ++i) {
    unsigned char x = i < alen ? (unsigned char)a[i] : 0;
    d |= (unsigned char)(x ^ (unsigned char)b[i]);
  }
  return d == 0;
}
