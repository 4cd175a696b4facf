/* vsetuserquota: set the quota of a user of a virtual domain, or of every
 * user of a domain, and rewrite the Maildir's maildirsize for it.
 *
 *   vsetuserquota [-v] user@domain|domain quota
 *
 * quota: NOQUOTA, bytes, Maildir++'s NNNS / NNNS,NNNC, or vpopmail's old
 * 10MB / 1000KB; it is stored in Maildir++ form (NNNS[,NNNC]). */

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "error.h"
#include "maildirquota.h"
#include "sgetopt.h"
#include "stralloc.h"
#include "strerr.h"
#include "vdomain.h"
#include "vpasswd.h"
#include "vuser.h"

#define FATAL "vsetuserquota: fatal: "
#define USAGE "vsetuserquota: usage: vsetuserquota [-v] user@domain|domain quota"

static NORETURN void die_usage(void) { strerr_die(100, USAGE); }

static char quota[MAILDIRQUOTA_FMT + 1];
static struct maildirquota q;

static int change(struct vpasswd *pw, void *arg)
{
  (void)arg;
  pw->quota = quota;
  return 0;
}

int main(int argc, char **argv)
{
  stralloc user = STRALLOC_ZERO, domain = STRALLOC_ZERO, dbuf = STRALLOC_ZERO;
  stralloc names = STRALLOC_ZERO;
  struct sgetopt g = SGETOPT_INIT;
  struct vdomain d;
  const char *err;
  size_t i;
  int opt, r;

  while ((opt = sgetopt(&g, argc, argv, "v")) != SGETOPT_END) {
    if (opt == 'v') { buffer b; char s[64]; buffer_init(&b, 1, s, sizeof s, 0); buffer_putsflush(&b, "version: quail\n"); continue; }
    sgetopt_warn(&g, "vsetuserquota");
    die_usage();
  }
  argv += g.ind;
  argc -= g.ind;
  if (argc != 2) die_usage();
  if (!maildirquota_parse(argv[1], strlen(argv[1]), &q) || !*argv[1])
    strerr_die(100, FATAL, "bad quota: ", argv[1], " (want NOQUOTA, bytes, NNNS[,NNNC], or 10MB / 1000KB)");
  quota[maildirquota_fmt(quota, &q)] = 0;

  if (strchr(argv[0], '@')) {
    err = vdomain_splitaddr(argv[0], &user, &domain);
    if (err) strerr_die(100, FATAL, "bad address ", argv[0], ": ", err);
  } else {
    err = vdomain_checkdomain(&domain, argv[0]);
    if (err) strerr_die(100, FATAL, "bad domain ", argv[0], ": ", err);
  }
  r = vdomain_get(auto_qmail, domain.s, &d, &dbuf);
  if (r == -1) strerr_die(111, FATAL, "unable to look up the domain ", domain.s, ": ", error_str(errno));
  if (!r) strerr_die(100, FATAL, "no such virtual domain: ", domain.s);

  if (user.len) {
    vuser_modify("vsetuserquota", &d, domain.s, user.s, change, 0, &q);
    return 0;
  }
  vuser_allnames("vsetuserquota", d.dir, domain.s, &names);
  for (i = 0; i < names.len; i += strlen(names.s + i) + 1) vuser_modify("vsetuserquota", &d, domain.s, names.s + i, change, 0, &q);
  return 0;
}
