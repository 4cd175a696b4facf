#ifndef NETSTRING_H
#define NETSTRING_H

#include <stddef.h>

#include "buffer.h"
#include "stralloc.h"

/* Netstrings (cr.yp.to/proto/netstrings.txt): "<decimal length>:<bytes>,".
 * Used by QMTP and QMQP. Lengths are bounded by the caller's max; leading
 * zeros are refused except for "0:", as the specification says. */

/* Parses one netstring at the start of s[0..len).
 *   1  complete: *data and *dlen set, *used = bytes consumed
 *   0  incomplete so far (a prefix of a valid netstring)
 *  -1  malformed, or longer than max */
int netstring_parse(const char *s, size_t len, size_t max,
                    const char **data, size_t *dlen, size_t *used);

/* Reads the length prefix "<digits>:" from b: 1 ok, 0 end of file before
 * any byte, -1 read error, -2 malformed or over max. */
int netstring_getlen(buffer *b, size_t max, size_t *len);
/* Reads a whole netstring of at most max bytes into sa (replacing it):
 * 1 ok, 0 end of file before any byte, -1 read error or end of file inside,
 * -2 malformed or over max. */
int netstring_get(buffer *b, stralloc *sa, size_t max);

/* Appends the netstring of s[0..len) to sa. 1 or 0 (ENOMEM). */
int netstring_cat(stralloc *sa, const char *s, size_t len);

#endif
