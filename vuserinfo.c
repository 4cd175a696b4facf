/* vuserinfo: show a user of a virtual domain, or all users of a domain.
 *
 *   vuserinfo [-v] [-a | -n -p -u -g -c -d -q -Q -C] [-D domain] [user@domain]
 *
 * The output is vpopmail 5.6's. Quota usage is read from maildirsize or,
 * when that is stale, counted without writing anything (vuserinfo may run
 * as root, and a maildirsize it wrote would be root's). -l (last login)
 * needs vpopmail's authentication log, which Quail does not keep. */

#include <errno.h>
#include <string.h>

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

#define FATAL "vuserinfo: fatal: "
#define USAGE "vuserinfo: usage: vuserinfo [-v] [-a | -n -p -u -g -c -d -q -Q -C] [-D domain] [user@domain]"

static NORETURN void die_usage(void) { strerr_die(100, USAGE); }
static NORETURN void die_nomem(void) { strerr_die(111, FATAL, "out of memory"); }

static char outspace[4096];
static buffer out;
static void put(const char *s)
{
  if (s && buffer_puts(&out, s) == -1) strerr_die(111, FATAL, "unable to write output: ", error_str(errno));
}
static void putnum(unsigned long n)
{
  char num[FMT_ULONG];
  num[fmt_ulong(num, n)] = 0;
  put(num);
}

static int all = 1, showname, showpass, showuid, showgid, showgecos, showdir, showquota, showusage, showclear;

static const struct { unsigned long bit; const char *all, *one; } flagtext[] = {
  { VPW_NO_PASSWD_CHNG, "        password can not be changed by user\n", "password can not be changed by user\n" },
  { VPW_NO_POP, "        pop access closed\n", "pop access closed\n" },
  { VPW_NO_WEBMAIL, "        webmail access closed\n", "webmail access closed\n" },
  { VPW_NO_IMAP, "        imap access closed\n", "imap access closed\n" },
  { VPW_BOUNCE_MAIL, "        mail will be bounced back to sender\n", "mail will be bounced back to sender\n" },
  { VPW_NO_RELAY, "        user not allowed to relay mail\n", "user not allowed to relay mail\n" },
  { VPW_NO_DIALUP, "        no dialup flag has been set\n", "no dialup flag has been set\n" },
  { VPW_QA_ADMIN, "        has qmailadmin administrator privileges\n", "user has qmailadmin administrator privileges\n" },
  { VPW_V_USER0, "        user flag 0 is set\n", "user flag 0 is set\n" },
  { VPW_V_USER1, "        user flag 1 is set\n", "user flag 1 is set\n" },
  { VPW_V_USER2, "        user flag 2 is set\n", "user flag 2 is set\n" },
  { VPW_V_USER3, "        user flag 3 is set\n", "user flag 3 is set\n" },
  { VPW_NO_SMTP, "        smtp access is closed\n", "no smtp flag has been set\n" },
};

static void flags(unsigned long f, int full)
{
  size_t i;
  if (!f) put(full ? "        all services available\n" : "all services available\n");
  for (i = 0; i < sizeof flagtext / sizeof flagtext[0]; ++i)
    if (f & flagtext[i].bit) put(full ? flagtext[i].all : flagtext[i].one);
}

/* "NN%" for a user with a quota, else the quota field itself. */
static void usage_of(const struct vpasswd *pw)
{
  stralloc md = STRALLOC_ZERO;
  struct maildirquota q;
  struct maildirquota_usage u;
  int r;

  if (!maildirquota_parse(pw->quota, strlen(pw->quota), &q) || !maildirquota_limited(&q)) {
    put(pw->quota);
    return;
  }
  if (!stralloc_copys(&md, pw->dir) || !stralloc_cats(&md, "/Maildir") || !stralloc_0(&md)) die_nomem();
  r = maildirquota_read(md.s, &q, &u);
  if (r == 0) r = maildirquota_count(md.s, &u) == 0 ? 1 : -1;
  if (r == -1) {
    if (errno == ENOENT) { put("0%"); stralloc_free(&md); return; } /* no Maildir yet */
    strerr_die(111, FATAL, "unable to read the quota usage of ", md.s, ": ", error_str(errno));
  }
  putnum(maildirquota_percent(&q, &u));
  put("%");
  stralloc_free(&md);
}

static void show(const struct vpasswd *pw)
{
  if (all) {
    put("name:   "); put(pw->name); put("\n");
    put("passwd: "); put(pw->passwd); put("\n");
    put("clear passwd: "); put(pw->clearpw ? pw->clearpw : ""); put("\n");
    put("uid:    "); putnum(pw->uid); put("\n");
    put("gid:    "); putnum(pw->flags); put("\n");
    put("gecos: "); put(pw->gecos); put("\n");
    flags(pw->flags, 1);
    put("dir:       "); put(pw->dir); put("\n");
    put("quota:     "); put(pw->quota); put("\n");
    put("usage:     "); usage_of(pw); put("\n");
    return;
  }
  if (showname) { put(pw->name); put("\n"); }
  if (showpass) { put(pw->passwd); put("\n"); }
  if (showclear) { put(pw->clearpw ? pw->clearpw : ""); put("\n"); }
  if (showuid) { putnum(pw->uid); put("\n"); }
  if (showgid) { putnum(pw->flags); put("\n"); flags(pw->flags, 0); }
  if (showgecos) { put(pw->gecos); put("\n"); }
  if (showdir) { put(pw->dir); put("\n"); }
  if (showquota) { put(pw->quota); put("\n"); }
  if (showusage) { usage_of(pw); put("\n"); }
}

int main(int argc, char **argv)
{
  stralloc user = STRALLOC_ZERO, domain = STRALLOC_ZERO, dbuf = STRALLOC_ZERO, pwbuf = STRALLOC_ZERO;
  struct sgetopt g = SGETOPT_INIT;
  struct vdomain d;
  struct vpasswd pw;
  const char *err, *wholedomain = 0;
  int opt, r;

  buffer_init(&out, 1, outspace, sizeof outspace, 0);
  while ((opt = sgetopt(&g, argc, argv, "vanpugcdqQCD:")) != SGETOPT_END) {
    switch (opt) {
      case 'v': put("version: quail\n"); break;
      case 'a': all = 0; break; /* as vpopmail: -a alone shows nothing */
      case 'n': showname = 1; all = 0; break;
      case 'p': showpass = 1; all = 0; break;
      case 'u': showuid = 1; all = 0; break;
      case 'g': showgid = 1; all = 0; break;
      case 'c': showgecos = 1; all = 0; break;
      case 'd': showdir = 1; all = 0; break;
      case 'q': showquota = 1; all = 0; break;
      case 'Q': showusage = 1; all = 0; break;
      case 'C': showclear = 1; all = 0; break;
      case 'D': wholedomain = g.arg; break;
      default:
        if (g.problem == 'l') strerr_die(100, "vuserinfo: -l (last login) is not supported: Quail keeps no authentication log\n", USAGE);
        sgetopt_warn(&g, "vuserinfo");
        die_usage();
    }
  }
  argv += g.ind;
  argc -= g.ind;
  if (wholedomain ? argc != 0 : argc != 1) die_usage();

  if (wholedomain) {
    err = vdomain_checkdomain(&domain, wholedomain);
    if (err) strerr_die(100, FATAL, "bad domain ", wholedomain, ": ", err);
  } else {
    err = vdomain_splitaddr(argv[0], &user, &domain);
    if (err) strerr_die(100, FATAL, "bad address ", argv[0], ": ", err);
  }
  r = vdomain_get(auto_qmail, domain.s, &d, &dbuf);
  if (r == -1) strerr_die(111, FATAL, "unable to look up the domain ", domain.s, ": ", error_str(errno));
  if (!r) strerr_die(100, FATAL, "no such virtual domain: ", domain.s);

  if (!wholedomain) {
    r = vpasswd_lookup(d.dir, user.s, &pw, &pwbuf);
    if (r == -1) strerr_die(111, FATAL, "unable to read vpasswd of ", domain.s, ": ", error_str(errno));
    if (!r) strerr_die(100, "no such user ", user.s, "@", domain.s);
    show(&pw);
  } else {
    stralloc text = STRALLOC_ZERO;
    unsigned long lineno = 0;
    size_t pos = 0;
    int first = 1;
    char num[FMT_ULONG];
    if (vpasswd_readfile(d.dir, &text) == -1) strerr_die(111, FATAL, "unable to read vpasswd of ", domain.s, ": ", error_str(errno));
    for (;;) {
      r = vpasswd_next(&text, &pos, &lineno, &pw, &pwbuf);
      if (r == 0) break;
      if (r == -1) die_nomem();
      if (r == -2) {
        num[fmt_ulong(num, lineno)] = 0;
        strerr_warn("vuserinfo: warning: vpasswd line ", num, " malformed: skipped");
        continue;
      }
      if (!first && all) put("\n");
      first = 0;
      show(&pw);
    }
  }
  if (buffer_flush(&out) == -1) strerr_die(111, FATAL, "unable to write output: ", error_str(errno));
  return 0;
}
