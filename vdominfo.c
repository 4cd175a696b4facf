/* vdominfo: show virtual domains (vdominfo(8)), in vpopmail's format:
 *
 *   domain: example.com
 *   uid:    89
 *   gid:    89
 *   dir:    /home/vpopmail/domains/example.com
 *   users:  3
 *
 * with "alias: NAME" lines after a domain named on the command line, or
 * one block per domain (aliases say "(alias of REAL)") for all of them.
 * The user count is the number of entries in vpasswd (vpopmail read it
 * from .dir-control, which Quail does not keep). Read only. */

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "error.h"
#include "fmt.h"
#include "sgetopt.h"
#include "stralloc.h"
#include "strerr.h"
#include "vdomain.h"
#include "vpasswd.h"

#define FATAL "vdominfo: fatal: "
#define USAGE "vdominfo: usage: vdominfo [-v] [-a | -n -u -g -d -t -r] [domain]"

static char outspace[4096];
static buffer out;
static int showall = 1, shown, showu, showg, showd, showt, showr;

static NORETURN void die_write(void) { strerr_die(111, FATAL, "unable to write output: ", error_str(errno)); }
static void outs(const char *s) { if (buffer_puts(&out, s) == -1) die_write(); }
static void outnum(unsigned long u)
{
  char s[FMT_ULONG];
  if (buffer_put(&out, s, fmt_ulong(s, u)) == -1) die_write();
}

static unsigned long users(const char *dir)
{
  stralloc text = STRALLOC_ZERO, buf = STRALLOC_ZERO;
  struct vpasswd pw;
  size_t pos = 0;
  unsigned long n = 0;
  int r;
  if (vpasswd_readfile(dir, &text) == -1) strerr_die(111, FATAL, "unable to read ", dir, "/vpasswd: ", error_str(errno));
  while ((r = vpasswd_next(&text, &pos, 0, &pw, &buf)) != 0) {
    if (r == -1) strerr_die(111, FATAL, "out of memory");
    if (r == 1) ++n;
  }
  stralloc_free(&text);
  stralloc_free(&buf);
  return n;
}

static void display(const char *name, const struct vdomain *d)
{
  int isalias = strcmp(name, d->real) != 0;
  if (showall) {
    outs("domain: "); outs(name);
    if (isalias) { outs(" (alias of "); outs(d->real); outs(")"); }
    outs("\nuid:    "); outnum(d->uid);
    outs("\ngid:    "); outnum(d->gid);
    outs("\ndir:    "); outs(d->dir);
    outs("\nusers:  "); outnum(users(d->dir));
    outs("\n");
    return;
  }
  if (shown) {
    outs(name);
    if (isalias) { outs(" (alias of "); outs(d->real); outs(")"); }
    outs("\n");
  }
  if (showu) { outnum(d->uid); outs("\n"); }
  if (showg) { outnum(d->gid); outs("\n"); }
  if (showd) { outs(d->dir); outs("\n"); }
  if (showt) { outnum(users(d->dir)); outs("\n"); }
  if (showr) { outs(d->real); outs("\n"); }
}

static int get(const char *name, struct vdomain *d, stralloc *buf)
{
  int r = vdomain_get(auto_qmail, name, d, buf);
  if (r == -1) strerr_die(111, FATAL, "unable to read ", auto_qmail, "/users/cdb: ", error_str(errno));
  return r;
}

int main(int argc, char **argv)
{
  struct sgetopt g = SGETOPT_INIT;
  stralloc domain = STRALLOC_ZERO, names = STRALLOC_ZERO, buf = STRALLOC_ZERO, buf2 = STRALLOC_ZERO;
  struct vdomain d, a;
  size_t pos;
  const char *err;
  int opt;

  buffer_init(&out, 1, outspace, sizeof outspace, 0);
  while ((opt = sgetopt(&g, argc, argv, "vanugdtr")) != SGETOPT_END) {
    switch (opt) {
      case 'v': break;
      case 'a': showall = 1; break;
      case 'n': shown = 1; showall = 0; break;
      case 'u': showu = 1; showall = 0; break;
      case 'g': showg = 1; showall = 0; break;
      case 'd': showd = 1; showall = 0; break;
      case 't': showt = 1; showall = 0; break;
      case 'r': showr = 1; showall = 0; break;
      default: sgetopt_warn(&g, "vdominfo"); strerr_die(100, USAGE);
    }
  }
  argv += g.ind;
  argc -= g.ind;
  if (argc > 1) strerr_die(100, USAGE);
  if (vdomain_list(auto_qmail, &names) == -1) strerr_die(111, FATAL, "unable to read ", auto_qmail, "/users/assign: ", error_str(errno));

  if (argc == 1) {
    err = vdomain_checkdomain(&domain, argv[0]);
    if (err) strerr_die(100, FATAL, err, ": ", argv[0]);
    if (!get(domain.s, &d, &buf)) strerr_die(100, FATAL, "domain ", domain.s, " does not exist");
    /* the real domain, then its aliases */
    if (strcmp(d.real, domain.s)) {
      stralloc real = STRALLOC_ZERO;
      if (!stralloc_copys(&real, d.real) || !stralloc_0(&real)) strerr_die(111, FATAL, "out of memory");
      if (!get(real.s, &d, &buf)) strerr_die(111, FATAL, "the real domain ", real.s, " of ", domain.s, " does not exist");
      if (!stralloc_copy(&domain, &real)) strerr_die(111, FATAL, "out of memory");
      stralloc_free(&real);
    }
    display(domain.s, &d);
    for (pos = 0; pos < names.len; pos += strlen(names.s + pos) + 1)
      if (strcmp(names.s + pos, domain.s) && get(names.s + pos, &a, &buf2) == 1 && !strcmp(a.real, domain.s)) {
        outs("alias: "); outs(names.s + pos); outs("\n");
      }
  } else
    for (pos = 0; pos < names.len; pos += strlen(names.s + pos) + 1)
      if (get(names.s + pos, &d, &buf) == 1) {
        display(names.s + pos, &d);
        outs("\n");
      }
  if (buffer_flush(&out) == -1) die_write();
  return 0;
}
