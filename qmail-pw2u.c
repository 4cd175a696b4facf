/* qmail-pw2u: build address assignments from a passwd file.
 *
 *   qmail-pw2u [-/ohHuUC] [-cchar] < passwd > users/assign
 *
 * Reads passwd(5) lines on descriptor 0 (through lib/pwfile's parser)
 * and writes qmail-users(5) lines on descriptor 1, obeying
 * QMAILHOME/users/include, exclude, mailnames, subusers and append, as
 * qmail-pw2u(8) says. The output ends with the "." line; when anything
 * goes wrong the exit code is 111 and the output has no "." line, so
 * qmail-newu refuses it. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "control.h"
#include "error.h"
#include "fmt.h"
#include "ids.h"
#include "open.h"
#include "pwfile.h"
#include "sgetopt.h"
#include "stralloc.h"
#include "strerr.h"

#define FATAL "qmail-pw2u: fatal: "
#define WARNING "qmail-pw2u: warning: "
#define MAXLINE 65536

static NORETURN void die_usage(void) { strerr_die(100, "qmail-pw2u: usage: qmail-pw2u [ -/ohHuUC ] [ -cchar ]"); }
static NORETURN void die_nomem(void) { strerr_die(111, FATAL, "out of memory"); }
static NORETURN void die_write(void) { strerr_die(111, FATAL, "unable to write output: ", error_str(errno)); }
static NORETURN void die_control(const char *fn)
{
  strerr_die(111, FATAL, "unable to read ", fn, ": ", error_str(errno));
}

/* ---- options ---- */

static const char *dashcolon = "-:";
static int flagnoupper = 1;
static char breakchar;
/* 2: skip a user whose home does not exist or is not owned by the user;
 * 1: stop if a home does not exist, skip if not owned;
 * 0: do not look at homes. */
static int homestrategy = 2;

/* ---- lookup tables: users/include, exclude, mailnames, and the users
 * found, keyed by name without regard to ASCII case, as qmail's constmap.
 * When a key is there twice, the later line wins (qmail's constmap finds
 * the last one inserted first). */

struct entry { const char *key; size_t keylen; const char *value; size_t idx; };
struct map { struct entry *e; size_t n; };

static int lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int keycmp(const char *a, size_t alen, const char *b, size_t blen)
{
  size_t i;
  for (i = 0; i < alen && i < blen; ++i) {
    int d = lower((unsigned char)a[i]) - lower((unsigned char)b[i]);
    if (d) return d;
  }
  return alen < blen ? -1 : alen > blen;
}

static int entrycmp(const void *x, const void *y)
{
  const struct entry *a = x, *b = y;
  int d = keycmp(a->key, a->keylen, b->key, b->keylen);
  if (d) return d;
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* list holds NUL-terminated items; with splitcolon each is "key:value"
 * (items without a colon are left out) and the value is what map_get
 * finds, otherwise the key is. */
static void map_init(struct map *m, const char *list, size_t len, int splitcolon)
{
  size_t i, n = 0;
  for (i = 0; i < len; ++i) n += !list[i];
  m->n = 0;
  m->e = malloc((n ? n : 1) * sizeof *m->e);
  if (!m->e) die_nomem();
  for (i = 0; i < len; i += strlen(list + i) + 1) {
    const char *item = list + i;
    size_t klen = strlen(item);
    const char *value = item;
    if (splitcolon) {
      const char *colon = strchr(item, ':');
      if (!colon) continue;
      klen = (size_t)(colon - item);
      value = colon + 1;
    }
    m->e[m->n].key = item;
    m->e[m->n].keylen = klen;
    m->e[m->n].value = value;
    m->e[m->n].idx = m->n;
    ++m->n;
  }
  qsort(m->e, m->n, sizeof *m->e, entrycmp);
}

static const char *map_get(const struct map *m, const char *key, size_t len)
{
  size_t lo = 0, hi = m->n;
  const char *found = 0;
  while (lo < hi) { /* the first entry greater than key */
    size_t mid = lo + (hi - lo) / 2;
    if (keycmp(m->e[mid].key, m->e[mid].keylen, key, len) <= 0) lo = mid + 1;
    else hi = mid;
  }
  if (lo && !keycmp(m->e[lo - 1].key, m->e[lo - 1].keylen, key, len)) found = m->e[lo - 1].value;
  return found;
}

static int okincl, okexcl, okmana;
static stralloc incl = STRALLOC_ZERO, excl = STRALLOC_ZERO, mana = STRALLOC_ZERO;
static struct map mapincl, mapexcl, mapmana, mapuser;
static stralloc allusers = STRALLOC_ZERO;

/* ---- output ---- */

static char outspace[8192];
static buffer out;

static void put(const char *s, size_t len) { if (buffer_put(&out, s, len) == -1) die_write(); }
static void puts_(const char *s) { put(s, strlen(s)); }

/* ---- the passwd lines ---- */

static stralloc uugh = STRALLOC_ZERO; /* ":user:uid:gid:home:" */
static stralloc home = STRALLOC_ZERO;
static int flagalias;

static void catnum(stralloc *sa, unsigned long u)
{
  if (!stralloc_catulong(sa, u)) die_nomem();
}

/* One address and its extensions: "=name" uugh "::" and, unless the
 * extension mechanism is off, "+name" BREAK uugh dash ":". */
static void putname(const char *name, size_t len)
{
  put("=", 1);
  put(name, len);
  put(uugh.s, uugh.len);
  puts_("::\n");
  if (breakchar) {
    put("+", 1);
    put(name, len);
    put(&breakchar, 1);
    put(uugh.s, uugh.len);
    puts_(dashcolon);
    puts_(":\n");
  }
}

static void doaccount(const char *line, size_t len)
{
  struct pwfile_entry e;
  const char *mailnames;
  size_t i;

  if (!len || memchr(line, 0, len)) return;
  if (!pwfile_parse_passwd(line, len, &e)) return;
  if (!e.id) return;
  if (flagnoupper)
    for (i = 0; i < e.namelen; ++i)
      if (e.name[i] >= 'A' && e.name[i] <= 'Z') return;
  if (okincl && !map_get(&mapincl, e.name, e.namelen)) return;
  if (okexcl && map_get(&mapexcl, e.name, e.namelen)) return;
  if (!stralloc_copyb(&home, e.home, e.homelen) || !stralloc_0(&home)) die_nomem();
  if (homestrategy) {
    struct stat st;
    if (stat(home.s, &st) == -1) {
      /* "does not exist": ENOENT, or a path through something that is
       * not a directory. Anything else might go away: stop. */
      if ((errno != ENOENT && errno != ENOTDIR) || homestrategy == 1)
        strerr_die(111, FATAL, "unable to stat ", home.s, ": ", error_str(errno));
      return;
    }
    if (st.st_uid != e.id) return;
  }

  uugh.len = 0;
  if (!stralloc_append(&uugh, ':') || !stralloc_catb(&uugh, e.name, e.namelen) || !stralloc_append(&uugh, ':'))
    die_nomem();
  catnum(&uugh, e.id);
  if (!stralloc_append(&uugh, ':')) die_nomem();
  catnum(&uugh, e.gid);
  if (!stralloc_append(&uugh, ':') || !stralloc_catb(&uugh, e.home, e.homelen) || !stralloc_append(&uugh, ':'))
    die_nomem();

  /* For users/subusers: "user:" uugh. */
  if (!stralloc_catb(&allusers, e.name, e.namelen) || !stralloc_append(&allusers, ':')
      || !stralloc_cat(&allusers, &uugh) || !stralloc_0(&allusers))
    die_nomem();

  if (e.namelen == strlen(auto_users[IDS_ALIAS]) && !memcmp(e.name, auto_users[IDS_ALIAS], e.namelen)) {
    put("+", 1);
    put(uugh.s, uugh.len);
    puts_(dashcolon);
    puts_(":\n");
    flagalias = 1;
  }

  mailnames = okmana ? map_get(&mapmana, e.name, e.namelen) : 0;
  if (!mailnames) {
    putname(e.name, e.namelen);
    return;
  }
  for (;;) {
    size_t n;
    while (*mailnames == ':') ++mailnames;
    if (!*mailnames) break;
    n = strcspn(mailnames, ":");
    putname(mailnames, n);
    mailnames += n;
  }
}

/* ---- users/subusers: "sub:user:pre:" ---- */

static void dosubuser(const char *line, size_t len)
{
  const char *sub = line, *user, *pre, *end = line + len, *c;
  const char *u;
  size_t sublen, prelen;

  if (!(c = memchr(sub, ':', len))) return;
  sublen = (size_t)(c - sub);
  user = c + 1;
  if (!(c = memchr(user, ':', (size_t)(end - user)))) return;
  u = map_get(&mapuser, user, (size_t)(c - user));
  if (!u) {
    stralloc name = STRALLOC_ZERO;
    if (!stralloc_copyb(&name, user, (size_t)(c - user)) || !stralloc_0(&name)) die_nomem();
    strerr_die(111, FATAL, "unable to find ", name.s, " user for subuser");
  }
  pre = c + 1;
  if (!(c = memchr(pre, ':', (size_t)(end - pre)))) return;
  prelen = (size_t)(c - pre);

  put("=", 1);
  put(sub, sublen);
  puts_(u);
  puts_(dashcolon);
  put(pre, prelen);
  puts_(":\n");
  if (breakchar) {
    put("+", 1);
    put(sub, sublen);
    put(&breakchar, 1);
    puts_(u);
    puts_(dashcolon);
    put(pre, prelen);
    puts_("-:\n");
  }
}

static void dosubusers(void)
{
  stralloc line = STRALLOC_ZERO;
  char inspace[4096];
  buffer in;
  unsigned long lineno = 0;
  char num[FMT_ULONG];
  int fd, r;

  fd = open_read("users/subusers");
  if (fd == -1) {
    if (errno == ENOENT) return;
    die_control("users/subusers");
  }
  map_init(&mapuser, allusers.s, allusers.len, 1);
  buffer_init(&in, fd, inspace, sizeof inspace, 0);
  for (;;) {
    line.len = 0;
    r = buffer_getline(&in, &line, '\n', MAXLINE);
    if (r == -1) die_control("users/subusers");
    ++lineno;
    num[fmt_ulong(num, lineno)] = 0;
    if (r == -2) strerr_die(111, FATAL, "unable to read users/subusers: line ", num, " is too long");
    if (!line.len) break; /* the end */
    if (memchr(line.s, 0, line.len)) strerr_die(111, FATAL, "unable to read users/subusers: line ", num, " holds a NUL");
    dosubuser(line.s, line.len);
    if (r == 0) break;
  }
  close(fd);
  stralloc_free(&line);
}

/* ---- users/append: copied as it is ---- */

static void doappend(void)
{
  char inspace[4096];
  buffer in;
  char last = '\n';
  int fd;

  fd = open_read("users/append");
  if (fd == -1) {
    if (errno == ENOENT) return;
    die_control("users/append");
  }
  buffer_init(&in, fd, inspace, sizeof inspace, 0);
  for (;;) {
    ssize_t n = buffer_feed(&in);
    if (n < 0) die_control("users/append");
    if (n == 0) break;
    put(buffer_peek(&in), (size_t)n);
    last = buffer_peek(&in)[n - 1];
    buffer_seek(&in, (size_t)n);
  }
  close(fd);
  /* The "." line must stay a line of its own. */
  if (last != '\n') put("\n", 1);
}

static void readlist(int *ok, stralloc *sa, struct map *m, const char *fn, int splitcolon)
{
  *ok = control_readfile(sa, fn, 0);
  if (*ok == -1) die_control(fn);
  if (*ok) map_init(m, sa->s, sa->len, splitcolon);
}

int main(int argc, char **argv)
{
  struct sgetopt g = SGETOPT_INIT;
  stralloc line = STRALLOC_ZERO;
  char inspace[8192];
  buffer in;
  int opt, r;

  breakchar = auto_break;
  while ((opt = sgetopt(&g, argc, argv, "/ohHuUc:C")) != SGETOPT_END)
    switch (opt) {
      case '/': dashcolon = "-/:"; break;
      case 'o': homestrategy = 2; break;
      case 'h': homestrategy = 1; break;
      case 'H': homestrategy = 0; break;
      case 'u': flagnoupper = 0; break;
      case 'U': flagnoupper = 1; break;
      case 'c': breakchar = *g.arg; break;
      case 'C': breakchar = 0; break;
      default: die_usage();
    }
  if (g.ind < argc && argv[g.ind]) die_usage();

  if (chdir(auto_qmail) == -1) strerr_die(111, FATAL, "unable to chdir to ", auto_qmail, ": ", error_str(errno));
  readlist(&okincl, &incl, &mapincl, "users/include", 0);
  readlist(&okexcl, &excl, &mapexcl, "users/exclude", 0);
  readlist(&okmana, &mana, &mapmana, "users/mailnames", 1);

  buffer_init(&out, 1, outspace, sizeof outspace, 0);
  buffer_init(&in, 0, inspace, sizeof inspace, 0);
  for (;;) {
    line.len = 0;
    r = buffer_getline(&in, &line, '\n', MAXLINE);
    if (r == -1) {
      if (errno == ENOMEM) die_nomem();
      strerr_die(111, FATAL, "unable to read input: ", error_str(errno));
    }
    if (r == -2) {
      /* No account has a line this long: leave it out, but say so. */
      strerr_warn(WARNING, "skipping an input line longer than 65536 bytes");
      r = buffer_skipline(&in, '\n');
      if (r == -1) strerr_die(111, FATAL, "unable to read input: ", error_str(errno));
      if (r == 0) break;
      continue;
    }
    doaccount(line.s, line.len);
    if (r == 0) break;
  }
  if (!flagalias) strerr_die(111, FATAL, "unable to find ", auto_users[IDS_ALIAS], " user");

  dosubusers();
  doappend();
  puts_(".\n");
  if (buffer_flush(&out) == -1) die_write();
  _exit(0);
}
