/* vadddomain: create a virtual domain the vpopmail 5.6 way (vadddomain(8)).
 *
 * The domain is built completely before anything points at it: its
 * directory, .qmail-default and postmaster first, then the users/assign
 * line (and qmail-newu), virtualdomains (and the qmail-send reload), and
 * rcpthosts last, so that no message is accepted or routed to a domain
 * that is half made. A failure undoes what was done. All of it runs under
 * QMAILHOME/control/.vpopmail.lock, so two vadddomain runs for the same
 * domain cannot both succeed. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "commit.h"
#include "error.h"
#include "fmt.h"
#include "maildirquota.h"
#include "pwfile.h"
#include "scan.h"
#include "sgetopt.h"
#include "stralloc.h"
#include "strerr.h"
#include "vcrypt.h"
#include "rmtree.h"
#include "vdomain.h"
#include "vnewpw.h"
#include "vpasswd.h"

#define FATAL "vadddomain: fatal: "
#define WARNING "vadddomain: warning: "
#define USAGE "vadddomain: usage: vadddomain [-v] [-q quota] [-b] [-e address|mailbox] [-u user] [-d dir] [-i uid] [-g gid] [-O] [-r[len]] domain [postmaster_password]"

static stralloc domain = STRALLOC_ZERO;   /* lowercased */
static stralloc domaindir = STRALLOC_ZERO;
static unsigned long uid, gid;
static int flagroot;

/* what has been done, for undo() */
static int made_dir, made_assign, made_vdoms, made_rcpt;

static void undo(void);

#define die(code, ...) do { undo(); strerr_die((code), FATAL, __VA_ARGS__); } while (0)
static NORETURN void die_nomem(void) { die(111, "out of memory"); }
static NORETURN void die_usage(void) { strerr_die(100, USAGE); }
static NORETURN void die_sys(const char *what, const char *fn)
{
  int e = errno;
  die(error_temp(e) ? 111 : 100, what, fn, ": ", error_str(e));
}

static void warn_sys(const char *what, const char *fn)
{
  strerr_warn(WARNING, what, fn, ": ", error_str(errno));
}

/* Runs bin/prog, or says why it failed (and is undone). */
static int newbin(const char *prog)
{
  int r = vdomain_runbin(auto_qmail, prog);
  if (r == -1) strerr_warn(WARNING, "unable to run ", auto_qmail, "/bin/", prog, ": ", error_str(errno));
  else if (r == 1) strerr_warn(WARNING, prog, " failed");
  return r;
}

static void undo(void)
{
  int more;
  /* in reverse: first stop accepting and routing, then forget, then remove */
  if (made_rcpt) {
    made_rcpt = 0;
    if (vdomain_rcpthosts_del(auto_qmail, domain.s, &more) == -1) warn_sys("unable to undo the rcpthosts line: ", domain.s);
    else if (more) newbin("qmail-newmrh");
  }
  if (made_vdoms) {
    made_vdoms = 0;
    if (vdomain_virtualdomains_del(auto_qmail, domain.s) == -1) warn_sys("unable to undo the virtualdomains line: ", domain.s);
  }
  if (made_assign) {
    made_assign = 0;
    if (vdomain_assign_del(auto_qmail, domain.s) == -1) warn_sys("unable to undo the users/assign line: ", domain.s);
    else newbin("qmail-newu");
  }
  if (made_dir) {
    made_dir = 0;
    if (rmtree_at(AT_FDCWD, domaindir.s) == -1) warn_sys("unable to remove ", domaindir.s);
  }
}

/* ---- setup ---- */

/* uid, gid and home of a user in /etc/passwd (-u). */
static int passwd_user(const char *name, unsigned long *u, unsigned long *g, stralloc *home)
{
  char space[4096];
  stralloc line = STRALLOC_ZERO;
  struct pwfile_entry e;
  buffer b;
  int fd, r, found = 0;

  fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
  if (fd == -1) die_sys("unable to read ", "/etc/passwd");
  buffer_init(&b, fd, space, sizeof space, 0);
  for (;;) {
    line.len = 0;
    r = buffer_getline(&b, &line, '\n', 4096);
    if (r == -1) die_sys("unable to read ", "/etc/passwd");
    if (r == -2) { if (buffer_skipline(&b, '\n') == -1) die_sys("unable to read ", "/etc/passwd"); continue; }
    if (!line.len) break;
    if (pwfile_parse_passwd(line.s, line.len, &e) && e.namelen == strlen(name) && !memcmp(e.name, name, e.namelen)) {
      *u = e.id;
      *g = e.gid;
      if (!stralloc_copyb(home, e.home, e.homelen) || !stralloc_0(home)) die_nomem();
      found = 1;
      break;
    }
    if (r == 0) break;
  }
  close(fd);
  stralloc_free(&line);
  return found;
}

/* The owner from conf-vpopmail (auto_vpopuser, auto_vpopgroup). */
static void default_owner(void)
{
  const char *names[1];
  unsigned long ids[1], gids[1];
  int found[1] = { 0 };

  names[0] = auto_vpopuser;
  if (pwfile_lookup("/etc/passwd", 0, names, 1, ids, gids, found) == -1) die_sys("unable to read ", "/etc/passwd");
  if (!found[0]) die(111, "user ", auto_vpopuser, " does not exist (create it: tools/mkusers.sh)");
  uid = ids[0];
  names[0] = auto_vpopgroup;
  found[0] = 0;
  if (pwfile_lookup("/etc/group", 1, names, 1, ids, 0, found) == -1) die_sys("unable to read ", "/etc/group");
  if (!found[0]) die(111, "group ", auto_vpopgroup, " does not exist (create it: tools/mkusers.sh)");
  gid = ids[0];
}

/* A catch-all target goes into a .qmail-default line that sh runs, so
 * only characters that mean nothing to sh are let through. */
static int catchall_ok(const char *s)
{
  if (!*s) return 0;
  for (; *s; ++s) {
    char c = *s;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '.' || c == '_' || c == '-' || c == '+' || c == '=' || c == '@' || c == '/')) return 0;
  }
  return 1;
}

/* A directory, with its mode and (as root) the domain's owner. With made
 * set, it must be new, and *made says so as soon as it exists. */
static void mkdir_owned(const char *dir, int mode, int *made)
{
  if (mkdir(dir, (mode_t)mode) == -1) {
    if (errno == EEXIST && !made) return;
    if (errno == EEXIST) die(100, "directory ", dir, " already exists (left over from an earlier domain? vdeldomain -f removes it)");
    die_sys("unable to create directory ", dir);
  }
  if (made) *made = 1;
  if (chmod(dir, (mode_t)mode) == -1) die_sys("unable to chmod ", dir);
  if (flagroot && chown(dir, (uid_t)uid, (gid_t)gid) == -1) die_sys("unable to chown ", dir);
}

/* ---- main ---- */

int main(int argc, char **argv)
{
  struct sgetopt g = SGETOPT_INIT;
  stralloc base = STRALLOC_ZERO, fn = STRALLOC_ZERO, line = STRALLOC_ZERO, pass = STRALLOC_ZERO, hash = STRALLOC_ZERO,
           quota = STRALLOC_ZERO, catchall = STRALLOC_ZERO, name = STRALLOC_ZERO, how = STRALLOC_ZERO;
  const char *user = 0, *dir = 0, *err;
  int opt, flagverbose = 0, flagbounce = 0, flagnohup = 0, flaguid = 0, flaggid = 0, lockfd, r, more, dummy;
  unsigned long randomlen = 0, badline, optuid = 0, optgid = 0;
  struct vdomain d;
  stralloc buf = STRALLOC_ZERO;

  umask(077);
  flagroot = geteuid() == 0;
  if (!stralloc_copys(&quota, "NOQUOTA")) die_nomem();
  while ((opt = sgetopt(&g, argc, argv, "vq:be:u:d:i:g:Or")) != SGETOPT_END) {
    switch (opt) {
      case 'v': flagverbose = 1; break;
      case 'q': {
        struct maildirquota q;
        char s[MAILDIRQUOTA_FMT];
        if (!maildirquota_parse(g.arg, strlen(g.arg), &q)) strerr_die(100, FATAL, "bad quota: ", g.arg, " (want bytes, NNNS[,MMMC] or NOQUOTA)");
        if (!stralloc_copyb(&quota, s, maildirquota_fmt(s, &q))) die_nomem();
        break;
      }
      case 'b': flagbounce = 1; break;
      case 'e': if (!stralloc_copys(&catchall, g.arg)) die_nomem(); break;
      case 'u': user = g.arg; break;
      case 'd': dir = g.arg; break;
      case 'i': if (!scan_whole_ulong(g.arg, 0xfffffffeUL, &optuid)) strerr_die(100, FATAL, "bad uid: ", g.arg); flaguid = 1; break;
      case 'g': if (!scan_whole_ulong(g.arg, 0xfffffffeUL, &optgid)) strerr_die(100, FATAL, "bad gid: ", g.arg); flaggid = 1; break;
      case 'O': flagnohup = 1; break;
      case 'r':
        if (!vnewpw_rlen(argv[g.ind] + g.pos, &randomlen))
          strerr_die(100, FATAL, "bad length for -r (1 to 128): ", argv[g.ind] + g.pos);
        sgetopt_skiprest(&g, argv);
        break;
      default: sgetopt_warn(&g, "vadddomain"); die_usage();
    }
  }
  argv += g.ind;
  argc -= g.ind;
  if (argc < 1 || argc > 2) die_usage();
  if (flagbounce && catchall.len) strerr_die(100, FATAL, "-b and -e exclude each other");
  err = vdomain_checkdomain(&domain, argv[0]);
  if (err) strerr_die(100, FATAL, err, ": ", argv[0]);
  if (argc == 2 && randomlen) strerr_die(100, FATAL, "don't use -r when giving the password on the command line");

  /* the owner and the base directory */
  if (!user && (!flaguid || !flaggid)) default_owner();
  if (user) {
    stralloc home = STRALLOC_ZERO;
    if (!passwd_user(user, &uid, &gid, &home)) strerr_die(100, FATAL, "user ", user, " not found in /etc/passwd");
    if (!dir) { if (!stralloc_copy(&base, &home)) die_nomem(); }
    stralloc_free(&home);
  }
  /* -i and -g win over -u's ids (vpopmail let -u win, whatever the order) */
  if (flaguid) uid = optuid;
  if (flaggid) gid = optgid;
  if (dir) { if (!stralloc_copys(&base, dir)) die_nomem(); }
  if (!base.len && !stralloc_copys(&base, auto_vpopmail)) die_nomem();
  if (!stralloc_0(&base)) die_nomem();
  if (base.s[0] != '/') strerr_die(100, FATAL, "the directory must be absolute: ", base.s);
  if (strchr(base.s, ':') || strchr(base.s, '\n')) strerr_die(100, FATAL, "the directory may not contain ':': ", base.s);
  if (!flagroot && uid != (unsigned long)geteuid()) {
    char s[FMT_ULONG];
    s[fmt_ulong(s, uid)] = 0;
    strerr_die(100, FATAL, "only root may create a domain owned by another user (uid ", s, ")");
  }

  /* the catch-all (vpopmail: an address, or a mailbox of the domain) */
  if (catchall.len) {
    if (!stralloc_0(&catchall)) die_nomem();
    if (!catchall_ok(catchall.s)) strerr_die(100, FATAL, "bad -e target (an address, a path or a user of the domain): ", catchall.s);
    if (!strchr(catchall.s, '@') && catchall.s[0] != '/') {
      err = vdomain_checkuser(&name, catchall.s);
      if (err) strerr_die(100, FATAL, err, ": ", catchall.s);
    }
  }

  /* exists already? (again under the lock below) */
  r = vdomain_get(auto_qmail, domain.s, &d, &buf);
  if (r == -1) strerr_die(111, FATAL, "unable to read ", auto_qmail, "/users/cdb: ", error_str(errno));
  if (r == 1) strerr_die(100, FATAL, "domain ", domain.s, " already exists");

  /* the postmaster's password */
  /* vpopmail's prompts; three tries when the two answers differ */
  vnewpw("vadddomain", randomlen, argc == 2 ? argv[1] : 0, "Please enter password for postmaster: ",
         "enter password again: ", 3, &pass, &hash);

  lockfd = vdomain_lock(auto_qmail);
  if (lockfd == -1) strerr_die(111, FATAL, "unable to lock ", auto_qmail, "/control/.vpopmail.lock: ", error_str(errno));
  r = vdomain_get(auto_qmail, domain.s, &d, &buf);
  if (r == -1) strerr_die(111, FATAL, "unable to read ", auto_qmail, "/users/cdb: ", error_str(errno));
  if (r == 1) strerr_die(100, FATAL, "domain ", domain.s, " already exists");

  /* 1. the directory: base (0755) and base/domains (0711) if missing
   * (install.sh makes them), then base/domains/DOMAIN (0750). domains/
   * is 0711, not vpopmail's 0700: a domain may have its own owner (-i,
   * -g), who must pass through domains/ to reach it; nobody can list it,
   * and each domain's directory keeps others out. */
  mkdir_owned(base.s, 0755, 0);
  if (!stralloc_copys(&fn, base.s) || !stralloc_cats(&fn, "/domains") || !stralloc_0(&fn)) die_nomem();
  mkdir_owned(fn.s, 0711, 0);
  if (!vdomain_dirof(&domaindir, base.s, domain.s)) die_nomem();
  mkdir_owned(domaindir.s, 0750, &made_dir);

  /* 2. .qmail-default: the unknown-user choice (5.6: delete) */
  if (!stralloc_copys(&line, "| ") || !stralloc_cats(&line, auto_qmail) || !stralloc_cats(&line, "/bin/vdelivermail '' ")) die_nomem();
  if (catchall.len) {
    if (strchr(catchall.s, '@') || catchall.s[0] == '/') { if (!stralloc_cats(&line, catchall.s)) die_nomem(); }
    /* a mailbox of the domain: its directory, as vpopmail writes it */
    else if (!stralloc_cats(&line, domaindir.s) || !stralloc_append(&line, '/') || !stralloc_cats(&line, name.s)) die_nomem();
  } else if (!stralloc_cats(&line, flagbounce ? "bounce-no-mailbox" : "delete")) die_nomem();
  if (!stralloc_append(&line, '\n')) die_nomem();
  if (!stralloc_copys(&fn, domaindir.s) || !stralloc_cats(&fn, "/.qmail-default") || !stralloc_0(&fn)) die_nomem();
  /* group-readable, as vpasswd: qmail-smtpd's recipient check reads it */
  if (commit_replace(fn.s, line.s, line.len, 0640) == -1 || chmod(fn.s, 0640) == -1) die_sys("unable to write ", fn.s);
  if (flagroot && chown(fn.s, (uid_t)uid, (gid_t)gid) == -1) die_sys("unable to chown ", fn.s);

  /* 3. postmaster: its Maildir, then its vpasswd line (and vpasswd.cdb) */
  {
    static const char *const sub[] = { "", "/Maildir", "/Maildir/cur", "/Maildir/new", "/Maildir/tmp" };
    stralloc pmdir = STRALLOC_ZERO;
    struct vpasswd pw;
    size_t i;
    if (!stralloc_copys(&pmdir, domaindir.s) || !stralloc_cats(&pmdir, "/postmaster") || !stralloc_0(&pmdir)) die_nomem();
    for (i = 0; i < sizeof sub / sizeof sub[0]; ++i) {
      if (!stralloc_copys(&fn, pmdir.s) || !stralloc_cats(&fn, sub[i]) || !stralloc_0(&fn)) die_nomem();
      mkdir_owned(fn.s, 0700, &dummy);
    }
    if (!stralloc_0(&quota)) die_nomem();
    pw.name = "postmaster";
    pw.passwd = hash.s;
    pw.uid = VPW_USE_POP;
    pw.flags = 0;
    pw.gecos = "Postmaster";
    pw.dir = pmdir.s;
    pw.quota = quota.s;
    pw.clearpw = 0;
    r = vpasswd_add(domaindir.s, &pw, &badline);
    if (r == -1) die_sys("unable to write the vpasswd of ", domaindir.s);
    if (r != VPASSWD_OK) die(111, "unable to add postmaster to the vpasswd of ", domaindir.s);
    stralloc_free(&pmdir);
  }

  /* 4. users/assign, then users/cdb */
  r = vdomain_assign_add(auto_qmail, domain.s, domain.s, uid, gid, domaindir.s);
  if (r == -1) die_sys("unable to update ", "users/assign");
  made_assign = r;
  if (newbin("qmail-newu")) die(111, "unable to rebuild users/cdb");

  /* 5. virtualdomains and locals, and qmail-send learns them */
  r = vdomain_virtualdomains_add(auto_qmail, domain.s);
  if (r == -1) die_sys("unable to update ", "control/virtualdomains");
  made_vdoms = r;
  if (vdomain_locals_del(auto_qmail, domain.s) == -1) die_sys("unable to update ", "control/locals");
  if (!flagnohup) {
    if (vdomain_reload(auto_qmail, &how)) { if (flagverbose) strerr_warn("vadddomain: qmail-send reloaded: ", how.s); }
    else strerr_warn(WARNING, "qmail-send not found: send it a HUP (svc -h /service/qmail-send) so that it reads control/virtualdomains");
  }

  /* 6. rcpthosts (or morercpthosts), last: now mail may come */
  r = vdomain_rcpthosts_add(auto_qmail, domain.s, &more);
  if (r == -1) die_sys("unable to update ", "control/rcpthosts");
  made_rcpt = r;
  if (more && newbin("qmail-newmrh")) die(111, "unable to rebuild control/morercpthosts.cdb");

  close(lockfd);
  if (flagverbose) strerr_warn("vadddomain: added ", domain.s, " in ", domaindir.s);
  if (randomlen) {
    buffer out;
    char space[256];
    buffer_init(&out, 1, space, sizeof space, 0);
    if (buffer_puts(&out, "Random password: ") == -1 || buffer_puts(&out, pass.s) == -1 || buffer_putsflush(&out, "\n") == -1)
      strerr_die(111, FATAL, "unable to write the password: ", error_str(errno));
  }
  return 0;
}
