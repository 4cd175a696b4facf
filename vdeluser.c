/* vdeluser: remove a user of a virtual domain and its directory.
 *
 *   vdeluser [-v] user@domain
 *
 * The vpasswd entry goes first (from then on no delivery or login finds
 * the user), then the user's directory, which is taken from the entry and
 * removed only when it lies inside the domain's directory: the removal
 * walks down from the domain directory with O_NOFOLLOW at every step
 * (lib/vuser), so neither a dir field pointing elsewhere nor a symbolic
 * link inside the tree can make it touch anything outside. */

#include <errno.h>
#include <string.h>

#include "auto.h"
#include "buffer.h"
#include "error.h"
#include "sgetopt.h"
#include "stralloc.h"
#include "strerr.h"
#include "vdomain.h"
#include "vpasswd.h"
#include "vuser.h"

#define FATAL "vdeluser: fatal: "
#define WARNING "vdeluser: warning: "
#define USAGE "vdeluser: usage: vdeluser [-v] user@domain"

static NORETURN void die_usage(void) { strerr_die(100, USAGE); }
static NORETURN void die_nomem(void) { strerr_die(111, FATAL, "out of memory"); }

int main(int argc, char **argv)
{
  stralloc user = STRALLOC_ZERO, domain = STRALLOC_ZERO, dbuf = STRALLOC_ZERO, pwbuf = STRALLOC_ZERO;
  stralloc dir = STRALLOC_ZERO, rel = STRALLOC_ZERO, addr = STRALLOC_ZERO, why = STRALLOC_ZERO;
  struct sgetopt g = SGETOPT_INIT;
  struct vdomain d;
  struct vpasswd pw;
  unsigned long badline = 0;
  const char *err;
  int opt, r;

  while ((opt = sgetopt(&g, argc, argv, "v")) != SGETOPT_END) {
    if (opt == 'v') { buffer b; char s[64]; buffer_init(&b, 1, s, sizeof s, 0); buffer_putsflush(&b, "version: quail\n"); continue; }
    sgetopt_warn(&g, "vdeluser");
    die_usage();
  }
  argv += g.ind;
  argc -= g.ind;
  if (argc != 1) die_usage();

  err = vdomain_splitaddr(argv[0], &user, &domain);
  if (err) strerr_die(100, FATAL, "bad address ", argv[0], ": ", err);
  r = vdomain_get(auto_qmail, domain.s, &d, &dbuf);
  if (r == -1) strerr_die(111, FATAL, "unable to look up the domain ", domain.s, ": ", error_str(errno));
  if (!r) strerr_die(100, FATAL, "no such virtual domain: ", domain.s);

  r = vpasswd_lookup(d.dir, user.s, &pw, &pwbuf);
  if (r == -1) strerr_die(111, FATAL, "unable to read vpasswd of ", domain.s, ": ", error_str(errno));
  if (!r) strerr_die(100, FATAL, "no such user: ", user.s, "@", domain.s);
  if (!stralloc_copys(&dir, pw.dir) || !stralloc_0(&dir)) die_nomem();

  if (!stralloc_copys(&addr, user.s) || !stralloc_append(&addr, '@') || !stralloc_cats(&addr, domain.s) || !stralloc_0(&addr))
    die_nomem();
  r = vpasswd_delete(d.dir, user.s, &badline);
  r = vpasswd_result(r, badline, addr.s, &why);
  if (r == -1) die_nomem();
  if (r) strerr_die(r, FATAL, why.s);

  r = vuser_inside(d.dir, dir.s, &rel);
  if (r == -1) die_nomem();
  if (!r) {
    strerr_warn(WARNING, "user removed, but its directory ", dir.s, " is not inside ", d.dir, ": left alone");
    return 0;
  }
  r = vuser_rmtree(d.dir, rel.s);
  if (r == -1)
    strerr_die(111, FATAL, "user removed from vpasswd, but unable to remove ", dir.s, ": ", error_str(errno));
  if (r == 1) strerr_warn(WARNING, "user removed; its directory ", dir.s, " did not exist");
  return 0;
}
