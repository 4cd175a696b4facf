#ifndef BASE64_H
#define BASE64_H

#include <stddef.h>

#include "stralloc.h"

/* Base64 (RFC 4648, the standard alphabet, with '=' padding) as SMTP AUTH
 * uses it (RFC 4954). Decoding is strict: characters outside the
 * alphabet, missing or misplaced padding, and non-zero padding bits are
 * errors, so that one credential has exactly one encoding. */

/* Appends the decoding of s[0..len) to out. 1, 0 on malformed input,
 * -1 out of memory (errno ENOMEM). An empty input decodes to nothing. */
int base64_decode(stralloc *out, const char *s, size_t len);
/* Appends the encoding of s[0..len) to out. 1, or 0 (ENOMEM). */
int base64_encode(stralloc *out, const char *s, size_t len);

/* SASL PLAIN (RFC 4616): the decoded message "authzid NUL authcid NUL
 * passwd". 1 and the three parts (pointers into s, lengths set; authzid
 * may be empty), or 0 when malformed (not exactly two NULs, empty authcid
 * or password, any part over 255 bytes... see base64.c). */
int sasl_plain(const char *s, size_t len, const char **authzid, size_t *zlen,
               const char **authcid, size_t *clen, const char **passwd, size_t *plen);

#endif
