/* vdeldomain: remove a virtual domain (vdeldomain(8)).
 *
 * In the reverse order of vadddomain: the domain first stops being
 * accepted and routed (rcpthosts, virtualdomains, the qmail-send reload),
 * then users/assign forgets it (qmail-newu), and only then is its directory
 * removed, so no message is delivered into a directory being deleted.
 * Deleting a real domain deletes its alias domains too, as vpopmail does;
 * deleting an alias domain leaves the real one alone. The directory is
 * removed only when its last component is the domain's name: nothing
 * outside the domain's own directory is touched. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auto.h"
#include "error.h"
#include "sgetopt.h"
#include "stralloc.h"
#include "strerr.h"
#include "rmtree.h"
#include "vdomain.h"

#define FATAL "vdeldomain: fatal: "
#define WARNING "vdeldomain: warning: "
#define USAGE "vdeldomain: usage: vdeldomain [-v] [-f] domain"

static int flagverbose, needmrh, needu;

static NORETURN void die_nomem(void) { strerr_die(111, FATAL, "out of memory"); }
static NORETURN void die_sys(const char *what, const char *fn)
{
  int e = errno;
  strerr_die(error_temp(e) ? 111 : 100, FATAL, what, fn, ": ", error_str(e));
}

/* The lines that name domain in rcpthosts, morercpthosts and virtualdomains
 * (first), and users/assign. */
static void forget(const char *domain)
{
  int more, r;
  r = vdomain_rcpthosts_del(auto_qmail, domain, &more);
  if (r == -1) die_sys("unable to update control/rcpthosts for ", domain);
  if (more) needmrh = 1;
  if (vdomain_virtualdomains_del(auto_qmail, domain) == -1) die_sys("unable to update control/virtualdomains for ", domain);
  r = vdomain_assign_del(auto_qmail, domain);
  if (r == -1) die_sys("unable to update users/assign for ", domain);
  if (r) needu = 1;
  if (flagverbose) strerr_warn("vdeldomain: removed the lines of ", domain);
}

static void runbin(const char *prog)
{
  int r = vdomain_runbin(auto_qmail, prog);
  if (r == -1) strerr_die(111, FATAL, "unable to run ", auto_qmail, "/bin/", prog, ": ", error_str(errno));
  if (r == 1) strerr_die(111, FATAL, prog, " failed");
}

/* dir ends in "/" domain and holds no "." or ".." component. */
static int owndir(const char *dir, const char *domain)
{
  size_t dl = strlen(dir), nl = strlen(domain);
  if (dir[0] != '/' || dl <= nl + 1) return 0;
  if (dir[dl - nl - 1] != '/' || strcmp(dir + dl - nl, domain)) return 0;
  if (strstr(dir, "/../") || strstr(dir, "/./") || strstr(dir, "//")) return 0;
  return 1;
}

int main(int argc, char **argv)
{
  struct sgetopt g = SGETOPT_INIT;
  stralloc domain = STRALLOC_ZERO, buf = STRALLOC_ZERO, names = STRALLOC_ZERO, buf2 = STRALLOC_ZERO,
           dir = STRALLOC_ZERO, real = STRALLOC_ZERO, how = STRALLOC_ZERO;
  struct vdomain d;
  const char *err;
  int opt, flagforce = 0, lockfd, r, alias = 0;

  umask(077);
  while ((opt = sgetopt(&g, argc, argv, "vf")) != SGETOPT_END) {
    switch (opt) {
      case 'v': flagverbose = 1; break;
      case 'f': flagforce = 1; break;
      default: sgetopt_warn(&g, "vdeldomain"); strerr_die(100, USAGE);
    }
  }
  argv += g.ind;
  argc -= g.ind;
  if (argc != 1) strerr_die(100, USAGE);
  err = vdomain_checkdomain(&domain, argv[0]);
  if (err) strerr_die(100, FATAL, err, ": ", argv[0]);

  lockfd = vdomain_lock(auto_qmail);
  if (lockfd == -1) strerr_die(111, FATAL, "unable to lock ", auto_qmail, "/control/.vpopmail.lock: ", error_str(errno));
  r = vdomain_get(auto_qmail, domain.s, &d, &buf);
  if (r == -1) strerr_die(111, FATAL, "unable to read ", auto_qmail, "/users/cdb: ", error_str(errno));
  if (r == 0) {
    /* -f: whatever a failed or interrupted run left behind */
    if (!flagforce) strerr_die(100, FATAL, "domain ", domain.s, " does not exist (-f removes what is left of it)");
    if (!vdomain_dirof(&dir, auto_vpopmail, domain.s)) die_nomem();
  } else {
    if (!stralloc_copys(&real, d.real) || !stralloc_0(&real)) die_nomem();
    if (!stralloc_copys(&dir, d.dir) || !stralloc_0(&dir)) die_nomem();
    alias = strcmp(real.s, domain.s) != 0;
  }

  if (!alias && r == 1) {
    /* its alias domains go with it */
    size_t pos;
    if (vdomain_list(auto_qmail, &names) == -1) die_sys("unable to read ", "users/assign");
    for (pos = 0; pos < names.len; pos += strlen(names.s + pos) + 1) {
      const char *n = names.s + pos;
      struct vdomain a;
      if (!strcmp(n, domain.s)) continue;
      r = vdomain_get(auto_qmail, n, &a, &buf2);
      if (r == -1) strerr_die(111, FATAL, "unable to read ", auto_qmail, "/users/cdb: ", error_str(errno));
      if (r == 1 && !strcmp(a.real, domain.s)) {
        strerr_warn("vdeldomain: also removing the alias domain ", n);
        forget(n);
      }
    }
  }
  forget(domain.s);
  if (needmrh) runbin("qmail-newmrh");
  if (vdomain_reload(auto_qmail, &how)) { if (flagverbose) strerr_warn("vdeldomain: qmail-send reloaded: ", how.s); }
  else strerr_warn(WARNING, "qmail-send not found: send it a HUP (svc -h /service/qmail-send) so that it rereads control/virtualdomains");
  if (needu) runbin("qmail-newu");

  if (!alias) {
    struct stat st;
    if (!owndir(dir.s, domain.s))
      strerr_warn(WARNING, "not removing ", dir.s, ": it is not a directory named after ", domain.s);
    else if (lstat(dir.s, &st) == -1) {
      if (errno != ENOENT) die_sys("unable to stat ", dir.s);
    } else if (!S_ISDIR(st.st_mode))
      strerr_warn(WARNING, "not removing ", dir.s, ": not a directory");
    else {
      if (rmtree_at(AT_FDCWD, dir.s) == -1) die_sys("unable to remove ", dir.s);
      if (flagverbose) strerr_warn("vdeldomain: removed ", dir.s);
    }
  }
  close(lockfd);
  return 0;
}
