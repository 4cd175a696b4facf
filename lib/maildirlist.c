#include "maildirlist.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h> /* rename */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan.h"

/* maildir(5): a file in tmp/ not accessed for 36 hours is abandoned. */
#define TMP_STALE 129600

size_t maildirlist_uniqlen(const char *name, size_t len)
{
  const char *colon = memchr(name, ':', len);
  return colon ? (size_t)(colon - name) : len;
}

void maildirlist_free(struct maildirlist *l)
{
  size_t i;
  for (i = 0; i < l->len; ++i) free(l->m[i].fn);
  free(l->m);
  l->m = 0;
  l->len = l->a = 0;
}

static int add(struct maildirlist *l, const char *sub, const char *name)
{
  struct maildirlist_msg *m;
  struct stat st;
  size_t nlen = strlen(name);
  unsigned long t;
  size_t k;
  char *fn;

  if (nlen > SIZE_MAX - 5) { errno = ENOMEM; return -1; }
  fn = malloc(nlen + 5);
  if (!fn) return -1;
  memcpy(fn, sub, 3);
  fn[3] = '/';
  memcpy(fn + 4, name, nlen + 1);
  /* stat, not lstat: a user may link a file into the Maildir. A file gone
   * already (another reader) is simply not there. */
  if (stat(fn, &st) == -1) {
    int e = errno;
    free(fn);
    if (e == ENOENT || e == ELOOP || e == ENOTDIR) return 0;
    errno = e;
    return -1;
  }
  if (!S_ISREG(st.st_mode)) { free(fn); return 0; }
  if (l->len == l->a) {
    size_t na = l->a ? l->a * 2 : 64;
    if (na > SIZE_MAX / sizeof *l->m || na < l->a) { free(fn); errno = ENOMEM; return -1; }
    m = realloc(l->m, na * sizeof *l->m);
    if (!m) { free(fn); return -1; }
    l->m = m;
    l->a = na;
  }
  m = &l->m[l->len++];
  m->fn = fn;
  m->uniqlen = maildirlist_uniqlen(name, nlen);
  m->size = (uint64_t)st.st_size;
  /* "<seconds>.<rest>": the delivery time, cheaper and steadier than the
   * mtime, which a copy or a backup restore may change. */
  k = scan_ulongn(name, nlen, &t);
  m->when = k && name[k] == '.' && (time_t)t >= 0 && (unsigned long)(time_t)t == t ? (time_t)t : st.st_mtime;
  return 0;
}

static int scan_sub(struct maildirlist *l, const char *sub)
{
  DIR *d = opendir(sub);
  struct dirent *de;
  int e;

  if (!d) return -1;
  for (;;) {
    errno = 0;
    de = readdir(d);
    if (!de) break;
    if (de->d_name[0] == '.') continue;
    if (add(l, sub, de->d_name) == -1) { e = errno; closedir(d); errno = e; return -1; }
  }
  e = errno;
  closedir(d);
  errno = e;
  return e ? -1 : 0;
}

static int cmp(const void *a, const void *b)
{
  const struct maildirlist_msg *x = a, *y = b;
  size_t n = x->uniqlen < y->uniqlen ? x->uniqlen : y->uniqlen;
  int c;

  if (x->when != y->when) return x->when < y->when ? -1 : 1;
  c = memcmp(x->fn + 4, y->fn + 4, n);
  if (c) return c;
  if (x->uniqlen != y->uniqlen) return x->uniqlen < y->uniqlen ? -1 : 1;
  return strcmp(x->fn, y->fn); /* "cur/" sorts before "new/" */
}

int maildirlist_scan(struct maildirlist *l)
{
  size_t i, j;

  maildirlist_free(l);
  if (scan_sub(l, "new") == -1 || scan_sub(l, "cur") == -1) {
    int e = errno;
    maildirlist_free(l);
    errno = e;
    return -1;
  }
  if (l->len) qsort(l->m, l->len, sizeof *l->m, cmp);
  /* One message per unique name: equal names are neighbours now. */
  for (i = j = 0; i < l->len; ++i) {
    if (j && l->m[j - 1].uniqlen == l->m[i].uniqlen
        && !memcmp(l->m[j - 1].fn + 4, l->m[i].fn + 4, l->m[i].uniqlen)) {
      free(l->m[i].fn);
      continue;
    }
    l->m[j++] = l->m[i];
  }
  l->len = j;
  return 0;
}

static int find_in(const char *sub, const char *u, size_t ulen, stralloc *fn)
{
  DIR *d = opendir(sub);
  struct dirent *de;
  int e;

  if (!d) return errno == ENOENT ? 0 : -1;
  for (;;) {
    size_t nlen;
    errno = 0;
    de = readdir(d);
    if (!de) break;
    nlen = strlen(de->d_name);
    if (nlen < ulen || memcmp(de->d_name, u, ulen) || (nlen > ulen && de->d_name[ulen] != ':')) continue;
    if (!stralloc_copys(fn, sub) || !stralloc_append(fn, '/') || !stralloc_cats(fn, de->d_name)
        || !stralloc_0(fn)) {
      e = errno;
      closedir(d);
      errno = e;
      return -1;
    }
    closedir(d);
    return 1;
  }
  e = errno;
  closedir(d);
  errno = e;
  return e ? -1 : 0;
}

int maildirlist_find(const char *u, size_t ulen, stralloc *fn)
{
  int r;
  /* An empty name or one starting with '.' is never a message. */
  if (!ulen || u[0] == '.' || memchr(u, '/', ulen)) return 0;
  r = find_in("cur", u, ulen, fn);
  if (r) return r;
  return find_in("new", u, ulen, fn);
}

int maildirlist_seen(const char *fn, stralloc *tmp)
{
  if (strncmp(fn, "new/", 4)) return 0;
  if (!stralloc_copys(tmp, "cur/") || !stralloc_cats(tmp, fn + 4) || !stralloc_cats(tmp, ":2,")
      || !stralloc_0(tmp))
    return -1;
  if (rename(fn, tmp->s) == -1) return -1;
  return 1;
}

void maildirlist_clean(time_t now)
{
  stralloc fn = STRALLOC_ZERO;
  struct dirent *de;
  DIR *d = opendir("tmp");

  if (!d) return;
  while ((de = readdir(d))) {
    struct stat st;
    if (de->d_name[0] == '.') continue;
    if (!stralloc_copys(&fn, "tmp/") || !stralloc_cats(&fn, de->d_name) || !stralloc_0(&fn)) break;
    if (lstat(fn.s, &st) == 0 && S_ISREG(st.st_mode) && now > st.st_atime + TMP_STALE) unlink(fn.s);
  }
  closedir(d);
  stralloc_free(&fn);
}
