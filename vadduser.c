/* vadduser: add a user to a virtual domain (vpopmail 5.6's arguments).
 *
 *   vadduser [-v] [-q quota] [-c gecos] [-e crypted | -n | -r[len]] user@domain [password]
 *
 * Makes DOMAINDIR/USER/Maildir/{cur,new,tmp} and adds the vpasswd entry
 * user:HASH:1:0:gecos:DOMAINDIR/USER:quota. The directory comes first and
 * is created exclusively, so of two vadduser runs for one name at once
 * exactly one gets past it; vpasswd_add's locked check settles the rest.
 * A failure after the directory was made removes it again. */

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "error.h"
#include "maildirquota.h"
#include "scan.h"
#include "sgetopt.h"
#include "stralloc.h"
#include "strerr.h"
#include "vcrypt.h"
#include "vdomain.h"
#include "vnewpw.h"
#include "vpasswd.h"
#include "vuser.h"

#define FATAL "vadduser: fatal: "
#define USAGE "vadduser: usage: vadduser [-v] [-q quota|NOQUOTA] [-c gecos] [-e crypted | -n | -r[len]] user@domain [password]"

static NORETURN void die_usage(void) { strerr_die(100, USAGE); }
static NORETURN void die_nomem(void) { strerr_die(111, FATAL, "out of memory"); }
static NORETURN void die_sys(const char *what, const char *fn)
{
  strerr_die(error_temp(errno) ? 111 : 100, FATAL, what, fn, ": ", error_str(errno));
}

static stralloc user = STRALLOC_ZERO, domain = STRALLOC_ZERO, dbuf = STRALLOC_ZERO;
static stralloc hash = STRALLOC_ZERO, pass = STRALLOC_ZERO, dir = STRALLOC_ZERO, pwbuf = STRALLOC_ZERO;
static stralloc result = STRALLOC_ZERO; /* why vpasswd_add failed */
static struct vdomain d;
static int made;

/* Undoes the directory made for the user, then dies. */
static NORETURN void undo_die(int code, const char *a, const char *b, const char *c)
{
  if (made && vuser_rmtree(d.dir, user.s) == -1)
    strerr_warn("vadduser: warning: unable to remove ", dir.s, ": ", error_str(errno));
  strerr_die(code, FATAL, a, b, c);
}

static void put(const char *s)
{
  buffer b;
  char space[256];
  buffer_init(&b, 1, space, sizeof space, 0);
  if (buffer_puts(&b, s) == -1 || buffer_flush(&b) == -1) strerr_die(111, FATAL, "unable to write output: ", error_str(errno));
}

int main(int argc, char **argv)
{
  struct sgetopt g = SGETOPT_INIT;
  struct maildirquota q = { 0, 0 };
  struct vpasswd pw, old;
  const char *gecos = 0, *crypted = 0, *err, *addr;
  char quota[MAILDIRQUOTA_FMT + 1];
  unsigned long badline = 0, rlen = 0;
  int opt, nopass = 0, r;

  quota[maildirquota_fmt(quota, &q)] = 0;
  while ((opt = sgetopt(&g, argc, argv, "vsq:c:e:nr")) != SGETOPT_END) {
    switch (opt) {
      case 'v': put("version: quail\n"); break;
      case 's': strerr_warn("vadduser: warning: -s is ignored (vpasswd.cdb is always rebuilt)"); break;
      case 'q':
        if (!maildirquota_parse(g.arg, strlen(g.arg), &q))
          strerr_die(100, FATAL, "bad quota: ", g.arg, " (want NOQUOTA, bytes, NNNS[,NNNC], or 10MB / 1000KB)");
        quota[maildirquota_fmt(quota, &q)] = 0;
        break;
      case 'c': gecos = g.arg; break;
      case 'e': crypted = g.arg; break;
      case 'n': nopass = 1; break;
      case 'r':
        /* -r[len]: the length is glued to the option, as vpopmail's
         * getopt "r::" takes it. */
        if (!vnewpw_rlen(argv[g.ind] + g.pos, &rlen)) strerr_die(100, FATAL, "bad -r length: ", argv[g.ind] + g.pos, " (1 to 128)");
        sgetopt_skiprest(&g, argv);
        break;
      default: sgetopt_warn(&g, "vadduser"); die_usage();
    }
  }
  argv += g.ind;
  argc -= g.ind;
  if (argc < 1 || argc > 2) die_usage();
  if ((crypted != 0) + nopass + (rlen != 0) + (argc == 2) > 1)
    strerr_die(100, FATAL, "give only one of a password, -e, -n and -r");
  addr = argv[0];

  err = vdomain_splitaddr(addr, &user, &domain);
  if (err) strerr_die(100, FATAL, "bad address ", addr, ": ", err);
  r = vdomain_get(auto_qmail, domain.s, &d, &dbuf);
  if (r == -1) strerr_die(111, FATAL, "unable to look up the domain ", domain.s, ": ", error_str(errno));
  if (!r) strerr_die(100, FATAL, "no such virtual domain: ", domain.s);
  if (gecos && !*gecos) gecos = 0;

  /* the password, before anything is changed */
  if (crypted) {
    if (!vcrypt_hash_storable(crypted)) strerr_die(100, FATAL, "-e: not a crypt(3) hash that vpasswd can hold");
    if (!stralloc_copys(&hash, crypted) || !stralloc_0(&hash)) die_nomem();
  } else if (nopass) {
    if (!stralloc_copys(&hash, "") || !stralloc_0(&hash)) die_nomem();
  } else {
    stralloc ask = STRALLOC_ZERO;
    if (!stralloc_copys(&ask, "New password for ") || !stralloc_cats(&ask, addr) || !stralloc_cats(&ask, ": ")
        || !stralloc_0(&ask))
      die_nomem();
    vnewpw("vadduser", rlen, argc == 2 ? argv[1] : 0, ask.s, "Retype new password: ", 1, &pass, &hash);
    stralloc_free(&ask);
  }

  /* a quick check for a clear message; vpasswd_add makes the real one */
  r = vpasswd_lookup(d.dir, user.s, &old, &pwbuf);
  if (r == -1) strerr_die(111, FATAL, "unable to read vpasswd of ", domain.s, ": ", error_str(errno));
  if (r == 1) strerr_die(100, FATAL, "user already exists: ", user.s, "@", domain.s);

  if (!stralloc_copys(&dir, d.dir) || !stralloc_append(&dir, '/') || !stralloc_cats(&dir, user.s) || !stralloc_0(&dir))
    die_nomem();
  if (vuser_mkuserdir(d.dir, user.s, geteuid() == 0 ? (uid_t)d.uid : (uid_t)-1, (gid_t)d.gid) == -1) {
    if (errno == EEXIST)
      strerr_die(100, FATAL, dir.s, " already exists but is not in vpasswd (left from a deleted user?): "
                 "remove or rename it first");
    die_sys("unable to create ", dir.s);
  }
  made = 1;

  memset(&pw, 0, sizeof pw);
  pw.name = user.s;
  pw.passwd = hash.s;
  pw.uid = VPW_USE_POP;
  pw.flags = 0;
  pw.gecos = gecos ? gecos : user.s;
  pw.dir = dir.s;
  pw.quota = quota;
  pw.clearpw = 0;
  r = vpasswd_add(d.dir, &pw, &badline);
  r = vpasswd_result(r, badline, addr, &result);
  if (r == -1) undo_die(111, "out of memory", 0, 0);
  if (r) undo_die(r, result.s, 0, 0);
  if (rlen) {
    put("Random password: ");
    put(pass.s);
    put("\n");
  }
  if (pass.s) explicit_bzero(pass.s, pass.a);
  return 0;
}
