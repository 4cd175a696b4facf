/* Tests for lib/rcptcheck.c: the nsswitch rule, and the whole check on a
 * scratch QMAILHOME with users/cdb, routing files and .qmail files.
 * not tested: the /etc/passwd path (it reads the machine's own file; the
 * end-to-end tests cover it with real accounts), and an I/O error in the
 * middle of a read. */

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdbmake.h"
#include "check.h"
#include "rcptcheck.h"
#include "tmpdir.h"

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

int main(void)
{
  test_nss();
  test_check();
  return check_end();
}
