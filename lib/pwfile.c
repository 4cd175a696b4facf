#include "pwfile.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "buffer.h"
#include "open.h"
#include "scan.h"
#include "stralloc.h"

/* Splits line into at most max colon-separated fields; returns the count. */
static size_t pwfile_split(const char *line, size_t len, const char **f, size_t *flen, size_t max)
{
  size_t n = 0, start = 0, i;
  if (len && line[len - 1] == '\n') --len;
  for (i = 0; i <= len && n < max; ++i) {
    if (i == len || line[i] == ':') {
      f[n] = line + start;
      flen[n] = i - start;
      ++n;
      start = i + 1;
    }
  }
  return i <= len ? max + 1 : n; /* more fields than max: malformed */
}

static int pwfile_number(const char *s, size_t len, unsigned long *u)
{
  /* uid_t is 32 bits; refuse anything that would not fit. */
  return len && scan_ulongn(s, len, u) == len && *u <= UINT_MAX;
}

static int pwfile_name_ok(const char *s, size_t len)
{
  return len && s[0] != '+' && s[0] != '-' && s[0] != '#';
}

int pwfile_parse_passwd(const char *line, size_t len, struct pwfile_entry *e)
{
  const char *f[7];
  size_t fl[7];
  if (pwfile_split(line, len, f, fl, 7) != 7) return 0;
  if (!pwfile_name_ok(f[0], fl[0])) return 0;
  if (!pwfile_number(f[2], fl[2], &e->id) || !pwfile_number(f[3], fl[3], &e->gid)) return 0;
  e->name = f[0];
  e->namelen = fl[0];
  e->home = f[5];
  e->homelen = fl[5];
  e->members = 0;
  e->memberslen = 0;
  return 1;
}

int pwfile_parse_group(const char *line, size_t len, struct pwfile_entry *e)
{
  const char *f[4];
  size_t fl[4];
  if (pwfile_split(line, len, f, fl, 4) != 4) return 0;
  if (!pwfile_name_ok(f[0], fl[0])) return 0;
  if (!pwfile_number(f[2], fl[2], &e->id)) return 0;
  e->name = f[0];
  e->namelen = fl[0];
  e->gid = 0;
  e->home = 0;
  e->homelen = 0;
  e->members = f[3];
  e->memberslen = fl[3];
  return 1;
}

int pwfile_member(const struct pwfile_entry *e, const char *user, size_t len)
{
  size_t i, start = 0;
  if (!len) return 0;
  for (i = 0; i <= e->memberslen; ++i) {
    if (i == e->memberslen || e->members[i] == ',') {
      if (i - start == len && !memcmp(e->members + start, user, len)) return 1;
      start = i + 1;
    }
  }
  return 0;
}

/* Calls f for every entry of file (group lines if isgroup, else passwd
 * lines) until f returns nonzero. Lines longer than 64 KiB are skipped: no
 * entry of ours is that long. Returns 0, or -1 when the file cannot be
 * read. */
static int pwfile_scan(const char *file, int isgroup, int (*f)(const struct pwfile_entry *, void *), void *arg)
{
  stralloc line = STRALLOC_ZERO;
  char buf[4096];
  buffer b;
  int fd, r;

  fd = open_read(file);
  if (fd == -1) return -1;
  buffer_init(&b, fd, buf, sizeof buf, 0);
  for (;;) {
    struct pwfile_entry e;
    line.len = 0;
    r = buffer_getline(&b, &line, '\n', 65536);
    if (r == -2) { /* absurdly long line: skip it, it is not ours */
      if (buffer_skipline(&b, '\n') == -1) { r = -1; break; }
      continue;
    }
    if (r == -1) break;
    if (r == 0 && !line.len) break;
    if ((isgroup ? pwfile_parse_group(line.s, line.len, &e) : pwfile_parse_passwd(line.s, line.len, &e)) &&
        f(&e, arg)) { r = 0; break; }
    if (r == 0) break;
  }
  close(fd);
  stralloc_free(&line);
  return r == -1 ? -1 : 0;
}

struct pwfile_lookup_arg {
  const char *const *names;
  size_t n, left;
  unsigned long *ids, *gids;
  int *found;
};

static int pwfile_lookup_one(const struct pwfile_entry *e, void *arg)
{
  struct pwfile_lookup_arg *a = arg;
  size_t i;
  for (i = 0; i < a->n; ++i) {
    if (a->found[i] || strlen(a->names[i]) != e->namelen || memcmp(a->names[i], e->name, e->namelen)) continue;
    a->ids[i] = e->id;
    if (a->gids) a->gids[i] = e->gid;
    a->found[i] = 1;
    --a->left;
  }
  return !a->left;
}

int pwfile_lookup(const char *file, int isgroup, const char *const *names, size_t n,
                  unsigned long *ids, unsigned long *gids, int *found)
{
  struct pwfile_lookup_arg a;
  size_t i;

  a.names = names;
  a.n = n;
  a.left = 0;
  a.ids = ids;
  a.gids = gids;
  a.found = found;
  for (i = 0; i < n; ++i) {
    unsigned long u;
    found[i] = 0;
    if (scan_whole_ulong(names[i], UINT_MAX, &u)) {
      ids[i] = u;
      if (gids) gids[i] = u; /* a numeric user brings no group; caller decides */
      found[i] = 1;
    } else
      ++a.left;
  }
  if (!a.left) return 0;
  return pwfile_scan(file, isgroup, pwfile_lookup_one, &a);
}

struct pwfile_member_arg {
  const char *user;
  size_t len;
  unsigned long *gids;
  size_t max, n;
};

static int pwfile_member_one(const struct pwfile_entry *e, void *arg)
{
  struct pwfile_member_arg *a = arg;
  size_t i;
  if (!pwfile_member(e, a->user, a->len)) return 0;
  for (i = 0; i < a->n; ++i)
    if (a->gids[i] == e->id) return 0;
  a->gids[a->n++] = e->id;
  return a->n == a->max;
}

int pwfile_member_gids(const char *file, const char *user, unsigned long *gids, size_t max, size_t *n)
{
  struct pwfile_member_arg a;
  unsigned long u;

  *n = 0;
  if (!max || !*user || scan_whole_ulong(user, UINT_MAX, &u)) return 0;
  a.user = user;
  a.len = strlen(user);
  a.gids = gids;
  a.max = max;
  a.n = 0;
  if (pwfile_scan(file, 1, pwfile_member_one, &a) == -1) return -1;
  *n = a.n;
  return 0;
}
