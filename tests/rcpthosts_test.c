/* Tests for lib/rcpthosts.c.
 * not tested: running out of memory; a morercpthosts.cdb that cannot be
 * opened for another reason than being absent (as root every file can be
 * opened; a directory stands in, as cdb_init then fails). */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdbmake.h"
#include "check.h"
#include "rcpthosts.h"
#include "tmpdir.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

/* Writes control/morercpthosts.cdb with the given keys (as qmail-newmrh
 * would: empty data, keys as given). */
static void makecdb(const char *const *keys, size_t n)
{
  struct cdbmake cm;
  size_t i;
  int fd = open("control/morercpthosts.cdb", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd == -1 || cdbmake_start(&cm, fd) == -1) { perror("cdb"); exit(111); }
  for (i = 0; i < n; ++i)
    if (cdbmake_add(&cm, keys[i], strlen(keys[i]), "", 0) == -1) { perror("cdb"); exit(111); }
  if (cdbmake_finish(&cm) == -1 || close(fd) == -1) { perror("cdb"); exit(111); }
}

static void putfile(const char *fn, const char *s)
{
  tmpdir_write(fn, s, strlen(s));
}

static void test_rules(void)
{
  static const char *const mrh[] = { "more.example", ".sub.more.example", "upper.example" };
  static const struct { const char *addr; int want; } cases[] = {
    { "postmaster", 1 },                       /* no '@': always allowed */
    { "", 1 },
    { "a@example.com", 1 },                    /* exact */
    { "a@EXAMPLE.Com", 1 },                    /* case-insensitive */
    { "a@mail.example.com", 0 },               /* "example.com" is not a wildcard */
    { "a@example.net", 0 },                    /* ".example.net" does not match itself */
    { "a@mail.example.net", 1 },               /* ".example.net" matches subdomains */
    { "a@a.b.c.example.net", 1 },
    { "a@A.B.Example.NET", 1 },
    { "a@xexample.net", 0 },                   /* suffixes start at dots only */
    { "a@example.com.", 0 },                   /* a trailing dot is a different domain, as in qmail */
    { "a@", 0 },                               /* empty domain */
    { "@", 0 },
    { "a@b@example.com", 1 },                  /* the domain follows the last '@' */
    { "a@example.com@evil.example", 0 },
    { "a@evil.example@", 0 },
    { "a%evil.example@example.com", 1 },       /* percent hack is qmail-send's business */
    { "a@.example.net", 1 },                   /* ".example.net" itself as the domain */
    { "a@more.example", 1 },                   /* morercpthosts.cdb, exact */
    { "a@MORE.example", 1 },                   /* looked up lowercased */
    { "a@x.more.example", 0 },
    { "a@x.sub.more.example", 1 },             /* cdb wildcard */
    { "a@sub.more.example", 0 },
    { "a@upper.example", 1 },
    { "a@[127.0.0.1]", 1 },                    /* listed literally */
    { "a@[127.0.0.2]", 0 },
    { "a@other.example", 0 },
  };
  struct rcpthosts r;
  size_t i;

  putfile("control/rcpthosts", "example.com\n# comment\n.example.net\n\n[127.0.0.1]\n");
  makecdb(mrh, N(mrh));
  check_long(rcpthosts_init(&r), 1, "init with both files");
  for (i = 0; i < N(cases); ++i)
    check_long(rcpthosts_allowed(&r, cases[i].addr, strlen(cases[i].addr)), cases[i].want,
               "allowed(%s)", cases[i].addr);
  /* the length is honoured: bytes past it are not part of the address */
  check_long(rcpthosts_allowed(&r, "a@example.comX", 13), 1, "length bounds the address");
  check_long(rcpthosts_allowed(&r, "a@example.com", 12), 0, "a shorter length is another domain");
  /* a NUL inside cannot make a listed suffix match the rest */
  check_long(rcpthosts_allowed(&r, "a@example.com\0.x", 16), 0, "a NUL is part of the domain");
  rcpthosts_free(&r);
  check_long(r.fdmrh, -1, "free closes morercpthosts.cdb");
}

static void test_files(void)
{
  struct rcpthosts r;

  /* no rcpthosts: everything allowed, even with a cdb around */
  unlink("control/rcpthosts");
  check_long(rcpthosts_init(&r), 0, "no rcpthosts: init says 0");
  check_long(rcpthosts_allowed(&r, "a@anything.example", 18), 1, "no rcpthosts: all allowed");
  check_long(r.fdmrh, -1, "no rcpthosts: the cdb is not opened");
  rcpthosts_free(&r);

  /* rcpthosts without a cdb */
  unlink("control/morercpthosts.cdb");
  putfile("control/rcpthosts", "example.com\n");
  check_long(rcpthosts_init(&r), 1, "rcpthosts alone: init 1");
  check_long(rcpthosts_allowed(&r, "a@example.com", 13), 1, "rcpthosts alone: listed");
  check_long(rcpthosts_allowed(&r, "a@more.example", 14), 0, "rcpthosts alone: unlisted");
  rcpthosts_free(&r);

  /* empty rcpthosts: nothing with '@' allowed */
  putfile("control/rcpthosts", "");
  check_long(rcpthosts_init(&r), 1, "empty rcpthosts: init 1");
  check_long(rcpthosts_allowed(&r, "a@example.com", 13), 0, "empty rcpthosts: refused");
  check_long(rcpthosts_allowed(&r, "a", 1), 1, "empty rcpthosts: no '@' allowed");
  rcpthosts_free(&r);

  /* only the cdb lists the domain */
  {
    static const char *const keys[] = { "only.example" };
    makecdb(keys, 1);
    check_long(rcpthosts_init(&r), 1, "cdb only: init 1");
    check_long(rcpthosts_allowed(&r, "x@Only.Example", 14), 1, "cdb only: found");
    rcpthosts_free(&r);
  }

  /* a corrupt cdb (too short) is a temporary failure, not "allowed" */
  putfile("control/morercpthosts.cdb", "garbage");
  errno = 0;
  check_long(rcpthosts_init(&r), -1, "short cdb: init -1");
  rcpthosts_free(&r);

  /* a cdb whose hash table points outside the file */
  {
    char bad[2048 + 8];
    size_t i;
    memset(bad, 0, sizeof bad);
    for (i = 0; i < 256; ++i) { bad[i * 8] = (char)0xff; bad[i * 8 + 1] = (char)0xff; bad[i * 8 + 4] = 2; }
    tmpdir_write("control/morercpthosts.cdb", bad, sizeof bad);
    putfile("control/rcpthosts", "example.com\n");
    check_long(rcpthosts_init(&r), 1, "corrupt cdb: init maps it");
    check_long(rcpthosts_allowed(&r, "a@example.com", 13), 1, "corrupt cdb: rcpthosts still answers first");
    check_long(rcpthosts_allowed(&r, "a@x.example", 11), -1, "corrupt cdb: lookup is a temporary failure");
    rcpthosts_free(&r);
  }

  /* unreadable rcpthosts (a directory) */
  unlink("control/morercpthosts.cdb");
  unlink("control/rcpthosts");
  mkdir("control/rcpthosts", 0755);
  check_long(rcpthosts_init(&r), -1, "unreadable rcpthosts: init -1");
  rcpthosts_free(&r);
  rmdir("control/rcpthosts");

  /* an unopenable/unmappable cdb (a directory) */
  putfile("control/rcpthosts", "example.com\n");
  mkdir("control/morercpthosts.cdb", 0755);
  check_long(rcpthosts_init(&r), -1, "unmappable cdb: init -1");
  rcpthosts_free(&r);
  rmdir("control/morercpthosts.cdb");
}

int main(void)
{
  tmpdir_make("rcpthosts_test");
  if (chdir(tmpdir_name) == -1 || mkdir("control", 0755) == -1) { perror(tmpdir_name); return 111; }
  test_rules();
  test_files();
  if (chdir("/") == -1) return 111;
  tmpdir_remove();
  return check_end();
}
