#ifndef STRALLOC_H
#define STRALLOC_H

#include <stddef.h>

/* A growable byte string. s holds len bytes; a is the allocated size.
 * Lengths are size_t and every growth is checked for overflow before it
 * adds (CVE-2005-1513 was qmail's stralloc growing past 2^32). The string is
 * not NUL-terminated unless stralloc_0() was called. */
typedef struct stralloc {
  char *s;
  size_t len;
  size_t a;
} stralloc;

#define STRALLOC_ZERO { 0, 0, 0 }

/* All return 1 on success, 0 on failure (errno ENOMEM, s unchanged). */
int stralloc_ready(stralloc *sa, size_t n);
int stralloc_readyplus(stralloc *sa, size_t n);
int stralloc_copyb(stralloc *sa, const char *s, size_t n);
int stralloc_copys(stralloc *sa, const char *s);
int stralloc_copy(stralloc *sa, const stralloc *from);
int stralloc_catb(stralloc *sa, const char *s, size_t n);
int stralloc_cats(stralloc *sa, const char *s);
int stralloc_cat(stralloc *sa, const stralloc *from);
int stralloc_append(stralloc *sa, char c);
int stralloc_catulong(stralloc *sa, unsigned long u);
/* Appends a NUL; len counts it (as qmail's stralloc_0 does). */
int stralloc_0(stralloc *sa);
/* 1 if sa begins with the C string s. */
int stralloc_starts(const stralloc *sa, const char *s);
void stralloc_free(stralloc *sa);

#endif
