/* Tests for lib/vuser.c.
 * not tested: vuser_askpassword (needs a terminal; the e2e test runs the
 * commands without one and checks the refusal); chown as root in
 * vuser_mkuserdir and vuser_setmaildirsize. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "maildirquota.h"
#include "tmpdir.h"
#include "vuser.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static void test_inside(void)
{
  static const struct { const char *dom, *dir; int want; const char *rel; } cases[] = {
    { "/v/domains/ex.test", "/v/domains/ex.test/joe", 1, "joe" },
    { "/v/domains/ex.test", "/v/domains/ex.test/joe/", 1, "joe" },
    { "/v/domains/ex.test/", "/v/domains/ex.test/joe", 1, "joe" },
    { "/v/domains/ex.test", "/v/domains/ex.test/0/joe", 1, "0/joe" },      /* hashed big dir */
    { "/v/domains/ex.test", "/v/domains/ex.test", 0, 0 },
    { "/v/domains/ex.test", "/v/domains/ex.test/", 0, 0 },
    { "/v/domains/ex.test", "/v/domains/ex.testx/joe", 0, 0 },
    { "/v/domains/ex.test", "/v/domains/ex.test/../other/joe", 0, 0 },
    { "/v/domains/ex.test", "/v/domains/ex.test/joe/../../x", 0, 0 },
    { "/v/domains/ex.test", "/v/domains/ex.test/./joe", 0, 0 },
    { "/v/domains/ex.test", "/v/domains/ex.test//joe", 0, 0 },
    { "/v/domains/ex.test", "/v/domains/ex.test/..", 0, 0 },
    { "/v/domains/ex.test", "/etc", 0, 0 },
    { "/v/domains/ex.test", "v/domains/ex.test/joe", 0, 0 },
    { "/v/domains/ex.test", "/v/domains/ex.test/..joe", 1, "..joe" },       /* only the name ".." is the parent */
  };
  stralloc rel = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    int r = vuser_inside(cases[i].dom, cases[i].dir, &rel);
    check_long(r, cases[i].want, "inside %zu", i);
    if (r == 1 && cases[i].want == 1) check_str(rel.s, cases[i].rel, "inside %zu: rel", i);
  }
  stralloc_free(&rel);
}

static void test_alias(void)
{
  static const struct { const char *alias, *file; } cases[] = {
    { "info", ".qmail-info" },
    { "info.desk", ".qmail-info:desk" },
    { "a.b.c", ".qmail-a:b:c" },
    { "list-owner", ".qmail-list-owner" },
  };
  static const struct { const char *file; int want; const char *alias; } back[] = {
    { ".qmail-info:desk", 1, "info.desk" },
    { ".qmail-info", 1, "info" },
    { ".qmail-default", 0, 0 },
    { ".qmail-", 0, 0 },
    { ".qmail", 0, 0 },
    { "vpasswd", 0, 0 },
    { ".qmail-list-default", 1, "list-default" },
  };
  stralloc s = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    check_long(vuser_aliasfile(&s, cases[i].alias), 1, "aliasfile %zu", i);
    check_str(s.s, cases[i].file, "aliasfile %zu: name", i);
  }
  for (i = 0; i < N(back); ++i) {
    int r = vuser_aliasname(&s, back[i].file);
    check_long(r, back[i].want, "aliasname %zu", i);
    if (r == 1) check_str(s.s, back[i].alias, "aliasname %zu: alias", i);
  }
  stralloc_free(&s);
}

static int exists(const char *rel)
{
  struct stat st;
  return lstat(tmpdir_path(rel), &st) == 0;
}

/* symlink(2) with both paths in the scratch directory (tmpdir_path's
 * buffer is static, so the target is copied first). */
static void link_to(const char *target, const char *name)
{
  char t[512];
  snprintf(t, sizeof t, "%s", tmpdir_path(target));
  if (symlink(t, tmpdir_path(name)) == -1) perror(name);
}

static void test_tree(void)
{
  char dom[512];
  struct maildirquota q = { 1000, 0 }, none = { 0, 0 };

  tmpdir_make("vuser_test");
  mkdir(tmpdir_path("dom"), 0700);
  mkdir(tmpdir_path("outside"), 0700);
  tmpdir_write(tmpdir_path("outside/keep"), "k", 1);
  snprintf(dom, sizeof dom, "%s", tmpdir_path("dom"));

  check_long(vuser_mkuserdir(dom, "joe", (uid_t)-1, (gid_t)-1), 0, "mkuserdir");
  check(exists("dom/joe/Maildir/cur") && exists("dom/joe/Maildir/new") && exists("dom/joe/Maildir/tmp"), "mkuserdir: Maildir made");
  errno = 0;
  check_long(vuser_mkuserdir(dom, "joe", (uid_t)-1, (gid_t)-1), -1, "mkuserdir twice");
  check_long(errno, EEXIST, "mkuserdir twice: EEXIST");
  check(exists("dom/joe/Maildir/cur"), "mkuserdir twice: the first one left alone");

  /* quota file */
  tmpdir_write(tmpdir_path("dom/joe/Maildir/new/1.2.h,S=10"), "x", 1);
  {
    /* new/ and cur/ changed just now would keep the count from being saved */
    struct timespec t[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
    utimensat(AT_FDCWD, tmpdir_path("dom/joe/Maildir/new"), t, 0);
    utimensat(AT_FDCWD, tmpdir_path("dom/joe/Maildir/cur"), t, 0);
  }
  check_long(vuser_setmaildirsize(tmpdir_path("dom/joe"), &q, (uid_t)-1, (gid_t)-1), 0, "setmaildirsize");
  check(exists("dom/joe/Maildir/maildirsize"), "setmaildirsize: written");
  check_long(vuser_setmaildirsize(tmpdir_path("dom/joe"), &none, (uid_t)-1, (gid_t)-1), 0, "setmaildirsize NOQUOTA");
  check(!exists("dom/joe/Maildir/maildirsize"), "setmaildirsize NOQUOTA: removed");
  check_long(vuser_setmaildirsize(tmpdir_path("dom/nobody"), &q, (uid_t)-1, (gid_t)-1), 1, "setmaildirsize: no Maildir");

  /* symlinks inside the tree point outside: removed as links only */
  link_to("outside", "dom/joe/Maildir/.Evil");
  link_to("outside/keep", "dom/joe/Maildir/cur/link");
  mkdir(tmpdir_path("dom/joe/Maildir/.Sent"), 0700);
  mkdir(tmpdir_path("dom/joe/Maildir/.Sent/cur"), 0700);
  tmpdir_write(tmpdir_path("dom/joe/Maildir/.Sent/cur/m"), "m", 1);
  check_long(vuser_rmtree(dom, "joe"), 0, "rmtree");
  check(!exists("dom/joe"), "rmtree: gone");
  check(exists("outside/keep"), "rmtree: outside untouched");
  check_long(vuser_rmtree(dom, "joe"), 1, "rmtree: nothing there");

  /* a symlink on the way (dom/link -> outside): not followed */
  link_to("outside", "dom/link");
  errno = 0;
  check_long(vuser_rmtree(dom, "link/keep"), -1, "rmtree through a symlinked component refused");
  check(exists("outside/keep"), "rmtree through a symlink: outside untouched");
  /* the user directory itself a symlink: the link goes, not its target */
  check_long(vuser_rmtree(dom, "link"), 0, "rmtree of a symlink");
  check(!exists("dom/link") && exists("outside/keep"), "rmtree of a symlink: only the link removed");
  check_long(vuser_rmtree(dom, "../outside"), -1, "rmtree: .. refused");
  check(exists("outside/keep"), "rmtree ..: outside untouched");
  tmpdir_remove();
}

int main(void)
{
  test_inside();
  test_alias();
  test_tree();
  return check_end();
}
