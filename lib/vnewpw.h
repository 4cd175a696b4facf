#ifndef VNEWPW_H
#define VNEWPW_H

#include "stralloc.h"

/* A new password, as vadddomain (for postmaster), vadduser and vpasswd
 * take one: made up when rlen is not 0 (vpopmail's -r; the caller prints
 * it), else given (the command line), else asked on the terminal (ask and
 * again are the prompts; up to tries times when the two answers differ).
 * pass gets it (NUL-terminated), hash its crypt(3) hash (lib/vcrypt).
 * Anything that goes wrong ends the program, its messages prefixed with
 * prog: exit 100 for a password that cannot be had or used, 111 for a
 * failure that may pass. Kept apart from lib/vuser so that only these
 * programs link libcrypt. */
void vnewpw(const char *prog, unsigned long rlen, const char *given, const char *ask, const char *again, int tries,
            stralloc *pass, stralloc *hash);

/* The length glued to a -r option ("-r" alone: VCRYPT_RANDOMDEFAULT):
 * 1 with *len set, or 0 if it is not a number from 1 to VCRYPT_RANDOMMAX. */
int vnewpw_rlen(const char *glued, unsigned long *len);

#endif
