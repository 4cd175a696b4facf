#ifndef FMT_H
#define FMT_H

#include <stddef.h>

/* Enough room for any unsigned long in decimal or octal. */
#define FMT_ULONG 24

/* Each writes into s (if s is not null) and returns the number of bytes
 * written or, with s null, that would be written. No NUL is added. */
size_t fmt_ulong(char *s, unsigned long u);
/* At least n digits, zero-padded. */
size_t fmt_ulong0(char *s, unsigned long u, size_t n);
size_t fmt_octal(char *s, unsigned long u);
size_t fmt_xlong(char *s, unsigned long u);
size_t fmt_str(char *s, const char *t);

#endif
