#include "vuser.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "error.h"
#include "fmt.h"
#include "maildirquota.h"
#include "rmtree.h"
#include "strerr.h"
#include "vdomain.h"
#include "vpasswd.h"

int vuser_inside(const char *domaindir, const char *dir, stralloc *rel)
{
  size_t dl = strlen(domaindir), i, start, len;

  while (dl > 1 && domaindir[dl - 1] == '/') --dl;
  if (strncmp(dir, domaindir, dl) || dir[dl] != '/') return 0;
  dir += dl + 1;
  len = strlen(dir);
  if (len && dir[len - 1] == '/') --len;
  if (!len) return 0;
  for (start = 0, i = 0; i <= len; ++i)
    if (i == len || dir[i] == '/') {
      size_t n = i - start;
      if (!n) return 0;
      if (n == 1 && dir[start] == '.') return 0;
      if (n == 2 && dir[start] == '.' && dir[start + 1] == '.') return 0;
      start = i + 1;
    }
  if (!stralloc_copyb(rel, dir, len) || !stralloc_0(rel)) return -1;
  return 1;
}

int vuser_rmtree(const char *domaindir, const char *rel)
{
  stralloc comp = STRALLOC_ZERO;
  const char *p = rel, *slash;
  struct stat st;
  int fd, sub, e, r = -1;

  fd = open(domaindir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1) return -1;
  /* Walk down to the parent of the last component. */
  for (;;) {
    slash = strchr(p, '/');
    if (!stralloc_copyb(&comp, p, slash ? (size_t)(slash - p) : strlen(p)) || !stralloc_0(&comp)) goto done;
    if (!comp.s[0] || !strcmp(comp.s, ".") || !strcmp(comp.s, "..")) { errno = EINVAL; goto done; }
    if (!slash || !slash[1]) break;
    sub = openat(fd, comp.s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub == -1) {
      if (errno == ENOENT) r = 1;
      goto done;
    }
    close(fd);
    fd = sub;
    p = slash + 1;
  }
  if (fstatat(fd, comp.s, &st, AT_SYMLINK_NOFOLLOW) == -1) {
    if (errno == ENOENT) r = 1;
    goto done;
  }
  /* a symlink or a file where the directory should be: the name only */
  if (rmtree_at(fd, comp.s) == -1) goto done;
  r = 0;
done:
  e = errno;
  close(fd);
  stralloc_free(&comp);
  errno = e;
  return r;
}

static int mk(int dfd, const char *name, uid_t uid, gid_t gid)
{
  if (mkdirat(dfd, name, 0700) == -1) return -1;
  if (uid != (uid_t)-1 && fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) == -1) return -1;
  return 0;
}

int vuser_mkuserdir(const char *domaindir, const char *name, uid_t uid, gid_t gid)
{
  static const char *const subs[] = { "Maildir/cur", "Maildir/new", "Maildir/tmp" };
  int dfd, ufd, e;
  size_t i;

  dfd = open(domaindir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd == -1) return -1;
  if (mk(dfd, name, uid, gid) == -1) {
    e = errno;
    /* EEXIST: not ours, leave it alone */
    if (e != EEXIST) unlinkat(dfd, name, AT_REMOVEDIR);
    close(dfd);
    errno = e;
    return -1;
  }
  ufd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (ufd == -1) goto fail;
  if (mk(ufd, "Maildir", uid, gid) == -1) goto fail;
  for (i = 0; i < sizeof subs / sizeof subs[0]; ++i)
    if (mk(ufd, subs[i], uid, gid) == -1) goto fail;
  /* The new entries must survive a crash along with the vpasswd line
   * that will point at them. */
  if (fsync(ufd) == -1 || fsync(dfd) == -1) goto fail;
  close(ufd);
  close(dfd);
  return 0;
fail:
  e = errno;
  if (ufd != -1) close(ufd);
  close(dfd);
  vuser_rmtree(domaindir, name);
  errno = e;
  return -1;
}

int vuser_setmaildirsize(const char *userdir, const struct maildirquota *q, uid_t uid, gid_t gid)
{
  stralloc md = STRALLOC_ZERO;
  struct maildirquota_usage u;
  int r = -1, e;

  if (!stralloc_copys(&md, userdir) || !stralloc_cats(&md, "/Maildir") || !stralloc_0(&md)) return -1;
  if (maildirquota_recalc(md.s, q, &u) == -1) {
    if (errno == ENOENT) {
      struct stat st;
      /* the Maildir itself missing is fine; a missing tmp/ is not */
      if (stat(md.s, &st) == -1 && errno == ENOENT) r = 1;
      else errno = ENOENT;
    }
    goto done;
  }
  r = 0;
  if (uid != (uid_t)-1 && maildirquota_limited(q)) {
    int fd = open(md.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd == -1 || (fchownat(fd, "maildirsize", uid, gid, AT_SYMLINK_NOFOLLOW) == -1 && errno != ENOENT)) r = -1;
    if (fd != -1) { e = errno; close(fd); errno = e; }
  }
done:
  e = errno;
  stralloc_free(&md);
  errno = e;
  return r;
}

int vuser_aliasfile(stralloc *out, const char *alias)
{
  size_t i, start;
  if (!stralloc_copys(out, ".qmail-")) return 0;
  start = out->len;
  if (!stralloc_cats(out, alias) || !stralloc_0(out)) return 0;
  for (i = start; i + 1 < out->len; ++i)
    if (out->s[i] == '.') out->s[i] = ':';
  return 1;
}

int vuser_aliasname(stralloc *out, const char *fn)
{
  size_t i;
  if (strncmp(fn, ".qmail-", 7) || !fn[7] || !strcmp(fn + 7, "default")) return 0;
  if (!stralloc_copys(out, fn + 7) || !stralloc_0(out)) return -1;
  for (i = 0; i + 1 < out->len; ++i)
    if (out->s[i] == ':') out->s[i] = '.';
  return 1;
}

static int say(int fd, const char *s) { return write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1; }

/* One line from the terminal, without echo, into pw. 1, or -1. */
static int readline_noecho(int fd, const char *prompt, stralloc *pw)
{
  struct termios old, t;
  char c;
  int r = 1, e = 0;

  if (tcgetattr(fd, &old) == -1) return -1;
  t = old;
  t.c_lflag &= ~(tcflag_t)ECHO;
  t.c_lflag |= ICANON;
  if (tcsetattr(fd, TCSAFLUSH, &t) == -1) return -1;
  if (say(fd, prompt) == -1) { e = errno; r = -1; }
  if (!stralloc_copys(pw, "")) { e = ENOMEM; r = -1; }
  while (r == 1) {
    ssize_t n = read(fd, &c, 1);
    if (n == -1 && errno == EINTR) continue;
    if (n == -1) { e = errno; r = -1; break; }
    if (!n || c == '\n') break;
    if (pw->len >= 512) continue; /* the rest of an over-long line is dropped: refused below */
    if (!stralloc_append(pw, c)) { e = ENOMEM; r = -1; }
  }
  tcsetattr(fd, TCSAFLUSH, &old);
  say(fd, "\n");
  if (r == 1 && !stralloc_0(pw)) { e = ENOMEM; r = -1; }
  errno = e;
  return r;
}

int vuser_askpassword(const char *ask, const char *againask, stralloc *pw, const char **why)
{
  stralloc again = STRALLOC_ZERO;
  int fd, r = -1, e;

  fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd == -1) return -1;
  if (readline_noecho(fd, ask, pw) == -1) goto done;
  if (readline_noecho(fd, againask, &again) == -1) goto done;
  r = 0;
  if (pw->len <= 1) *why = "no password entered";
  else if (pw->len > 512) *why = "password too long";
  else if (strcmp(pw->s, again.s)) *why = "the two passwords differ";
  else r = 1;
done:
  e = errno;
  close(fd);
  if (again.s) explicit_bzero(again.s, again.a);
  stralloc_free(&again);
  errno = e;
  return r;
}

struct modify {
  int (*change)(struct vpasswd *pw, void *arg);
  void *arg;
  stralloc dir; /* the user's directory, for maildirsize */
};

static int modify_change(struct vpasswd *pw, void *arg)
{
  struct modify *m = arg;
  int r = m->change(pw, m->arg);
  if (r) return r;
  if (!stralloc_copys(&m->dir, pw->dir) || !stralloc_0(&m->dir)) return VUSER_NOMEM;
  return 0;
}

void vuser_modify(const char *prog, const struct vdomain *d, const char *domain, const char *name,
                  int (*change)(struct vpasswd *pw, void *arg), void *arg, const struct maildirquota *q)
{
  struct modify m = { change, arg, STRALLOC_ZERO };
  stralloc why = STRALLOC_ZERO, addr = STRALLOC_ZERO;
  unsigned long badline = 0;
  int r;
  /* before the edit: vpasswd_result reads the edit's errno */
  if (!stralloc_copys(&addr, name) || !stralloc_append(&addr, '@') || !stralloc_cats(&addr, domain)
      || !stralloc_0(&addr))
    strerr_die(111, prog, ": fatal: out of memory");
  r = vpasswd_modify(d->dir, name, modify_change, &m, &badline);
  if (r == VUSER_NOMEM) strerr_die(111, prog, ": fatal: out of memory");
  r = vpasswd_result(r, badline, addr.s, &why);
  if (r == -1) strerr_die(111, prog, ": fatal: out of memory");
  if (r) strerr_die(r, prog, ": fatal: ", why.s);
  if (q && vuser_setmaildirsize(m.dir.s, q, geteuid() == 0 ? (uid_t)d->uid : (uid_t)-1, (gid_t)d->gid) == -1)
    strerr_warn(prog, ": warning: quota set, but unable to rewrite maildirsize in ", m.dir.s, "/Maildir: ",
                error_str(errno));
  stralloc_free(&m.dir);
  stralloc_free(&addr);
  stralloc_free(&why);
}

void vuser_allnames(const char *prog, const char *dir, const char *domain, stralloc *names)
{
  unsigned long badline = 0;
  char num[FMT_ULONG];
  switch (vpasswd_names(dir, names, &badline)) {
    case -1:
      if (errno == ENOMEM) strerr_die(111, prog, ": fatal: out of memory");
      strerr_die(111, prog, ": fatal: unable to read vpasswd of ", domain, ": ", error_str(errno));
    case 0:
      num[fmt_ulong(num, badline)] = 0;
      strerr_die(111, prog, ": fatal: vpasswd line ", num, " malformed: fix it by hand; nothing was changed");
  }
}
