/* vmoduser: change fields and flags of a user of a virtual domain, or of
 * every user of a domain (vpopmail 5.6's arguments).
 *
 *   vmoduser [-v] [-n] [-q quota] [-c gecos] [-e crypted] [-C clear] [-D dir]
 *            [-x] [-dpswibroaSEfFmu0123] user@domain | domain
 *
 * Flags are OR-ed into the pwgid field after -x (clear all) is applied, as
 * vpopmail does. -C sets the password from clear text and keeps that text
 * in the eighth field (vpopmail's --enable-clear-passwd behaviour): the
 * only way a clear-text password gets into vpasswd. -q also rewrites the
 * Maildir's maildirsize for the new quota. -D must name a directory inside
 * the domain's directory. */

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
#include "vcrypt.h"
#include "vdomain.h"
#include "vpasswd.h"
#include "vuser.h"

#define FATAL "vmoduser: fatal: "
#define WARNING "vmoduser: warning: "
#define USAGE "vmoduser: usage: vmoduser [-v] [-n] [-q quota] [-c gecos] [-e crypted] [-C clear] [-D dir] [-x] [-dpswibroaSEfFmu0123] user@domain|domain"

static NORETURN void die_usage(void) { strerr_die(100, USAGE); }
static NORETURN void die_nomem(void) { strerr_die(111, FATAL, "out of memory"); }

static const char *gecos, *crypted, *clear, *newdir;
static stralloc hash = STRALLOC_ZERO;
static char quota[MAILDIRQUOTA_FMT + 1];
static struct maildirquota q;
static int setquota, clearflags;
static unsigned long setflags;

static int change(struct vpasswd *pw, void *arg)
{
  (void)arg;
  if (gecos) pw->gecos = gecos;
  if (newdir) pw->dir = newdir;
  if (clear) {
    pw->passwd = hash.s;
    pw->clearpw = clear;
  } else if (crypted) {
    pw->passwd = crypted;
    pw->clearpw = 0; /* it would not match the new hash */
  }
  if (clearflags) pw->flags = 0;
  pw->flags |= setflags;
  if (setquota) pw->quota = quota;
  return 0;
}

static void modify(const struct vdomain *d, const char *domain, const char *name)
{
  vuser_modify("vmoduser", d, domain, name, change, 0, setquota ? &q : 0);
}

int main(int argc, char **argv)
{
  stralloc user = STRALLOC_ZERO, domain = STRALLOC_ZERO, dbuf = STRALLOC_ZERO, rel = STRALLOC_ZERO;
  stralloc names = STRALLOC_ZERO;
  struct sgetopt g = SGETOPT_INIT;
  struct vdomain d;
  const char *err;
  size_t i;
  int opt, r;

  while ((opt = sgetopt(&g, argc, argv, "vnhq:c:e:C:D:xdpswibroaSEfFmu0123")) != SGETOPT_END) {
    switch (opt) {
      case 'v': { buffer b; char s[64]; buffer_init(&b, 1, s, sizeof s, 0); buffer_putsflush(&b, "version: quail\n"); break; }
      case 'n': break; /* vpasswd.cdb is always rebuilt */
      case 'h': die_usage();
      case 'q':
        if (!maildirquota_parse(g.arg, strlen(g.arg), &q))
          strerr_die(100, FATAL, "bad quota: ", g.arg, " (want NOQUOTA, bytes, NNNS[,NNNC], or 10MB / 1000KB)");
        quota[maildirquota_fmt(quota, &q)] = 0;
        setquota = 1;
        break;
      case 'c': gecos = g.arg; break;
      case 'e': crypted = g.arg; break;
      case 'C': clear = g.arg; break;
      case 'D': newdir = g.arg; break;
      case 'x': clearflags = 1; break;
      case 'd': setflags |= VPW_NO_PASSWD_CHNG; break;
      case 'p': setflags |= VPW_NO_POP; break;
      case 's': setflags |= VPW_NO_SMTP; break;
      case 'w': setflags |= VPW_NO_WEBMAIL; break;
      case 'i': setflags |= VPW_NO_IMAP; break;
      case 'b': setflags |= VPW_BOUNCE_MAIL; break;
      case 'o': setflags |= VPW_V_OVERRIDE; break;
      case 'r': setflags |= VPW_NO_RELAY; break;
      case 'u': setflags |= VPW_NO_DIALUP; break;
      case 'a': setflags |= VPW_QA_ADMIN; break;
      case 'f': setflags |= VPW_NO_SPAMASSASSIN; break;
      case 'F': setflags |= VPW_DELETE_SPAM; break;
      case 'm': setflags |= VPW_NO_MAILDROP; break;
      case '0': setflags |= VPW_V_USER0; break;
      case '1': setflags |= VPW_V_USER1; break;
      case '2': setflags |= VPW_V_USER2; break;
      case '3': setflags |= VPW_V_USER3; break;
      /* vpopmail grants these two only to root */
      case 'S':
        if (getuid() == 0) setflags |= VPW_SA_ADMIN;
        else strerr_warn(WARNING, "-S ignored: only root may grant it");
        break;
      case 'E':
        if (getuid() == 0) setflags |= VPW_SA_EXPERT;
        else strerr_warn(WARNING, "-E ignored: only root may grant it");
        break;
      default: sgetopt_warn(&g, "vmoduser"); die_usage();
    }
  }
  argv += g.ind;
  argc -= g.ind;
  if (argc != 1) die_usage();
  if (clear && crypted) strerr_die(100, FATAL, "give -C or -e, not both");

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

  if (crypted && !vcrypt_hash_storable(crypted)) strerr_die(100, FATAL, "-e: not a crypt(3) hash that vpasswd can hold");
  if (clear) {
    if (!*clear) strerr_die(100, FATAL, "-C: empty password");
    if (vcrypt_hash(&hash, clear) == -1) {
      if (errno == EINVAL) strerr_die(100, FATAL, "password too long (over 511 bytes)");
      strerr_die(111, FATAL, "unable to hash the password: ", error_str(errno));
    }
  }
  if (newdir) {
    r = vuser_inside(d.dir, newdir, &rel);
    if (r == -1) die_nomem();
    if (!r) strerr_die(100, FATAL, "-D: ", newdir, " is not inside the domain directory ", d.dir);
  }

  if (user.len) {
    modify(&d, domain.s, user.s);
    return 0;
  }
  /* every user of the domain: the names first, then one locked edit each */
  if (newdir) strerr_die(100, FATAL, "-D needs one user, not a whole domain");
  vuser_allnames("vmoduser", d.dir, domain.s, &names);
  for (i = 0; i < names.len; i += strlen(names.s + i) + 1) modify(&d, domain.s, names.s + i);
  return 0;
}
