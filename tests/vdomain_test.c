/* Tests for lib/vdomain.c.
 * not tested: running out of memory; a failing fsync or rename. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "assign.h"
#include "cdbmake.h"
#include "check.h"
#include "stralloc.h"
#include "tmpdir.h"
#include "rmtree.h"
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

static void putfile(const char *rel, const char *s, int mode)
{
  int fd = open(tmpdir_path(rel), O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd == -1 || write(fd, s, strlen(s)) != (ssize_t)strlen(s)) { perror(rel); exit(111); }
  close(fd);
  chmod(tmpdir_path(rel), mode);
}

static const char *getfile(const char *rel, stralloc *sa)
{
  char b[4096];
  ssize_t r;
  int fd = open(tmpdir_path(rel), O_RDONLY);
  stralloc_copys(sa, "");
  if (fd == -1) return "(missing)";
  while ((r = read(fd, b, sizeof b)) > 0) stralloc_catb(sa, b, (size_t)r);
  close(fd);
  stralloc_0(sa);
  return sa->s;
}

static void test_controls(const char *home)
{
  stralloc sa = STRALLOC_ZERO, names = STRALLOC_ZERO, big = STRALLOC_ZERO;
  struct stat st;
  int more, i, lockfd;

  mkdir(tmpdir_path("control"), 0755);
  unlink(tmpdir_path("users/assign"));
  lockfd = vdomain_lock(home);
  check(lockfd >= 0, "lock");
  check(access(tmpdir_path("control/.vpopmail.lock"), F_OK) == 0, "lock file made");

  check_long(vdomain_assign_add(home, "Ex.com", "ex.com", 89, 90, "/v/domains/ex.com"), 1, "assign add to a missing file");
  check_str(getfile("users/assign", &sa), "+ex.com-:ex.com:89:90:/v/domains/ex.com:-::\n.\n", "assign made with its dot");
  check(stat(tmpdir_path("users/assign"), &st) == 0 && (st.st_mode & 0777) == 0644, "new assign is 0644");
  check_long(vdomain_assign_add(home, "ex.com", "ex.com", 1, 1, "/x"), 0, "assign add again");
  putfile("users/assign", "=joe:joe:1:1:/home/joe:::\n+ex.com-:ex.com:89:90:/v/domains/ex.com:-::\n.\n# after the end\n", 0640);
  check_long(vdomain_assign_add(home, "alias.example", "ex.com", 89, 90, "/v/domains/ex.com"), 1, "assign add alias");
  check_str(getfile("users/assign", &sa),
            "=joe:joe:1:1:/home/joe:::\n+ex.com-:ex.com:89:90:/v/domains/ex.com:-::\n"
            "+alias.example-:ex.com:89:90:/v/domains/ex.com:-::\n.\n# after the end\n", "assign: added before the dot");
  check(stat(tmpdir_path("users/assign"), &st) == 0 && (st.st_mode & 0777) == 0640, "assign keeps its mode");
  check_long(vdomain_assign_add(home, "bad:domain", "x", 1, 1, "/x"), -1, "assign add with ':'");
  check_long(vdomain_assign_add(home, "x.example", "x.example", 1, 1, "rel"), -1, "assign add relative dir");
  check(vdomain_list(home, &names) == 0, "list");
  check_bytes(names.s, names.len, "ex.com\0alias.example\0", 21, "list names");
  check_long(vdomain_assign_del(home, "EX.com"), 1, "assign del");
  check_long(vdomain_assign_del(home, "ex.com"), 0, "assign del again");
  check_str(getfile("users/assign", &sa),
            "=joe:joe:1:1:/home/joe:::\n+alias.example-:ex.com:89:90:/v/domains/ex.com:-::\n.\n# after the end\n", "assign after del");
  check(access(tmpdir_path("users/assign.tmp"), F_OK) == -1, "no assign.tmp left");

  /* rcpthosts: 49 lines, then the 50th, then morercpthosts */
  unlink(tmpdir_path("control/rcpthosts"));
  check_long(vdomain_rcpthosts_add(home, "first.example", &more), 1, "rcpthosts add to a missing file");
  check_long(more, 0, "rcpthosts add: not more");
  for (i = 1; i < 50; ++i) { stralloc_cats(&big, "d"); stralloc_catulong(&big, (unsigned long)i); stralloc_cats(&big, ".example\n"); }
  stralloc_0(&big);
  putfile("control/rcpthosts", big.s, 0644);
  big.len--;
  check_long(vdomain_rcpthosts_add(home, "fifty.example", &more), 1, "rcpthosts add the 50th line");
  check_long(more, 0, "rcpthosts 50th: in rcpthosts");
  check_long(vdomain_rcpthosts_add(home, "more.example", &more), 1, "rcpthosts add past 50");
  check_long(more, 1, "rcpthosts past 50: morercpthosts");
  check_str(getfile("control/morercpthosts", &sa), "more.example\n", "morercpthosts");
  check_long(vdomain_rcpthosts_add(home, "MORE.example", &more), 0, "rcpthosts add one in morercpthosts");
  check_long(vdomain_rcpthosts_add(home, "d3.example", &more), 0, "rcpthosts add one in rcpthosts");
  stralloc_cats(&big, "fifty.example\n");
  stralloc_0(&big);
  check_str(getfile("control/rcpthosts", &sa), big.s, "rcpthosts has 50 lines");
  check_long(vdomain_rcpthosts_del(home, "more.example", &more), 1, "rcpthosts del from morercpthosts");
  check_long(more, 1, "rcpthosts del: morercpthosts changed");
  check_str(getfile("control/morercpthosts", &sa), "", "morercpthosts empty");
  check_long(vdomain_rcpthosts_del(home, "d3.example", &more), 1, "rcpthosts del");
  check_long(more, 0, "rcpthosts del: morercpthosts unchanged");
  check_long(vdomain_rcpthosts_del(home, "d3.example", &more), 0, "rcpthosts del again");

  /* virtualdomains and locals */
  putfile("control/virtualdomains", "other.example:alias-other\nex.com:ex.com  \r", 0644);
  check_long(vdomain_virtualdomains_add(home, "ex.com"), 0, "virtualdomains add present (trailing blanks)");
  check_long(vdomain_virtualdomains_add(home, "new.example"), 1, "virtualdomains add");
  check_str(getfile("control/virtualdomains", &sa), "other.example:alias-other\nex.com:ex.com  \r\nnew.example:new.example\n", "virtualdomains after add");
  check_long(vdomain_virtualdomains_del(home, "ex.com"), 1, "virtualdomains del");
  check_long(vdomain_virtualdomains_del(home, "other.example"), 0, "virtualdomains del leaves other mappings");
  check_str(getfile("control/virtualdomains", &sa), "other.example:alias-other\nnew.example:new.example\n", "virtualdomains after del");
  putfile("control/locals", "localhost\nEx.Com\n", 0644);
  check_long(vdomain_locals_del(home, "ex.com"), 1, "locals del");
  check_str(getfile("control/locals", &sa), "localhost\n", "locals after del");
  check_long(vdomain_locals_del(home, "ex.com"), 0, "locals del again");
  close(lockfd);

  /* running bin/ programs */
  mkdir(tmpdir_path("bin"), 0755);
  putfile("bin/ok", "#!/bin/sh\necho ran > \"$0.ran\"\nexit 0\n", 0755);
  putfile("bin/fail", "#!/bin/sh\nexit 3\n", 0755);
  check_long(vdomain_runbin(home, "ok"), 0, "runbin ok");
  check(access(tmpdir_path("bin/ok.ran"), F_OK) == 0, "runbin really ran it");
  check_long(vdomain_runbin(home, "fail"), 1, "runbin exit 3");
  check_long(vdomain_runbin(home, "missing"), -1, "runbin missing program");

  stralloc_free(&sa);
  stralloc_free(&names);
  stralloc_free(&big);
}

static void test_reload(const char *home)
{
  stralloc how = STRALLOC_ZERO;
  char buf[8];
  int fd, wstat;
  pid_t pid;

  /* nothing to reach */
  setenv("QMAILSEND_SERVICE", tmpdir_path("nosuchservice"), 1);
  check_long(vdomain_reload(home, &how), 0, "reload with no qmail-send");

  /* a supervised service: 'h' in its control pipe */
  mkdir(tmpdir_path("service"), 0755);
  mkdir(tmpdir_path("service/supervise"), 0755);
  mkfifo(tmpdir_path("service/supervise/control"), 0600);
  fd = open(tmpdir_path("service/supervise/control"), O_RDONLY | O_NONBLOCK);
  setenv("QMAILSEND_SERVICE", tmpdir_path("service"), 1);
  check_long(vdomain_reload(home, &how), 1, "reload through supervise");
  check(how.len && strstr(how.s, "svc -h "), "reload says svc -h");
  check_long(read(fd, buf, sizeof buf), 1, "supervise got one byte");
  check_long(buf[0], 'h', "supervise got h");
  close(fd);
  /* no supervise reading the pipe: not reached */
  check_long(vdomain_reload(home, &how), 0, "reload with supervise down");

  /* a process run from home/bin/qmail-send gets SIGHUP */
  setenv("QMAILSEND_SERVICE", tmpdir_path("nosuchservice"), 1);
  {
    stralloc sa = STRALLOC_ZERO;
    int in = open("/bin/sleep", O_RDONLY), out = open(tmpdir_path("bin/qmail-send"), O_WRONLY | O_CREAT | O_TRUNC, 0755);
    char b[65536];
    ssize_t r;
    while ((r = read(in, b, sizeof b)) > 0) if (write(out, b, (size_t)r) != r) break;
    close(in);
    close(out);
    stralloc_free(&sa);
  }
  pid = fork();
  if (pid == 0) {
    char *argv[] = { "qmail-send", "30", 0 };
    execv(tmpdir_path("bin/qmail-send"), argv);
    _exit(127);
  }
  {
    int tries;
    for (tries = 0; tries < 200; ++tries) { /* until the exec has happened */
      char fn[64], comm[32];
      ssize_t r;
      snprintf(fn, sizeof fn, "/proc/%d/comm", (int)pid);
      fd = open(fn, O_RDONLY);
      r = fd == -1 ? 0 : read(fd, comm, sizeof comm);
      if (fd != -1) close(fd);
      if (r == 11 && !memcmp(comm, "qmail-send\n", 11)) break;
      usleep(10000);
    }
  }
  check_long(vdomain_reload(home, &how), 1, "reload through /proc");
  check(how.len && strstr(how.s, "SIGHUP to 1 qmail-send process"), "reload says SIGHUP");
  check(waitpid(pid, &wstat, 0) == pid && WIFSIGNALED(wstat) && WTERMSIG(wstat) == SIGHUP, "qmail-send got SIGHUP");
  unsetenv("QMAILSEND_SERVICE");
  stralloc_free(&how);
}

static void test_rmtree(void)
{
  mkdir(tmpdir_path("tree"), 0755);
  mkdir(tmpdir_path("tree/a"), 0700);
  mkdir(tmpdir_path("tree/a/b"), 0500);        /* read-only dirs still go */
  mkdir(tmpdir_path("keep"), 0755);
  putfile("keep/file", "x", 0644);
  putfile("tree/f", "x", 0644);
  {
    char target[512];
    snprintf(target, sizeof target, "%s", tmpdir_path("keep"));
    check(symlink(target, tmpdir_path("tree/a/link")) == 0, "rmtree: symlink made");
    snprintf(target, sizeof target, "%s", tmpdir_path("keep/file"));
    check(symlink(target, tmpdir_path("tree/filelink")) == 0, "rmtree: file symlink made");
  }
  check_long(rmtree_at(AT_FDCWD, tmpdir_path("tree")), 0, "rmtree");
  check(access(tmpdir_path("tree"), F_OK) == -1, "rmtree: tree gone");
  check(access(tmpdir_path("keep/file"), F_OK) == 0, "rmtree: symlink target kept");
  check_long(rmtree_at(AT_FDCWD, tmpdir_path("tree")), 0, "rmtree of a missing path");
}

int main(void)
{
  char home[256];
  test_names();
  test_get();
  snprintf(home, sizeof home, "%s", tmpdir_name);
  test_controls(home);
  test_reload(home);
  test_rmtree();
  tmpdir_remove();
  return check_end();
}
