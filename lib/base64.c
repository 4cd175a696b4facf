#include "base64.h"

#include <errno.h>
#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The value of a base64 character, or -1. */
static int val(unsigned char c)
{
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int base64_decode(stralloc *out, const char *s, size_t len)
{
  size_t i, start = out->len;

  /* Whitespace, line breaks and a missing padding are all refused: RFC 4954
   * sends one line of canonical base64 (RFC 4648 section 3.5). */
  if (len % 4) return 0;
  if (!stralloc_readyplus(out, len / 4 * 3)) { errno = ENOMEM; return -1; }
  for (i = 0; i < len; i += 4) {
    int v[4], k, pad = 0;
    unsigned long w;
    for (k = 0; k < 4; ++k) {
      unsigned char c = (unsigned char)s[i + k];
      if (c == '=' && i + 4 == len && k >= 2) { v[k] = 0; ++pad; continue; }
      if (pad) goto bad; /* "a=b=": data after padding */
      v[k] = val(c);
      if (v[k] < 0) goto bad;
    }
    w = (unsigned long)v[0] << 18 | (unsigned long)v[1] << 12 | (unsigned long)v[2] << 6 | (unsigned long)v[3];
    /* The bits that padding leaves over must be zero, or "QR==" and "QQ=="
     * would both decode to "A". */
    if (pad == 2 && (w & 0xffff)) goto bad;
    if (pad == 1 && (w & 0xff)) goto bad;
    out->s[out->len++] = (char)(w >> 16);
    if (pad < 2) out->s[out->len++] = (char)(w >> 8 & 0xff);
    if (pad < 1) out->s[out->len++] = (char)(w & 0xff);
  }
  return 1;
bad:
  out->len = start;
  return 0;
}

int base64_encode(stralloc *out, const char *s, size_t len)
{
  size_t i, n = len / 3 + (len % 3 != 0);

  if (n > ((size_t)-1) / 4) { errno = ENOMEM; return 0; }
  if (!stralloc_readyplus(out, n * 4)) return 0;
  for (i = 0; i + 3 <= len; i += 3) {
    unsigned long w = (unsigned long)(unsigned char)s[i] << 16 | (unsigned long)(unsigned char)s[i + 1] << 8
                      | (unsigned char)s[i + 2];
    out->s[out->len++] = alphabet[w >> 18];
    out->s[out->len++] = alphabet[w >> 12 & 63];
    out->s[out->len++] = alphabet[w >> 6 & 63];
    out->s[out->len++] = alphabet[w & 63];
  }
  if (len - i == 1) {
    unsigned long w = (unsigned long)(unsigned char)s[i] << 16;
    out->s[out->len++] = alphabet[w >> 18];
    out->s[out->len++] = alphabet[w >> 12 & 63];
    out->s[out->len++] = '=';
    out->s[out->len++] = '=';
  } else if (len - i == 2) {
    unsigned long w = (unsigned long)(unsigned char)s[i] << 16 | (unsigned long)(unsigned char)s[i + 1] << 8;
    out->s[out->len++] = alphabet[w >> 18];
    out->s[out->len++] = alphabet[w >> 12 & 63];
    out->s[out->len++] = alphabet[w >> 6 & 63];
    out->s[out->len++] = '=';
  }
  return 1;
}

/* The limit of each part: checkpassword(8) reads at most 512 bytes in all,
 * and 255 is what qmail-popup and the common checkpassword programs allow
 * a name. */
#define SASL_PARTMAX 255

int sasl_plain(const char *s, size_t len, const char **authzid, size_t *zlen,
               const char **authcid, size_t *clen, const char **passwd, size_t *plen)
{
  const char *n1 = len ? memchr(s, 0, len) : 0, *n2, *end = s + len;
  size_t i;

  if (!len || !n1) return 0;
  n2 = memchr(n1 + 1, 0, (size_t)(end - n1 - 1));
  if (!n2 || memchr(n2 + 1, 0, (size_t)(end - n2 - 1))) return 0;
  *authzid = s;
  *zlen = (size_t)(n1 - s);
  *authcid = n1 + 1;
  *clen = (size_t)(n2 - n1 - 1);
  *passwd = n2 + 1;
  *plen = (size_t)(end - n2 - 1);
  if (!*clen || !*plen) return 0;
  if (*zlen > SASL_PARTMAX || *clen > SASL_PARTMAX || *plen > SASL_PARTMAX) return 0;
  /* The names are logged and passed on; a control byte in one is never a
   * real user. The password may hold any byte but NUL. */
  for (i = 0; i < *zlen; ++i)
    if ((unsigned char)s[i] < 32 || s[i] == 127) return 0;
  for (i = 0; i < *clen; ++i)
    if ((unsigned char)(*authcid)[i] < 32 || (*authcid)[i] == 127) return 0;
  return 1;
}
