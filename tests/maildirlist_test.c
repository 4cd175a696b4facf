/* Tests for lib/maildirlist.c, on a temporary Maildir.
 * not tested: readdir errors; running out of memory while listing;
 * unreadable new/ when run as root (root reads everything). */

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "check.h"
#include "maildirlist.h"
#include "stralloc.h"
#include "tmpdir.h"

#define N(a) (sizeof (a) / sizeof (a)[0])
#define IN(s) s, sizeof s - 1

static void put(const char *rel, const char *s)
{
  tmpdir_write(tmpdir_path(rel), s, strlen(s));
}

static void setmtime(const char *rel, time_t t)
{
  struct timeval tv[2] = { { t, 0 }, { t, 0 } };
  if (utimes(tmpdir_path(rel), tv) == -1) { perror(rel); exit(111); }
}

static void mkdirs(void)
{
  if (mkdir(tmpdir_path("new"), 0700) == -1 || mkdir(tmpdir_path("cur"), 0700) == -1
      || mkdir(tmpdir_path("tmp"), 0700) == -1) {
    perror("mkdir");
    exit(111);
  }
}

static void test_uniqlen(void)
{
  static const struct { const char *in; size_t len; size_t want; } cases[] = {
    { IN("1.2.h"), 5 },
    { IN("1.2.h:2,S"), 5 },
    { IN("1.2.h:2,"), 5 },
    { IN(":2,"), 0 },
    { IN(""), 0 },
    { IN("a:b:c"), 1 },
    { IN("a\0b:c"), 3 },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i)
    check_long(maildirlist_uniqlen(cases[i].in, cases[i].len), cases[i].want, "uniqlen case %zu", i);
}

static void test_scan(void)
{
  static const struct { const char *fn; unsigned long size; long when; } want[] = {
    { "new/noname", 6, 500 },                 /* no number: the mtime */
    { "cur/999.B.h:2,S", 2, 999 },
    { "new/1000.A.h", 3, 1000 },              /* unique name A before B, whatever the dir */
    { "cur/1000.B.h:2,", 4, 1000 },           /* new/1000.B.h too: listed once, from cur/ */
    { "new/1000.C.h", 5, 1000 },
    { "new/link", 3, 2000 },                  /* a symbolic link to a message */
    { "new/9000000001.D.h", 1, 9000000001 }, /* past 2038 */
    { "new/12x.E.h", 0, 9000000002 },     /* "12x" is no number: the mtime */
  };
  struct maildirlist l = MAILDIRLIST_ZERO;
  size_t i;
  int r;

  tmpdir_make("maildirlist_test");
  if (chdir(tmpdir_name) == -1) { perror("chdir"); exit(111); }
  mkdirs();

  r = maildirlist_scan(&l);
  check_long(r, 0, "empty Maildir: scan");
  check_long(l.len, 0, "empty Maildir: no messages");

  put("new/1000.C.h", "ccccc");
  put("new/1000.A.h", "aaa");
  put("new/1000.B.h", "bbbb");
  put("cur/1000.B.h:2,", "bbbb");
  put("cur/999.B.h:2,S", "bb");
  put("new/noname", "nnnnnn");
  setmtime("new/noname", 500);
  put("new/9000000001.D.h", "d");
  put("new/12x.E.h", "");
  setmtime("new/12x.E.h", (time_t)9000000002);
  put("new/.hidden", "hidden");
  put("cur/.hidden:2,", "hidden");
  if (mkdir(tmpdir_path("new/1.dir.h"), 0700) == -1) { perror("mkdir"); exit(111); }
  if (symlink("../cur/999.B.h:2,S", "new/2000.dangling") == -1) { perror("symlink"); exit(111); }
  if (unlink("new/2000.dangling") == -1 || symlink("/nonexistent/x", "new/2000.dangling") == -1) exit(111);
  if (symlink("1000.A.h", "new/link") == -1) { perror("symlink"); exit(111); }
  setmtime("new/1000.A.h", 2000); /* the link's target: its mtime counts */

  r = maildirlist_scan(&l);
  check_long(r, 0, "scan");
  check_long(l.len, N(want), "number of messages");
  for (i = 0; i < N(want) && i < l.len; ++i) {
    check_str(l.m[i].fn, want[i].fn, "message %zu: name", i);
    check_long(l.m[i].size, want[i].size, "message %zu: size", i);
    check_long(l.m[i].when, want[i].when, "message %zu: time", i);
    check_long(l.m[i].uniqlen, maildirlist_uniqlen(l.m[i].fn + 4, strlen(l.m[i].fn + 4)),
               "message %zu: unique name length", i);
  }

  /* A second scan starts from scratch. */
  if (unlink("new/1000.C.h") == -1) exit(111);
  r = maildirlist_scan(&l);
  check_long(r, 0, "rescan");
  check_long(l.len, N(want) - 1, "rescan: one message fewer");

  /* new/ or cur/ missing: the Maildir cannot be read. */
  if (rename("cur", "cur.away") == -1) exit(111);
  errno = 0;
  r = maildirlist_scan(&l);
  check_long(r, -1, "no cur/: scan fails");
  check_long(errno, ENOENT, "no cur/: errno");
  check_long(l.len, 0, "no cur/: list emptied");
  if (rename("cur.away", "cur") == -1) exit(111);
  maildirlist_free(&l);
  maildirlist_free(&l); /* twice is harmless */
}

static void test_find(void)
{
  static const struct { const char *u; int want; const char *fn; } cases[] = {
    { "1000.A.h", 1, "new/1000.A.h" },
    { "999.B.h", 1, "cur/999.B.h:2,S" },
    { "1000.B.h", 1, "cur/1000.B.h:2," },      /* cur/ first */
    { "1000.A", 0, 0 },                        /* a prefix is not the name */
    { "1000.A.h:2,", 0, 0 },
    { "1000.A.hx", 0, 0 },
    { "", 0, 0 },
    { ".hidden", 0, 0 },
    { "../new/1000.A.h", 0, 0 },
    { "nothing", 0, 0 },
  };
  stralloc fn = STRALLOC_ZERO;
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    int r;
    fn.len = 0;
    r = maildirlist_find(cases[i].u, strlen(cases[i].u), &fn);
    check_long(r, cases[i].want, "find case %zu (%s)", i, cases[i].u);
    if (r == 1 && cases[i].want == 1) check_str(fn.s, cases[i].fn, "find case %zu: name", i);
  }
  /* no Maildir at all (it was removed under us) */
  if (rename("cur", "cur.away") == -1 || rename("new", "new.away") == -1) exit(111);
  check_long(maildirlist_find(IN("1000.A.h"), &fn), 0, "find without new/ and cur/");
  if (rename("cur.away", "cur") == -1 || rename("new.away", "new") == -1) exit(111);
  stralloc_free(&fn);
}

static void test_seen(void)
{
  stralloc tmp = STRALLOC_ZERO;
  struct stat st;

  check_long(maildirlist_seen("new/1000.A.h", &tmp), 1, "seen: moved");
  check_long(stat("cur/1000.A.h:2,", &st), 0, "seen: now in cur/ with :2,");
  check_long(stat("new/1000.A.h", &st), -1, "seen: gone from new/");
  check_long(maildirlist_seen("cur/1000.A.h:2,", &tmp), 0, "seen: a cur/ name is left alone");
  check_long(stat("cur/1000.A.h:2,", &st), 0, "seen: still in cur/");
  errno = 0;
  check_long(maildirlist_seen("new/1000.A.h", &tmp), -1, "seen: moved by somebody else");
  check_long(errno, ENOENT, "seen: ENOENT");
  stralloc_free(&tmp);
}

static void test_clean(void)
{
  struct stat st;
  time_t now = time(0);
  put("tmp/old", "x");
  setmtime("tmp/old", now - 36 * 3600 - 10);
  put("tmp/young", "x");
  setmtime("tmp/young", now - 35 * 3600);
  if (mkdir("tmp/olddir", 0700) == -1) exit(111);
  setmtime("tmp/olddir", now - 40 * 3600);
  put("tmp/.old", "x");
  setmtime("tmp/.old", now - 40 * 3600);
  maildirlist_clean(now);
  check_long(stat("tmp/old", &st), -1, "clean: 36 hours old, removed");
  check_long(stat("tmp/young", &st), 0, "clean: 35 hours old, kept");
  check_long(stat("tmp/olddir", &st), 0, "clean: a directory is left alone");
  check_long(stat("tmp/.old", &st), 0, "clean: a dot file is left alone");
  if (rmdir("tmp/olddir") == -1 || unlink("tmp/.old") == -1 || unlink("tmp/young") == -1 || rmdir("tmp") == -1)
    exit(111);
  maildirlist_clean(now); /* no tmp/: nothing happens */
}

int main(void)
{
  test_uniqlen();
  test_scan();
  test_find();
  test_seen();
  test_clean();
  if (chdir("/") == -1) exit(111);
  tmpdir_remove();
  return check_end();
}
