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

/* ---- the control files of QMAILHOME (vadddomain, vdeldomain, ...) ----
 *
 * Every edit rewrites the whole file: FILE.tmp, fsync, rename, fsync of the
 * directory, keeping the old file's mode (and, as root, its owner); a new
 * file is 0644. Callers hold vdomain_lock() around a series of edits and
 * the programs they then run, so two commands never interleave. Lines are
 * compared lowercased, without trailing blanks. Each edit returns 1 when
 * it changed the file, 0 when there was nothing to change (the line was
 * already there, or was not), -1 with errno (E2BIG: the file is over 16 MB;
 * EINVAL: a field that cannot be written). */

/* Opens and flocks qmailhome/control/.vpopmail.lock: the descriptor (close
 * it to release the lock), or -1 with errno. */
int vdomain_lock(const char *qmailhome);

/* users/assign: "+domain-:real:uid:gid:dir:-::" added before the "." line
 * (the file is made with its "." if missing), or every "+domain-:" line
 * removed. */
int vdomain_assign_add(const char *qmailhome, const char *domain, const char *real,
                       unsigned long uid, unsigned long gid, const char *dir);
int vdomain_assign_del(const char *qmailhome, const char *domain);

/* control/rcpthosts, or control/morercpthosts once rcpthosts has
 * VDOMAIN_RCPTHOSTS_MAX lines (vpopmail's rule); *more says whether
 * morercpthosts changed, and then the caller runs qmail-newmrh. Deleting
 * removes the domain from both files. 0 if it was already in one (add) or
 * in neither (delete). */
#define VDOMAIN_RCPTHOSTS_MAX 50
int vdomain_rcpthosts_add(const char *qmailhome, const char *domain, int *more);
int vdomain_rcpthosts_del(const char *qmailhome, const char *domain, int *more);

/* control/virtualdomains: the line "domain:domain" (vpopmail's form). */
int vdomain_virtualdomains_add(const char *qmailhome, const char *domain);
int vdomain_virtualdomains_del(const char *qmailhome, const char *domain);

/* control/locals: the domain's line removed (a virtual domain is not local). */
int vdomain_locals_del(const char *qmailhome, const char *domain);

/* Runs qmailhome/bin/prog (qmail-newu, qmail-newmrh) without arguments and
 * waits: 0 it exited 0, 1 it failed (other exit code or a signal), -1 it
 * could not be run (errno). */
int vdomain_runbin(const char *qmailhome, const char *prog);

/* Every domain users/assign holds in vpopmail's form ("+name-:real:...:-::"
 * with a valid domain name), each NUL-terminated in names, in file order.
 * 0, or -1 with errno (a missing users/assign is an empty list). */
int vdomain_list(const char *qmailhome, stralloc *names);

/* Makes qmail-send reread locals and virtualdomains. Two ways, both tried:
 *  - a supervised service: the directory in $QMAILSEND_SERVICE, else
 *    /service/qmail-send, else /etc/service/qmail-send, whose supervise/
 *    control pipe gets 'h' (what svc -h writes; daemontools and runit);
 *  - the processes whose /proc/PID/exe is qmailhome/bin/qmail-send (as
 *    root any, else our own) get SIGHUP.
 * 1 if either reached qmail-send (how says which, for -v), 0 if neither
 * found it: the caller warns the administrator. */
int vdomain_reload(const char *qmailhome, stralloc *how);

#endif
