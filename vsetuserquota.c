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
#include "fmt.h"
#include "maildirquota.h"
#include "sgetopt.h"
#include "stralloc.h"
#include "strerr.h"
#include "vdomain.h"
#include "vpasswd.h"
#include "vuser.h"

#define FATAL "vsetuserquota: fatal: "
#define WARNING "vsetuserquota: warning: "
#define USAGE "vsetuserquota: usage: vsetuserquota [-v] user@domain|domain quota"

static NORETURN void die_usage(void) { strerr_die(100, USAGE); }
static NORETURN void die_nomem(void) { strerr_die(111, FATAL, "out of memory"); }

static char quota[MAILDIRQUOTA_FMT + 1];
static struct maildirquota q;
static stralloc changed_dir = STRALLOC_ZERO;
static const char *domname;

static int change(struct vpasswd *pw, void *arg)
{
  (void)arg;
  pw->quota = quota;
  if (!stralloc_copys(&changed_dir, pw->dir) || !stralloc_0(&changed_dir)) return 101;
  return 0;
}

static void setone(const struct vdomain *d, const char *name)
{
  unsigned long badline = 0;
  char num[FMT_ULONG];
  int r = vpasswd_modify(d->dir, name, change, 0, &badline);
  switch (r) {
    case VPASSWD_OK: break;
    case VPASSWD_NOUSER: strerr_die(100, FATAL, "no such user: ", name, "@", domname);
    case VPASSWD_MALFORMED:
      num[fmt_ulong(num, badline)] = 0;
      strerr_die(111, FATAL, "vpasswd line ", num, " malformed: fix it by hand; nothing was changed");
    case VPASSWD_TOOBIG: strerr_die(111, FATAL, "vpasswd is too big; nothing was changed");
    case 101: die_nomem();
    default: strerr_die(error_temp(errno) ? 111 : 100, FATAL, "unable to update vpasswd: ", error_str(errno));
  }
  r = vuser_setmaildirsize(changed_dir.s, &q, geteuid() == 0 ? (uid_t)d->uid : (uid_t)-1, (gid_t)d->gid);
  if (r == -1) strerr_warn(WARNING, "quota set, but unable to rewrite maildirsize in ", changed_dir.s, "/Maildir: ", error_str(errno));
}

int main(int argc, char **argv)
{
  stralloc user = STRALLOC_ZERO, domain = STRALLOC_ZERO, dbuf = STRALLOC_ZERO;
  stralloc names = STRALLOC_ZERO;
  struct sgetopt g = SGETOPT_INIT;
  struct vdomain d;
  const char *err;
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
  domname = domain.s;
  r = vdomain_get(auto_qmail, domain.s, &d, &dbuf);
  if (r == -1) strerr_die(111, FATAL, "unable to look up the domain ", domain.s, ": ", error_str(errno));
  if (!r) strerr_die(100, FATAL, "no such virtual domain: ", domain.s);

  if (user.len) {
    setone(&d, user.s);
    return 0;
  }
  {
    unsigned long badline = 0;
    size_t i;
    char num[FMT_ULONG];
    switch (vpasswd_names(d.dir, &names, &badline)) {
      case -1:
        if (errno == ENOMEM) die_nomem();
        strerr_die(111, FATAL, "unable to read vpasswd of ", domain.s, ": ", error_str(errno));
      case 0:
        num[fmt_ulong(num, badline)] = 0;
        strerr_die(111, FATAL, "vpasswd line ", num, " malformed: fix it by hand; nothing was changed");
    }
    for (i = 0; i < names.len; i += strlen(names.s + i) + 1) setone(&d, names.s + i);
  }
  return 0;
}
