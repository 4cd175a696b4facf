#ifndef IDS_H
#define IDS_H

#include <sys/types.h>

/* The qmail roles (conf-users, conf-groups), resolved at run time. */
enum ids_user {
  IDS_ALIAS, IDS_DAEMON, IDS_LOG, IDS_OWNER, IDS_PASSWD, IDS_QUEUE, IDS_REMOTE, IDS_SEND,
  IDS_NUSERS
};
enum ids_group { IDS_QMAIL, IDS_NOFILES, IDS_NGROUPS };

struct ids {
  uid_t uid[IDS_NUSERS];
  gid_t ugid[IDS_NUSERS];     /* each user's primary group */
  gid_t gid[IDS_NGROUPS];
};

#define IDS_PASSWD_FILE "/etc/passwd"
#define IDS_GROUP_FILE "/etc/group"

/* Looks up every role user (and, if withgroups, both groups).
 * 0 on success; -1 with errno set: ENOENT names the missing role in
 * *missing (a name from conf-users or conf-groups). */
int ids_load(struct ids *ids, int withgroups, const char **missing);

#endif
