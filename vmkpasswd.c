/* vmkpasswd: rebuild a virtual domain's vpasswd.cdb from its vpasswd.
 *
 *   vmkpasswd domain
 *
 * For a vpasswd edited by hand. Malformed lines are left out of the cdb
 * with a warning (and stay in vpasswd, where the editing commands will
 * refuse to touch the file until they are fixed). */

#include <errno.h>

#include "auto.h"
#include "error.h"
#include "fmt.h"
#include "sgetopt.h"
#include "stralloc.h"
#include "strerr.h"
#include "vdomain.h"
#include "vpasswd.h"

#define FATAL "vmkpasswd: fatal: "
#define USAGE "vmkpasswd: usage: vmkpasswd domain"

int main(int argc, char **argv)
{
  stralloc domain = STRALLOC_ZERO, dbuf = STRALLOC_ZERO;
  struct sgetopt g = SGETOPT_INIT;
  struct vdomain d;
  unsigned long skipped = 0, badline = 0;
  char n1[FMT_ULONG], n2[FMT_ULONG];
  const char *err;
  int r;

  if (sgetopt(&g, argc, argv, "") != SGETOPT_END) { sgetopt_warn(&g, "vmkpasswd"); strerr_die(100, USAGE); }
  argv += g.ind;
  argc -= g.ind;
  if (argc != 1) strerr_die(100, USAGE);
  err = vdomain_checkdomain(&domain, argv[0]);
  if (err) strerr_die(100, FATAL, "bad domain ", argv[0], ": ", err);
  r = vdomain_get(auto_qmail, domain.s, &d, &dbuf);
  if (r == -1) strerr_die(111, FATAL, "unable to look up the domain ", domain.s, ": ", error_str(errno));
  if (!r) strerr_die(100, FATAL, "no such virtual domain: ", domain.s);

  r = vpasswd_mkcdb(d.dir, &skipped, &badline);
  if (r == VPASSWD_TOOBIG) strerr_die(111, FATAL, "vpasswd is too big");
  if (r != VPASSWD_OK) strerr_die(error_temp(errno) ? 111 : 100, FATAL, "unable to rebuild vpasswd.cdb: ", error_str(errno));
  if (skipped) {
    n1[fmt_ulong(n1, skipped)] = 0;
    n2[fmt_ulong(n2, badline)] = 0;
    strerr_warn("vmkpasswd: warning: ", n1, " malformed line(s) left out of vpasswd.cdb, the first is line ", n2);
  }
  return 0;
}
