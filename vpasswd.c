/* vpasswd: change the password of a user of a virtual domain.
 *
 *   vpasswd [-v] [-r[len]] user@domain [password]
 *
 * Without a password and without -r it asks twice on the terminal, as
 * vpopmail does. The new hash is yescrypt or SHA-512 (lib/vcrypt). A
 * clear-text copy (the eighth field, set only by vmoduser -C) would no
 * longer match, so it is removed. */

#include <errno.h>
#include <string.h>

#include "auto.h"
#include "buffer.h"
#include "error.h"
#include "scan.h"
#include "sgetopt.h"
#include "stralloc.h"
#include "strerr.h"
#include "vcrypt.h"
#include "vdomain.h"
#include "vnewpw.h"
#include "vpasswd.h"
#include "vuser.h"

#define FATAL "vpasswd: fatal: "
#define USAGE "vpasswd: usage: vpasswd [-v] [-r[len]] user@domain [password]"

static NORETURN void die_usage(void) { strerr_die(100, USAGE); }
static NORETURN void die_nomem(void) { strerr_die(111, FATAL, "out of memory"); }

static void put(const char *s)
{
  buffer b;
  char space[256];
  buffer_init(&b, 1, space, sizeof space, 0);
  if (buffer_puts(&b, s) == -1 || buffer_flush(&b) == -1) strerr_die(111, FATAL, "unable to write output: ", error_str(errno));
}

static stralloc hash = STRALLOC_ZERO;
static int hadclear;

static int change(struct vpasswd *pw, void *arg)
{
  (void)arg;
  pw->passwd = hash.s;
  hadclear = pw->clearpw && *pw->clearpw;
  pw->clearpw = 0;
  return 0;
}

int main(int argc, char **argv)
{
  stralloc user = STRALLOC_ZERO, domain = STRALLOC_ZERO, dbuf = STRALLOC_ZERO, pass = STRALLOC_ZERO, ask = STRALLOC_ZERO;
  struct sgetopt g = SGETOPT_INIT;
  struct vdomain d;
  unsigned long rlen = 0;
  const char *err, *addr;
  int opt, r;

  while ((opt = sgetopt(&g, argc, argv, "vr")) != SGETOPT_END) {
    switch (opt) {
      case 'v': put("version: quail\n"); break;
      case 'r':
        if (!vnewpw_rlen(argv[g.ind] + g.pos, &rlen)) strerr_die(100, FATAL, "bad -r length: ", argv[g.ind] + g.pos, " (1 to 128)");
        sgetopt_skiprest(&g, argv);
        break;
      default: sgetopt_warn(&g, "vpasswd"); die_usage();
    }
  }
  argv += g.ind;
  argc -= g.ind;
  if (argc < 1 || argc > 2) die_usage();
  if (rlen && argc == 2) strerr_die(100, FATAL, "give either a password or -r, not both");
  addr = argv[0];

  err = vdomain_splitaddr(addr, &user, &domain);
  if (err) strerr_die(100, FATAL, "bad address ", addr, ": ", err);
  r = vdomain_get(auto_qmail, domain.s, &d, &dbuf);
  if (r == -1) strerr_die(111, FATAL, "unable to look up the domain ", domain.s, ": ", error_str(errno));
  if (!r) strerr_die(100, FATAL, "no such virtual domain: ", domain.s);

  if (!stralloc_copys(&ask, "New password for ") || !stralloc_cats(&ask, addr) || !stralloc_cats(&ask, ": ")
      || !stralloc_0(&ask))
    die_nomem();
  vnewpw("vpasswd", rlen, argc == 2 ? argv[1] : 0, ask.s, "Retype new password: ", 1, &pass, &hash);

  vuser_modify("vpasswd", &d, domain.s, user.s, change, 0, 0);
  if (hadclear) strerr_warn("vpasswd: warning: the clear-text copy of the old password was removed (vmoduser -C sets one)");
  if (rlen) {
    put("Random password: ");
    put(pass.s);
    put("\n");
  }
  explicit_bzero(pass.s, pass.a);
  return 0;
}
