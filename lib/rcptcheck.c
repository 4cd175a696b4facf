#include "rcptcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control.h"
#include "dotqmail.h"
#include "getpw.h"
#include "open.h"
#include "pwfile.h"
#include "users.h"
#include "vdefault.h"
#include "vdomain.h"
#include "vpasswd.h"

#define RCPTCHECK_NSSWITCH "/etc/nsswitch.conf"
/* A -default file bigger than this is not a vdelivermail line. */
#define RCPTCHECK_VDEFAULTMAX 4096

int rcptcheck_init(struct rcptcheck *rc, const char *aliasuser, char brk, unsigned long patrn)
{
  size_t l, v, p;
  memset(rc, 0, sizeof *rc);
  rc->aliasuser = aliasuser;
  rc->brk = brk;
  rc->patrn = patrn;
  /* The three lists share one stralloc; constmap points into it, so it is
   * filled completely before any map is made. */
  if (control_rldef(&rc->envnoathost, "control/envnoathost", 1, "envnoathost") == -1) return -1;
  if (control_readfile(&rc->controls, "control/locals", 1) == -1) return -1;
  l = rc->controls.len;
  {
    stralloc tmp = STRALLOC_ZERO;
    if (control_readfile(&tmp, "control/virtualdomains", 0) == -1) return -1;
    if (!stralloc_cat(&rc->controls, &tmp)) { stralloc_free(&tmp); return -1; }
    v = rc->controls.len;
    if (control_readfile(&tmp, "control/percenthack", 0) == -1) { stralloc_free(&tmp); return -1; }
    if (!stralloc_cat(&rc->controls, &tmp)) { stralloc_free(&tmp); return -1; }
    p = rc->controls.len;
    stralloc_free(&tmp);
  }
  if (!constmap_init(&rc->route.locals, rc->controls.s, l, 0)) return -1;
  if (!constmap_init(&rc->route.vdoms, rc->controls.s + l, v - l, 1)) return -1;
  if (!constmap_init(&rc->route.percenthack, rc->controls.s + v, p - v, 0)) return -1;
  rc->route.envnoathost = rc->envnoathost.s;
  rc->routeok = 1;
  return 1;
}

void rcptcheck_free(struct rcptcheck *rc)
{
  constmap_free(&rc->route.locals);
  constmap_free(&rc->route.vdoms);
  constmap_free(&rc->route.percenthack);
  stralloc_free(&rc->controls);
  stralloc_free(&rc->envnoathost);
  stralloc_free(&rc->passwd);
  stralloc_free(&rc->addr);
  stralloc_free(&rc->nughde);
  stralloc_free(&rc->fn);
  stralloc_free(&rc->safeext);
  stralloc_free(&rc->name);
  stralloc_free(&rc->home);
  rc->routeok = 0;
}

/* ---- the account database ---- */

static int nss_word(const char *w, size_t n, const char *s)
{
  return n == strlen(s) && !memcmp(w, s, n);
}

int rcptcheck_nssfiles(const char *text, size_t len)
{
  size_t i = 0;
  while (i < len) {
    size_t end = i, j;
    while (end < len && text[end] != '\n') ++end;
    j = i;
    while (j < end && (text[j] == ' ' || text[j] == '\t')) ++j;
    if (end - j >= 7 && !memcmp(text + j, "passwd:", 7)) {
      j += 7;
      while (j < end) {
        size_t w;
        while (j < end && (text[j] == ' ' || text[j] == '\t')) ++j;
        if (j == end || text[j] == '#') break;
        if (text[j] == '[') { /* an action such as [NOTFOUND=return] */
          while (j < end && text[j] != ']') ++j;
          if (j < end) ++j;
          continue;
        }
        w = j;
        while (j < end && text[j] != ' ' && text[j] != '\t' && text[j] != '[') ++j;
        if (!nss_word(text + w, j - w, "files") && !nss_word(text + w, j - w, "systemd")) return 0;
      }
      return 1; /* glibc uses the first passwd line */
    }
    i = end + 1;
  }
  return 1;
}

/* Reads a whole small file into sa: 1, 0 absent, -1 error or over max. */
static int slurp(stralloc *sa, const char *fn, size_t max)
{
  struct stat st;
  int fd = open_read(fn);
  if (fd == -1) return errno == ENOENT ? 0 : -1;
  sa->len = 0;
  if (fstat(fd, &st) == -1 || (unsigned long long)st.st_size > max) { close(fd); return -1; }
  for (;;) {
    ssize_t r;
    if (!stralloc_readyplus(sa, 4096)) { close(fd); return -1; }
    r = read(fd, sa->s + sa->len, 4096);
    if (r == -1) { if (errno == EINTR) continue; close(fd); return -1; }
    if (!r) break;
    sa->len += (size_t)r;
    if (sa->len > max) { close(fd); return -1; }
  }
  close(fd);
  return 1;
}

static int passwd_ready(struct rcptcheck *rc)
{
  if (!rc->passwdstate) {
    stralloc nss = STRALLOC_ZERO;
    int r = slurp(&nss, RCPTCHECK_NSSWITCH, 1 << 20);
    rc->passwdstate = -1;
    if (r == 0 || (r == 1 && rcptcheck_nssfiles(nss.s, nss.len)))
      if (slurp(&rc->passwd, "/etc/passwd", RCPTCHECK_PASSWDMAX) == 1) rc->passwdstate = 1;
    stralloc_free(&nss);
  }
  return rc->passwdstate == 1;
}

/* getpw_fn over the copy of /etc/passwd. The first line for a name wins,
 * as with getpwnam. */
static int passwd_find(void *ctx, const char *name, struct getpw_account *a)
{
  struct rcptcheck *rc = ctx;
  size_t i = 0, n = strlen(name);
  while (i < rc->passwd.len) {
    const char *line = rc->passwd.s + i;
    const char *nl = memchr(line, '\n', rc->passwd.len - i);
    size_t len = nl ? (size_t)(nl - line) : rc->passwd.len - i;
    struct pwfile_entry e;
    i += len + 1;
    if (!pwfile_parse_passwd(line, len, &e)) continue;
    if (e.namelen != n || memcmp(e.name, name, n)) continue;
    if (!stralloc_copyb(&rc->name, e.name, e.namelen) || !stralloc_0(&rc->name)) return -1;
    if (!stralloc_copyb(&rc->home, e.home, e.homelen) || !stralloc_0(&rc->home)) return -1;
    a->name = rc->name.s;
    a->home = rc->home.s;
    a->uid = e.id;
    a->gid = e.gid;
    return 1;
  }
  return 0;
}

/* ---- virtual domains ---- */

/* The -default file found (open on fd) runs vdelivermail with "delete" or
 * "bounce-no-mailbox" for names that are not users: then the answer is
 * vdelivermail's (vdelivermail(8)): ext, or the longest name before one
 * of its '-', must be a user in the domain directory's vpasswd. 1 a user,
 * or anything else (a catch-all, another program, trouble); 0 no user. */
static int vdelivermail_says(struct rcptcheck *rc, int fd, const struct users_entry *u)
{
  char buf[RCPTCHECK_VDEFAULTMAX + 1];
  size_t len = 0, n;
  enum vdefault_kind kind;
  struct vpasswd pw;

  for (;;) {
    ssize_t got = read(fd, buf + len, sizeof buf - len);
    if (got == -1) { if (errno == EINTR) continue; return 1; }
    if (!got) break;
    len += (size_t)got;
    if (len > RCPTCHECK_VDEFAULTMAX) return 1;
  }
  if (vdefault_parse(buf, len, &kind, &rc->name) != 1) return 1;
  if (kind != VDEFAULT_DELETE && kind != VDEFAULT_BOUNCE) return 1;
  /* vdelivermail lowercases EXT (vdomain_checkuser does too); a name that
   * cannot be a user is not one. */
  for (n = strlen(u->ext); n; n = vdefault_shorter(u->ext, n)) {
    if (!stralloc_copyb(&rc->safeext, u->ext, n) || !stralloc_0(&rc->safeext)) return 1;
    if (vdomain_checkuser(&rc->name, rc->safeext.s)) continue;
    switch (vpasswd_lookup(u->home, rc->name.s, &pw, &rc->fn)) {
      case 0: continue;
      default: return 1; /* a user, or vpasswd unreadable (qmaild may not read it) */
    }
  }
  return 0;
}

/* ---- the .qmail search ---- */

/* 1 deliverable or unknown, 0 "no mailbox here". */
static int dotqmail_says(struct rcptcheck *rc, const struct users_entry *u)
{
  struct dotqmail_file f;
  struct stat st;
  int here, r = 1;

  if (!u->uid) return 1;         /* delivery refuses root: a temporary failure */
  if (!*u->dash) return 1;       /* the basic address: .qmail or defaultdelivery */
  if (stat(u->home, &st) == -1 || !S_ISDIR(st.st_mode)) return 1;
  if (st.st_mode & (rc->patrn | S_ISVTX)) return 1; /* delivery defers */
  if (!dotqmail_safeext(&rc->safeext, u->ext)) return 1;
  here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (here == -1) return 1;
  if (chdir(u->home) == 0) {
    switch (dotqmail_find(&rc->fn, u->dash, &rc->safeext, rc->patrn, &f)) {
      case DOTQMAIL_NONE: r = 0; break;
      case DOTQMAIL_FOUND:
        /* A virtual domain's .qmail-default: vdelivermail decides. */
        if (f.isdefault && !f.forwardonly && u->home[0] == '/') r = vdelivermail_says(rc, f.fd, u);
        if (f.fd != -1) close(f.fd);
        break;
      default: break;
    }
    /* Not being able to come back would leave the daemon reading another
     * directory's control files: better to stop. */
    if (fchdir(here) == -1) _exit(111);
  }
  close(here);
  return r;
}

int rcptcheck(struct rcptcheck *rc, const char *addr)
{
  struct users_entry u;
  const char *at;
  int r;

  if (!rc->routeok) return 1;
  if (route_rewrite(&rc->route, addr, &rc->addr) != ROUTE_LOCAL) return 1;
  at = strrchr(rc->addr.s, '@');
  if (!at) return 1;
  rc->addr.s[at - rc->addr.s] = 0; /* the local part, as qmail-lspawn cuts it */
  if (!rc->addr.s[0]) return 1;

  {
    struct cdb c;
    int fd = open_read("users/cdb");
    r = 0;
    if (fd == -1) {
      if (errno != ENOENT) return 1;
    } else {
      if (cdb_init(&c, fd) == -1) { close(fd); return 1; }
      close(fd);
      r = users_cdb(&c, rc->addr.s, &rc->nughde);
      cdb_free(&c);
      if (r == -1) return 1;
    }
  }
  if (r == 0) {
    if (!passwd_ready(rc)) return 1;
    r = getpw_search(rc->addr.s, rc->brk, rc->aliasuser, &rc->nughde, passwd_find, rc);
    if (r != 1) return 1; /* no alias user, or trouble: delivery defers */
  }
  if (!users_split(&rc->nughde, &u)) return 1;
  return dotqmail_says(rc, &u);
}
