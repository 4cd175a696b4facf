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
  return 1;
}

int pwfile_lookup(const char *file, int isgroup, const char *const *names, size_t n,
                  unsigned long *ids, unsigned long *gids, int *found)
{
  stralloc line = STRALLOC_ZERO;
  char buf[4096];
  buffer b;
  size_t i, left = 0;
  int fd, r;

  for (i = 0; i < n; ++i) {
    unsigned long u;
    found[i] = 0;
    if (scan_whole_ulong(names[i], UINT_MAX, &u)) {
      ids[i] = u;
      if (gids) gids[i] = u; /* a numeric user brings no group; caller decides */
      found[i] = 1;
    } else
      ++left;
  }
  if (!left) return 0;

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
    if (isgroup ? pwfile_parse_group(line.s, line.len, &e) : pwfile_parse_passwd(line.s, line.len, &e)) {
      for (i = 0; i < n; ++i) {
        if (found[i] || strlen(names[i]) != e.namelen || memcmp(names[i], e.name, e.namelen)) continue;
        ids[i] = e.id;
        if (gids) gids[i] = e.gid;
        found[i] = 1;
        --left;
      }
    }
    if (!left || r == 0) { r = 0; break; }
  }
  close(fd);
  stralloc_free(&line);
  return r == -1 ? -1 : 0;
}
