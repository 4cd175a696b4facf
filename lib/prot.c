#include "prot.h"

#include <errno.h>
#include <grp.h>
#include <unistd.h>

int prot_groups(gid_t gid, const gid_t *list, size_t n)
{
  size_t i;
  for (i = 0; i < n && list[i] != gid; ++i) {}
  if (i == n) { errno = EINVAL; return -1; }
  /* Without CAP_SETGID, setgroups fails with EPERM. That is harmless only
   * in an unprivileged instance, where every role is the invoking user and
   * gid already is its group: its other groups cannot be shed, and dropping
   * them would not separate anything. */
  if (setgroups(n, list) == -1) {
    if (errno != EPERM || geteuid() == 0) return -1;
    if (getgid() != gid || getegid() != gid) return -1;
  }
  return setgid(gid);
}

int prot_gid(gid_t gid)
{
  return prot_groups(gid, &gid, 1);
}

int prot_uid(uid_t uid)
{
  return setuid(uid);
}

int prot_check(uid_t uid, gid_t gid)
{
  if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid) {
    errno = EPERM;
    return -1;
  }
  return 0;
}

int prot_drop(uid_t uid, gid_t gid)
{
  if (getuid() == uid && geteuid() == uid && getgid() == gid && getegid() == gid) {
    /* Already there: an unprivileged instance. */
    return prot_gid(gid);
  }
  if (prot_gid(gid) == -1) return -1;
  if (prot_uid(uid) == -1) return -1;
  if (prot_check(uid, gid) == -1) return -1;
  if (uid != 0 && setuid(0) != -1) { errno = EPERM; return -1; }
  return 0;
}
