#ifndef USERS_H
#define USERS_H

#include "cdb.h"
#include "stralloc.h"

/* Who handles a local address: the "nughde" record of qmail-lspawn,
 *   user NUL uid NUL gid NUL homedir NUL dash NUL ext NUL
 * from users/cdb (written by qmail-newu) or from qmail-getpw.
 *
 * users_cdb looks local up exactly as qmail-lspawn does: the simple key
 * "!" local NUL first (lowercased), then wildcard keys "!" prefix from
 * the longest prefix down, probing only prefixes whose last character is
 * in the cdb's "" record (the wildcard characters) or of length 1; on a
 * wildcard hit the rest of local is appended to the ext field.
 *   1  found: nughde holds the six fields, each NUL-terminated
 *   0  not in the cdb
 *  -1  the cdb is unreadable or corrupt (a temporary failure) */
int users_cdb(struct cdb *c, const char *local, stralloc *nughde);

/* The six fields of a nughde record. */
struct users_entry {
  const char *user;
  unsigned long uid;
  unsigned long gid;
  const char *home;
  const char *dash;
  const char *ext;
};
/* 1 if nughde is well-formed (six fields, numeric uid and gid), else 0. */
int users_split(const stralloc *nughde, struct users_entry *e);

#endif
