#include "ids.h"

#include <errno.h>

#include "auto.h"
#include "pwfile.h"

int ids_load(struct ids *ids, int withgroups, const char **missing)
{
  unsigned long u[IDS_NUSERS], g[IDS_NUSERS], gg[IDS_NGROUPS];
  int found[IDS_NUSERS];
  unsigned i;

  *missing = 0;
  if (pwfile_lookup(IDS_PASSWD_FILE, 0, auto_users, IDS_NUSERS, u, g, found) == -1) return -1;
  for (i = 0; i < IDS_NUSERS; ++i) {
    if (!found[i]) { *missing = auto_users[i]; errno = ENOENT; return -1; }
    ids->uid[i] = (uid_t)u[i];
    ids->ugid[i] = (gid_t)g[i];
  }
  if (!withgroups) return 0;
  if (pwfile_lookup(IDS_GROUP_FILE, 1, auto_groups, IDS_NGROUPS, gg, 0, found) == -1) return -1;
  for (i = 0; i < IDS_NGROUPS; ++i) {
    if (!found[i]) { *missing = auto_groups[i]; errno = ENOENT; return -1; }
    ids->gid[i] = (gid_t)gg[i];
  }
  return 0;
}
