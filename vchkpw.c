/* vchkpw: the checkpassword interface (cr.yp.to/checkpwd/interface.html)
 * for the users of virtual domains (vpopmail 5.6's vchkpw, with the
 * interface's own exit codes):
 *
 *   vchkpw program [arg ...]
 *
 * Descriptor 3 carries "login\0password\0timestamp\0" (lib/cpwdata). The
 * login is user@domain, user%domain, or a bare user of the domain named
 * in auto_vpopmail/etc/defaultdomain. The domain comes from users/cdb as
 * vpopmail's vget_assign reads it (lib/vdomain), the user from its
 * vpasswd (lib/vpasswd), the password is checked with crypt(3)
 * (lib/vcrypt). The service -- POP3, IMAP or SMTP AUTH -- is told by
 * TCPLOCALPORT, else by the program's name, and a user with that
 * service's NO_ flag is refused. On success: USER, HOME, SHELL=NOLOGIN
 * and VPOPUSER are set; run as root, the domain's uid and gid are taken
 * (the program never runs as root); for POP3 and IMAP a missing user
 * directory or Maildir is made and the user's directory becomes the
 * current one; then program runs.
 *
 * Exit codes: 1 bad login or password, or a service the user may not use
 * (nothing is said: the reason would help a guesser); 2 misuse; 111
 * temporary trouble. See vchkpw(8). */

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auto.h"
#include "control.h"
#include "cpwdata.h"
#include "env.h"
#include "error.h"
#include "prot.h"
#include "stralloc.h"
#include "strerr.h"
#include "vcrypt.h"
#include "vdomain.h"
#include "vpasswd.h"

extern char **environ;

#define FATAL "vchkpw: fatal: "

enum service { POP, SMTP, IMAP };

/* Everything that holds the password, wiped on every way out. */
static char data[CPWDATA_MAX + 1];
static stralloc hashbuf = STRALLOC_ZERO;  /* a throwaway hash (die_bad) */

static void wipe(void)
{
  explicit_bzero(data, sizeof data);
  if (hashbuf.s) explicit_bzero(hashbuf.s, hashbuf.a);
}

static NORETURN void die(int code) { wipe(); _exit(code); }
static NORETURN void die_usage(void) { wipe(); strerr_die(2, "usage: vchkpw program [arg ...]"); }
static NORETURN void die_misuse(const char *why) { wipe(); strerr_die(2, FATAL, why); }
static NORETURN void die_temp(const char *what, const char *arg, int e)
{
  wipe();
  strerr_die(111, FATAL, what, arg, ": ", error_str(e));
}
static NORETURN void die_nomem(void) { die_temp("out of memory", "", ENOMEM); }

/* Refusing a login that names no user should take about as long as
 * refusing a wrong password, or the time tells a guesser which names
 * exist: one hash with the scheme new passwords get, as checkpassword
 * does. (qmail-popup and qmail-smtpd add their own growing delays.) */
static NORETURN void die_bad(const char *pass)
{
  if (pass && *pass) vcrypt_hash(&hashbuf, pass);
  die(1);
}

/* ---- which service ---- */

/* vpopmail's rule: the port tcpserver accepted on; on another port, the
 * program's name: "true" in it is SMTP AUTH (qmail-smtpd runs
 * /bin/true), "imap" is IMAP, anything else POP3. */
static enum service service(const char *prog)
{
  const char *p = env_get("TCPLOCALPORT");
  if (p) {
    if (!strcmp(p, "25") || !strcmp(p, "465") || !strcmp(p, "587")) return SMTP;
    if (!strcmp(p, "110") || !strcmp(p, "995")) return POP;
    if (!strcmp(p, "143") || !strcmp(p, "993")) return IMAP;
  }
  if (strstr(prog, "true")) return SMTP;
  if (strstr(prog, "imap")) return IMAP;
  return POP;
}

static unsigned long refused(enum service s)
{
  switch (s) {
    case POP: return VPW_NO_POP;
    case SMTP: return VPW_NO_SMTP;
    case IMAP: return VPW_NO_IMAP;
  }
  return 0;
}

/* ---- the login ---- */

static stralloc login = STRALLOC_ZERO, user = STRALLOC_ZERO, domain = STRALLOC_ZERO;

/* user@domain, user%domain, or user and the default domain. 1, or 0 for
 * a login that cannot name a user. */
static int splitlogin(const char *s, size_t len)
{
  if (!stralloc_copyb(&login, s, len) || !stralloc_0(&login)) die_nomem();
  if (memchr(s, '@', len) || memchr(s, '%', len)) return !vdomain_splitaddr(login.s, &user, &domain);
  {
    stralloc fn = STRALLOC_ZERO, dd = STRALLOC_ZERO;
    if (!stralloc_copys(&fn, auto_vpopmail) || !stralloc_cats(&fn, "/etc/defaultdomain") || !stralloc_0(&fn))
      die_nomem();
    switch (control_readline(&dd, fn.s)) {
      case -1: die_temp("unable to read ", fn.s, errno);
      case 0: return 0; /* no default domain: a bare name is nobody */
    }
    if (!stralloc_0(&dd)) die_nomem();
    stralloc_free(&fn);
    if (vdomain_checkuser(&user, login.s) || vdomain_checkdomain(&domain, dd.s)) return 0;
    stralloc_free(&dd);
  }
  return 1;
}

/* ---- after the password ---- */

/* The user's directory with its Maildir, whatever part is missing (the
 * last component of the directory only: its parent must exist). */
static void makemaildir(const char *dir)
{
  static const char *const sub[4] = { "/Maildir", "/Maildir/tmp", "/Maildir/new", "/Maildir/cur" };
  stralloc fn = STRALLOC_ZERO;
  unsigned i;

  if (mkdir(dir, 0700) == -1 && errno != EEXIST) die_temp("unable to create ", dir, errno);
  for (i = 0; i < 4; ++i) {
    if (!stralloc_copys(&fn, dir) || !stralloc_cats(&fn, sub[i]) || !stralloc_0(&fn)) die_nomem();
    if (mkdir(fn.s, 0700) == -1 && errno != EEXIST) die_temp("unable to create ", fn.s, errno);
  }
  stralloc_free(&fn);
}

/* Root becomes the domain's owner, for good. Anyone else stays who it
 * is (qmail-smtpd's user for SMTP AUTH, the store's owner in an
 * unprivileged instance). */
static void become(unsigned long uid, unsigned long gid)
{
  if (geteuid() != 0 && getuid() != 0) return;
  if (uid == 0) { wipe(); strerr_die(111, FATAL, "the domain is owned by root: refusing to run as root"); }
  if (prot_drop((uid_t)uid, (gid_t)gid) == -1) die_temp("unable to become the domain's owner", "", errno);
}

int main(int argc, char **argv)
{
  static envbuild env = ENVBUILD_ZERO;
  stralloc dbuf = STRALLOC_ZERO, pbuf = STRALLOC_ZERO;
  struct vdomain vd;
  struct vpasswd pw;
  struct cpwdata d;
  enum service svc;
  size_t len;

  if (argc < 2 || !argv[1] || !*argv[1]) die_usage();
  /* No core file and no ptrace while the password is in memory. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  svc = service(argv[1]);

  switch (cpwdata_read(3, data, &len)) {
    case 0: die_misuse("more than 512 bytes on descriptor 3");
    case -1:
      if (errno == EBADF) die_misuse("descriptor 3 is not open");
      die_temp("unable to read descriptor 3", "", errno);
  }
  close(3);
  if (!cpwdata_parse(data, len, &d))
    die_misuse("descriptor 3 does not hold login, password and timestamp, each ended by a 0 byte");
  if (!d.ulen || d.ulen > VDOMAIN_MAXUSER + 1 + VDOMAIN_MAXDOMAIN) die_bad(d.pass);
  /* An empty password never matches. APOP and CRAM-MD5 would need the
   * clear password: a digest is just a password that does not match. */
  if (!d.plen) die(1);

  if (!splitlogin(d.user, d.ulen)) die_bad(d.pass);
  switch (vdomain_get(auto_qmail, domain.s, &vd, &dbuf)) {
    case -1:
      if (errno == ENOMEM) die_nomem();
      die_temp("unable to look up the domain in ", "users/cdb", errno);
    case 0: die_bad(d.pass);
  }
  switch (vpasswd_lookup(vd.dir, user.s, &pw, &pbuf)) {
    case -1:
      if (errno == ENOMEM) die_nomem();
      die_temp("unable to look up the user in ", vd.dir, errno);
    case 0: die_bad(d.pass);
  }
  switch (vcrypt_verify(d.pass, pw.passwd)) {
    case -1: die_nomem();
    case 0: die(1);
  }
  wipe();
  if (pw.flags & refused(svc)) die(1);

  if (!envbuild_init(&env, environ)) die_nomem();
  if (!envbuild_set(&env, "USER", user.s) || !envbuild_set(&env, "HOME", pw.dir)
      || !envbuild_set(&env, "SHELL", "NOLOGIN") || !envbuild_set(&env, "VPOPUSER", login.s))
    die_nomem();
  become(vd.uid, vd.gid);
  if (svc != SMTP) {
    struct stat st;
    /* After become(): what is made belongs to the domain's owner. */
    {
      stralloc nd = STRALLOC_ZERO;
      if (!stralloc_copys(&nd, pw.dir) || !stralloc_cats(&nd, "/Maildir/new") || !stralloc_0(&nd)) die_nomem();
      if (stat(nd.s, &st) == -1) {
        if (errno != ENOENT) die_temp("unable to check ", nd.s, errno);
        makemaildir(pw.dir);
      }
      stralloc_free(&nd);
    }
    if (chdir(pw.dir) == -1) die_temp("unable to change to ", pw.dir, errno);
  }

  environ = env.v;
  execvp(argv[1], argv + 1);
  strerr_die(111, FATAL, "unable to run ", argv[1], ": ", error_str(errno));
}
