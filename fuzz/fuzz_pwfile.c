/* fuzz_pwfile: passwd(5) and group(5) lines, each line of the input (with
 * its newline) parsed both ways. An entry's fields lie inside the line, its
 * name is one whole field, and its numbers fit a uid_t; every member of a
 * group's member list is a member. Then the whole input, as a group file,
 * gives pwfile_member_gids the groups of the first member found, which
 * must be those the lines give, in order, each once, at most MAXG. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "pwfile.h"
#include "scan.h"

#define MAXG 4

static void check_field(const char *line, size_t len, const char *f, size_t flen)
{
  if (!f || f < line || (size_t)(f - line) > len || flen > len - (size_t)(f - line)) abort();
  if (memchr(f, ':', flen) || memchr(f, '\n', flen)) abort();
}

static void check(const char *line, size_t len, const struct pwfile_entry *e, int passwd)
{
  check_field(line, len, e->name, e->namelen);
  /* The name is the first field, and not NIS or a comment. */
  if (e->name != line || !e->namelen || memchr("+-#", e->name[0], 3)) abort();
  if (e->id > UINT_MAX) abort();
  if (passwd) {
    check_field(line, len, e->home, e->homelen);
    if (e->gid > UINT_MAX) abort();
    if (e->members || e->memberslen) abort();
  } else {
    /* The member list is the last field: it ends the line. */
    size_t i, start = 0;
    check_field(line, len, e->members, e->memberslen);
    if (e->members + e->memberslen != line + len - (len && line[len - 1] == '\n')) abort();
    for (i = 0; i <= e->memberslen; ++i)
      if (i == e->memberslen || e->members[i] == ',') {
        if (pwfile_member(e, e->members + start, i - start) != (i > start)) abort();
        start = i + 1;
      }
    /* a name with a comma is never one member */
    if (e->memberslen > 2 && memchr(e->members, ',', e->memberslen) &&
        pwfile_member(e, e->members, e->memberslen)) abort();
  }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  const char *s = (const char *)data;
  size_t left = size;
  char user[64];
  unsigned long want[MAXG], got[MAXG + 1], u;
  size_t nwant = 0, ngot, i;
  int pass;

  user[0] = 0;
  /* pass 0 checks every line and finds a user; pass 1 lists its groups */
  for (pass = 0; pass < 2; ++pass) {
    s = (const char *)data;
    left = size;
    while (left) {
      const char *nl = memchr(s, '\n', left);
      size_t len = nl ? (size_t)(nl - s) + 1 : left;
      struct pwfile_entry e;

      memset(&e, 0, sizeof e);
      if (!pass && pwfile_parse_passwd(s, len, &e)) check(s, len, &e, 1);
      memset(&e, 0, sizeof e);
      if (pwfile_parse_group(s, len, &e)) {
        if (!pass) {
          check(s, len, &e, 0);
          if (!user[0] && e.memberslen) {
            const char *c = memchr(e.members, ',', e.memberslen);
            size_t ulen = c ? (size_t)(c - e.members) : e.memberslen;
            if (ulen < sizeof user && !memchr(e.members, 0, ulen)) {
              memcpy(user, e.members, ulen);
              user[ulen] = 0;
            }
          }
        } else if (user[0] && nwant < MAXG && pwfile_member(&e, user, strlen(user))) {
          for (i = 0; i < nwant && want[i] != e.id; ++i) {}
          if (i == nwant) want[nwant++] = e.id;
        }
      }
      s += len;
      left -= len;
    }
  }

  /* Lines over 64 KiB are skipped by the file reader, not by the parser. */
  if (size < 65536) {
    char fn[64];
    int fd = fuzz_memfd(data, size);
    snprintf(fn, sizeof fn, "/proc/self/fd/%d", fd);
    for (i = 0; i < MAXG + 1; ++i) got[i] = 0xdeadbeef;
    if (pwfile_member_gids(fn, user, got, MAXG, &ngot) == -1) abort();
    close(fd);
    if (scan_whole_ulong(user, UINT_MAX, &u)) nwant = 0; /* a number is nobody's name */
    if (ngot != nwant || got[MAXG] != 0xdeadbeef) abort();
    for (i = 0; i < ngot; ++i)
      if (got[i] != want[i]) abort();
  }
  return 0;
}
