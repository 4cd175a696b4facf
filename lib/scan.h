#ifndef SCAN_H
#define SCAN_H

#include <stddef.h>

/* Number scanners. Each reads digits from the start of s (at most n bytes
 * for the *n variants), stores the value, and returns the number of bytes
 * consumed. They return 0, storing nothing, when there is no digit or when
 * the value would not fit: a number is never silently wrapped (qmail's
 * scan_ulong wraps). No sign, no leading blanks. */
size_t scan_ulong(const char *s, unsigned long *u);
size_t scan_ulongn(const char *s, size_t n, unsigned long *u);
size_t scan_sizen(const char *s, size_t n, size_t *sz);
size_t scan_octal(const char *s, unsigned long *u);
/* Fails unless the whole C string is one decimal number that fits in max. */
int scan_whole_ulong(const char *s, unsigned long max, unsigned long *u);

#endif
