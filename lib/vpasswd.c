#include "vpasswd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* rename */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdb.h"
#include "error.h"
#include "cdbmake.h"
#include "commit.h"
#include "lock.h"
#include "scan.h"

/* ---- one line ---- */

static int badchar(unsigned char c)
{
  return c < 32 || c == 127;
}

static int number(const char *s, unsigned long *u)
{
  if (!*s) { *u = 0; return 1; } /* vpopmail reads an empty field as 0 */
  return scan_whole_ulong(s, 0xffffffffUL, u);
}

int vpasswd_parse(const char *line, size_t len, struct vpasswd *pw, stralloc *buf)
{
  const char *f[8];
  size_t i, n = 0;

  if (len && line[len - 1] == '\n') --len;
  if (len > VPASSWD_MAXLINE) return 0;
  if (memchr(line, 0, len) || memchr(line, '\n', len)) return 0;
  if (!stralloc_copyb(buf, line, len) || !stralloc_0(buf)) return -1;
  f[n++] = buf->s;
  for (i = 0; i < len; ++i)
    if (buf->s[i] == ':') {
      if (n == 8) return 0; /* a ninth field */
      buf->s[i] = 0;
      f[n++] = buf->s + i + 1;
    }
  if (n < 7) return 0;
  if (!*f[0]) return 0;
  for (i = 0; f[0][i]; ++i)
    if (badchar((unsigned char)f[0][i]) || f[0][i] == ' ') return 0;
  if (!number(f[2], &pw->uid) || !number(f[3], &pw->flags)) return 0;
  if (f[5][0] != '/') return 0;
  pw->name = f[0];
  pw->passwd = f[1];
  pw->gecos = f[4];
  pw->dir = f[5];
  pw->quota = f[6];
  pw->clearpw = n == 8 ? f[7] : 0;
  return 1;
}

static int fieldok(const char *s)
{
  for (; *s; ++s)
    if (*s == ':' || badchar((unsigned char)*s)) return 0;
  return 1;
}

int vpasswd_fmt(stralloc *out, const struct vpasswd *pw)
{
  size_t start = out->len;
  const char *s[6];
  size_t i;

  s[0] = pw->name; s[1] = pw->passwd; s[2] = pw->gecos; s[3] = pw->dir; s[4] = pw->quota;
  s[5] = pw->clearpw ? pw->clearpw : "";
  for (i = 0; i < 6; ++i)
    if (!s[i] || !fieldok(s[i])) { errno = EINVAL; return -1; }
  if (!*pw->name || pw->name[0] == ' ' || strchr(pw->name, ' ') || pw->dir[0] != '/') { errno = EINVAL; return -1; }
  if (pw->uid > 0xffffffffUL || pw->flags > 0xffffffffUL) { errno = EINVAL; return -1; }
  if (!stralloc_cats(out, pw->name) || !stralloc_append(out, ':')
      || !stralloc_cats(out, pw->passwd) || !stralloc_append(out, ':')
      || !stralloc_catulong(out, pw->uid) || !stralloc_append(out, ':')
      || !stralloc_catulong(out, pw->flags) || !stralloc_append(out, ':')
      || !stralloc_cats(out, pw->gecos) || !stralloc_append(out, ':')
      || !stralloc_cats(out, pw->dir) || !stralloc_append(out, ':')
      || !stralloc_cats(out, pw->quota)) { out->len = start; return 0; }
  if (pw->clearpw && (!stralloc_append(out, ':') || !stralloc_cats(out, pw->clearpw))) { out->len = start; return 0; }
  if (out->len - start > VPASSWD_MAXLINE) { out->len = start; errno = EINVAL; return -1; }
  if (!stralloc_append(out, '\n')) { out->len = start; return 0; }
  return 1;
}

/* ---- the file ---- */

static int path(stralloc *sa, const char *dir, const char *file)
{
  return stralloc_copys(sa, dir) && stralloc_append(sa, '/') && stralloc_cats(sa, file) && stralloc_0(sa);
}

static int readfd(int fd, stralloc *text)
{
  struct stat st;
  if (fstat(fd, &st) == -1) return -1;
  if (!S_ISREG(st.st_mode)) { errno = EINVAL; return -1; }
  if ((unsigned long long)st.st_size > VPASSWD_MAXFILE) { errno = E2BIG; return -1; }
  text->len = 0;
  for (;;) {
    ssize_t r;
    if (!stralloc_readyplus(text, 8192)) return -1;
    r = read(fd, text->s + text->len, 8192);
    if (r == -1) { if (errno == EINTR) continue; return -1; }
    if (r == 0) return 0;
    text->len += (size_t)r;
    /* the file may grow under a reader that holds no lock */
    if (text->len > VPASSWD_MAXFILE) { errno = E2BIG; return -1; }
  }
}

int vpasswd_readfile(const char *domaindir, stralloc *text)
{
  stralloc fn = STRALLOC_ZERO;
  int fd, r, e;

  if (!path(&fn, domaindir, "vpasswd")) return -1;
  do fd = open(fn.s, O_RDONLY | O_CLOEXEC | O_NOFOLLOW); while (fd == -1 && errno == EINTR);
  stralloc_free(&fn);
  if (fd == -1) {
    if (errno == ENOENT) { text->len = 0; return 0; }
    return -1;
  }
  r = readfd(fd, text);
  e = errno;
  close(fd);
  errno = e;
  return r;
}

int vpasswd_next(const stralloc *text, size_t *pos, unsigned long *lineno, struct vpasswd *pw, stralloc *buf)
{
  while (*pos < text->len) {
    const char *s = text->s + *pos;
    size_t left = text->len - *pos;
    const char *nl = memchr(s, '\n', left);
    size_t len = nl ? (size_t)(nl - s) : left;
    int r;
    *pos += nl ? len + 1 : len;
    if (lineno) ++*lineno;
    if (!len) continue;
    r = vpasswd_parse(s, len, pw, buf);
    if (r == -1) return -1;
    return r ? 1 : -2;
  }
  return 0;
}

/* ---- lookup ---- */

static int lookup_text(const char *domaindir, const char *key, struct vpasswd *pw, stralloc *buf)
{
  stralloc text = STRALLOC_ZERO;
  size_t pos = 0;
  int r;

  if (vpasswd_readfile(domaindir, &text) == -1) { r = -1; goto done; }
  for (;;) {
    r = vpasswd_next(&text, &pos, 0, pw, buf);
    if (r == -2) continue; /* a malformed line is nobody: vmkpasswd warns about it */
    if (r != 1) break;
    if (!strcmp(pw->name, key)) break;
  }
done:
  {
    int e = errno;
    stralloc_free(&text);
    errno = e;
  }
  return r;
}

int vpasswd_lookup(const char *domaindir, const char *user, struct vpasswd *pw, stralloc *buf)
{
  stralloc fn = STRALLOC_ZERO, key = STRALLOC_ZERO, line = STRALLOC_ZERO;
  struct stat stc, stt;
  struct cdb c;
  int havecdb, havetext, fd, r = -1, e;
  size_t i;

  if (!stralloc_copys(&key, user) || !stralloc_0(&key)) goto done;
  for (i = 0; i < key.len; ++i)
    if (key.s[i] >= 'A' && key.s[i] <= 'Z') key.s[i] = (char)(key.s[i] + 32);
  if (!key.s[0] || strchr(key.s, ':') || strchr(key.s, '\n')) { r = 0; goto done; }

  if (!path(&fn, domaindir, "vpasswd")) goto done;
  havetext = stat(fn.s, &stt) == 0;
  if (!havetext && errno != ENOENT) goto done;
  if (!path(&fn, domaindir, "vpasswd.cdb")) goto done;
  havecdb = stat(fn.s, &stc) == 0;
  if (!havecdb && errno != ENOENT) goto done;

  /* A cdb older than the text is stale: the edit that wrote the text was
   * cut short before renaming the cdb, or someone edited vpasswd by hand.
   * The text is the truth then. */
  if (havecdb && havetext
      && (stc.st_mtim.tv_sec < stt.st_mtim.tv_sec
          || (stc.st_mtim.tv_sec == stt.st_mtim.tv_sec && stc.st_mtim.tv_nsec < stt.st_mtim.tv_nsec)))
    havecdb = 0;
  if (!havecdb) {
    r = havetext ? lookup_text(domaindir, key.s, pw, buf) : 0;
    goto done;
  }

  do fd = open(fn.s, O_RDONLY | O_CLOEXEC); while (fd == -1 && errno == EINTR);
  if (fd == -1) goto done;
  if (cdb_init(&c, fd) == -1) { e = errno; close(fd); errno = e; goto done; }
  close(fd);
  r = cdb_find(&c, key.s, key.len - 1);
  if (r == 1) {
    const char *data = cdb_get(&c, cdb_datapos(&c), cdb_datalen(&c));
    if (!data) { errno = EPROTO; r = -1; }
    else if (!stralloc_copyb(&line, key.s, key.len - 1) || !stralloc_append(&line, ':')
             || !stralloc_catb(&line, data, cdb_datalen(&c))) r = -1;
    else {
      r = vpasswd_parse(line.s, line.len, pw, buf);
      if (r == 0) { errno = EPROTO; r = -1; }
    }
  }
  cdb_free(&c);
done:
  e = errno;
  stralloc_free(&fn);
  stralloc_free(&key);
  stralloc_free(&line);
  errno = e;
  return r;
}

/* ---- the locked rewrite ---- */

enum op { OP_ADD, OP_REPLACE, OP_DELETE, OP_MODIFY, OP_MKCDB };

struct edit {
  enum op op;
  const struct vpasswd *pw;  /* add, replace */
  const char *name;          /* replace, delete, modify */
  int (*change)(struct vpasswd *, void *);
  void *arg;
  unsigned long *badline;
  unsigned long *skipped;
};

/* Opens dir/file for writing from scratch, mode 0640, owned like dir.
 * Group-readable: qmail-smtpd runs with the store's group (vchkpw), so
 * that its recipient check and SMTP AUTH through vchkpw can read the user
 * list, while the mailboxes stay the owner's alone (vpasswd(5)). */
static int create(const char *fn, const struct stat *dirst)
{
  int fd;
  do fd = open(fn, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640); while (fd == -1 && errno == EINTR);
  if (fd == -1) return -1;
  if (fchmod(fd, 0640) == -1) { /* whatever the umask was */
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  /* Root (a system install) makes the files the domain owner's, as
   * vpopmail's chown after make_vpasswd_cdb does. */
  if (geteuid() == 0 && fchown(fd, dirst->st_uid, dirst->st_gid) == -1) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

static int writecdb(int fd, const stralloc *out)
{
  struct cdbmake m;
  size_t pos = 0;

  if (cdbmake_start(&m, fd) == -1) return -1;
  while (pos < out->len) {
    const char *s = out->s + pos;
    const char *nl = memchr(s, '\n', out->len - pos);
    size_t len = (size_t)(nl - s); /* every line of out ends in a newline */
    const char *colon = memchr(s, ':', len);
    pos += len + 1;
    if (!colon) continue; /* skipped by mkcdb: not written */
    if (cdbmake_add(&m, s, (size_t)(colon - s), colon + 1, len - (size_t)(colon - s) - 1) == -1) {
      int e = errno;
      cdbmake_free(&m);
      errno = e;
      return -1;
    }
  }
  return cdbmake_finish(&m);
}

/* Builds the new text in out from text. VPASSWD_* result or -1. */
static int apply(struct edit *ed, const stralloc *text, stralloc *out)
{
  stralloc buf = STRALLOC_ZERO;
  struct vpasswd pw;
  size_t pos = 0, start;
  unsigned long lineno = 0;
  int done = 0, r;

  for (;;) {
    start = pos;
    r = vpasswd_next(text, &pos, &lineno, &pw, &buf);
    if (r == 0) break;
    if (r == -1) goto fail;
    if (r == -2) {
      if (ed->badline && (ed->op != OP_MKCDB || !*ed->skipped)) *ed->badline = lineno;
      if (ed->op != OP_MKCDB) { r = VPASSWD_MALFORMED; goto out; }
      ++*ed->skipped;
      continue;
    }
    /* start may sit on empty lines that vpasswd_next skipped */
    while (text->s[start] == '\n') ++start;
    switch (ed->op) {
      case OP_ADD:
        if (!strcmp(pw.name, ed->pw->name)) { r = VPASSWD_EXISTS; goto out; }
        if (!done && strcmp(ed->pw->name, pw.name) < 0) {
          r = vpasswd_fmt(out, ed->pw);
          if (r != 1) { if (r == -1) { r = VPASSWD_BADENTRY; goto out; } goto fail; }
          done = 1;
        }
        break;
      case OP_REPLACE:
        if (strcmp(pw.name, ed->name)) break;
        r = vpasswd_fmt(out, ed->pw);
        if (r != 1) { if (r == -1) { r = VPASSWD_BADENTRY; goto out; } goto fail; }
        done = 1;
        continue;
      case OP_DELETE:
        if (strcmp(pw.name, ed->name)) break;
        done = 1;
        continue;
      case OP_MODIFY:
        if (strcmp(pw.name, ed->name)) break;
        {
          const char *name = pw.name;
          r = ed->change(&pw, ed->arg);
          if (r) goto out;
          pw.name = name;
        }
        r = vpasswd_fmt(out, &pw);
        if (r != 1) { if (r == -1) { r = VPASSWD_BADENTRY; goto out; } goto fail; }
        done = 1;
        continue;
      case OP_MKCDB:
        break;
    }
    /* the line as it was, byte for byte (a last line gains its newline) */
    if (!stralloc_catb(out, text->s + start, pos - start)) goto fail;
    if (out->s[out->len - 1] != '\n' && !stralloc_append(out, '\n')) goto fail;
  }
  if (ed->op == OP_ADD && !done) {
    r = vpasswd_fmt(out, ed->pw);
    if (r != 1) { if (r == -1) { r = VPASSWD_BADENTRY; goto out; } goto fail; }
    done = 1;
  }
  r = VPASSWD_OK;
  if (!done && (ed->op == OP_REPLACE || ed->op == OP_DELETE || ed->op == OP_MODIFY)) r = VPASSWD_NOUSER;
out:
  stralloc_free(&buf);
  return r;
fail:
  r = errno;
  stralloc_free(&buf);
  errno = r;
  return -1;
}

static int edit(const char *dir, struct edit *ed)
{
  stralloc fn = STRALLOC_ZERO, tmp = STRALLOC_ZERO, ctmp = STRALLOC_ZERO, text = STRALLOC_ZERO, out = STRALLOC_ZERO;
  struct stat dirst;
  int lockfd = -1, fd = -1, r = -1, e;

  if (ed->badline) *ed->badline = 0;
  if (stat(dir, &dirst) == -1) return -1;
  if (!S_ISDIR(dirst.st_mode)) { errno = ENOTDIR; return -1; }

  if (!path(&fn, dir, "vpasswd.lock")) goto fail;
  do lockfd = open(fn.s, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600); while (lockfd == -1 && errno == EINTR);
  if (lockfd == -1) goto fail;
  if (geteuid() == 0 && fchown(lockfd, dirst.st_uid, dirst.st_gid) == -1) goto fail;
  if (lock_ex(lockfd) == -1) goto fail;

  if (vpasswd_readfile(dir, &text) == -1) {
    if (errno == E2BIG) r = VPASSWD_TOOBIG;
    goto fail;
  }
  r = apply(ed, &text, &out);
  if (r != VPASSWD_OK) goto fail;
  r = -1;

  /* vpasswd first, then the cdb: the cdb is written after the text, so its
   * mtime is not older, and a crash between the two renames leaves a new
   * vpasswd with an older cdb, which readers recognise as stale
   * (vpasswd_lookup) and skip. */
  if (!path(&tmp, dir, "vpasswd.tmp") || !path(&ctmp, dir, "vpasswd.cdb.tmp")) goto fail;
  /* vmkpasswd leaves the text alone: a malformed line stays for the
   * administrator to repair and is only left out of the cdb. */
  if (ed->op != OP_MKCDB) {
    fd = create(tmp.s, &dirst);
    if (fd == -1) goto fail;
    if (commit_writeall(fd, out.s, out.len) == -1) goto fail;
    e = commit_fsyncclose(fd);
    fd = -1;
    if (e == -1) goto fail;
  }
  fd = create(ctmp.s, &dirst);
  if (fd == -1) goto fail;
  if (writecdb(fd, &out) == -1) goto fail;
  e = commit_fsyncclose(fd);
  fd = -1;
  if (e == -1) goto fail;
  if (!path(&fn, dir, "vpasswd")) goto fail;
  if (ed->op != OP_MKCDB && rename(tmp.s, fn.s) == -1) goto fail;
  if (!path(&fn, dir, "vpasswd.cdb")) goto fail;
  if (rename(ctmp.s, fn.s) == -1) goto fail;
  if (commit_dir(dir) == -1) goto fail;
  r = VPASSWD_OK;

fail:
  e = errno;
  if (fd != -1) close(fd);
  if (r == -1 && tmp.s) { unlink(tmp.s); if (ctmp.s) unlink(ctmp.s); }
  if (lockfd != -1) close(lockfd); /* releases the lock */
  stralloc_free(&fn);
  stralloc_free(&tmp);
  stralloc_free(&ctmp);
  stralloc_free(&text);
  stralloc_free(&out);
  errno = e;
  return r;
}

int vpasswd_add(const char *domaindir, const struct vpasswd *pw, unsigned long *badline)
{
  struct edit ed = { OP_ADD, pw, pw->name, 0, 0, badline, 0 };
  return edit(domaindir, &ed);
}

int vpasswd_replace(const char *domaindir, const struct vpasswd *pw, unsigned long *badline)
{
  struct edit ed = { OP_REPLACE, pw, pw->name, 0, 0, badline, 0 };
  return edit(domaindir, &ed);
}

int vpasswd_delete(const char *domaindir, const char *name, unsigned long *badline)
{
  struct edit ed = { OP_DELETE, 0, name, 0, 0, badline, 0 };
  return edit(domaindir, &ed);
}

int vpasswd_modify(const char *domaindir, const char *name,
                   int (*change)(struct vpasswd *pw, void *arg), void *arg, unsigned long *badline)
{
  struct edit ed = { OP_MODIFY, 0, name, change, arg, badline, 0 };
  return edit(domaindir, &ed);
}

int vpasswd_mkcdb(const char *domaindir, unsigned long *skipped, unsigned long *badline)
{
  unsigned long n = 0;
  struct edit ed = { OP_MKCDB, 0, 0, 0, 0, badline, skipped ? skipped : &n };
  *ed.skipped = 0;
  return edit(domaindir, &ed);
}

int vpasswd_names(const char *domaindir, stralloc *names, unsigned long *badline)
{
  stralloc text = STRALLOC_ZERO, buf = STRALLOC_ZERO;
  struct vpasswd pw;
  unsigned long lineno = 0;
  size_t pos = 0;
  int r, e;

  names->len = 0;
  if (vpasswd_readfile(domaindir, &text) == -1) return -1;
  for (;;) {
    r = vpasswd_next(&text, &pos, &lineno, &pw, &buf);
    if (r == 0) { r = 1; break; }
    if (r == -1) { errno = ENOMEM; break; }
    if (r == -2) { *badline = lineno; r = 0; break; }
    if (!stralloc_cats(names, pw.name) || !stralloc_0(names)) { errno = ENOMEM; r = -1; break; }
  }
  e = errno;
  stralloc_free(&text);
  stralloc_free(&buf);
  errno = e;
  return r;
}

int vpasswd_result(int r, unsigned long badline, const char *addr, stralloc *why)
{
  int e = errno, code = 111, ok;
  why->len = 0;
  switch (r) {
    case VPASSWD_OK: return 0;
    case VPASSWD_EXISTS: code = 100; ok = stralloc_cats(why, "user already exists: ") && stralloc_cats(why, addr); break;
    case VPASSWD_NOUSER: code = 100; ok = stralloc_cats(why, "no such user: ") && stralloc_cats(why, addr); break;
    case VPASSWD_MALFORMED:
      ok = stralloc_cats(why, "vpasswd line ") && stralloc_catulong(why, badline)
           && stralloc_cats(why, " malformed: fix it by hand; nothing was changed");
      break;
    case VPASSWD_TOOBIG: ok = stralloc_cats(why, "vpasswd is too big; nothing was changed"); break;
    case VPASSWD_BADENTRY:
      code = 100;
      ok = stralloc_cats(why, "the entry cannot be stored (a ':' or control character in it?)");
      break;
    default:
      code = error_temp(e) ? 111 : 100;
      ok = stralloc_cats(why, "unable to update vpasswd: ") && stralloc_cats(why, error_str(e));
  }
  if (!ok || !stralloc_0(why)) return -1;
  errno = e;
  return code;
}
