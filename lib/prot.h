#ifndef PROT_H
#define PROT_H

#include <sys/types.h>

/* Dropping privilege, in the only safe order: supplementary groups, then
 * the group, then the user, then a check that it all took. Each returns 0
 * or -1 (errno set). */

/* setgroups to gid alone, then setgid(gid). */
int prot_gid(gid_t gid);
/* setgroups to the n gids of list, which must hold gid (EINVAL if not),
 * then setgid(gid): initgroups(3) without NSS, the list read by the caller
 * (pwfile_member_gids). Unprivileged, with gid already the group, the
 * list cannot be set and the current one stays, as with prot_gid. */
int prot_groups(gid_t gid, const gid_t *list, size_t n);
/* setuid(uid). */
int prot_uid(uid_t uid);
/* prot_gid, prot_uid, then verifies real and effective ids and the group
 * list, and that root cannot be regained. EPERM if anything is off. */
int prot_drop(uid_t uid, gid_t gid);
/* Verifies the current ids are exactly uid/gid (real and effective). */
int prot_check(uid_t uid, gid_t gid);

#endif
