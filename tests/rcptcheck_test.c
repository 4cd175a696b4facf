/* Tests for lib/rcptcheck.c: the nsswitch rule, and the whole check on a
 * scratch QMAILHOME with users/cdb, routing files and .qmail files, and
 * with virtual domains in vpopmail's layout (vpasswd, .qmail-default
 * running vdelivermail).
 * not tested: the /etc/passwd path (it reads the machine's own file; the
 * end-to-end tests cover it with real accounts), an I/O error in the
 * middle of a read, and a vpasswd that only permissions make unreadable
 * (root reads everything; a directory in its place stands for it). */

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdbmake.h"
#include "check.h"
#include "rcptcheck.h"
#include "tmpdir.h"
#include "vpasswd.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static void writefile(const char *rel, const char *text, int mode)
{
  int fd = open(tmpdir_path(rel), O_WRONLY | O_CREAT | O_TRUNC, mode);
  size_t n = strlen(text);
  if (fd == -1 || write(fd, text, n) != (ssize_t)n || close(fd) == -1) { perror(rel); exit(111); }
  chmod(tmpdir_path(rel), (mode_t)mode);
}

static void users_cdb(const char *const *recs, size_t n)
{
  struct cdbmake m;
  size_t i;
  int fd = open(tmpdir_path("users/cdb"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd == -1 || cdbmake_start(&m, fd) == -1) { perror("cdb"); exit(111); }
  /* recs: key, value with '|' for NUL */
  for (i = 0; i + 1 < n; i += 2) {
    char v[512];
    size_t j, vl = strlen(recs[i + 1]);
    for (j = 0; j < vl; ++j) v[j] = recs[i + 1][j] == '|' ? 0 : recs[i + 1][j];
    if (cdbmake_add(&m, recs[i], strlen(recs[i]) + (recs[i][0] == '!' && recs[i][strlen(recs[i]) - 1] != '-' ? 1 : 0), v, vl) == -1) {
      perror("cdbmake_add");
      exit(111);
    }
  }
  if (cdbmake_finish(&m) == -1 || close(fd) == -1) { perror("cdb"); exit(111); }
}

static void test_nss(void)
{
  static const struct { const char *text; int want; } cases[] = {
    { "", 1 },
    { "# comment only\n", 1 },
    { "passwd: files\n", 1 },
    { "passwd:         files systemd\ngroup: files ldap\n", 1 },
    { "passwd: files [NOTFOUND=return] systemd\n", 1 },
    { "passwd: files ldap\n", 0 },
    { "passwd: compat\n", 0 },
    { "passwd: nis files\n", 0 },
    { "  passwd: files sss # sssd\n", 0 },
    { "passwd: files # ldap later\n", 1 },
    { "passwd: files\npasswd: ldap\n", 1 },
    { "shadow: ldap\npasswd: files", 1 },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i)
    check_long(rcptcheck_nssfiles(cases[i].text, strlen(cases[i].text)), cases[i].want, "nssfiles %zu", i);
}

static void test_check(void)
{
  static const char *const recs[] = {
    /* =alice:alice:1000:1000:HOME:::  and  +alice-:alice:1000:1000:HOME:-:: */
    "!alice", "alice|1000|1000|HOME||",
    "!alice-", "alice|1000|1000|HOME|-|",
    "!root", "root|0|0|HOME|-|x",
    "!vd-", "vd|1000|1000|VHOME|-|",
    "", "-",
  };
  struct rcptcheck rc;
  char home[300], vhome[300];
  const char *const *r;
  char *recsbuf[N(recs)];
  size_t i;
  int here = open(".", O_RDONLY);
  static const struct { const char *addr; int want; const char *why; } cases[] = {
    { "alice@example.test", 1, "the basic address needs no .qmail" },
    { "ALICE@Example.Test", 1, "case does not matter" },
    { "alice-foo@example.test", 0, "no .qmail-foo, no .qmail-default" },
    { "alice-list@example.test", 1, ".qmail-list exists" },
    { "alice-list-x@example.test", 1, ".qmail-list-default exists" },
    { "alice-lis@example.test", 0, "a prefix of a file name is not a match" },
    { "someone@remote.test", 1, "not local: not ours to check" },
    { "root@example.test", 1, "root: delivery defers, so accept" },
    { "joe@vd.test", 1, "virtual domain with .qmail-default" },
    { "bob%remote.test@example.test", 1, "percent hack: remote after rewriting" },
    { "alice-foo@phack.test", 0, "percenthack domain, local part without %" },
    { "nobody-at-all@example.test", 1, "no such user, no alias user: delivery defers" },
  };

  tmpdir_make("rcptcheck_test");
  mkdir(tmpdir_path("control"), 0755);
  mkdir(tmpdir_path("users"), 0755);
  mkdir(tmpdir_path("home"), 0755);
  mkdir(tmpdir_path("vhome"), 0755);
  snprintf(home, sizeof home, "%s", tmpdir_path("home"));
  snprintf(vhome, sizeof vhome, "%s", tmpdir_path("vhome"));
  writefile("control/me", "example.test\n", 0644);
  writefile("control/locals", "example.test\nphack.test\n", 0644);
  writefile("control/virtualdomains", "vd.test:vd\n", 0644);
  writefile("control/percenthack", "example.test\n", 0644);
  writefile("home/.qmail-list", "./Maildir/\n", 0644);
  writefile("home/.qmail-list-default", "./Maildir/\n", 0644);
  writefile("vhome/.qmail-default", "|true\n", 0644);
  for (i = 0; i < N(recs); ++i) {
    const char *s = recs[i];
    char *buf = malloc(600), *p = buf;
    for (; *s; ++s) {
      if (!strncmp(s, "VHOME", 5)) { p += sprintf(p, "%s", vhome); s += 4; }
      else if (!strncmp(s, "HOME", 4)) { p += sprintf(p, "%s", home); s += 3; }
      else *p++ = *s;
    }
    *p = 0;
    recsbuf[i] = buf;
  }
  r = (const char *const *)recsbuf;
  users_cdb(r, N(recs));

  if (chdir(tmpdir_name) == -1) { perror("chdir"); exit(111); }
  check_long(rcptcheck_init(&rc, "no-such-alias-user", '-', 002), 1, "init");
  for (i = 0; i < N(cases); ++i)
    check_long(rcptcheck(&rc, cases[i].addr), cases[i].want, "rcptcheck %s (%s)", cases[i].addr, cases[i].why);
  {
    struct stat st;
    int cwd_same = stat(".qmail-list", &st) == -1 && stat("control/me", &st) == 0;
    check(cwd_same, "the current directory is QMAILHOME again");
  }

  /* A writable home: delivery defers, so the check accepts. */
  chmod(home, 0777);
  check_long(rcptcheck(&rc, "alice-foo@example.test"), 1, "writable home: accept");
  chmod(home, 0755 | S_ISVTX);
  check_long(rcptcheck(&rc, "alice-foo@example.test"), 1, "sticky home (being edited): accept");
  chmod(home, 0755);
  /* A corrupt users/cdb: accept. */
  writefile("users/cdb", "garbage", 0644);
  check_long(rcptcheck(&rc, "alice-foo@example.test"), 1, "corrupt users/cdb: accept");

  rcptcheck_free(&rc);
  if (fchdir(here) == -1) exit(111);
  close(here);
  tmpdir_remove();
  for (i = 0; i < N(recs); ++i) free(recsbuf[i]);
}

/* Virtual domains: vp.test (delete), vp2.test (bounce-no-mailbox), then
 * catch-alls and files that are not vdelivermail's, each a domain
 * directory with a vpasswd. */
static void test_vdomains(void)
{
  static const struct { const char *dom; const char *dflt; int mode; } doms[] = {
    { "vp", "| /var/qmail/bin/vdelivermail '' delete\n", 0644 },
    { "vp2", "# vadddomain -b\n| /home/vpopmail/bin/vdelivermail '' bounce-no-mailbox\n", 0644 },
    { "vp3", "| /var/qmail/bin/vdelivermail '' postmaster@vp3.test\n", 0644 },
    { "vp4", "| /var/qmail/bin/vdelivermail '' /home/vpopmail/domains/vp4.test/postmaster\n", 0644 },
    { "vp5", "| /usr/local/bin/other '' delete\n", 0644 },
    { "vp6", "| /var/qmail/bin/vdelivermail '' delete\n", 0755 },   /* x bit: delivery defers */
    { "vp7", "| /var/qmail/bin/vdelivermail '' delete\n", 0644 },   /* corrupt vpasswd.cdb */
    { "vp8", "| /var/qmail/bin/vdelivermail '' delete\n", 0644 },   /* vpasswd unreadable */
    { "vp9", "| vdelivermail '' delete ; echo\n", 0644 },           /* not sure: accept */
  };
  static const struct { const char *addr; int want; const char *why; } cases[] = {
    { "joe@vp.test", 1, "a user" },
    { "JOE@VP.Test", 1, "a user, in capitals" },
    { "nobody@vp.test", 0, "no such user, delete" },
    { "joe-foo@vp.test", 1, "user-ext: joe" },
    { "joe-foo-bar@vp.test", 1, "user-ext: joe, two dashes" },
    { "ann-marie@vp.test", 1, "a user with a dash" },
    { "ann-marie-x@vp.test", 1, "user-ext: ann-marie" },
    { "ann@vp.test", 0, "a prefix of a user is not a user" },
    { "nobody-joe@vp.test", 0, "only prefixes count" },
    { "alias@vp.test", 1, ".qmail-alias in the domain directory" },
    { "list-sub@vp.test", 1, ".qmail-list-default runs another program" },
    { "a..b@vp.test", 0, "not a possible user name: not a user" },
    { "vpasswd@vp.test", 0, "the database's own file name is no user" },
    { "joe@vp2.test", 1, "bounce-no-mailbox: a user" },
    { "nobody@vp2.test", 0, "bounce-no-mailbox: no such user" },
    { "nobody@vp3.test", 1, "catch-all address" },
    { "nobody@vp4.test", 1, "catch-all directory" },
    { "nobody@vp5.test", 1, "another program" },
    { "nobody@vp6.test", 1, ".qmail-default with its x bit" },
    { "nobody@vp7.test", 1, "corrupt vpasswd.cdb: cannot tell" },
    { "nobody@vp8.test", 1, "vpasswd unreadable: cannot tell" },
    { "nobody@vp9.test", 1, "a line this parser is not sure of" },
  };
  struct rcptcheck rc;
  stralloc vd = STRALLOC_ZERO, text = STRALLOC_ZERO;
  const char *recs[2 * N(doms) + 2];
  char *bufs[2 * N(doms)];
  size_t i;
  int here = open(".", O_RDONLY);

  tmpdir_make("rcptcheck_vtest");
  mkdir(tmpdir_path("control"), 0755);
  mkdir(tmpdir_path("users"), 0755);
  mkdir(tmpdir_path("domains"), 0755);
  writefile("control/me", "example.test\n", 0644);
  writefile("control/locals", "example.test\n", 0644);
  for (i = 0; i < N(doms); ++i) {
    char rel[64], dir[600];
    unsigned long skipped = 0, bad = 0;
    snprintf(rel, sizeof rel, "domains/%s.test", doms[i].dom);
    mkdir(tmpdir_path(rel), 0750);
    snprintf(dir, sizeof dir, "%s", tmpdir_path(rel));
    /* virtualdomains "vp.test:vp.test", users/cdb "!vp.test-" */
    if (!stralloc_cats(&vd, doms[i].dom) || !stralloc_cats(&vd, ".test:") || !stralloc_cats(&vd, doms[i].dom)
        || !stralloc_cats(&vd, ".test\n"))
      exit(111);
    bufs[2 * i] = malloc(64);
    bufs[2 * i + 1] = malloc(700);
    snprintf(bufs[2 * i], 64, "!%s.test-", doms[i].dom);
    snprintf(bufs[2 * i + 1], 700, "%s.test|1000|1000|%s|-|", doms[i].dom, dir);
    recs[2 * i] = bufs[2 * i];
    recs[2 * i + 1] = bufs[2 * i + 1];
    snprintf(rel, sizeof rel, "domains/%s.test/.qmail-default", doms[i].dom);
    writefile(rel, doms[i].dflt, doms[i].mode);
    snprintf(rel, sizeof rel, "domains/%s.test/vpasswd", doms[i].dom);
    if (!stralloc_copys(&text, "joe:$6$x$y:1:0:Joe:") || !stralloc_cats(&text, dir)
        || !stralloc_cats(&text, "/joe:NOQUOTA\nann-marie:$6$x$y:1:0:Ann:") || !stralloc_cats(&text, dir)
        || !stralloc_cats(&text, "/ann-marie:NOQUOTA\n") || !stralloc_0(&text))
      exit(111);
    if (!strcmp(doms[i].dom, "vp8")) mkdir(tmpdir_path(rel), 0755);
    else writefile(rel, text.s, 0600);
    /* vp.test reads its cdb, the others the text (no cdb: lib/vpasswd
     * searches vpasswd), vp7 a corrupt cdb newer than the text. */
    if (!strcmp(doms[i].dom, "vp") && vpasswd_mkcdb(dir, &skipped, &bad) != VPASSWD_OK) {
      perror("vpasswd_mkcdb");
      exit(111);
    }
    if (!strcmp(doms[i].dom, "vp7")) {
      snprintf(rel, sizeof rel, "domains/%s.test/vpasswd.cdb", doms[i].dom);
      sleep(1);
      writefile(rel, "garbage, and not a cdb at all", 0600);
    }
  }
  writefile("domains/vp.test/.qmail-alias", "&joe@vp.test\n", 0644);
  writefile("domains/vp.test/.qmail-list-default", "|ezmlm-manage ~/list\n", 0644);
  recs[2 * N(doms)] = "";
  recs[2 * N(doms) + 1] = "-";
  if (!stralloc_0(&vd)) exit(111);
  writefile("control/virtualdomains", vd.s, 0644);
  users_cdb(recs, 2 * N(doms) + 2);

  if (chdir(tmpdir_name) == -1) { perror("chdir"); exit(111); }
  check_long(rcptcheck_init(&rc, "no-such-alias-user", '-', 002), 1, "vdomains: init");
  {
    struct stat st;
    check(stat("domains/vp.test/vpasswd.cdb", &st) == 0, "vdomains: vp.test has its vpasswd.cdb");
  }
  for (i = 0; i < N(cases); ++i)
    check_long(rcptcheck(&rc, cases[i].addr), cases[i].want, "vdomains: rcptcheck %s (%s)", cases[i].addr,
               cases[i].why);

  rcptcheck_free(&rc);
  if (fchdir(here) == -1) exit(111);
  close(here);
  tmpdir_remove();
  for (i = 0; i < 2 * N(doms); ++i) free(bufs[i]);
  stralloc_free(&vd);
  stralloc_free(&text);
}

int main(void)
{
  test_nss();
  test_check();
  test_vdomains();
  return check_end();
}
