#include "vcrypt.h"

#include <crypt.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "cpwdata.h"

/* crypt_r's work space is about 32 KiB: static, not on the stack. None of
 * our programs hashes from two threads. */
static struct crypt_data cd;

int vcrypt_random_bytes(void *buf, size_t len)
{
  unsigned char *p = buf;
  while (len) {
    /* getrandom blocks only until the pool is first seeded, once per
     * boot; after that it never fails for lack of entropy. */
    ssize_t r = getrandom(p, len, 0);
    if (r == -1) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += r;
    len -= (size_t)r;
  }
  return 0;
}

static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

int vcrypt_random_password(char *buf, size_t len)
{
  unsigned char r[64];
  size_t i = 0, j = sizeof r;

  if (!len || len > VCRYPT_RANDOMMAX) { errno = EINVAL; return -1; }
  while (i < len) {
    if (j == sizeof r) {
      if (vcrypt_random_bytes(r, sizeof r) == -1) return -1;
      j = 0;
    }
    /* 62 * 4 = 248: bytes 248..255 are thrown away so that every
     * character is equally likely. */
    if (r[j] < 248) buf[i++] = alnum[r[j] % 62];
    ++j;
  }
  buf[len] = 0;
  explicit_bzero(r, sizeof r);
  return 0;
}

/* Writes prefix + a salt for it into salt (size n). 0, or -1 (errno). */
static int gensalt(const char *prefix, char *salt, size_t n)
{
  unsigned char r[16];
  if (vcrypt_random_bytes(r, sizeof r) == -1) return -1;
#ifdef CRYPT_GENSALT_IMPLEMENTS_AUTO_ENTROPY
  /* libxcrypt: it knows each scheme's salt format and default cost. We
   * hand it our own random bytes rather than let it find some. */
  if (!crypt_gensalt_rn(prefix, 0, (const char *)r, (int)sizeof r, salt, (int)n)) {
    if (errno == 0) errno = EINVAL;
    return -1;
  }
  return 0;
#else
  /* A libcrypt without crypt_gensalt: only SHA-512, with 16 salt
   * characters (the most "$6$" uses) and its default 5000 rounds. */
  {
    /* The salt alphabet of crypt(5). */
    static const char b64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    size_t i;
    if (strcmp(prefix, "$6$") || n < 3 + 16 + 2) { errno = EINVAL; return -1; }
    memcpy(salt, "$6$", 3);
    for (i = 0; i < 16; ++i) salt[3 + i] = b64[r[i] & 63];
    salt[19] = '$';
    salt[20] = 0;
    return 0;
  }
#endif
}

int vcrypt_hash_with(stralloc *out, const char *pass, const char *prefix)
{
  char salt[192];
  const char *h;

  if (strlen(pass) > VCRYPT_PASSMAX) { errno = EINVAL; return -1; }
  if (gensalt(prefix, salt, sizeof salt) == -1) return -1;
  errno = 0;
  h = crypt_r(pass, salt, &cd);
  if (!h || *h == '*' || strncmp(h, prefix, strlen(prefix))) {
    if (!errno) errno = EINVAL;
    return -1;
  }
  if (!stralloc_copys(out, h) || !stralloc_0(out)) return -1;
  explicit_bzero(&cd, sizeof cd);
  return 0;
}

static const char *scheme;

const char *vcrypt_scheme(void)
{
  stralloc t = STRALLOC_ZERO;
  if (scheme) return scheme;
  /* Trying is the only test that works with every libcrypt: a library
   * may declare yescrypt and have it disabled at build time. */
  scheme = vcrypt_hash_with(&t, "x", "$y$") == 0 ? "$y$" : "$6$";
  stralloc_free(&t);
  return scheme;
}

int vcrypt_hash(stralloc *out, const char *pass)
{
  const char *p = vcrypt_scheme();
  if (vcrypt_hash_with(out, pass, p) == 0) return 0;
  if (errno == ENOMEM || !strcmp(p, "$6$")) return -1;
  return vcrypt_hash_with(out, pass, "$6$");
}

int vcrypt_verify(const char *pass, const char *hash)
{
  const char *h;
  int r;

  if (!cpwdata_hash_ok(hash)) return 0;
  if (strlen(pass) > VCRYPT_PASSMAX) return 0;
  errno = 0;
  h = crypt_r(pass, hash, &cd);
  if (!h || *h == '*') {
    /* "*0"/"*1" (NULL from older libraries): ENOMEM is the machine's
     * trouble; EINVAL (unknown scheme, damaged hash) stays so. */
    if (errno == ENOMEM) return -1;
    return 0;
  }
  r = cpwdata_same(h, strlen(h), hash, strlen(hash));
  explicit_bzero(&cd, sizeof cd);
  return r;
}

int vcrypt_hash_storable(const char *s)
{
  size_t i;
  for (i = 0; s[i]; ++i) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 32 || c >= 127 || c == ':') return 0;
    if (i >= 255) return 0;
  }
  return i > 0;
}
