/* Tests for lib/maildirquota.c.
 * not tested: read errors other than a missing Maildir; a short write of
 * the appended line (disk full); the count in a folder that vanishes while
 * it is read. */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "maildirquota.h"
#include "tmpdir.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static void test_parse(void)
{
  static const struct { const char *in; int ok; uint64_t bytes, count; } cases[] = {
    { "NOQUOTA", 1, 0, 0 },
    { "noquota", 1, 0, 0 },
    { "", 1, 0, 0 },
    { "1000000S", 1, 1000000, 0 },
    { "1000000S,1000C", 1, 1000000, 1000 },
    { "1000C,1000000S", 1, 1000000, 1000 },
    { "1000C", 1, 0, 1000 },
    { "5s,7c", 1, 5, 7 },
    { "0S", 1, 0, 0 },
    { "1000000", 1, 1000000, 0 },                       /* old style: bytes */
    { "1MB", 1, 1048576, 0 },
    { "1mb", 1, 1048576, 0 },
    { "2M", 1, 2097152, 0 },
    { "1000KB", 1, 1024000, 0 },
    { "1000k", 1, 1024000, 0 },
    { "0", 1, 0, 0 },
    { "18446744073709551615S", 1, UINT64_MAX, 0 },
    { "18446744073709551616S", 0, 0, 0 },              /* overflows */
    { "17592186044416M", 0, 0, 0 },                     /* overflows once multiplied */
    { "17592186044415M", 1, UINT64_C(17592186044415) * 1048576, 0 },
    { "1000S,", 0, 0, 0 },
    { ",1000S", 0, 0, 0 },
    { "1000S,2000S", 0, 0, 0 },                        /* twice */
    { "1000S,5C,6C", 0, 0, 0 },
    { "1000X", 0, 0, 0 },
    { "1000S 5C", 0, 0, 0 },
    { "S", 0, 0, 0 },
    { "-5S", 0, 0, 0 },
    { " 1000S", 0, 0, 0 },
    { "1000S\n", 0, 0, 0 },
    { "1GB", 0, 0, 0 },
    { "1MBS", 0, 0, 0 },
    { "NOQUOTAS", 0, 0, 0 },
    { "1000000000000000000000000000000000000000000000000000000000000000S", 0, 0, 0 }, /* over 64 bytes */
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    struct maildirquota q = { 77, 77 };
    int ok = maildirquota_parse(cases[i].in, strlen(cases[i].in), &q);
    check_long(ok, cases[i].ok, "parse %zu: result", i);
    if (ok && cases[i].ok) {
      check(q.bytes == cases[i].bytes, "parse %zu: bytes %llu", i, (unsigned long long)q.bytes);
      check(q.count == cases[i].count, "parse %zu: count %llu", i, (unsigned long long)q.count);
    }
    if (!ok) check(q.bytes == 77 && q.count == 77, "parse %zu: q untouched on failure", i);
  }
  /* an embedded NUL is not the end of the field */
  {
    struct maildirquota q;
    check_long(maildirquota_parse("100S\0,5C", 8, &q), 0, "parse: NUL inside");
  }
}

static void test_fmt(void)
{
  static const struct { uint64_t bytes, count; const char *want; } cases[] = {
    { 0, 0, "NOQUOTA" },
    { 1000000, 0, "1000000S" },
    { 0, 1000, "1000C" },
    { 1048576, 1000, "1048576S,1000C" },
    { UINT64_MAX, UINT64_MAX, "18446744073709551615S,18446744073709551615C" },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    char buf[MAILDIRQUOTA_FMT];
    struct maildirquota q = { cases[i].bytes, cases[i].count }, back;
    size_t n = maildirquota_fmt(buf, &q);
    check_bytes(buf, n, cases[i].want, strlen(cases[i].want), "fmt %zu", i);
    check_long(maildirquota_fmt(0, &q), n, "fmt %zu: length without a buffer", i);
    check(maildirquota_parse(buf, n, &back) && back.bytes == q.bytes && back.count == q.count,
          "fmt %zu: parses back", i);
  }
}

static void test_parsesize(void)
{
  static const struct { const char *in; int ok; int64_t bytes, count; uint64_t qb, qc; } cases[] = {
    { "1000S\n", 1, 0, 0, 1000, 0 },
    { "1000S,10C\n100 1\n200 1\n", 1, 300, 2, 1000, 10 },
    { "1000S\n      100       1\n-50 -1\n", 1, 50, 0, 1000, 0 },  /* Courier pads with blanks */
    { "1000S\n100\t1\n", 1, 100, 1, 1000, 0 },
    { "1000S\n100 1  \n", 1, 100, 1, 1000, 0 },
    { "1000S\n-500 -3\n", 1, -500, -3, 1000, 0 },                 /* callers clamp */
    { "1000S\n100 1", 0, 0, 0, 0, 0 },                            /* cut short */
    { "1000S", 0, 0, 0, 0, 0 },
    { "", 0, 0, 0, 0, 0 },
    { "\n", 1, 0, 0, 0, 0 },                                      /* empty definition: no quota */
    { "1000S\n100\n", 0, 0, 0, 0, 0 },
    { "1000S\n100 1 1\n", 0, 0, 0, 0, 0 },
    { "1000S\nabc 1\n", 0, 0, 0, 0, 0 },
    { "1000S\n100 x\n", 0, 0, 0, 0, 0 },
    { "1000S\n100 - 1\n", 0, 0, 0, 0, 0 },
    { "1000S\n\n", 0, 0, 0, 0, 0 },
    { "1000S\n1001 1\n", 1, 1001, 1, 1000, 0 },
    { "junk\n100 1\n", 0, 0, 0, 0, 0 },
    { "1000S\n9223372036854775807 1\n1 1\n", 0, 0, 0, 0, 0 },    /* sum overflows */
    { "1000S\n9223372036854775808 1\n", 0, 0, 0, 0, 0 },         /* number overflows */
    { "1000S\n100 1\r\n", 0, 0, 0, 0, 0 },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    struct maildirquota q;
    struct maildirquota_usage u;
    int ok = maildirquota_parsesize(cases[i].in, strlen(cases[i].in), &q, &u);
    check_long(ok, cases[i].ok, "parsesize %zu: result", i);
    if (ok && cases[i].ok) {
      check_long(u.bytes, cases[i].bytes, "parsesize %zu: bytes", i);
      check_long(u.count, cases[i].count, "parsesize %zu: count", i);
      check(q.bytes == cases[i].qb && q.count == cases[i].qc, "parsesize %zu: definition", i);
    }
  }
}

static void test_exceeds(void)
{
  static const struct { uint64_t qb, qc; int64_t ub, uc; uint64_t size; int exceeds; unsigned pct; } cases[] = {
    { 0, 0, 999999, 999, 1000000, 0, 0 },        /* no quota */
    { 1000, 0, 0, 0, 1000, 0, 0 },               /* exactly full is allowed */
    { 1000, 0, 0, 0, 1001, 1, 0 },
    { 1000, 0, 900, 9, 100, 0, 90 },
    { 1000, 0, 900, 9, 101, 1, 90 },
    { 1000, 0, 1500, 9, 0, 1, 150 },             /* already over */
    { 1000, 0, -200, -2, 1000, 0, 0 },           /* negative sums count as 0 */
    { 0, 10, 5000, 9, 5000, 0, 90 },
    { 0, 10, 5000, 10, 1, 1, 100 },
    { 1000, 10, 10, 10, 1, 1, 100 },
    { 1000, 10, 990, 1, 11, 1, 99 },
    { UINT64_MAX, 0, INT64_MAX, 0, UINT64_MAX, 1, 50 },  /* 49.99..., off by one at this size */
    { 99, 0, INT64_MAX, 0, 0, 1, 1000000 },      /* capped */
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    struct maildirquota q = { cases[i].qb, cases[i].qc };
    struct maildirquota_usage u = { cases[i].ub, cases[i].uc };
    check_long(maildirquota_exceeds(&q, &u, cases[i].size), cases[i].exceeds, "exceeds %zu", i);
    check_long(maildirquota_percent(&q, &u), cases[i].pct, "percent %zu", i);
  }
}

static void put(const char *rel, size_t size)
{
  char buf[4096];
  const char *p = tmpdir_path(rel);
  memset(buf, 'x', sizeof buf);
  tmpdir_write(p, buf, size);
}

/* Sets the mtime of rel (and of the Maildir's dirs: nothing "changed
 * during the count") into the past by secs. */
static void age(const char *rel, int secs)
{
  struct timespec t[2];
  clock_gettime(CLOCK_REALTIME, &t[0]);
  t[0].tv_sec -= secs;
  t[1] = t[0];
  utimensat(AT_FDCWD, tmpdir_path(rel), t, 0);
}

static void age_dirs(void)
{
  static const char *const dirs[] = { "Maildir/new", "Maildir/cur", "Maildir/.Sent/cur", "Maildir/.Sent/new",
                                      "Maildir/.Trash/cur", "Maildir/.Trash/new" };
  size_t i;
  for (i = 0; i < N(dirs); ++i) age(dirs[i], 10);
}

static const char *readfile(const char *rel)
{
  static char buf[8192];
  int fd = open(tmpdir_path(rel), O_RDONLY);
  ssize_t n;
  if (fd == -1) return "(missing)";
  n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n < 0 ? 0 : n] = 0;
  return buf;
}

static void test_files(void)
{
  static const char *const dirs[] = { "Maildir", "Maildir/new", "Maildir/cur", "Maildir/tmp",
                                      "Maildir/.Sent", "Maildir/.Sent/new", "Maildir/.Sent/cur",
                                      "Maildir/.Trash", "Maildir/.Trash/cur", "Maildir/.Trash/new",
                                      "other", "other/cur" };
  struct maildirquota q = { 100000, 0 }, q2 = { 50000, 100 }, none = { 0, 0 };
  struct maildirquota_usage u;
  char md[512];
  size_t i;

  tmpdir_make("maildirquota_test");
  for (i = 0; i < N(dirs); ++i) mkdir(tmpdir_path(dirs[i]), 0700);
  snprintf(md, sizeof md, "%s", tmpdir_path("Maildir"));

  put("Maildir/new/1000.1.host,S=1234", 10);     /* the name's size wins over the file's */
  put("Maildir/new/1001.2.host", 300);
  put("Maildir/cur/1002.3.host,S=2000:2,S", 5);
  put("Maildir/cur/1003.4.host:2,S", 400);        /* ",S" in the info is a flag, not a size */
  put("Maildir/cur/.hidden", 999);
  put("Maildir/tmp/1004.5.host", 999);            /* tmp/ does not count */
  put("Maildir/.Sent/cur/1005.6.host,S=100:2,S", 1);
  put("Maildir/.Sent/new/1006.7.host", 50);
  put("Maildir/.Trash/cur/1007.8.host,S=99999:2,ST", 1);   /* .Trash does not count */
  put("other/cur/1008.9.host,S=77777", 1);
  if (symlink("../other", tmpdir_path("Maildir/.Link")) == -1) perror("symlink"); /* not followed */
  mkdir(tmpdir_path("Maildir/.Empty"), 0700);     /* a folder without new/ cur/ */
  put("Maildir/.notafolder", 5);
  age_dirs();

  u.bytes = u.count = -9;
  check_long(maildirquota_read(md, &q, &u), 0, "read: missing maildirsize says recalculate");
  check_long(maildirquota_recalc(md, &q, &u), 0, "recalc");
  check_long(u.bytes, 1234 + 300 + 2000 + 400 + 100 + 50, "recalc: bytes");
  check_long(u.count, 6, "recalc: count");
  check_str(readfile("Maildir/maildirsize"), "100000S\n4084 6\n", "recalc: the file written");
  unlink(tmpdir_path("Maildir/maildirsize"));
  u.bytes = u.count = -9;
  check_long(maildirquota_count(md, &u), 0, "count");
  check_long(u.bytes, 4084, "count: bytes");
  check_long(u.count, 6, "count: count");
  check_str(readfile("Maildir/maildirsize"), "(missing)", "count: writes nothing");
  check_long(maildirquota_recalc(md, &q, &u), 0, "recalc again");
  check_long(maildirquota_read(md, &q, &u), 1, "read: fresh file");
  check_long(u.bytes, 4084, "read: bytes");
  check_long(maildirquota_add(md, 500, 1), 1, "add");
  check_long(maildirquota_add(md, -84, -1), 1, "add a removal");
  check_str(readfile("Maildir/maildirsize"), "100000S\n4084 6\n500 1\n-84 -1\n", "add: lines appended");
  check_long(maildirquota_get(md, &q, &u), 0, "get");
  check_long(u.bytes, 4500, "get: sum of the lines");
  check_long(u.count, 6, "get: count");

  /* another quota than the file's: recalculated for the new one */
  check_long(maildirquota_read(md, &q2, &u), 0, "read: other definition says recalculate");
  check_long(maildirquota_get(md, &q2, &u), 0, "get with another quota");
  check_long(u.bytes, 4084, "get with another quota: counted afresh");
  check_str(readfile("Maildir/maildirsize"), "50000S,100C\n4084 6\n", "get with another quota: rewritten");

  /* older than 15 minutes: counted again */
  check_long(maildirquota_add(md, 1, 1), 1, "add before aging");
  age("Maildir/maildirsize", MAILDIRQUOTA_MAXAGE + 5);
  check_long(maildirquota_read(md, &q2, &u), 0, "read: an old file says recalculate");
  check_long(maildirquota_get(md, &q2, &u), 0, "get: old file");
  check_long(u.bytes, 4084, "get: old file recounted");
  age("Maildir/maildirsize", MAILDIRQUOTA_MAXAGE - 60);
  check_long(maildirquota_read(md, &q2, &u), 1, "read: 14 minutes is still fresh");

  /* over 5120 bytes: counted again */
  for (i = 0; i < 1300; ++i) maildirquota_add(md, 1, 0);
  check_long(maildirquota_read(md, &q2, &u), 0, "read: a file over 5120 bytes says recalculate");
  check_long(maildirquota_get(md, &q2, &u), 0, "get: big file");
  check_long(u.bytes, 4084, "get: big file recounted");
  check_long(strlen(readfile("Maildir/maildirsize")), strlen("50000S,100C\n4084 6\n"), "get: big file rewritten small");

  /* a damaged file (a line cut short) */
  tmpdir_write(tmpdir_path("Maildir/maildirsize"), "50000S,100C\n4084 6\n99", 22);
  check_long(maildirquota_read(md, &q2, &u), 0, "read: damaged file says recalculate");
  check_long(maildirquota_get(md, &q2, &u), 0, "get: damaged file");
  check_long(u.bytes, 4084, "get: damaged file recounted");

  /* a message arriving: the count changes (new/ touched just now), so the
   * numbers are used but not saved */
  put("Maildir/new/1009.10.host,S=16", 16);
  check_long(maildirquota_recalc(md, &q2, &u), 0, "recalc during a delivery");
  check_long(u.bytes, 4100, "recalc during a delivery: counted");
  check_str(readfile("Maildir/maildirsize"), "(missing)", "recalc during a delivery: not saved");
  check_long(maildirquota_add(md, 16, 1), 0, "add without a file: nothing");
  check_str(readfile("Maildir/maildirsize"), "(missing)", "add without a file: not created");
  age_dirs();

  /* no quota: nothing read or written; recalc removes the file */
  check_long(maildirquota_recalc(md, &q2, &u), 0, "recalc again");
  check_long(maildirquota_get(md, &none, &u), 0, "get with no quota");
  check_long(u.bytes, 0, "get with no quota: zero");
  check_str(readfile("Maildir/maildirsize"), "50000S,100C\n4100 7\n", "get with no quota: file untouched");
  check_long(maildirquota_recalc(md, &none, &u), 0, "recalc with no quota");
  check_long(u.bytes, 4100, "recalc with no quota: still counts");
  check_str(readfile("Maildir/maildirsize"), "(missing)", "recalc with no quota: file removed");

  /* a symlink as maildirsize is not followed */
  if (symlink("../other/cur/1008.9.host,S=77777", tmpdir_path("Maildir/maildirsize")) == 0) {
    check_long(maildirquota_read(md, &q, &u), 0, "read: symlinked maildirsize says recalculate");
    check_long(maildirquota_add(md, 5, 1), 0, "add: symlinked maildirsize not written through");
    check_long(maildirquota_get(md, &q, &u), 0, "get replaces the symlink");
    check_str(readfile("Maildir/maildirsize"), "100000S\n4100 7\n", "symlink replaced by a file");
    check_str(readfile("other/cur/1008.9.host,S=77777"), "x", "symlink target untouched");
  }

  /* no tmp/: counted, not saved, not an error for get */
  unlink(tmpdir_path("Maildir/tmp/1004.5.host"));
  check_long(rmdir(tmpdir_path("Maildir/tmp")), 0, "tmp/ removed");
  unlink(tmpdir_path("Maildir/maildirsize"));
  check_long(maildirquota_get(md, &q, &u), 0, "get without tmp/");
  check_long(u.bytes, 4100, "get without tmp/: counted");
  errno = 0;
  check_long(maildirquota_recalc(md, &q, &u), -1, "recalc without tmp/: error");
  check_long(errno, ENOENT, "recalc without tmp/: ENOENT");

  /* no Maildir at all */
  errno = 0;
  check_long(maildirquota_get(tmpdir_path("nosuch"), &q, &u), -1, "get: missing Maildir");
  check_long(errno, ENOENT, "get: missing Maildir: ENOENT");
  check_long(maildirquota_add(tmpdir_path("nosuch"), 1, 1), -1, "add: missing Maildir");
  tmpdir_remove();
}

int main(void)
{
  test_parse();
  test_fmt();
  test_parsesize();
  test_exceeds();
  test_files();
  return check_end();
}
