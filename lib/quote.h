#ifndef QUOTE_H
#define QUOTE_H

#include <stddef.h>

#include "stralloc.h"

/* Quoting the local part of an address for RFC 822 text, as qmail does
 * (quote.c): as little as possible, so that "joe@example.com" stays as it
 * is and "joe smith@example.com" becomes "\"joe smith\"@example.com".
 * No special encoding for bytes above 127: they are simply quoted. */

/* 1 if the box name s[0..n) must be quoted: it is empty, holds a byte that
 * is not allowed in an RFC 822 atom (controls, space, specials, 8-bit) or
 * its dots are not between atoms (leading, trailing or doubled). */
int quote_need(const char *s, size_t n);

/* out = s[0..n), quoted if it needs to be: inside the quotes CR, LF, '"'
 * and '\' get a backslash. 1, or 0 when out of memory. */
int quote(stralloc *out, const char *s, size_t n);

/* out = the address s[0..n) with its box name (everything before the last
 * '@', or the whole address when it has none) quoted as needed. The empty
 * address stays empty. 1, or 0 when out of memory. qmail calls it quote2. */
int quote_addr(stralloc *out, const char *s, size_t n);

#endif
