#ifndef VDOMAIN_H
#define VDOMAIN_H

#include "stralloc.h"

/* Virtual domains as vpopmail wires them into qmail (COMPAT.md A.1): a
 * domain is virtual when QMAILHOME/users/assign has a line
 *   +domain-:realdomain:uid:gid:dir:-::
 * compiled by qmail-newu into users/cdb. vpopmail reads that cdb itself
 * (vget_assign), and so do we. */

/* Limits of the names (vpopmail's MAX_PW_NAME, MAX_PW_DOMAIN). */
#define VDOMAIN_MAXUSER 64
#define VDOMAIN_MAXDOMAIN 96

/* Name checks. Each lowercases in into out (NUL-terminated) and returns
 * null if the name is acceptable, else a short reason for a message
 * ("user name too long (over 64 characters)").
 * user: 1-64 of [a-z0-9._-], no "..", not starting with '.' or '-', and
 *   not one of the domain directory's own files (vpasswd, vpasswd.cdb,
 *   vpasswd.lock, vpasswd.tmp, vpasswd.cdb.tmp), since USER is a directory
 *   name there.
 * domain: 1-96 characters, dot-separated labels of [a-z0-9-], no empty
 *   label, no label starting or ending with '-'. */
const char *vdomain_checkuser(stralloc *out, const char *user);
const char *vdomain_checkdomain(stralloc *out, const char *domain);

/* Splits "user@domain" (or "user%domain", as vchkpw accepts) at the last
 * '@' (else the last '%') and checks both halves as above. Null if good,
 * else the reason (also for an address without a domain). */
const char *vdomain_splitaddr(const char *addr, stralloc *user, stralloc *domain);

/* What users/cdb says about a domain. */
struct vdomain {
  const char *real;      /* the real domain (differs for an alias domain) */
  unsigned long uid;
  unsigned long gid;
  const char *dir;       /* the real domain's directory, absolute */
};

/* Looks domain (lowercased) up in qmailhome/users/cdb exactly as vpopmail's
 * vget_assign does: key "!" domain "-", data realdomain NUL uid NUL gid
 * NUL dir NUL ... . d points into buf.
 *   1  a virtual domain (or an alias domain: d->real names its real one)
 *   0  not a virtual domain (also when users/cdb does not exist)
 *  -1  users/cdb unreadable or corrupt, or the entry malformed (errno;
 *      EPROTO for garbage): a temporary failure */
int vdomain_get(const char *qmailhome, const char *domain, struct vdomain *d, stralloc *buf);

/* out = base "/domains/" domain: where vadddomain puts a new domain
 * (base is auto_vpopmail). Readers take the dir from vdomain_get instead:
 * a migrated site may have hashed domain directories. 1 or 0 (no memory). */
int vdomain_dirof(stralloc *out, const char *base, const char *domain);

#endif
