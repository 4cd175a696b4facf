/* vaddaliasdomain: make a domain an alias of an existing one
 * (vaddaliasdomain(8)). Mail to user@alias goes to user@real: the alias
 * gets a users/assign line that names the real domain, its uid, gid and
 * directory, as vpopmail writes it, then virtualdomains and rcpthosts.
 * As in vpopmail, the two domains may be given in either order: the one
 * that exists is the real one (an alias of an alias names the real one). */

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auto.h"
#include "error.h"
#include "sgetopt.h"
#include "stralloc.h"
#include "strerr.h"
#include "vdomain.h"

#define FATAL "vaddaliasdomain: fatal: "
#define WARNING "vaddaliasdomain: warning: "
#define USAGE "vaddaliasdomain: usage: vaddaliasdomain [-v] real_domain alias_domain"

static NORETURN void die_sys(const char *what, const char *fn)
{
  int e = errno;
  strerr_die(error_temp(e) ? 111 : 100, FATAL, what, fn, ": ", error_str(e));
}

static void runbin(const char *prog)
{
  int r = vdomain_runbin(auto_qmail, prog);
  if (r == -1) strerr_die(111, FATAL, "unable to run ", auto_qmail, "/bin/", prog, ": ", error_str(errno));
  if (r == 1) strerr_die(111, FATAL, prog, " failed");
}

int main(int argc, char **argv)
{
  struct sgetopt g = SGETOPT_INIT;
  stralloc a = STRALLOC_ZERO, b = STRALLOC_ZERO, bufa = STRALLOC_ZERO, bufb = STRALLOC_ZERO, how = STRALLOC_ZERO;
  struct vdomain da, db, *d;
  const char *err, *alias;
  int opt, flagverbose = 0, lockfd, ra, rb, r, more;

  umask(077);
  while ((opt = sgetopt(&g, argc, argv, "v")) != SGETOPT_END) {
    switch (opt) {
      case 'v': flagverbose = 1; break;
      default: sgetopt_warn(&g, "vaddaliasdomain"); strerr_die(100, USAGE);
    }
  }
  argv += g.ind;
  argc -= g.ind;
  if (argc != 2) strerr_die(100, USAGE);
  err = vdomain_checkdomain(&a, argv[0]);
  if (err) strerr_die(100, FATAL, err, ": ", argv[0]);
  err = vdomain_checkdomain(&b, argv[1]);
  if (err) strerr_die(100, FATAL, err, ": ", argv[1]);
  if (!strcmp(a.s, b.s)) strerr_die(100, FATAL, "the real domain and the alias domain are the same");

  lockfd = vdomain_lock(auto_qmail);
  if (lockfd == -1) strerr_die(111, FATAL, "unable to lock ", auto_qmail, "/control/.vpopmail.lock: ", error_str(errno));
  ra = vdomain_get(auto_qmail, a.s, &da, &bufa);
  rb = vdomain_get(auto_qmail, b.s, &db, &bufb);
  if (ra == -1 || rb == -1) strerr_die(111, FATAL, "unable to read ", auto_qmail, "/users/cdb: ", error_str(errno));
  if (ra == 1 && rb == 1) strerr_die(100, FATAL, "both ", a.s, " and ", b.s, " exist already: unable to make an alias");
  if (!ra && !rb) strerr_die(100, FATAL, "neither ", a.s, " nor ", b.s, " exists: unable to make an alias");
  if (ra == 1) { d = &da; alias = b.s; }
  else { d = &db; alias = a.s; }

  r = vdomain_assign_add(auto_qmail, alias, d->real, d->uid, d->gid, d->dir);
  if (r == -1) die_sys("unable to update ", "users/assign");
  runbin("qmail-newu");
  if (vdomain_virtualdomains_add(auto_qmail, alias) == -1) die_sys("unable to update ", "control/virtualdomains");
  if (vdomain_locals_del(auto_qmail, alias) == -1) die_sys("unable to update ", "control/locals");
  if (vdomain_reload(auto_qmail, &how)) { if (flagverbose) strerr_warn("vaddaliasdomain: qmail-send reloaded: ", how.s); }
  else strerr_warn(WARNING, "qmail-send not found: send it a HUP (svc -h /service/qmail-send) so that it reads control/virtualdomains");
  if (vdomain_rcpthosts_add(auto_qmail, alias, &more) == -1) die_sys("unable to update ", "control/rcpthosts");
  if (more) runbin("qmail-newmrh");
  close(lockfd);
  if (flagverbose) strerr_warn("vaddaliasdomain: ", alias, " is now an alias of ", d->real);
  return 0;
}
