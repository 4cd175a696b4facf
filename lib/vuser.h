#ifndef VUSER_H
#define VUSER_H

#include <stddef.h>
#include <sys/types.h>

#include "stralloc.h"

/* What the user commands of the virtual-domain store (vadduser, vdeluser,
 * vpasswd, vmoduser, vsetuserquota, valias, vuserinfo) share beyond
 * lib/vpasswd and lib/vdomain: where a user's directory may be, making and
 * removing it without leaving the domain directory, alias file names, and
 * asking for a password on the terminal. */

/* 1 if dir is strictly inside domaindir: domaindir, '/', then one or more
 * components that are neither empty, "." nor ".." (a single trailing '/'
 * allowed). rel gets the part after domaindir "/", NUL-terminated. 0 if
 * not (also for dir == domaindir), -1 out of memory. Only the names are
 * looked at; vuser_rmtree checks the disk. */
int vuser_inside(const char *domaindir, const char *dir, stralloc *rel);

/* Removes domaindir/rel and everything in it. Every step is relative to a
 * descriptor opened from domaindir with O_NOFOLLOW, so a symbolic link
 * anywhere on the way (in rel or inside the tree) is removed as a link and
 * never followed, and nothing outside domaindir can be reached. Depth is
 * bounded (ELOOP past 32 levels). 0 removed, 1 there was nothing to
 * remove, -1 error (errno; the tree may be partly removed). */
int vuser_rmtree(const char *domaindir, const char *rel);

/* Creates the directory domaindir/name (mode 0700; it must not exist:
 * EEXIST) with Maildir/{cur,new,tmp} in it. When uid is not -1, each one is
 * chowned to uid:gid (root creating for the domain's owner). On failure
 * whatever it created is removed again. 0 or -1 (errno). */
int vuser_mkuserdir(const char *domaindir, const char *name, uid_t uid, gid_t gid);

/* After a quota change: rewrites userdir/Maildir/maildirsize for q
 * (maildirquota_recalc; NOQUOTA removes it) and, when uid is not -1,
 * gives it to uid:gid. 0 done, 1 no Maildir (nothing to do: it is made at
 * the first delivery), -1 error (errno). */
struct maildirquota;
int vuser_setmaildirsize(const char *userdir, const struct maildirquota *q, uid_t uid, gid_t gid);

/* The edit of one user that vmoduser, vsetuserquota and vpasswd make:
 * vpasswd_modify of name's entry in domain d (called domain) under the
 * lock, then,
 * when q is not null, the user's maildirsize rewritten for it (a failure
 * there is a warning: the quota is set). Anything else that goes wrong
 * ends the program, its messages prefixed with prog: the user commands
 * all say the same. change returns VUSER_NOMEM when out of memory. */
#define VUSER_NOMEM 101
struct vdomain;
struct vpasswd;
void vuser_modify(const char *prog, const struct vdomain *d, const char *domain, const char *name,
                  int (*change)(struct vpasswd *pw, void *arg), void *arg, const struct maildirquota *q);

/* The names of every user of the domain in dir (vpasswd_names), each
 * NUL-terminated, for an edit of all of them; or the program ends (see
 * vuser_modify) if one line is malformed: "all" must not skip one. */
void vuser_allnames(const char *prog, const char *dir, const char *domain, stralloc *names);

/* The file name of an alias (valias): ".qmail-" then the alias with every
 * '.' turned into ':', as qmail-local looks it up. 1 or 0 (no memory). */
int vuser_aliasfile(stralloc *out, const char *alias);
/* The alias a ".qmail-..." file name stands for (':' back to '.'); 0 if the
 * name is not an alias file (not ".qmail-" plus something, or
 * ".qmail-default", the domain's own). 1 or -1 (no memory). */
int vuser_aliasname(stralloc *out, const char *fn);

/* Asks for a password on /dev/tty twice, without echo, with the prompts
 * ask and again (vadduser and vpasswd: "New password for ADDR: ",
 * "Retype new password: ", as vpopmail's vgetpasswd). 1 with the password
 * in pw (NUL-terminated), 0 the two differ, it is empty or too long (why
 * says which), -1 no terminal or a read error (errno). */
int vuser_askpassword(const char *ask, const char *again, stralloc *pw, const char **why);

#endif
