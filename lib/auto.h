#ifndef AUTO_H
#define AUTO_H

/* Build settings, generated from conf-* into the build directory's auto.c
 * by tools/mkauto.sh. */
extern const char auto_qmail[];          /* conf-qmail */
extern const unsigned long auto_split;   /* conf-split */
extern const unsigned long auto_spawn;   /* conf-spawn */
extern const unsigned long auto_patrn;   /* conf-patrn */
extern const char auto_break;            /* conf-break */
extern const char *const auto_users[8];  /* conf-users, in its order */
extern const char *const auto_groups[2]; /* conf-groups */
/* conf-vpopmail: the virtual-domain store's base directory, owner, group */
extern const char auto_vpopmail[];
extern const char auto_vpopuser[];
extern const char auto_vpopgroup[];

#endif
