#ifndef CPWDATA_H
#define CPWDATA_H

#include <stddef.h>

/* The checkpassword side of the interface (cr.yp.to/checkpwd/interface.html):
 * the data on descriptor 3 is "user\0password\0timestamp\0", at most 512
 * bytes. qmail-popup and qmail-smtpd's AUTH (lib/checkpw.c) write exactly
 * that. Nothing here knows about accounts; checkpassword.c does. */

#define CPWDATA_MAX 512     /* the interface's bound on the whole data */
#define CPWDATA_USERMAX 64  /* longer names are refused before any lookup */

struct cpwdata {
  const char *user;  size_t ulen;   /* each points into the parsed buffer, */
  const char *pass;  size_t plen;   /* NUL-terminated there; the lengths */
  const char *stamp; size_t slen;   /* leave the NUL out */
};

/* Reads fd to end of file into buf, which has room for CPWDATA_MAX + 1
 * bytes (the extra byte tells "too long" from "exactly 512").
 *   1  *len bytes read, at most CPWDATA_MAX
 *   0  more than CPWDATA_MAX bytes (reading stops there)
 *  -1  read error (errno set) */
int cpwdata_read(int fd, char *buf, size_t *len);

/* Splits buf[0..len) into its three fields. Each must end in a NUL and
 * nothing may follow the third: 1 ok, 0 malformed. Empty fields are
 * well-formed here (the caller refuses an empty user or password). */
int cpwdata_parse(const char *buf, size_t len, struct cpwdata *d);

/* 1 if user may be looked up as a system account: 1 to CPWDATA_USERMAX
 * bytes, no NUL, no '/' and no "..", so that it can never name a path
 * (some NSS modules and home-directory schemes build paths from it). */
int cpwdata_user_ok(const char *user, size_t len);

/* 1 if a stored crypt(3) hash can ever match: not empty and not locked
 * ("!..." as passwd -l and usermod -L leave it, "*..." as for system
 * accounts, "*0" and "*1" being also crypt's failure tokens). */
int cpwdata_hash_ok(const char *hash);

/* 1 if a[0..alen) and b[0..blen) are the same bytes. The time taken
 * depends on blen (the stored hash, whose length its scheme fixes) and
 * not on where the bytes differ. */
int cpwdata_same(const char *a, size_t alen, const char *b, size_t blen);

#endif
