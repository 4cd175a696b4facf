#include "dotqmail.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum dotqmail_kind dotqmail_parse(const char *s, size_t len, struct dotqmail_line *l)
{
  const char *nul = memchr(s, 0, len);
  if (nul) len = (size_t)(nul - s);
  while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) --len;
  l->arg = s;
  l->len = len;
  if (!len) return l->kind = DOTQMAIL_BLANK;
  switch (s[0]) {
    case '#':
      return l->kind = DOTQMAIL_COMMENT;
    case '|':
      l->arg = s + 1;
      l->len = len - 1;
      return l->kind = DOTQMAIL_PROGRAM;
    case '.':
    case '/':
      return l->kind = s[len - 1] == '/' ? DOTQMAIL_MAILDIR : DOTQMAIL_MBOX;
    case '+':
      l->arg = s + 1;
      l->len = len - 1;
      return l->kind = len == 5 && !memcmp(s + 1, "list", 4) ? DOTQMAIL_LIST : DOTQMAIL_IGNORED;
    case '&':
      l->arg = s + 1;
      l->len = len - 1;
      return l->kind = DOTQMAIL_FORWARD;
    default:
      return l->kind = DOTQMAIL_FORWARD;
  }
}

void dotqmail_start(struct dotqmail *d, const char *s, size_t len)
{
  d->s = s;
  d->len = len;
  d->pos = 0;
  d->lineno = 0;
}

int dotqmail_next(struct dotqmail *d, struct dotqmail_line *l)
{
  const char *start, *nl;
  size_t n;
  if (d->pos >= d->len) return 0;
  start = d->s + d->pos;
  nl = memchr(start, '\n', d->len - d->pos);
  n = nl ? (size_t)(nl - start) : d->len - d->pos;
  d->pos += n + (nl != 0);
  ++d->lineno;
  dotqmail_parse(start, n, l);
  return 1;
}

int dotqmail_delivery(struct dotqmail *d, int *forwardonly, struct dotqmail_line *l, const char **why)
{
  while (dotqmail_next(d, l))
    switch (l->kind) {
      case DOTQMAIL_BLANK:
        if (d->lineno == 1) { *why = "Uh-oh: first line of .qmail file is blank. (#4.2.1)"; return -1; }
        break;
      case DOTQMAIL_COMMENT:
      case DOTQMAIL_IGNORED:
        break;
      case DOTQMAIL_LIST:
        *forwardonly = 1;
        break;
      case DOTQMAIL_MBOX:
      case DOTQMAIL_MAILDIR:
        if (*forwardonly) { *why = "Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)"; return -1; }
        return 1;
      case DOTQMAIL_PROGRAM:
        if (*forwardonly) { *why = "Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)"; return -1; }
        return 1;
      case DOTQMAIL_FORWARD:
        return 1;
    }
  return 0;
}

int dotqmail_safeext(stralloc *sa, const char *ext)
{
  size_t i;
  if (!stralloc_copys(sa, ext)) return 0;
  for (i = 0; i < sa->len; ++i) {
    char c = sa->s[i];
    if (c >= 'A' && c <= 'Z') sa->s[i] = (char)(c + 32);
    else if (c == '.') sa->s[i] = ':';
  }
  return 1;
}

/* A name that is simply not there (or cannot be, like one too long): the
 * search goes on. Anything else, permission problems included, might be
 * a file that is there and cannot be read right now. */
static int dotqmail_absent(int e)
{
  return e == ENOENT || e == ENOTDIR || e == ENAMETOOLONG || e == ELOOP || e == ENXIO || e == ENODEV;
}

static int dotqmail_name(stralloc *fn, const char *dash, const char *ext, size_t extlen, const char *tail)
{
  return stralloc_copys(fn, ".qmail") && stralloc_cats(fn, dash) && stralloc_catb(fn, ext, extlen)
         && stralloc_cats(fn, tail) && stralloc_0(fn);
}

static enum dotqmail_find dotqmail_try(const stralloc *fn, unsigned long patrn, struct dotqmail_file *f)
{
  struct stat st;
  int fd, e;

  do fd = open(fn->s, O_RDONLY | O_NONBLOCK | O_CLOEXEC); while (fd == -1 && errno == EINTR);
  if (fd == -1) return dotqmail_absent(errno) ? DOTQMAIL_NONE : DOTQMAIL_ETEMP;
  if (fstat(fd, &st) == -1) { e = errno; close(fd); errno = e; return DOTQMAIL_ETEMP; }
  if (!S_ISREG(st.st_mode)) { close(fd); return DOTQMAIL_NONE; }
  if (st.st_mode & patrn) { close(fd); return DOTQMAIL_EWRITABLE; }
  f->fd = fd;
  f->forwardonly = !!(st.st_mode & S_IXUSR);
  f->size = st.st_size;
  return DOTQMAIL_FOUND;
}

enum dotqmail_find dotqmail_find(stralloc *fn, const char *dash, const stralloc *safeext,
                                 unsigned long patrn, struct dotqmail_file *f)
{
  enum dotqmail_find r;
  size_t i;

  f->fd = -1;
  f->forwardonly = 0;
  f->size = 0;
  f->deflt = 0;
  f->isdefault = 0;

  if (!dotqmail_name(fn, dash, safeext->s, safeext->len, "")) { errno = ENOMEM; return DOTQMAIL_ETEMP; }
  r = dotqmail_try(fn, patrn, f);
  if (r != DOTQMAIL_NONE) {
    /* An extension that itself ends in "default" names a -default file:
     * DEFAULT is set from it, as qmail does. */
    if (r == DOTQMAIL_FOUND && safeext->len >= 7 && !memcmp(safeext->s + safeext->len - 7, "default", 7)) {
      f->isdefault = 1;
      f->deflt = safeext->len - 7;
    }
    return r;
  }
  for (i = safeext->len + 1; i-- > 0;) {
    if (i && safeext->s[i - 1] != '-') continue;
    if (!dotqmail_name(fn, dash, safeext->s, i, "default")) { errno = ENOMEM; return DOTQMAIL_ETEMP; }
    r = dotqmail_try(fn, patrn, f);
    if (r == DOTQMAIL_NONE) continue;
    if (r == DOTQMAIL_FOUND) {
      f->isdefault = 1;
      f->deflt = i;
    }
    return r;
  }
  return DOTQMAIL_NONE;
}

/* 1 if fn exists (stat, following links), 0 if not, -1 if unknown. */
static int dotqmail_exists(const stralloc *fn)
{
  struct stat st;
  if (stat(fn->s, &st) == 0) return 1;
  return dotqmail_absent(errno) ? 0 : -1;
}

int dotqmail_newsender(stralloc *out, stralloc *fn, const char *dash, const stralloc *safeext,
                       const char *local, const char *host, const char *sender)
{
  int r;

  if (!stralloc_copys(out, sender)) return 0;
  /* Bounces keep their sender: a bounce of a bounce must not be sent. */
  if (*sender && strcmp(sender, "#@[]")) {
    if (!dotqmail_name(fn, dash, safeext->s, safeext->len, "-owner")) return 0;
    r = dotqmail_exists(fn);
    if (r == -1) return -1;
    if (r) {
      if (!dotqmail_name(fn, dash, safeext->s, safeext->len, "-owner-default")) return 0;
      r = dotqmail_exists(fn);
      if (r == -1) return -1;
      if (!stralloc_copys(out, local)) return 0;
      if (r) {
        if (!stralloc_cats(out, "-owner-@") || !stralloc_cats(out, host) || !stralloc_cats(out, "-@[]")) return 0;
      } else {
        if (!stralloc_cats(out, "-owner@") || !stralloc_cats(out, host)) return 0;
      }
    }
  }
  return stralloc_0(out);
}
