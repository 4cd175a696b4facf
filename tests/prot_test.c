/* Tests for lib/prot.c.
 * The privilege drops run only as root ("# skip: not root" otherwise), each
 * in a forked child that reports through its exit code: one bit per
 * property that did not hold.
 * not tested: saved set-user-IDs of a setuid program (the tests are not
 * installed setuid). */

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "prot.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

enum {
  F_CALL = 1,      /* the prot_* call under test failed */
  F_UID = 2,       /* getuid/geteuid not as wanted */
  F_GID = 4,       /* getgid/getegid not as wanted */
  F_GROUPS = 8,    /* supplementary groups not exactly as asked */
  F_REGAIN = 16,   /* setuid(0) worked afterwards */
  F_AGAIN = 32,    /* a second prot_drop to the same ids failed */
  F_OTHER = 64,    /* prot_drop to other ids (from unprivileged) worked */
};

static int groups_only(gid_t gid)
{
  gid_t list[64];
  int n = getgroups(64, list);
  return n == 1 && list[0] == gid;
}

/* Runs f(uid, gid) in a child and returns its failure bits (or 128+ for a
 * signal, 255 when fork fails). */
static int in_child(int (*f)(uid_t, gid_t), uid_t uid, gid_t gid)
{
  int status;
  pid_t pid = fork();
  if (pid == -1) return 255;
  if (!pid) _exit(f(uid, gid));
  if (waitpid(pid, &status, 0) == -1) return 255;
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

static int child_drop(uid_t uid, gid_t gid)
{
  int bits = 0;
  if (prot_drop(uid, gid) == -1) return F_CALL;
  if (getuid() != uid || geteuid() != uid) bits |= F_UID;
  if (getgid() != gid || getegid() != gid) bits |= F_GID;
  if (!groups_only(gid)) bits |= F_GROUPS;
  if (setuid(0) == 0) bits |= F_REGAIN;
  /* already there: an unprivileged instance's call succeeds */
  if (prot_drop(uid, gid) == -1) bits |= F_AGAIN;
  /* but nothing else can be reached any more */
  if (prot_drop(uid + 1, gid + 1) == 0 || errno != EPERM) bits |= F_OTHER;
  return bits;
}

static int child_gid_uid(uid_t uid, gid_t gid)
{
  int bits = 0;
  if (prot_gid(gid) == -1) return F_CALL;
  if (!groups_only(gid)) bits |= F_GROUPS;
  if (getgid() != gid || getegid() != gid) bits |= F_GID;
  if (prot_uid(uid) == -1) return bits | F_CALL;
  if (getuid() != uid || geteuid() != uid) bits |= F_UID;
  if (prot_check(uid, gid) == -1) bits |= F_UID;
  /* unprivileged now: another group cannot be had */
  if (prot_gid(gid + 1) == 0) bits |= F_OTHER;
  if (prot_uid(0) == 0) bits |= F_REGAIN;
  return bits;
}

/* The supplementary groups are exactly list[0..n), in any order. */
static int groups_are(const gid_t *list, int n)
{
  gid_t got[64];
  int k, i, m = getgroups(64, got);
  if (m != n) return 0;
  for (i = 0; i < n; ++i) {
    for (k = 0; k < m && got[k] != list[i]; ++k) {}
    if (k == m) return 0;
  }
  return 1;
}

static int child_groups(uid_t uid, gid_t gid)
{
  gid_t list[3];
  int bits = 0;
  list[0] = gid + 7; /* the primary group need not come first */
  list[1] = gid;
  list[2] = gid + 9;
  if (prot_groups(gid, list, 3) == -1) return F_CALL;
  if (!groups_are(list, 3)) bits |= F_GROUPS;
  if (getgid() != gid || getegid() != gid) bits |= F_GID;
  if (prot_uid(uid) == -1) return bits | F_CALL;
  if (getuid() != uid || geteuid() != uid) bits |= F_UID;
  if (!groups_are(list, 3)) bits |= F_GROUPS;
  /* unprivileged now: no other group can be had, and another list for the
   * same group leaves the list as it is (an unprivileged instance) */
  list[1] = gid + 1;
  if (prot_groups(gid + 1, list + 1, 1) == 0) bits |= F_OTHER;
  list[1] = gid;
  list[2] = gid + 11;
  if (prot_groups(gid, list, 3) == -1) bits |= F_AGAIN;
  list[2] = gid + 9;
  if (!groups_are(list, 3)) bits |= F_OTHER;
  if (prot_uid(0) == 0) bits |= F_REGAIN;
  return bits;
}

static void report(int bits, const char *what)
{
  static const struct { int bit; const char *name; } names[] = {
    { F_CALL, "the call succeeds" },
    { F_UID, "real and effective uid" },
    { F_GID, "real and effective gid" },
    { F_GROUPS, "getgroups gives exactly the groups asked for" },
    { F_REGAIN, "setuid(0) fails afterwards" },
    { F_AGAIN, "a second drop to the same ids succeeds" },
    { F_OTHER, "other ids cannot be reached afterwards" },
  };
  size_t i;
  check(bits < 128, "%s: child exited normally (code %d)", what, bits);
  for (i = 0; i < N(names); ++i)
    check(!(bits & names[i].bit), "%s: %s", what, names[i].name);
}

int main(void)
{
  /* prot_check, which needs no privilege */
  check_long(prot_check(getuid(), getgid()), 0, "prot_check of the current ids");
  errno = 0;
  check_long(prot_check(getuid() + 1, getgid()), -1, "prot_check of another uid");
  check_long(errno, EPERM, "prot_check of another uid: errno");
  errno = 0;
  check_long(prot_check(getuid(), getgid() + 1), -1, "prot_check of another gid");
  check_long(errno, EPERM, "prot_check of another gid: errno");

  /* a list without the group is refused before anything changes */
  {
    gid_t other = getgid() + 1;
    errno = 0;
    check_long(prot_groups(getgid(), &other, 1), -1, "prot_groups without the group in the list");
    check_long(errno, EINVAL, "prot_groups without the group in the list: errno");
    errno = 0;
    check_long(prot_groups(getgid(), &other, 0), -1, "prot_groups with an empty list");
    check_long(errno, EINVAL, "prot_groups with an empty list: errno");
  }

  if (geteuid() != 0) {
    printf("# skip: not root\n");
    return check_end();
  }
  report(in_child(child_drop, 65534, 65534), "prot_drop(65534, 65534)");
  report(in_child(child_drop, 12345, 23456), "prot_drop(12345, 23456)");
  report(in_child(child_gid_uid, 65534, 65534), "prot_gid then prot_uid");
  report(in_child(child_groups, 65534, 65534), "prot_groups then prot_uid");
  return check_end();
}
