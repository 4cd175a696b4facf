/* qmail-getpw: give qmail-lspawn the user in charge of a local address
 * that users/cdb does not assign (lib/getpw.h has the rule).
 * Prints user NUL uid NUL gid NUL home NUL dash NUL ext NUL. Exit codes
 * are qmail-lspawn's (lib/qlx.h): 0, QLX_NOALIAS, QLX_NFS, QLX_NOMEM. */

#include <errno.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "getpw.h"
#include "ids.h"
#include "qlx.h"
#include "stralloc.h"

int main(int argc, char **argv)
{
  stralloc nughde = STRALLOC_ZERO;
  char outspace[512];
  buffer out;

  if (argc < 2 || !argv[1]) _exit(100);
  switch (getpw_lookup(argv[1], auto_break, auto_users[IDS_ALIAS], &nughde)) {
    case 0: _exit(QLX_NOALIAS);
    case -1: _exit(errno == ENOMEM ? QLX_NOMEM : QLX_NFS);
  }
  buffer_init(&out, 1, outspace, sizeof outspace, 0);
  if (buffer_putflush(&out, nughde.s, nughde.len) == -1) _exit(QLX_SYS);
  _exit(0);
}
