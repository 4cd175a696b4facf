/* Tests for lib/vdomain.c.
 * not tested: running out of memory; a failing fsync or rename. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assign.h"
#include "cdbmake.h"
#include "check.h"
#include "stralloc.h"
#include "tmpdir.h"
#include "vdomain.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static void test_names(void)
{
  static const struct { const char *in; int ok; const char *want; } users[] = {
    { "joe", 1, "joe" },
    { "Joe.Bloggs", 1, "joe.bloggs" },
    { "a_b-c.d", 1, "a_b-c.d" },
    { "0", 1, "0" },
    { "postmaster", 1, "postmaster" },
    { "1234567890123456789012345678901234567890123456789012345678901234", 1, "1234567890123456789012345678901234567890123456789012345678901234" },
    { "12345678901234567890123456789012345678901234567890123456789012345", 0, 0 },
    { "", 0, 0 },
    { "a/b", 0, 0 },
    { "a..b", 0, 0 },
    { "..", 0, 0 },
    { ".hidden", 0, 0 },
    { "-opt", 0, 0 },
    { "a b", 0, 0 },
    { "a:b", 0, 0 },
    { "a@b", 0, 0 },
    { "a\tb", 0, 0 },
    { "a\nb", 0, 0 },
    { "caf\xc3\xa9", 0, 0 },
    { "vpasswd", 0, 0 },
    { "VPASSWD.cdb", 0, 0 },
    { "vpasswd.lock", 0, 0 },
    { "vpasswd.tmp", 0, 0 },
    { "vpasswd.cdb.tmp", 0, 0 },
    { "vpasswd2", 1, "vpasswd2" },
    { "trailing.", 1, "trailing." },
  };
  static const struct { const char *in; int ok; const char *want; } domains[] = {
    { "example.com", 1, "example.com" },
    { "Example.COM", 1, "example.com" },
    { "a-b.example", 1, "a-b.example" },
    { "localhost", 1, "localhost" },
    { "123.example", 1, "123.example" },
    { "", 0, 0 },
    { ".example.com", 0, 0 },
    { "example.com.", 0, 0 },
    { "example..com", 0, 0 },
    { "-a.example", 0, 0 },
    { "a-.example", 0, 0 },
    { "a.-b", 0, 0 },
    { "ex_ample.com", 0, 0 },
    { "ex ample.com", 0, 0 },
    { "ex/ample.com", 0, 0 },
    { "..", 0, 0 },
    { "ex:ample", 0, 0 },
    { "a.b\n", 0, 0 },
    /* 96 characters is the limit */
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1,
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0, 0 },
  };
  static const struct { const char *in; int ok; const char *user, *domain; } addrs[] = {
    { "joe@example.com", 1, "joe", "example.com" },
    { "Joe%Example.com", 1, "joe", "example.com" },
    { "joe%x@example.com", 0, 0, 0 },      /* the user part holds '%' */
    { "joe", 0, 0, 0 },
    { "@example.com", 0, 0, 0 },
    { "joe@", 0, 0, 0 },
    { "../x@example.com", 0, 0, 0 },
    { "joe@../etc", 0, 0, 0 },
  };
  stralloc out = STRALLOC_ZERO, d = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < N(users); ++i) {
    const char *err = vdomain_checkuser(&out, users[i].in);
    check_long(!err, users[i].ok, "user %zu (%s)", i, err ? err : "ok");
    if (!err && users[i].ok) check_str(out.s, users[i].want, "user %zu lowercased", i);
  }
  for (i = 0; i < N(domains); ++i) {
    const char *err = vdomain_checkdomain(&out, domains[i].in);
    check_long(!err, domains[i].ok, "domain %zu (%s)", i, err ? err : "ok");
    if (!err && domains[i].ok) check_str(out.s, domains[i].want, "domain %zu lowercased", i);
  }
  for (i = 0; i < N(addrs); ++i) {
    const char *err = vdomain_splitaddr(addrs[i].in, &out, &d);
    check_long(!err, addrs[i].ok, "addr %zu (%s)", i, err ? err : "ok");
    if (!err && addrs[i].ok) {
      check_str(out.s, addrs[i].user, "addr %zu user", i);
      check_str(d.s, addrs[i].domain, "addr %zu domain", i);
    }
  }
  check(vdomain_dirof(&out, "/home/vpopmail", "ex.com"), "dirof");
  check_str(out.s, "/home/vpopmail/domains/ex.com", "dirof path");
  stralloc_free(&out);
  stralloc_free(&d);
}

/* users/cdb from assign text, as qmail-newu makes it */
static void newu(const char *home, const char *assign)
{
  char fn[512];
  stralloc key = STRALLOC_ZERO, data = STRALLOC_ZERO, wild = STRALLOC_ZERO;
  struct cdbmake m;
  const char *s = assign;
  int fd;
  snprintf(fn, sizeof fn, "%s/users/cdb", home);
  fd = open(fn, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd == -1 || cdbmake_start(&m, fd) == -1) { perror(fn); exit(111); }
  while (*s) {
    const char *nl = strchr(s, '\n');
    char w;
    if (assign_parse(s, (size_t)(nl - s), &key, &data, &w) == ASSIGN_ENTRY) {
      cdbmake_add(&m, key.s, key.len, data.s, data.len);
      if (w) stralloc_append(&wild, w);
    }
    s = nl + 1;
  }
  cdbmake_add(&m, "", 0, wild.s, wild.len);
  cdbmake_finish(&m);
  close(fd);
  stralloc_free(&key);
  stralloc_free(&data);
  stralloc_free(&wild);
}

static void test_get(void)
{
  static const struct { const char *domain; int r; const char *real; unsigned long uid, gid; const char *dir; } cases[] = {
    { "example.com", 1, "example.com", 89, 89, "/home/vpopmail/domains/example.com" },
    { "EXAMPLE.com", 1, "example.com", 89, 89, "/home/vpopmail/domains/example.com" },
    { "alias.example", 1, "example.com", 89, 89, "/home/vpopmail/domains/example.com" },
    { "hashed.example", 1, "hashed.example", 89, 89, "/home/vpopmail/domains/3/hashed.example" },
    { "other.example", 0, 0, 0, 0, 0 },
    { "joe", 0, 0, 0, 0, 0 },                  /* an =joe line is not a domain */
    { "example", 0, 0, 0, 0, 0 },              /* no prefix match: exact key only */
    { "bad.example", -1, 0, 0, 0, 0 },         /* uid not a number */
    { "rel.example", -1, 0, 0, 0, 0 },         /* relative dir */
  };
  const char *home = tmpdir_make("vdomain_test");
  char homebuf[256];
  stralloc buf = STRALLOC_ZERO;
  struct vdomain d;
  size_t i;

  snprintf(homebuf, sizeof homebuf, "%s", home);
  home = homebuf;
  check_long(vdomain_get(home, "example.com", &d, &buf), 0, "get without users/cdb");
  mkdir(tmpdir_path("users"), 0755);
  newu(home,
       "=joe:joe:1000:1000:/home/joe:::\n"
       "+example.com-:example.com:89:89:/home/vpopmail/domains/example.com:-::\n"
       "+alias.example-:example.com:89:89:/home/vpopmail/domains/example.com:-::\n"
       "+hashed.example-:hashed.example:89:89:/home/vpopmail/domains/3/hashed.example:-::\n"
       "+bad.example-:bad.example:x:89:/home/vpopmail/domains/bad.example:-::\n"
       "+rel.example-:rel.example:89:89:domains/rel.example:-::\n"
       ".\n");
  for (i = 0; i < N(cases); ++i) {
    int r = vdomain_get(home, cases[i].domain, &d, &buf);
    check_long(r, cases[i].r, "get %zu (%s)", i, cases[i].domain);
    if (r != 1 || cases[i].r != 1) continue;
    check_str(d.real, cases[i].real, "get %zu real", i);
    check_long(d.uid, cases[i].uid, "get %zu uid", i);
    check_long(d.gid, cases[i].gid, "get %zu gid", i);
    check_str(d.dir, cases[i].dir, "get %zu dir", i);
  }
  {
    int fd = open(tmpdir_path("users/cdb"), O_WRONLY | O_TRUNC);
    check(fd != -1 && write(fd, "short", 5) == 5, "corrupt users/cdb");
    close(fd);
    errno = 0;
    check_long(vdomain_get(home, "example.com", &d, &buf), -1, "get from a corrupt cdb");
    check_long(errno, EPROTO, "get from a corrupt cdb: errno");
  }
  stralloc_free(&buf);
}

int main(void)
{
  test_names();
  test_get();
  tmpdir_remove();
  return check_end();
}
