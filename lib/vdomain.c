#include "vdomain.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h> /* rename */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "assign.h"
#include "cdb.h"
#include "child.h"
#include "commit.h"
#include "env.h"
#include "fmt.h"
#include "lock.h"
#include "scan.h"
#include "users.h"

/* ---- names ---- */

static const char *lower(stralloc *out, const char *in)
{
  size_t i;
  if (!stralloc_copys(out, in) || !stralloc_0(out)) return "out of memory";
  for (i = 0; i + 1 < out->len; ++i)
    if (out->s[i] >= 'A' && out->s[i] <= 'Z') out->s[i] = (char)(out->s[i] + 32);
  return 0;
}

const char *vdomain_checkuser(stralloc *out, const char *user)
{
  static const char *const reserved[] = { "vpasswd", "vpasswd.cdb", "vpasswd.lock", "vpasswd.tmp", "vpasswd.cdb.tmp" };
  const char *err = lower(out, user);
  size_t i, len;

  if (err) return err;
  len = out->len - 1;
  if (!len) return "empty user name";
  if (len > VDOMAIN_MAXUSER) return "user name too long (over 64 characters)";
  for (i = 0; i < len; ++i) {
    char c = out->s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return "user name may hold only letters, digits, '.', '_' and '-'";
  }
  if (out->s[0] == '.' || out->s[0] == '-') return "user name may not start with '.' or '-'";
  if (strstr(out->s, "..")) return "user name may not contain \"..\"";
  for (i = 0; i < sizeof reserved / sizeof reserved[0]; ++i)
    if (!strcmp(out->s, reserved[i])) return "user name is reserved (a file of the domain directory)";
  return 0;
}

const char *vdomain_checkdomain(stralloc *out, const char *domain)
{
  const char *err = lower(out, domain);
  size_t i, len, label = 0;

  if (err) return err;
  len = out->len - 1;
  if (!len) return "empty domain name";
  if (len > VDOMAIN_MAXDOMAIN) return "domain name too long (over 96 characters)";
  for (i = 0; i <= len; ++i) {
    char c = out->s[i];
    if (c == '.' || i == len) {
      if (i == label) return "domain name has an empty label (a leading, trailing or double dot)";
      if (out->s[label] == '-' || out->s[i - 1] == '-') return "domain name label may not start or end with '-'";
      label = i + 1;
    } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return "domain name may hold only letters, digits, '-' and dots";
  }
  return 0;
}

const char *vdomain_splitaddr(const char *addr, stralloc *user, stralloc *domain)
{
  const char *at = strrchr(addr, '@');
  const char *err;
  stralloc u = STRALLOC_ZERO;

  if (!at) at = strrchr(addr, '%');
  if (!at) return "address has no domain (want user@domain)";
  if (!stralloc_copyb(&u, addr, (size_t)(at - addr)) || !stralloc_0(&u)) { stralloc_free(&u); return "out of memory"; }
  err = vdomain_checkuser(user, u.s);
  stralloc_free(&u);
  if (err) return err;
  return vdomain_checkdomain(domain, at + 1);
}

/* ---- users/cdb ---- */

int vdomain_get(const char *qmailhome, const char *domain, struct vdomain *d, stralloc *buf)
{
  stralloc fn = STRALLOC_ZERO, key = STRALLOC_ZERO;
  struct users_entry e;
  struct cdb c;
  int fd, r = -1, err;
  size_t i;

  if (!stralloc_copys(&fn, qmailhome) || !stralloc_cats(&fn, "/users/cdb") || !stralloc_0(&fn)) goto done;
  if (!stralloc_copys(&key, "!") || !stralloc_cats(&key, domain) || !stralloc_append(&key, '-')) goto done;
  for (i = 0; i < key.len; ++i)
    if (key.s[i] >= 'A' && key.s[i] <= 'Z') key.s[i] = (char)(key.s[i] + 32);

  do fd = open(fn.s, O_RDONLY | O_CLOEXEC); while (fd == -1 && errno == EINTR);
  if (fd == -1) {
    if (errno == ENOENT) r = 0; /* no users/cdb: no virtual domains (vget_assign) */
    goto done;
  }
  if (cdb_init(&c, fd) == -1) { err = errno; close(fd); errno = err; goto done; }
  close(fd);
  r = cdb_find(&c, key.s, key.len);
  if (r == 1) {
    const char *data = cdb_get(&c, cdb_datapos(&c), cdb_datalen(&c));
    r = -1;
    if (!data) errno = EPROTO;
    else if (stralloc_copyb(buf, data, cdb_datalen(&c)) && stralloc_0(buf)) {
      if (!users_split(buf, &e) || !*e.user || e.home[0] != '/') errno = EPROTO;
      else {
        d->real = e.user;
        d->uid = e.uid;
        d->gid = e.gid;
        d->dir = e.home;
        r = 1;
      }
    }
  }
  cdb_free(&c);
done:
  err = errno;
  stralloc_free(&fn);
  stralloc_free(&key);
  errno = err;
  return r;
}

int vdomain_dirof(stralloc *out, const char *base, const char *domain)
{
  return stralloc_copys(out, base) && stralloc_cats(out, "/domains/") && stralloc_cats(out, domain) && stralloc_0(out);
}

/* ---- control files ---- */

#define MAXFILE (16UL * 1024 * 1024)

static int qpath(stralloc *sa, const char *qmailhome, const char *rel)
{
  return stralloc_copys(sa, qmailhome) && stralloc_append(sa, '/') && stralloc_cats(sa, rel) && stralloc_0(sa);
}

int vdomain_lock(const char *qmailhome)
{
  stralloc fn = STRALLOC_ZERO;
  int fd = -1, e;
  if (!qpath(&fn, qmailhome, "control/.vpopmail.lock")) return -1;
  do fd = open(fn.s, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600); while (fd == -1 && errno == EINTR);
  e = errno;
  stralloc_free(&fn);
  if (fd == -1) { errno = e; return -1; }
  if (lock_ex(fd) == -1) { e = errno; close(fd); errno = e; return -1; }
  return fd;
}

/* The file's text (a missing file is empty; *st zeroed then). */
static int readtext(const char *fn, stralloc *text, struct stat *st)
{
  int fd;
  memset(st, 0, sizeof *st);
  text->len = 0;
  do fd = open(fn, O_RDONLY | O_CLOEXEC); while (fd == -1 && errno == EINTR);
  if (fd == -1) return errno == ENOENT ? 0 : -1;
  if (fstat(fd, st) == -1) goto fail;
  if (!S_ISREG(st->st_mode)) { errno = EINVAL; goto fail; }
  for (;;) {
    ssize_t r;
    if (!stralloc_readyplus(text, 8192)) goto fail;
    r = read(fd, text->s + text->len, 8192);
    if (r == -1) { if (errno == EINTR) continue; goto fail; }
    if (r == 0) break;
    text->len += (size_t)r;
    if (text->len > MAXFILE) { errno = E2BIG; goto fail; }
  }
  close(fd);
  return 0;
fail:
  {
    int e = errno;
    close(fd);
    errno = e;
  }
  return -1;
}

static int writetext(const char *fn, const stralloc *text, const struct stat *old)
{
  stralloc tmp = STRALLOC_ZERO;
  int fd, e;
  mode_t mode = old->st_mode ? (old->st_mode & 07777) : 0644;

  if (!stralloc_copys(&tmp, fn) || !stralloc_cats(&tmp, ".tmp") || !stralloc_0(&tmp)) return -1;
  do fd = open(tmp.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600); while (fd == -1 && errno == EINTR);
  if (fd == -1) goto fail;
  /* the mode the old file had (qmail's files are world-readable: 0644) */
  if (fchmod(fd, mode) == -1) goto failfd;
  if (old->st_mode && geteuid() == 0 && fchown(fd, old->st_uid, old->st_gid) == -1) goto failfd;
  if (commit_writeall(fd, text->s, text->len) == -1) goto failfd;
  if (commit_fsyncclose(fd) == -1) goto failtmp;
  if (commit_rename(tmp.s, fn) == -1) goto failtmp;
  stralloc_free(&tmp);
  return 0;
failfd:
  e = errno;
  close(fd);
  errno = e;
failtmp:
  e = errno;
  unlink(tmp.s);
  errno = e;
fail:
  e = errno;
  stralloc_free(&tmp);
  errno = e;
  return -1;
}

/* A line, lowercased and without trailing blanks, into key. */
static int linekey(stralloc *key, const char *s, size_t len)
{
  size_t i;
  while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r')) --len;
  if (!stralloc_copyb(key, s, len) || !stralloc_0(key)) return 0;
  for (i = 0; i < len; ++i)
    if (key->s[i] >= 'A' && key->s[i] <= 'Z') key->s[i] = (char)(key->s[i] + 32);
  return 1;
}

enum match { MATCH_LINE, MATCH_PREFIX };

/* The edit itself: with add set, appends add (before the first line
 * starting with '.' when dotend, which is created when missing) unless a
 * line matches; else removes every matching line. *found says whether a
 * line matched. 1 changed, 0 not, -1 errno. */
static int editlines(const char *fn, enum match how, const char *want, const char *add, int dotend, int *found)
{
  stralloc text = STRALLOC_ZERO, out = STRALLOC_ZERO, key = STRALLOC_ZERO;
  struct stat st;
  size_t pos = 0, wantlen = strlen(want);
  int r = -1, added = 0, e;

  *found = 0;
  if (readtext(fn, &text, &st) == -1) goto done;
  while (pos < text.len) {
    const char *s = text.s + pos;
    const char *nl = memchr(s, '\n', text.len - pos);
    size_t len = nl ? (size_t)(nl - s) : text.len - pos;
    int m;
    pos += nl ? len + 1 : len;
    if (!linekey(&key, s, len)) goto done;
    m = how == MATCH_LINE ? !strcmp(key.s, want) : !strncmp(key.s, want, wantlen);
    if (m) *found = 1;
    if (m && !add) continue;
    if (add && dotend && !added && len && s[0] == '.') {
      if (!stralloc_cats(&out, add) || !stralloc_append(&out, '\n')) goto done;
      added = 1;
    }
    if (!stralloc_catb(&out, s, len) || !stralloc_append(&out, '\n')) goto done;
  }
  if (add) {
    if (*found) { r = 0; goto done; }
    if (!added) {
      if (!stralloc_cats(&out, add) || !stralloc_append(&out, '\n')) goto done;
      if (dotend && !stralloc_cats(&out, ".\n")) goto done;
    }
  } else if (!*found) { r = 0; goto done; }
  if (writetext(fn, &out, &st) == -1) goto done;
  r = 1;
done:
  e = errno;
  stralloc_free(&text);
  stralloc_free(&out);
  stralloc_free(&key);
  errno = e;
  return r;
}

static int lowerdup(stralloc *sa, const char *s)
{
  return linekey(sa, s, strlen(s));
}

static int fieldok(const char *s)
{
  for (; *s; ++s)
    if (*s == ':' || *s == '\n' || (unsigned char)*s < 32) return 0;
  return 1;
}

/* "+domain-:", lowercased: the start of the domain's assign line */
static int assignprefix(stralloc *sa, const char *domain)
{
  stralloc t = STRALLOC_ZERO;
  int ok = stralloc_copys(&t, "+") && stralloc_cats(&t, domain) && stralloc_cats(&t, "-:") && stralloc_0(&t)
           && lowerdup(sa, t.s);
  stralloc_free(&t);
  return ok;
}

int vdomain_assign_add(const char *qmailhome, const char *domain, const char *real,
                       unsigned long uid, unsigned long gid, const char *dir)
{
  stralloc fn = STRALLOC_ZERO, want = STRALLOC_ZERO, line = STRALLOC_ZERO;
  int r = -1, found, e;
  if (!fieldok(domain) || !fieldok(real) || !fieldok(dir) || !*domain || !*real || dir[0] != '/') { errno = EINVAL; return -1; }
  if (!qpath(&fn, qmailhome, "users/assign") || !assignprefix(&want, domain)) goto done;
  if (!stralloc_copys(&line, want.s) || !stralloc_cats(&line, real)
      || !stralloc_append(&line, ':') || !stralloc_catulong(&line, uid) || !stralloc_append(&line, ':')
      || !stralloc_catulong(&line, gid) || !stralloc_append(&line, ':') || !stralloc_cats(&line, dir)
      || !stralloc_cats(&line, ":-::") || !stralloc_0(&line)) goto done;
  r = editlines(fn.s, MATCH_PREFIX, want.s, line.s, 1, &found);
done:
  e = errno;
  stralloc_free(&fn);
  stralloc_free(&want);
  stralloc_free(&line);
  errno = e;
  return r;
}

int vdomain_assign_del(const char *qmailhome, const char *domain)
{
  stralloc fn = STRALLOC_ZERO, want = STRALLOC_ZERO;
  int r = -1, found, e;
  if (qpath(&fn, qmailhome, "users/assign") && assignprefix(&want, domain))
    r = editlines(fn.s, MATCH_PREFIX, want.s, 0, 0, &found);
  e = errno;
  stralloc_free(&fn);
  stralloc_free(&want);
  errno = e;
  return r;
}

/* Lines in the file (a last line without its newline counts). */
static int countlines(const char *fn, unsigned long *n)
{
  stralloc text = STRALLOC_ZERO;
  struct stat st;
  size_t i;
  if (readtext(fn, &text, &st) == -1) { int e = errno; stralloc_free(&text); errno = e; return -1; }
  *n = 0;
  for (i = 0; i < text.len; ++i)
    if (text.s[i] == '\n') ++*n;
  if (text.len && text.s[text.len - 1] != '\n') ++*n;
  stralloc_free(&text);
  return 0;
}

static int simple(const char *qmailhome, const char *rel, const char *line, int add, int *found)
{
  stralloc fn = STRALLOC_ZERO, want = STRALLOC_ZERO;
  int r = -1, e;
  if (!qpath(&fn, qmailhome, rel) || !lowerdup(&want, line)) goto done;
  r = editlines(fn.s, MATCH_LINE, want.s, add ? want.s : 0, 0, found);
done:
  e = errno;
  stralloc_free(&fn);
  stralloc_free(&want);
  errno = e;
  return r;
}

/* Reads only: whether the line is in the file. */
static int hasline(const char *qmailhome, const char *rel, const char *line)
{
  stralloc fn = STRALLOC_ZERO, text = STRALLOC_ZERO, key = STRALLOC_ZERO, want = STRALLOC_ZERO;
  struct stat st;
  size_t pos = 0;
  int r = -1, e;
  if (!qpath(&fn, qmailhome, rel) || !lowerdup(&want, line)) goto done;
  if (readtext(fn.s, &text, &st) == -1) goto done;
  r = 0;
  while (pos < text.len && !r) {
    const char *s = text.s + pos;
    const char *nl = memchr(s, '\n', text.len - pos);
    size_t len = nl ? (size_t)(nl - s) : text.len - pos;
    pos += nl ? len + 1 : len;
    if (!linekey(&key, s, len)) { r = -1; break; }
    if (!strcmp(key.s, want.s)) r = 1;
  }
done:
  e = errno;
  stralloc_free(&fn);
  stralloc_free(&text);
  stralloc_free(&key);
  stralloc_free(&want);
  errno = e;
  return r;
}

int vdomain_rcpthosts_add(const char *qmailhome, const char *domain, int *more)
{
  stralloc fn = STRALLOC_ZERO;
  unsigned long n;
  int r, found;
  *more = 0;
  if (!fieldok(domain) || !*domain) { errno = EINVAL; return -1; }
  r = hasline(qmailhome, "control/rcpthosts", domain);
  if (r) return r == 1 ? 0 : -1;
  r = hasline(qmailhome, "control/morercpthosts", domain);
  if (r) return r == 1 ? 0 : -1;
  if (!qpath(&fn, qmailhome, "control/rcpthosts")) return -1;
  r = countlines(fn.s, &n);
  stralloc_free(&fn);
  if (r == -1) return -1;
  if (n < VDOMAIN_RCPTHOSTS_MAX) return simple(qmailhome, "control/rcpthosts", domain, 1, &found);
  r = simple(qmailhome, "control/morercpthosts", domain, 1, &found);
  if (r == 1) *more = 1;
  return r;
}

int vdomain_rcpthosts_del(const char *qmailhome, const char *domain, int *more)
{
  int r1, r2, found;
  *more = 0;
  r1 = simple(qmailhome, "control/rcpthosts", domain, 0, &found);
  if (r1 == -1) return -1;
  r2 = simple(qmailhome, "control/morercpthosts", domain, 0, &found);
  if (r2 == -1) return -1;
  *more = r2;
  return r1 || r2;
}

int vdomain_virtualdomains_add(const char *qmailhome, const char *domain)
{
  stralloc line = STRALLOC_ZERO;
  int r = -1, found, e;
  if (!fieldok(domain) || !*domain) { errno = EINVAL; return -1; }
  if (stralloc_copys(&line, domain) && stralloc_append(&line, ':') && stralloc_cats(&line, domain) && stralloc_0(&line))
    r = simple(qmailhome, "control/virtualdomains", line.s, 1, &found);
  e = errno;
  stralloc_free(&line);
  errno = e;
  return r;
}

int vdomain_virtualdomains_del(const char *qmailhome, const char *domain)
{
  stralloc line = STRALLOC_ZERO;
  int r = -1, found, e;
  if (stralloc_copys(&line, domain) && stralloc_append(&line, ':') && stralloc_cats(&line, domain) && stralloc_0(&line))
    r = simple(qmailhome, "control/virtualdomains", line.s, 0, &found);
  e = errno;
  stralloc_free(&line);
  errno = e;
  return r;
}

int vdomain_locals_del(const char *qmailhome, const char *domain)
{
  int found;
  return simple(qmailhome, "control/locals", domain, 0, &found);
}

int vdomain_runbin(const char *qmailhome, const char *prog)
{
  stralloc fn = STRALLOC_ZERO;
  char *argv[2];
  int execfailed = 0, wstat, e;
  pid_t pid;

  if (!stralloc_copys(&fn, qmailhome) || !stralloc_cats(&fn, "/bin/") || !stralloc_cats(&fn, prog) || !stralloc_0(&fn)) return -1;
  argv[0] = fn.s;
  argv[1] = 0;
  pid = child_start(argv, -1, &execfailed);
  e = errno;
  stralloc_free(&fn);
  if (pid == -1) { errno = e; return -1; }
  if (child_wait(pid, &wstat) == -1) return -1;
  return WIFEXITED(wstat) && WEXITSTATUS(wstat) == 0 ? 0 : 1;
}

int vdomain_list(const char *qmailhome, stralloc *names)
{
  stralloc fn = STRALLOC_ZERO, text = STRALLOC_ZERO, key = STRALLOC_ZERO, data = STRALLOC_ZERO, name = STRALLOC_ZERO;
  struct stat st;
  size_t pos = 0;
  int r = -1, e;

  names->len = 0;
  if (!qpath(&fn, qmailhome, "users/assign")) goto done;
  if (readtext(fn.s, &text, &st) == -1) goto done;
  while (pos < text.len) {
    const char *s = text.s + pos;
    const char *nl = memchr(s, '\n', text.len - pos);
    size_t len = nl ? (size_t)(nl - s) : text.len - pos;
    char wild;
    enum assign_result ar;
    pos += nl ? len + 1 : len;
    if (len && s[0] == '.') break;
    ar = assign_parse(s, len, &key, &data, &wild);
    if (ar == ASSIGN_NOMEM) goto done;
    if (ar != ASSIGN_ENTRY || s[0] != '+') continue;
    /* key is "!" prefix; vpopmail's prefix is domain "-", dash field "-" */
    if (key.len < 3 || key.s[key.len - 1] != '-') continue;
    {
      size_t i, nuls = 0;
      for (i = 0; i < data.len && nuls < 4; ++i) nuls += !data.s[i];
      if (nuls < 4 || data.len - i < 1 || data.s[i] != '-' || (data.len - i > 1 && data.s[i + 1])) continue;
    }
    if (!stralloc_copyb(&name, key.s + 1, key.len - 2) || !stralloc_0(&name)) goto done;
    {
      stralloc ok = STRALLOC_ZERO;
      const char *err = vdomain_checkdomain(&ok, name.s);
      stralloc_free(&ok);
      if (err) continue;
    }
    if (!stralloc_catb(names, name.s, name.len)) goto done;
  }
  r = 0;
done:
  e = errno;
  stralloc_free(&fn);
  stralloc_free(&text);
  stralloc_free(&key);
  stralloc_free(&data);
  stralloc_free(&name);
  errno = e;
  return r;
}

/* 'h' into a supervise control pipe (what svc -h does). */
static int svc_h(const char *service)
{
  stralloc fn = STRALLOC_ZERO;
  struct stat st;
  int fd, r = 0;
  if (!stralloc_copys(&fn, service) || !stralloc_cats(&fn, "/supervise/control") || !stralloc_0(&fn)) return 0;
  if (stat(fn.s, &st) == 0 && S_ISFIFO(st.st_mode)) {
    /* O_NONBLOCK: no supervise reading gives ENXIO instead of a hang */
    do fd = open(fn.s, O_WRONLY | O_NONBLOCK | O_CLOEXEC); while (fd == -1 && errno == EINTR);
    if (fd != -1) {
      r = write(fd, "h", 1) == 1;
      close(fd);
    }
  }
  stralloc_free(&fn);
  return r;
}

/* SIGHUP to every qmail-send process run from qmailhome/bin/qmail-send
 * that we may see (/proc/PID/exe is readable for our own processes, or
 * for all as root). The count of processes signalled. */
static int hup_proc(const char *qmailhome)
{
  stralloc want = STRALLOC_ZERO, fn = STRALLOC_ZERO;
  char real[PATH_MAX], exe[PATH_MAX + 16], comm[64];
  struct dirent *de;
  DIR *d;
  int n = 0;

  if (!stralloc_copys(&want, qmailhome) || !stralloc_cats(&want, "/bin/qmail-send") || !stralloc_0(&want)) return 0;
  if (realpath(want.s, real)) { if (!stralloc_copys(&want, real) || !stralloc_0(&want)) goto done; }
  d = opendir("/proc");
  if (!d) goto done;
  while ((de = readdir(d))) {
    unsigned long pid;
    ssize_t len;
    int fd;
    if (!scan_whole_ulong(de->d_name, 0x7fffffffUL, &pid) || !pid) continue;
    if (!stralloc_copys(&fn, "/proc/") || !stralloc_cats(&fn, de->d_name) || !stralloc_cats(&fn, "/comm") || !stralloc_0(&fn)) break;
    do fd = open(fn.s, O_RDONLY | O_CLOEXEC); while (fd == -1 && errno == EINTR);
    if (fd == -1) continue;
    len = read(fd, comm, sizeof comm - 1);
    close(fd);
    if (len <= 0) continue;
    comm[len] = 0;
    if (strcmp(comm, "qmail-send\n")) continue;
    fn.len -= 5; /* "comm\0" */
    if (!stralloc_cats(&fn, "exe") || !stralloc_0(&fn)) break;
    len = readlink(fn.s, exe, sizeof exe - 1);
    if (len <= 0) continue;
    exe[len] = 0;
    /* a reinstalled binary shows as "path (deleted)" until qmail-send restarts */
    if (strcmp(exe, want.s)) {
      size_t wl = want.len - 1;
      if (strncmp(exe, want.s, wl) || strcmp(exe + wl, " (deleted)")) continue;
    }
    if (kill((pid_t)pid, SIGHUP) == 0) ++n;
  }
  closedir(d);
done:
  stralloc_free(&want);
  stralloc_free(&fn);
  return n;
}

int vdomain_reload(const char *qmailhome, stralloc *how)
{
  static const char *const services[] = { "/service/qmail-send", "/etc/service/qmail-send" };
  const char *env = env_get("QMAILSEND_SERVICE");
  const char *svc = 0;
  size_t i;
  int n;

  if (!stralloc_copys(how, "")) return 0;
  if (env && *env) { if (svc_h(env)) svc = env; }
  else
    for (i = 0; i < sizeof services / sizeof services[0] && !svc; ++i)
      if (svc_h(services[i])) svc = services[i];
  if (svc && (!stralloc_cats(how, "svc -h ") || !stralloc_cats(how, svc))) return 1;
  /* also the processes themselves: a HUP too many only rereads the files,
   * and the service directory may belong to another qmail on this host */
  n = hup_proc(qmailhome);
  if (n) {
    if (how->len && !stralloc_cats(how, "; ")) return 1;
    if (!stralloc_cats(how, "SIGHUP to ") || !stralloc_catulong(how, (unsigned long)n)
        || !stralloc_cats(how, n > 1 ? " qmail-send processes" : " qmail-send process")) return 1;
  }
  if (!stralloc_0(how)) how->len = 0;
  return svc || n;
}

