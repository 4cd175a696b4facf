/* Tests for lib/pwfile.c.
 * not tested: a read error in the middle of the file. The tests run as
 * root, so "unreadable" is a missing file or a directory, not chmod 000. */

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "pwfile.h"
#include "stralloc.h"
#include "tmpdir.h"

#define N(a) (sizeof (a) / sizeof (a)[0])
#define IN(s) s, sizeof s - 1

/* The first bytes of a line, printable, for test names. */
static const char *shown(const char *s, size_t len)
{
  static char buf[24];
  size_t i;
  for (i = 0; i < len && i < sizeof buf - 1; ++i) buf[i] = s[i] >= 32 && s[i] < 127 ? s[i] : '?';
  buf[i] = 0;
  return buf;
}

static void test_parse_passwd(void)
{
  static const struct {
    const char *line; size_t len; int ok;
    const char *name; unsigned long uid, gid; const char *home;
  } cases[] = {
    { IN("root:x:0:0:root:/root:/bin/bash"), 1, "root", 0, 0, "/root" },
    { IN("root:x:0:0:root:/root:/bin/bash\n"), 1, "root", 0, 0, "/root" },
    { IN("alias:*:7790:2108::/var/qmail/alias:/bin/false"), 1, "alias", 7790, 2108, "/var/qmail/alias" },
    { IN("joe:x:1000:100:::"), 1, "joe", 1000, 100, "" },
    { IN("big:x:4294967295:4294967295:g:/h:/s"), 1, "big", 4294967295UL, 4294967295UL, "/h" },
    { IN("z:x:007:08:g:/h:/s"), 1, "z", 7, 8, "/h" },
    /* malformed */
    { IN("joe:x:1000:100:/home/joe:/bin/sh"), 0, 0, 0, 0, 0 },          /* six fields */
    { IN("joe:x:1000:100:g:/home/joe:/bin/sh:extra"), 0, 0, 0, 0, 0 }, /* eight */
    { IN("joe:x:1000:100:g:/home/joe:/bin/sh:"), 0, 0, 0, 0, 0 },      /* trailing colon */
    { IN("joe"), 0, 0, 0, 0, 0 },
    { IN(""), 0, 0, 0, 0, 0 },
    { IN("\n"), 0, 0, 0, 0, 0 },
    { IN(":x:1:1:g:/h:/s"), 0, 0, 0, 0, 0 },                          /* empty name */
    { IN("joe:x:abc:100:g:/h:/s"), 0, 0, 0, 0, 0 },
    { IN("joe:x::100:g:/h:/s"), 0, 0, 0, 0, 0 },
    { IN("joe:x:-1:100:g:/h:/s"), 0, 0, 0, 0, 0 },
    { IN("joe:x: 1:100:g:/h:/s"), 0, 0, 0, 0, 0 },
    { IN("joe:x:1x:100:g:/h:/s"), 0, 0, 0, 0, 0 },
    { IN("joe:x:4294967296:100:g:/h:/s"), 0, 0, 0, 0, 0 },           /* over 32 bits */
    { IN("joe:x:99999999999999999999999:1:g:/h:/s"), 0, 0, 0, 0, 0 },
    { IN("joe:x:1:abc:g:/h:/s"), 0, 0, 0, 0, 0 },
    { IN("joe:x:1::g:/h:/s"), 0, 0, 0, 0, 0 },
    { IN("joe:x:1:4294967296:g:/h:/s"), 0, 0, 0, 0, 0 },
    /* NIS and comments */
    { IN("+"), 0, 0, 0, 0, 0 },
    { IN("+::::::"), 0, 0, 0, 0, 0 },
    { IN("+joe:x:1:1:g:/h:/s"), 0, 0, 0, 0, 0 },
    { IN("-joe:x:1:1:g:/h:/s"), 0, 0, 0, 0, 0 },
    { IN("-::::::"), 0, 0, 0, 0, 0 },
    { IN("#joe:x:1:1:g:/h:/s"), 0, 0, 0, 0, 0 },
    { IN("# a comment"), 0, 0, 0, 0, 0 },
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    struct pwfile_entry e;
    int r;
    memset(&e, 0, sizeof e);
    r = pwfile_parse_passwd(cases[i].line, cases[i].len, &e);
    check_long(r, cases[i].ok, "parse_passwd case %zu (%s)", i, shown(cases[i].line, cases[i].len));
    if (r && cases[i].ok) {
      check_bytes(e.name, e.namelen, cases[i].name, strlen(cases[i].name), "parse_passwd case %zu: name", i);
      check(e.id == cases[i].uid, "parse_passwd case %zu: uid %lu, want %lu", i, e.id, cases[i].uid);
      check(e.gid == cases[i].gid, "parse_passwd case %zu: gid %lu, want %lu", i, e.gid, cases[i].gid);
      check_bytes(e.homelen ? e.home : "", e.homelen, cases[i].home, strlen(cases[i].home),
                  "parse_passwd case %zu: home", i);
    }
  }
}

static void test_parse_group(void)
{
  static const struct {
    const char *line; size_t len; int ok; const char *name; unsigned long gid; const char *members;
  } cases[] = {
    { IN("qmail:x:2107:"), 1, "qmail", 2107, "" },
    { IN("qmail:x:2107:alias,qmaild"), 1, "qmail", 2107, "alias,qmaild" },
    { IN("qmail:x:2107:alias\n"), 1, "qmail", 2107, "alias" },
    { IN("nofiles:*:2108:"), 1, "nofiles", 2108, "" },
    { IN("g::0:"), 1, "g", 0, "" },
    { IN("g:x:4294967295:"), 1, "g", 4294967295UL, "" },
    { IN("g:x:1:a, b ,,c,\n"), 1, "g", 1, "a, b ,,c," },
    { IN("qmail:x:2107"), 0, 0, 0, 0 },
    { IN("qmail:x:2107:a:b"), 0, 0, 0, 0 },
    { IN("qmail:x::"), 0, 0, 0, 0 },
    { IN("qmail:x:abc:"), 0, 0, 0, 0 },
    { IN("qmail:x:4294967296:"), 0, 0, 0, 0 },
    { IN(":x:1:"), 0, 0, 0, 0 },
    { IN("+qmail:x:1:"), 0, 0, 0, 0 },
    { IN("+"), 0, 0, 0, 0 },
    { IN("-:::"), 0, 0, 0, 0 },
    { IN("#qmail:x:1:"), 0, 0, 0, 0 },
    { IN(""), 0, 0, 0, 0 },
    /* a passwd line is not a group line */
    { IN("root:x:0:0:root:/root:/bin/bash"), 0, 0, 0, 0 },
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    struct pwfile_entry e;
    int r;
    memset(&e, 0, sizeof e);
    r = pwfile_parse_group(cases[i].line, cases[i].len, &e);
    check_long(r, cases[i].ok, "parse_group case %zu (%s)", i, shown(cases[i].line, cases[i].len));
    if (r && cases[i].ok) {
      check_bytes(e.name, e.namelen, cases[i].name, strlen(cases[i].name), "parse_group case %zu: name", i);
      check(e.id == cases[i].gid, "parse_group case %zu: gid %lu, want %lu", i, e.id, cases[i].gid);
      check_bytes(e.memberslen ? e.members : "", e.memberslen, cases[i].members, strlen(cases[i].members),
                  "parse_group case %zu: members", i);
    }
  }
  /* a group line is not a passwd line either */
  {
    struct pwfile_entry e;
    check_long(pwfile_parse_passwd(IN("qmail:x:2107:"), &e), 0, "group line as passwd");
  }
}

static void test_member(void)
{
  static const struct { const char *line; const char *user; int member; } cases[] = {
    { "g:x:1:qmailr", "qmailr", 1 },
    { "g:x:1:alias,qmailr", "qmailr", 1 },
    { "g:x:1:qmailr,alias", "qmailr", 1 },
    { "g:x:1:a,qmailr,b", "qmailr", 1 },
    { "g:x:1:qmailr\n", "qmailr", 1 },
    { "g:x:1:,,qmailr,", "qmailr", 1 },
    { "g:x:1:", "qmailr", 0 },
    { "g:x:1:qmail", "qmailr", 0 },            /* a prefix of the name */
    { "g:x:1:qmailrr", "qmailr", 0 },          /* the name as a prefix */
    { "g:x:1:xqmailr", "qmailr", 0 },
    { "g:x:1:QMAILR", "qmailr", 0 },
    { "g:x:1: qmailr", "qmailr", 0 },          /* no trimming */
    { "g:x:1:qmailr ", "qmailr", 0 },
    { "g:x:1:a qmailr", "qmailr", 0 },
    { "qmailr:x:1:", "qmailr", 0 },            /* the group's name is not a member */
    { "g:qmailr:1:", "qmailr", 0 },
    { "g:x:1:,", "", 0 },                      /* empty members name nobody */
    { "g:x:1:", "", 0 },
    { "g:x:1:a,b", "a,b", 0 },                 /* a name is one member */
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    struct pwfile_entry e;
    int r = pwfile_parse_group(cases[i].line, strlen(cases[i].line), &e);
    check_long(r, 1, "member case %zu (%s): parses", i, shown(cases[i].line, strlen(cases[i].line)));
    if (r)
      check_long(pwfile_member(&e, cases[i].user, strlen(cases[i].user)), cases[i].member,
                 "member case %zu (%s): \"%s\"", i, shown(cases[i].line, strlen(cases[i].line)), cases[i].user);
  }
}

static void test_member_gids(void)
{
  static const char group[] =
    "# qmailr:x:1:qmailr\n"
    "root:x:0:\n"
    "a:x:10:qmailr\n"
    "+b:x:11:qmailr\n"         /* NIS: not an entry */
    "c:x:12:alias,qmaild\n"
    "d:x:13:alias,qmailr,qmaild\n"
    "bad:x:x14:qmailr\n"       /* malformed */
    "e:x:10:qmailr\n"          /* gid 10 again */
    "f:x:15:qmailr,7791\n"
    "g:x:16:qmailr";          /* last line, no newline */
  static const struct {
    const char *user; size_t max; size_t n; unsigned long gids[6];
  } cases[] = {
    { "qmailr", 8, 4, { 10, 13, 15, 16 } },
    { "qmailr", 4, 4, { 10, 13, 15, 16 } },
    { "qmailr", 2, 2, { 10, 13 } },            /* bounded: the first max */
    { "qmailr", 1, 1, { 10 } },
    { "qmailr", 0, 0, { 0 } },
    { "alias", 8, 2, { 12, 13 } },
    { "qmaild", 8, 2, { 12, 13 } },
    { "qmail", 8, 0, { 0 } },
    { "nobody", 8, 0, { 0 } },
    { "root", 8, 0, { 0 } },                   /* a group's name is not membership */
    { "7791", 8, 0, { 0 } },                   /* a number, not a name */
    { "", 8, 0, { 0 } },
  };
  size_t i, k;
  const char *fn = tmpdir_path("group-members");

  tmpdir_write(fn, group, sizeof group - 1);
  for (i = 0; i < N(cases); ++i) {
    unsigned long gids[8];
    size_t n = 99;
    for (k = 0; k < N(gids); ++k) gids[k] = 777;
    check_long(pwfile_member_gids(fn, cases[i].user, gids, cases[i].max, &n), 0,
               "member_gids case %zu (%s, max %zu)", i, cases[i].user, cases[i].max);
    check(n == cases[i].n, "member_gids case %zu: %zu groups, want %zu", i, n, cases[i].n);
    for (k = 0; k < n && k < cases[i].n; ++k)
      check(gids[k] == cases[i].gids[k], "member_gids case %zu: gid %zu is %lu, want %lu", i, k, gids[k],
            cases[i].gids[k]);
    for (k = cases[i].max; k < N(gids); ++k)
      check(gids[k] == 777, "member_gids case %zu: nothing written past max (at %zu)", i, k);
  }
  /* a member of a group after a line too long to read */
  {
    stralloc g = STRALLOC_ZERO;
    unsigned long gids[2];
    size_t n = 0;
    stralloc_cats(&g, "huge:x:1:");
    for (k = 0; k < 70000; ++k) stralloc_cats(&g, k % 2 ? "," : "u");
    stralloc_cats(&g, ",qmailr\nsmall:x:2:qmailr\n");
    tmpdir_write(tmpdir_path("group-long"), g.s, g.len);
    check_long(pwfile_member_gids(tmpdir_path("group-long"), "qmailr", gids, 2, &n), 0, "member_gids, long line");
    check(n == 1 && gids[0] == 2, "member_gids: a line over 64 KiB is skipped, the next one read (n %zu)", n);
    stralloc_free(&g);
  }
  /* missing file, and the names that need none */
  {
    unsigned long gids[2];
    size_t n = 99;
    check_long(pwfile_member_gids(tmpdir_path("no-such-file"), "qmailr", gids, 2, &n), -1, "member_gids, missing file");
    check_long(n, 0, "member_gids, missing file: no groups");
    n = 99;
    check_long(pwfile_member_gids(tmpdir_path("no-such-file"), "123", gids, 2, &n), 0,
               "member_gids of a number needs no file");
    check_long(n, 0, "member_gids of a number: no groups");
    check_long(pwfile_member_gids(tmpdir_name, "qmailr", gids, 2, &n), -1, "member_gids, a directory");
  }
}

static void test_lookup(void)
{
  static const char passwd[] =
    "# comment\n"
    "root:x:0:0:root:/root:/bin/bash\n"
    "+nisuser::::::\n"
    "\n"
    "alias:x:7790:2108::/var/qmail/alias:/bin/false\n"
    "badline\n"
    "qmaild:x:7791:2108::/var/qmail:/bin/false\n"
    "alias:x:9999:9999::/dup:/bin/false\n"
    "-qmaild:x:1:1::/:/\n"
    "qmailq:x:7792:2109::/var/qmail:/bin/false"; /* no final newline */
  static const struct { const char *name; int found; unsigned long uid, gid; } want[] = {
    { "alias", 1, 7790, 2108 },      /* the first of two wins */
    { "qmaild", 1, 7791, 2108 },
    { "nobody", 0, 0, 0 },
    { "qmailq", 1, 7792, 2109 },     /* last line, no newline */
    { "123", 1, 123, 123 },          /* numeric: no file needed */
    { "root", 1, 0, 0 },
    { "nisuser", 0, 0, 0 },
    { "+nisuser", 0, 0, 0 },
    { "alia", 0, 0, 0 },
    { "aliasx", 0, 0, 0 },
    { "ALIAS", 0, 0, 0 },
    { "", 0, 0, 0 },
    { "4294967296", 0, 0, 0 },       /* too big to be a number, and not a name */
  };
  const char *names[N(want)];
  unsigned long ids[N(want)], gids[N(want)];
  int found[N(want)];
  size_t i;
  const char *fn;

  fn = tmpdir_path("passwd");
  tmpdir_write(fn, passwd, sizeof passwd - 1);
  for (i = 0; i < N(want); ++i) { names[i] = want[i].name; ids[i] = gids[i] = 555; found[i] = 7; }
  check_long(pwfile_lookup(fn, 0, names, N(want), ids, gids, found), 0, "lookup in passwd");
  for (i = 0; i < N(want); ++i) {
    check_long(found[i], want[i].found, "lookup \"%s\": found", want[i].name);
    if (want[i].found && found[i]) {
      check(ids[i] == want[i].uid, "lookup \"%s\": uid %lu, want %lu", want[i].name, ids[i], want[i].uid);
      check(gids[i] == want[i].gid, "lookup \"%s\": gid %lu, want %lu", want[i].name, gids[i], want[i].gid);
    }
  }

  /* one at a time, and without gids */
  {
    const char *one[1] = { "qmaild" };
    unsigned long id = 0;
    int f = 0;
    check_long(pwfile_lookup(tmpdir_path("passwd"), 0, one, 1, &id, 0, &f), 0, "lookup one name, gids null");
    check_long(f, 1, "lookup one name: found");
    check_long(id, 7791, "lookup one name: uid");
    one[0] = "nobody";
    check_long(pwfile_lookup(tmpdir_path("passwd"), 0, one, 1, &id, 0, &f), 0, "lookup a missing name");
    check_long(f, 0, "lookup a missing name: not found");
  }

  /* numeric names need no file */
  {
    const char *nums[2] = { "0", "65534" };
    unsigned long id[2] = { 9, 9 };
    int f[2] = { 0, 0 };
    check_long(pwfile_lookup(tmpdir_path("no-such-file"), 0, nums, 2, id, 0, f), 0,
               "numeric names with a missing file");
    check(f[0] == 1 && f[1] == 1 && id[0] == 0 && id[1] == 65534, "numeric names: values");
    check_long(pwfile_lookup(tmpdir_path("no-such-file"), 0, nums, 0, id, 0, f), 0, "no names at all");
  }

  /* missing or unreadable files */
  {
    const char *one[2] = { "root", "1" };
    unsigned long id[2];
    int f[2];
    check_long(pwfile_lookup(tmpdir_path("no-such-file"), 0, one, 2, id, 0, f), -1, "missing file");
    check_long(pwfile_lookup(tmpdir_path("no-such-file"), 1, one, 2, id, 0, f), -1, "missing group file");
    check_long(pwfile_lookup(tmpdir_name, 0, one, 2, id, 0, f), -1, "a directory instead of a file");
  }

  /* a group file, with a line too long to buffer before the entry */
  {
    stralloc g = STRALLOC_ZERO;
    const char *gnames[3] = { "qmail", "nofiles", "users" };
    unsigned long gid[3];
    int f[3];
    size_t k;
    stralloc_cats(&g, "root:x:0:\nhuge:x:1:");
    for (k = 0; k < 70000; ++k) stralloc_append(&g, 'm');
    stralloc_cats(&g, "\nqmail:x:2107:alias\n+:::\nnofiles:x:2108:\n");
    tmpdir_write(tmpdir_path("group"), g.s, g.len);
    check_long(pwfile_lookup(tmpdir_path("group"), 1, gnames, 3, gid, 0, f), 0, "lookup in group");
    check(f[0] == 1 && gid[0] == 2107, "group qmail after a long line: found %d gid %lu", f[0], gid[0]);
    check(f[1] == 1 && gid[1] == 2108, "group nofiles: found %d gid %lu", f[1], gid[1]);
    check_long(f[2], 0, "group users: not found");
    /* the passwd file read as a group file finds nothing */
    check_long(pwfile_lookup(tmpdir_path("passwd"), 1, gnames, 3, gid, 0, f), 0, "passwd as group file");
    check(f[0] == 0 && f[1] == 0 && f[2] == 0, "passwd as group file: nothing found");
    stralloc_free(&g);
  }
  /* an empty file */
  {
    const char *one[1] = { "root" };
    unsigned long id;
    int f = 1;
    tmpdir_write(tmpdir_path("empty"), "", 0);
    check_long(pwfile_lookup(tmpdir_path("empty"), 0, one, 1, &id, 0, &f), 0, "empty file");
    check_long(f, 0, "empty file: not found");
  }
}

int main(void)
{
  tmpdir_make("pwfile_test");
  test_parse_passwd();
  test_parse_group();
  test_member();
  test_member_gids();
  test_lookup();
  tmpdir_remove();
  return check_end();
}
