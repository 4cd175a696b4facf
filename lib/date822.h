#ifndef DATE822_H
#define DATE822_H

#include <stddef.h>
#include <time.h>

/* RFC 822/5322 dates in UTC, as qmail writes them in Received lines:
 *   "22 Nov 2026 01:53:00 -0000"
 * (no weekday, day not padded, "-0000" for "UTC, local zone unknown"). */
#define DATE822_MAX 40

/* Writes into s (DATE822_MAX bytes suffice), returns the length. No NUL. */
size_t date822_fmt(char *s, time_t t);

#endif
