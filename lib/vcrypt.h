#ifndef VCRYPT_H
#define VCRYPT_H

#include <stddef.h>

#include "stralloc.h"

/* Passwords of the virtual-domain store (vpasswd(5)), hashed with crypt(3)
 * from libcrypt: programs that use this module link with -lcrypt
 * (LIBS_prog in the Makefile; libcrypt.a links statically).
 *
 * New hashes use yescrypt ("$y$", Debian's default since 11) when the
 * library has it and SHA-512 crypt ("$6$") otherwise. The salt comes from
 * getrandom(2). Verifying takes whatever scheme the stored hash names, so
 * MD5-crypt hashes from an old vpopmail site keep working. */

/* Longest password accepted: libxcrypt's CRYPT_MAX_PASSPHRASE_SIZE is 512
 * bytes with the NUL. (vpopmail's random passwords stop at 128.) */
#define VCRYPT_PASSMAX 511
/* Longest random password, as vpopmail's -r allows. */
#define VCRYPT_RANDOMMAX 128
/* vpopmail's default length for -r without a number. */
#define VCRYPT_RANDOMDEFAULT 12

/* Replaces out with the hash of the NUL-terminated pass, NUL-terminated
 * (out->len counts the NUL). 0 ok; -1 with errno: EINVAL for a password
 * over VCRYPT_PASSMAX bytes, ENOMEM, or what getrandom or crypt failed
 * with (ENOSYS/EINVAL from crypt: no usable scheme). */
int vcrypt_hash(stralloc *out, const char *pass);
/* The same with a chosen scheme prefix ("$y$", "$6$"), for tests and for
 * the fallback: -1 EINVAL when libcrypt does not know it. */
int vcrypt_hash_with(stralloc *out, const char *pass, const char *prefix);
/* The prefix vcrypt_hash uses on this system: "$y$" or "$6$". */
const char *vcrypt_scheme(void);

/* 1 if pass gives hash, 0 if not (also for an empty or locked "!"/"*"
 * hash, and for a scheme libcrypt lacks or a damaged hash: those cannot
 * start to match by themselves), -1 ENOMEM. The final comparison takes a
 * time that does not depend on where the strings differ. */
int vcrypt_verify(const char *pass, const char *hash);

/* Fills buf[0..len) with random bytes from getrandom(2): 0, or -1 (errno;
 * never a short fill). */
int vcrypt_random_bytes(void *buf, size_t len);
/* A random password of len characters from [A-Za-z0-9], each drawn
 * uniformly (no modulo bias), NUL-terminated: buf has room for len + 1.
 * 0, or -1 (errno; EINVAL if len is 0 or over VCRYPT_RANDOMMAX). */
int vcrypt_random_password(char *buf, size_t len);

/* 1 if s could be a crypt(3) hash stored in vpasswd: not empty, at most
 * 255 bytes, printable ASCII without ':' (vpasswd's separator) — for -e,
 * which takes a hash made elsewhere. */
int vcrypt_hash_storable(const char *s);

#endif
