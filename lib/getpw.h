#ifndef GETPW_H
#define GETPW_H

#include "stralloc.h"

/* qmail-getpw's rule for a local address that users/cdb does not know:
 * the longest prefix of local ending at the end or just before a
 * conf-break character, lowercased and shorter than 32 bytes, that names
 * an account (looked up by fn) with a uid other
 * than 0 and a home directory that exists and belongs to it; the rest of
 * local after the break is the extension, with dash "-" (or "" when there
 * is none). Otherwise the alias user, with dash "-" and the whole local
 * part as extension.
 *   1   nughde set (six NUL-terminated fields, as users_cdb gives)
 *   0   no alias user either (qmail: QLX_NOALIAS)
 *  -1   a temporary failure (errno set: the home directory could not be
 *       checked, or the name service failed)
 *
 * fn looks one name up (qmail-getpw passes getpwnam, so LDAP or NIS users
 * count): 1 and *a filled (pointers valid until the next call), 0 not found, -1 a
 * temporary failure (errno set). qmail-smtpd's recipient check passes a
 * reader of /etc/passwd, so that the statically linked daemon never loads
 * NSS and still decides exactly as delivery does for local accounts. */
struct getpw_account {
  const char *name;
  unsigned long uid;
  unsigned long gid;
  const char *home;
};
typedef int (*getpw_fn)(void *ctx, const char *name, struct getpw_account *a);
int getpw_search(const char *local, char brk, const char *aliasuser, stralloc *nughde,
                 getpw_fn fn, void *ctx);

#endif
