/* Tests for lib/vpasswd.c.
 * not tested: running out of memory; a failing fsync or rename; the chown
 * done as root; two processes editing at once (tests/e2e/vdomain_test.py
 * runs commands in parallel). */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "cdb.h"
#include "check.h"
#include "stralloc.h"
#include "tmpdir.h"
#include "vpasswd.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static const struct {
  const char *in;
  int r;
  const char *name, *passwd;
  unsigned long uid, flags;
  const char *gecos, *dir, *quota, *clearpw;
} parsecases[] = {
  { "joe:$6$s$h:1:0:Joe Bloggs:/v/domains/ex.com/joe:NOQUOTA", 1, "joe", "$6$s$h", 1, 0, "Joe Bloggs", "/v/domains/ex.com/joe", "NOQUOTA", 0 },
  { "joe:$6$s$h:1:0:Joe Bloggs:/v/domains/ex.com/joe:NOQUOTA\n", 1, "joe", "$6$s$h", 1, 0, "Joe Bloggs", "/v/domains/ex.com/joe", "NOQUOTA", 0 },
  { "joe:x:2:2050:J:/d/joe:1000000S,100C:secret", 1, "joe", "x", 2, 2050, "J", "/d/joe", "1000000S,100C", "secret" },
  { "joe:x:1:0:J:/d/joe:NOQUOTA:", 1, "joe", "x", 1, 0, "J", "/d/joe", "NOQUOTA", "" },
  { "joe::::::/d/joe:", 0, 0, 0, 0, 0, 0, 0, 0, 0 },                        /* 8 fields, dir empty */
  { "joe::::/d/joe:", 0, 0, 0, 0, 0, 0, 0, 0, 0 },                          /* 6 fields */
  { "joe:::::/d/joe:", 1, "joe", "", 0, 0, "", "/d/joe", "", 0 },           /* empty numbers read as 0 */
  { "joe:x:1:0:J:/d/joe", 0, 0, 0, 0, 0, 0, 0, 0, 0 },                      /* 6 fields */
  { "joe:x:1:0:J:/d/joe:Q:c:extra", 0, 0, 0, 0, 0, 0, 0, 0, 0 },            /* 9 fields */
  { ":x:1:0:J:/d/joe:NOQUOTA", 0, 0, 0, 0, 0, 0, 0, 0, 0 },                 /* empty name */
  { "jo e:x:1:0:J:/d/joe:NOQUOTA", 0, 0, 0, 0, 0, 0, 0, 0, 0 },             /* space in name */
  { "jo\te:x:1:0:J:/d/joe:NOQUOTA", 0, 0, 0, 0, 0, 0, 0, 0, 0 },
  { "joe:x:one:0:J:/d/joe:NOQUOTA", 0, 0, 0, 0, 0, 0, 0, 0, 0 },
  { "joe:x:1:-1:J:/d/joe:NOQUOTA", 0, 0, 0, 0, 0, 0, 0, 0, 0 },
  { "joe:x:1:4294967296:J:/d/joe:NOQUOTA", 0, 0, 0, 0, 0, 0, 0, 0, 0 },     /* over 32 bits */
  { "joe:x:1:4294967295:J:/d/joe:NOQUOTA", 1, "joe", "x", 1, 4294967295UL, "J", "/d/joe", "NOQUOTA", 0 },
  { "joe:x:1:0:J:d/joe:NOQUOTA", 0, 0, 0, 0, 0, 0, 0, 0, 0 },               /* relative dir */
  { "", 0, 0, 0, 0, 0, 0, 0, 0, 0 },
  { "\n", 0, 0, 0, 0, 0, 0, 0, 0, 0 },
  { "joe:x:1:0:J:/d/joe:NOQUOTA\n\n", 0, 0, 0, 0, 0, 0, 0, 0, 0 },          /* two newlines */
};

static void test_parse(void)
{
  stralloc buf = STRALLOC_ZERO;
  struct vpasswd pw;
  size_t i;
  for (i = 0; i < N(parsecases); ++i) {
    int r = vpasswd_parse(parsecases[i].in, strlen(parsecases[i].in), &pw, &buf);
    check_long(r, parsecases[i].r, "parse %zu result", i);
    if (r != 1 || parsecases[i].r != 1) continue;
    check_str(pw.name, parsecases[i].name, "parse %zu name", i);
    check_str(pw.passwd, parsecases[i].passwd, "parse %zu passwd", i);
    check_long(pw.uid, parsecases[i].uid, "parse %zu uid", i);
    check_long(pw.flags, parsecases[i].flags, "parse %zu flags", i);
    check_str(pw.gecos, parsecases[i].gecos, "parse %zu gecos", i);
    check_str(pw.dir, parsecases[i].dir, "parse %zu dir", i);
    check_str(pw.quota, parsecases[i].quota, "parse %zu quota", i);
    check_str(pw.clearpw, parsecases[i].clearpw, "parse %zu clearpw", i);
  }
  /* a NUL inside, and the length limit */
  check_long(vpasswd_parse("joe:x:1:0:J\0:/d/joe:NOQUOTA", 26, &pw, &buf), 0, "parse NUL");
  {
    stralloc big = STRALLOC_ZERO;
    stralloc_copys(&big, "joe:x:1:0:");
    while (big.len < VPASSWD_MAXLINE - 13) stralloc_append(&big, 'g');
    stralloc_cats(&big, ":/d/joe:NOQUO");
    check_long(big.len, VPASSWD_MAXLINE, "parse limit line length");
    check_long(vpasswd_parse(big.s, big.len, &pw, &buf), 1, "parse line of the limit");
    stralloc_append(&big, 'T');
    check_long(vpasswd_parse(big.s, big.len, &pw, &buf), 0, "parse line over the limit");
    stralloc_free(&big);
  }
  stralloc_free(&buf);
}

static void test_fmt(void)
{
  static const struct { struct vpasswd pw; int r; const char *want; } cases[] = {
    { { "joe", "$6$s$h", 1, 0, "Joe", "/d/joe", "NOQUOTA", 0 }, 1, "joe:$6$s$h:1:0:Joe:/d/joe:NOQUOTA\n" },
    { { "joe", "", 2, 0x812, "", "/d/joe", "5000S", "pw" }, 1, "joe::2:2066::/d/joe:5000S:pw\n" },
    { { "joe", "x", 1, 0, "Jo:e", "/d/joe", "NOQUOTA", 0 }, -1, 0 },          /* ':' in gecos */
    { { "joe", "x", 1, 0, "Jo\ne", "/d/joe", "NOQUOTA", 0 }, -1, 0 },
    { { "joe", "x", 1, 0, "J", "/d/joe", "NOQUOTA", "a:b" }, -1, 0 },
    { { "", "x", 1, 0, "J", "/d/joe", "NOQUOTA", 0 }, -1, 0 },
    { { "j e", "x", 1, 0, "J", "/d/joe", "NOQUOTA", 0 }, -1, 0 },
    { { "joe", "x", 1, 0, "J", "d/joe", "NOQUOTA", 0 }, -1, 0 },
    { { "joe", 0, 1, 0, "J", "/d/joe", "NOQUOTA", 0 }, -1, 0 },
  };
  stralloc out = STRALLOC_ZERO, buf = STRALLOC_ZERO;
  struct vpasswd back;
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    stralloc_copys(&out, "");
    check_long(vpasswd_fmt(&out, &cases[i].pw), cases[i].r, "fmt %zu result", i);
    if (cases[i].r != 1) { check_long(out.len, 0, "fmt %zu leaves out alone", i); continue; }
    check_bytes(out.s, out.len, cases[i].want, strlen(cases[i].want), "fmt %zu line", i);
    /* what is written reads back the same */
    check_long(vpasswd_parse(out.s, out.len, &back, &buf), 1, "fmt %zu reads back", i);
    check_str(back.gecos, cases[i].pw.gecos, "fmt %zu gecos back", i);
    check_str(back.clearpw, cases[i].pw.clearpw, "fmt %zu clearpw back", i);
  }
  stralloc_free(&out);
  stralloc_free(&buf);
}

static void writefile(const char *fn, const char *s)
{
  int fd = open(fn, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd == -1 || write(fd, s, strlen(s)) != (ssize_t)strlen(s)) { perror(fn); exit(111); }
  close(fd);
}

static void readfile(const char *fn, stralloc *sa)
{
  char b[4096];
  ssize_t r;
  int fd = open(fn, O_RDONLY);
  stralloc_copys(sa, "");
  if (fd == -1) return;
  while ((r = read(fd, b, sizeof b)) > 0) stralloc_catb(sa, b, (size_t)r);
  close(fd);
}

/* The cdb's record for name, as "data" or null. */
static const char *cdbget(const char *dir, const char *name, stralloc *out)
{
  char fn[512];
  struct cdb c;
  int fd;
  snprintf(fn, sizeof fn, "%s/vpasswd.cdb", dir);
  fd = open(fn, O_RDONLY);
  if (fd == -1) return 0;
  if (cdb_init(&c, fd) == -1) { close(fd); return 0; }
  close(fd);
  if (cdb_find(&c, name, strlen(name)) != 1) { cdb_free(&c); return 0; }
  stralloc_copyb(out, cdb_get(&c, cdb_datapos(&c), cdb_datalen(&c)), cdb_datalen(&c));
  stralloc_0(out);
  cdb_free(&c);
  return out->s;
}

static int count_entries(const char *dir)
{
  char fn[512];
  struct cdb c;
  uint32_t pos = 0, kl, dl;
  const char *k, *d;
  int fd, n = 0;
  snprintf(fn, sizeof fn, "%s/vpasswd.cdb", dir);
  fd = open(fn, O_RDONLY);
  if (fd == -1) return -1;
  if (cdb_init(&c, fd) == -1) { close(fd); return -1; }
  close(fd);
  while (cdb_next(&c, &pos, &k, &kl, &d, &dl) == 1) ++n;
  cdb_free(&c);
  return n;
}

static int upper_quota(struct vpasswd *pw, void *arg)
{
  pw->quota = arg;
  pw->flags |= VPW_NO_POP;
  return 0;
}

static int refuse(struct vpasswd *pw, void *arg)
{
  (void)pw; (void)arg;
  return 123;
}

static void test_edit(void)
{
  const char *dir = tmpdir_path("ex.com");
  char dirbuf[512];
  stralloc sa = STRALLOC_ZERO, buf = STRALLOC_ZERO;
  struct vpasswd pw = { "mary", "$6$x$y", 1, 0, "Mary", "/d/mary", "NOQUOTA", 0 }, got;
  unsigned long bad = 99, skipped;
  struct stat st;

  snprintf(dirbuf, sizeof dirbuf, "%s", dir);
  dir = dirbuf;
  mkdir(dir, 0700);
  check_long(vpasswd_lookup(dir, "mary", &got, &buf), 0, "lookup in an empty domain");
  check_long(vpasswd_add(dir, &pw, &bad), VPASSWD_OK, "add mary");
  check_long(bad, 0, "add mary: no bad line");
  readfile(tmpdir_path("ex.com/vpasswd"), &sa);
  check_bytes(sa.s, sa.len, "mary:$6$x$y:1:0:Mary:/d/mary:NOQUOTA\n", 37, "vpasswd after add");
  check_str(cdbget(dir, "mary", &sa), "$6$x$y:1:0:Mary:/d/mary:NOQUOTA", "cdb after add");
  check(stat(tmpdir_path("ex.com/vpasswd"), &st) == 0 && (st.st_mode & 0777) == 0640, "vpasswd mode 0640");
  check(stat(tmpdir_path("ex.com/vpasswd.cdb"), &st) == 0 && (st.st_mode & 0777) == 0640, "vpasswd.cdb mode 0640");
  check(access(tmpdir_path("ex.com/vpasswd.tmp"), F_OK) == -1, "no vpasswd.tmp left");
  check(access(tmpdir_path("ex.com/vpasswd.cdb.tmp"), F_OK) == -1, "no vpasswd.cdb.tmp left");
  check_long(vpasswd_add(dir, &pw, 0), VPASSWD_EXISTS, "add mary twice");

  /* name order, as vpopmail inserts */
  pw.name = "adam"; pw.dir = "/d/adam";
  check_long(vpasswd_add(dir, &pw, 0), VPASSWD_OK, "add adam");
  pw.name = "zed"; pw.dir = "/d/zed"; pw.clearpw = "pw";
  check_long(vpasswd_add(dir, &pw, 0), VPASSWD_OK, "add zed");
  pw.name = "nick"; pw.dir = "/d/nick"; pw.clearpw = 0;
  check_long(vpasswd_add(dir, &pw, 0), VPASSWD_OK, "add nick");
  readfile(tmpdir_path("ex.com/vpasswd"), &sa);
  stralloc_0(&sa);
  check_str(sa.s, "adam:$6$x$y:1:0:Mary:/d/adam:NOQUOTA\n"
                  "mary:$6$x$y:1:0:Mary:/d/mary:NOQUOTA\n"
                  "nick:$6$x$y:1:0:Mary:/d/nick:NOQUOTA\n"
                  "zed:$6$x$y:1:0:Mary:/d/zed:NOQUOTA:pw\n", "vpasswd in name order");
  check_long(count_entries(dir), 4, "cdb has 4 records");

  check_long(vpasswd_lookup(dir, "ZED", &got, &buf), 1, "lookup ZED (lowercased)");
  check_str(got.name, "zed", "lookup zed name");
  check_str(got.clearpw, "pw", "lookup zed clearpw");
  check_str(got.dir, "/d/zed", "lookup zed dir");
  check_long(vpasswd_lookup(dir, "nobody", &got, &buf), 0, "lookup nobody");
  check_long(vpasswd_lookup(dir, "", &got, &buf), 0, "lookup empty name");
  check_long(vpasswd_lookup(dir, "zed:", &got, &buf), 0, "lookup name with colon");

  /* replace, modify, delete */
  pw.name = "nick"; pw.gecos = "Nick N"; pw.quota = "1000S";
  check_long(vpasswd_replace(dir, &pw, 0), VPASSWD_OK, "replace nick");
  check_str(cdbget(dir, "nick", &sa), "$6$x$y:1:0:Nick N:/d/nick:1000S", "cdb after replace");
  pw.name = "ghost";
  check_long(vpasswd_replace(dir, &pw, 0), VPASSWD_NOUSER, "replace ghost");
  check_long(vpasswd_modify(dir, "mary", upper_quota, "2000S", 0), VPASSWD_OK, "modify mary");
  check_long(vpasswd_lookup(dir, "mary", &got, &buf), 1, "lookup mary after modify");
  check_str(got.quota, "2000S", "modify set quota");
  check_long(got.flags, VPW_NO_POP, "modify set flag");
  check_long(vpasswd_modify(dir, "mary", refuse, 0, 0), 123, "modify refused by change()");
  check_long(vpasswd_modify(dir, "ghost", upper_quota, "1S", 0), VPASSWD_NOUSER, "modify ghost");
  check_long(vpasswd_delete(dir, "adam", 0), VPASSWD_OK, "delete adam");
  check_long(vpasswd_delete(dir, "adam", 0), VPASSWD_NOUSER, "delete adam again");
  check_long(vpasswd_lookup(dir, "adam", &got, &buf), 0, "adam gone from the cdb");
  check_long(count_entries(dir), 3, "cdb has 3 records");
  pw.name = "bad"; pw.gecos = "a:b";
  check_long(vpasswd_add(dir, &pw, 0), VPASSWD_BADENTRY, "add with ':' in gecos");
  pw.gecos = "x";

  /* a stale cdb (vpasswd newer, as after a crash between the renames or a
   * hand edit): the text is the truth */
  {
    struct timeval tv[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
    readfile(tmpdir_path("ex.com/vpasswd"), &sa);
    stralloc_cats(&sa, "hand:x:1:0:Hand:/d/hand:NOQUOTA\n");
    stralloc_0(&sa);
    writefile(tmpdir_path("ex.com/vpasswd"), sa.s);
    utimes(tmpdir_path("ex.com/vpasswd.cdb"), tv);
    check_long(vpasswd_lookup(dir, "hand", &got, &buf), 1, "stale cdb: found in the text");
    check_str(got.gecos, "Hand", "stale cdb: the text's entry");
    check_long(vpasswd_lookup(dir, "zed", &got, &buf), 1, "stale cdb: others still found");
    check_long(vpasswd_mkcdb(dir, &skipped, &bad), VPASSWD_OK, "mkcdb");
    check_long(count_entries(dir), 4, "mkcdb: 4 records");
    check_str(cdbget(dir, "hand", &sa), "x:1:0:Hand:/d/hand:NOQUOTA", "mkcdb: hand in the cdb");
  }

  /* a malformed line: edits refuse, mkcdb skips it and leaves the text */
  {
    stralloc text = STRALLOC_ZERO;
    readfile(tmpdir_path("ex.com/vpasswd"), &text);
    stralloc_cats(&text, "broken line\n\nlast:x:1:0:L:/d/last:NOQUOTA");  /* no final newline */
    stralloc_0(&text);
    writefile(tmpdir_path("ex.com/vpasswd"), text.s);
    pw.name = "new"; pw.dir = "/d/new";
    check_long(vpasswd_add(dir, &pw, &bad), VPASSWD_MALFORMED, "add with a malformed line");
    check_long(bad, 5, "malformed line number");
    check_long(vpasswd_delete(dir, "zed", &bad), VPASSWD_MALFORMED, "delete with a malformed line");
    readfile(tmpdir_path("ex.com/vpasswd"), &sa);
    check_bytes(sa.s, sa.len, text.s, text.len - 1, "refused edit leaves vpasswd alone");
    check_long(vpasswd_lookup(dir, "last", &got, &buf), 1, "lookup through the text past a bad line");
    check_long(vpasswd_mkcdb(dir, &skipped, &bad), VPASSWD_OK, "mkcdb with a malformed line");
    check_long(skipped, 1, "mkcdb skipped one");
    check_long(bad, 5, "mkcdb names the first bad line");
    check_long(count_entries(dir), 5, "mkcdb: 5 records");
    readfile(tmpdir_path("ex.com/vpasswd"), &sa);
    check_bytes(sa.s, sa.len, text.s, text.len - 1, "mkcdb leaves vpasswd alone");
    /* repaired, an edit keeps every good line and gives the last one its newline */
    text.len -= 1;
    {
      char *p = strstr(text.s, "broken line\n\n");
      memmove(p, p + 13, text.len - (size_t)(p + 13 - text.s));
      text.len -= 13;
    }
    stralloc_0(&text);
    writefile(tmpdir_path("ex.com/vpasswd"), text.s);
    check_long(vpasswd_delete(dir, "zed", &bad), VPASSWD_OK, "delete after repair");
    readfile(tmpdir_path("ex.com/vpasswd"), &sa);
    stralloc_0(&sa);
    check_str(sa.s, "mary:$6$x$y:1:2:Mary:/d/mary:2000S\n"
                    "nick:$6$x$y:1:0:Nick N:/d/nick:1000S\n"
                    "hand:x:1:0:Hand:/d/hand:NOQUOTA\n"
                    "last:x:1:0:L:/d/last:NOQUOTA\n", "vpasswd after repair and delete");
    stralloc_free(&text);
  }

  /* a corrupt cdb is a temporary failure, not "no such user" */
  writefile(tmpdir_path("ex.com/vpasswd.cdb"), "garbage");
  errno = 0;
  check_long(vpasswd_lookup(dir, "mary", &got, &buf), -1, "corrupt cdb");
  check_long(errno, EPROTO, "corrupt cdb errno");

  /* too big */
  {
    int fd = open(tmpdir_path("ex.com/vpasswd"), O_WRONLY);
    check(fd != -1 && ftruncate(fd, VPASSWD_MAXFILE + 1) == 0, "make a huge vpasswd");
    close(fd);
    pw.name = "new";
    check_long(vpasswd_add(dir, &pw, 0), VPASSWD_TOOBIG, "add to a vpasswd over the limit");
    errno = 0;
    check_long(vpasswd_readfile(dir, &sa), -1, "readfile over the limit");
    check_long(errno, E2BIG, "readfile over the limit errno");
  }
  check_long(vpasswd_add(tmpdir_path("nonexistent"), &pw, 0), -1, "add in a missing domain dir");
  stralloc_free(&sa);
  stralloc_free(&buf);
}

static void test_next(void)
{
  static const char text[] = "a:x:1:0::/a:Q\n\nbad\nb:x:1:0::/b:Q";
  stralloc t = STRALLOC_ZERO, buf = STRALLOC_ZERO;
  struct vpasswd pw;
  size_t pos = 0;
  unsigned long ln = 0;
  stralloc_copyb(&t, text, sizeof text - 1);
  check_long(vpasswd_next(&t, &pos, &ln, &pw, &buf), 1, "next 1");
  check_str(pw.name, "a", "next 1 name");
  check_long(vpasswd_next(&t, &pos, &ln, &pw, &buf), -2, "next 2 malformed");
  check_long(ln, 3, "next 2 line number");
  check_long(vpasswd_next(&t, &pos, &ln, &pw, &buf), 1, "next 3");
  check_str(pw.name, "b", "next 3 name");
  check_long(vpasswd_next(&t, &pos, &ln, &pw, &buf), 0, "next end");
  stralloc_free(&t);
  stralloc_free(&buf);
}

static void test_names(void)
{
  char dir[512];
  stralloc names = STRALLOC_ZERO;
  unsigned long bad = 0;
  snprintf(dir, sizeof dir, "%s", tmpdir_path("names.com"));
  mkdir(dir, 0700);
  check_long(vpasswd_names(dir, &names, &bad), 1, "names: no vpasswd is no user");
  check_long((long)names.len, 0L, "names: none");
  writefile(tmpdir_path("names.com/vpasswd"), "a:x:1:0::/a:Q\n\nbb:x:1:0::/b:Q\nc:x:1:0::/c:Q\n");
  check_long(vpasswd_names(dir, &names, &bad), 1, "names: three users");
  check_bytes(names.s, names.len, "a\0bb\0c\0", 7, "names: each NUL-terminated, in file order");
  writefile(tmpdir_path("names.com/vpasswd"), "a:x:1:0::/a:Q\nbroken\nc:x:1:0::/c:Q\n");
  check_long(vpasswd_names(dir, &names, &bad), 0, "names: a malformed line");
  check_long((long)bad, 2L, "names: its line number");
  stralloc_free(&names);
}

static void test_result(void)
{
  static const struct { int r, e; long code; const char *why; } t[] = {
    { VPASSWD_OK, 0, 0, 0 },
    { VPASSWD_EXISTS, 0, 100, "user already exists: a@b.test" },
    { VPASSWD_NOUSER, 0, 100, "no such user: a@b.test" },
    { VPASSWD_MALFORMED, 0, 111, "vpasswd line 7 malformed: fix it by hand; nothing was changed" },
    { VPASSWD_TOOBIG, 0, 111, "vpasswd is too big; nothing was changed" },
    { VPASSWD_BADENTRY, 0, 100, "the entry cannot be stored (a ':' or control character in it?)" },
    { -1, EIO, 111, "unable to update vpasswd: " },
    { -1, EFBIG, 100, "unable to update vpasswd: " },
  };
  stralloc why = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < sizeof t / sizeof t[0]; ++i) {
    long code;
    errno = t[i].e;
    code = vpasswd_result(t[i].r, 7, "a@b.test", &why);
    check_long(code, t[i].code, "result %zu: exit code", i);
    if (t[i].why)
      check(why.s && !strncmp(why.s, t[i].why, strlen(t[i].why)), "result %zu: %s", i, t[i].why);
    if (t[i].r == -1) check_long((long)errno, (long)t[i].e, "result %zu: errno kept", i);
  }
  stralloc_free(&why);
}

int main(void)
{
  tmpdir_make("vpasswd_test");
  test_result();
  test_names();
  test_parse();
  test_fmt();
  test_next();
  test_edit();
  tmpdir_remove();
  return check_end();
}
