/* qmail-getpw: give qmail-lspawn the user in charge of a local address
 * that users/cdb does not assign (lib/getpw.h has the rule).
 * Prints user NUL uid NUL gid NUL home NUL dash NUL ext NUL. Exit codes
 * are qmail-lspawn's (lib/qlx.h): 0, QLX_NOALIAS, QLX_NFS, QLX_NOMEM. */

#include <errno.h>
#include <pwd.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "getpw.h"
#include "ids.h"
#include "qlx.h"
#include "stralloc.h"

/* getpwnam through NSS, so that LDAP or NIS accounts count. */
static int getpw_nss(void *ctx, const char *name, struct getpw_account *a)
{
  struct passwd *pw;
  (void)ctx;
  errno = 0;
  pw = getpwnam(name);
  if (!pw) {
    if (errno && errno != ENOENT && errno != ESRCH && errno != EBADF && errno != EPERM) return -1;
    return 0;
  }
  a->name = pw->pw_name;
  a->uid = (unsigned long)pw->pw_uid;
  a->gid = (unsigned long)pw->pw_gid;
  a->home = pw->pw_dir;
  return 1;
}

int main(int argc, char **argv)
{
  stralloc nughde = STRALLOC_ZERO;
  char outspace[512];
  buffer out;

  if (argc < 2 || !argv[1]) _exit(100);
  switch (getpw_search(argv[1], auto_break, auto_users[IDS_ALIAS], &nughde, getpw_nss, 0)) {
    case 0: _exit(QLX_NOALIAS);
    case -1: _exit(errno == ENOMEM ? QLX_NOMEM : QLX_NFS);
  }
  buffer_init(&out, 1, outspace, sizeof outspace, 0);
  if (buffer_putflush(&out, nughde.s, nughde.len) == -1) _exit(QLX_SYS);
  _exit(0);
}
