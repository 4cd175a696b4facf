#include "maildirquota.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* renameat only: no stdio streams here */
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "stralloc.h"

/* Digits at s[0..len) into *u: the count of digits used, 0 if none or if
 * the number does not fit in 64 bits. */
static size_t scan_u64(const char *s, size_t len, uint64_t *u)
{
  uint64_t r = 0;
  size_t i;
  for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; ++i) {
    unsigned d = (unsigned)(s[i] - '0');
    if (r > (UINT64_MAX - d) / 10) return 0;
    r = r * 10 + d;
  }
  if (i) *u = r;
  return i;
}

static int lower(char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* 1 if s[0..len) is t (lowercase), letters in either case. */
static int same_nocase(const char *s, size_t len, const char *t)
{
  size_t i;
  if (len != strlen(t)) return 0;
  for (i = 0; i < len; ++i)
    if (lower(s[i]) != t[i]) return 0;
  return 1;
}

int maildirquota_parse(const char *s, size_t len, struct maildirquota *q)
{
  struct maildirquota r = { 0, 0 };
  int have_s = 0, have_c = 0;
  uint64_t n;
  size_t i, k;

  if (len > MAILDIRQUOTA_FIELDMAX) return 0;
  if (!len || same_nocase(s, len, "noquota")) { *q = r; return 1; }
  k = scan_u64(s, len, &n);
  if (!k) return 0;
  /* vpopmail's old style: one number, maybe a unit (format_maildirquota). */
  if (k == len || same_nocase(s + k, len - k, "k") || same_nocase(s + k, len - k, "kb") ||
      same_nocase(s + k, len - k, "m") || same_nocase(s + k, len - k, "mb")) {
    uint64_t mul = k == len ? 1 : lower(s[k]) == 'k' ? 1024 : 1048576;
    if (n > UINT64_MAX / mul) return 0;
    r.bytes = n * mul;
    *q = r;
    return 1;
  }
  /* Maildir++: items NNN followed by S or C, separated by commas. */
  i = 0;
  for (;;) {
    k = scan_u64(s + i, len - i, &n);
    if (!k || i + k >= len) return 0;
    i += k;
    if (s[i] == 'S' || s[i] == 's') {
      if (have_s++) return 0;
      r.bytes = n;
    } else if (s[i] == 'C' || s[i] == 'c') {
      if (have_c++) return 0;
      r.count = n;
    } else
      return 0;
    ++i;
    if (i == len) break;
    if (s[i] != ',') return 0;
    ++i;
  }
  *q = r;
  return 1;
}

int maildirquota_limited(const struct maildirquota *q) { return q->bytes || q->count; }

size_t maildirquota_fmt(char *s, const struct maildirquota *q)
{
  size_t n = 0;
  if (!maildirquota_limited(q)) return fmt_str(s, "NOQUOTA");
  if (q->bytes) {
    n += fmt_ulong(s ? s + n : 0, (unsigned long)q->bytes);
    if (s) s[n] = 'S';
    ++n;
  }
  if (q->count) {
    if (n) {
      if (s) s[n] = ',';
      ++n;
    }
    n += fmt_ulong(s ? s + n : 0, (unsigned long)q->count);
    if (s) s[n] = 'C';
    ++n;
  }
  return n;
}

/* One signed integer after optional blanks: bytes used, or 0. */
static size_t scan_i64(const char *s, size_t len, int64_t *v)
{
  size_t i = 0, k;
  uint64_t u;
  int neg = 0;
  while (i < len && (s[i] == ' ' || s[i] == '\t')) ++i;
  if (i < len && s[i] == '-') { neg = 1; ++i; }
  k = scan_u64(s + i, len - i, &u);
  if (!k || u > (uint64_t)INT64_MAX) return 0;
  *v = neg ? -(int64_t)u : (int64_t)u;
  return i + k;
}

static int add_i64(int64_t *a, int64_t b)
{
  if ((b > 0 && *a > INT64_MAX - b) || (b < 0 && *a < INT64_MIN - b)) return 0;
  *a += b;
  return 1;
}

int maildirquota_parsesize(const char *s, size_t len, struct maildirquota *def,
                           struct maildirquota_usage *u)
{
  struct maildirquota_usage sum = { 0, 0 };
  const char *nl = memchr(s, '\n', len);
  size_t i, k;

  if (!nl || !maildirquota_parse(s, (size_t)(nl - s), def)) return 0;
  i = (size_t)(nl - s) + 1;
  while (i < len) {
    int64_t b, c;
    nl = memchr(s + i, '\n', len - i);
    if (!nl) return 0; /* a line cut short */
    k = scan_i64(s + i, (size_t)(nl - (s + i)), &b);
    if (!k) return 0;
    i += k;
    if (s[i] != ' ' && s[i] != '\t') return 0;
    k = scan_i64(s + i, (size_t)(nl - (s + i)), &c);
    if (!k) return 0;
    i += k;
    while (s + i < nl && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (s + i != nl) return 0;
    ++i;
    if (!add_i64(&sum.bytes, b) || !add_i64(&sum.count, c)) return 0;
  }
  *u = sum;
  return 1;
}

static int same_quota(const struct maildirquota *a, const struct maildirquota *b)
{
  return a->bytes == b->bytes && a->count == b->count;
}

static void clamp(struct maildirquota_usage *u)
{
  if (u->bytes < 0) u->bytes = 0;
  if (u->count < 0) u->count = 0;
}

int maildirquota_read(const char *maildir, const struct maildirquota *q,
                      struct maildirquota_usage *u)
{
  char buf[MAILDIRQUOTA_MAXSIZE + 1];
  struct maildirquota def;
  struct stat st;
  size_t len = 0;
  int dfd, fd, e;

  dfd = open(maildir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd == -1) return -1;
  fd = openat(dfd, "maildirsize", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  e = errno;
  close(dfd);
  if (fd == -1) {
    /* missing, or a symlink someone put there: count afresh */
    if (e == ENOENT || e == ELOOP) return 0;
    errno = e;
    return -1;
  }
  if (fstat(fd, &st) == -1) { e = errno; close(fd); errno = e; return -1; }
  if (!S_ISREG(st.st_mode) || st.st_size > MAILDIRQUOTA_MAXSIZE ||
      st.st_mtime + MAILDIRQUOTA_MAXAGE < time(0) || st.st_mtime > time(0) + MAILDIRQUOTA_MAXAGE) {
    close(fd);
    return 0;
  }
  /* Read one byte more than the limit: the file may have grown since. */
  while (len < sizeof buf) {
    ssize_t r = read(fd, buf + len, sizeof buf - len);
    if (r == -1) {
      if (errno == EINTR) continue;
      e = errno;
      close(fd);
      errno = e;
      return -1;
    }
    if (!r) break;
    len += (size_t)r;
  }
  close(fd);
  if (len > MAILDIRQUOTA_MAXSIZE) return 0;
  if (!maildirquota_parsesize(buf, len, &def, u) || !same_quota(&def, q)) return 0;
  clamp(u);
  return 1;
}

/* The ",S=<digits>" in a Maildir++ file name, before the info (':'). */
static int size_from_name(const char *fn, uint64_t *size)
{
  const char *p;
  for (p = fn; *p && *p != ':'; ++p)
    if (p[0] == ',' && p[1] == 'S' && p[2] == '=') {
      size_t k = scan_u64(p + 3, strlen(p + 3), size);
      if (k && (p[3 + k] == 0 || p[3 + k] == ',' || p[3 + k] == ':')) return 1;
    }
  return 0;
}

/* 1 if the directory fd was modified at or after start. The kernel stamps
 * files with a clock that lags the real one by up to a tick, so changes
 * within 50 ms before start count too (harmless: the result is then only
 * not saved). */
static int changed_since(int fd, const struct timespec *start)
{
  struct stat st;
  int64_t m, s;
  if (fstat(fd, &st) == -1) return 1;
  m = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
  s = (int64_t)start->tv_sec * 1000 + start->tv_nsec / 1000000;
  return m >= s - 50;
}

/* Adds the messages of dfd/sub (new/ or cur/) to u. A missing one counts
 * nothing; the time check is for Courier's race rule (below). */
static int count_dir(int dfd, const char *sub, struct maildirquota_usage *u, const struct timespec *start,
                     int *changed)
{
  struct dirent *de;
  struct stat st;
  DIR *d;
  int fd, e;

  fd = openat(dfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -1) return errno == ENOENT ? 0 : -1;
  d = fdopendir(fd);
  if (!d) { e = errno; close(fd); errno = e; return -1; }
  for (;;) {
    uint64_t size;
    errno = 0;
    de = readdir(d);
    if (!de) break;
    if (de->d_name[0] == '.') continue;
    if (!size_from_name(de->d_name, &size)) {
      if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
        if (errno == ENOENT) continue; /* read or removed meanwhile */
        break;
      }
      if (!S_ISREG(st.st_mode)) continue;
      size = (uint64_t)st.st_size;
    }
    if (size > (uint64_t)INT64_MAX || !add_i64(&u->bytes, (int64_t)size) || !add_i64(&u->count, 1)) {
      errno = EOVERFLOW;
      break;
    }
  }
  e = errno;
  if (!e && changed_since(fd, start)) *changed = 1;
  closedir(d);
  if (e) { errno = e; return -1; }
  return 0;
}

static int count_maildir(int dfd, struct maildirquota_usage *u, const struct timespec *start, int *changed)
{
  if (count_dir(dfd, "new", u, start, changed) == -1) return -1;
  return count_dir(dfd, "cur", u, start, changed);
}

static int count_all(int dfd, struct maildirquota_usage *u, const struct timespec *start, int *changed)
{
  struct dirent *de;
  DIR *d;
  int fd, e;

  if (count_maildir(dfd, u, start, changed) == -1) return -1;
  fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1) return -1;
  d = fdopendir(fd);
  if (!d) { e = errno; close(fd); errno = e; return -1; }
  for (;;) {
    int sub;
    errno = 0;
    de = readdir(d);
    if (!de) break;
    /* Folders are ".name"; Maildir++ leaves .Trash out of the quota. */
    if (de->d_name[0] != '.' || !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
        !strcmp(de->d_name, ".Trash"))
      continue;
    /* O_NOFOLLOW: a symlinked folder is not ours to count (and could
     * loop or point anywhere). */
    sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub == -1) {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) continue;
      break;
    }
    e = count_maildir(sub, u, start, changed);
    close(sub);
    if (e == -1) break;
    errno = 0;
  }
  e = errno;
  closedir(d);
  if (e) { errno = e; return -1; }
  return 0;
}

/* Writes the new maildirsize as Courier's deliverquota does: a unique
 * file in tmp/, then rename. */
static int write_size(int dfd, const struct maildirquota *q, const struct maildirquota_usage *u)
{
  char buf[MAILDIRQUOTA_FMT + 2 * FMT_ULONG + 8];
  char tmp[64 + 2 * FMT_ULONG];
  size_t n, t;
  int fd, e;

  n = maildirquota_fmt(buf, q);
  buf[n++] = '\n';
  if (u->bytes < 0) buf[n++] = '-';
  n += fmt_ulong(buf + n, (unsigned long)(u->bytes < 0 ? -u->bytes : u->bytes));
  buf[n++] = ' ';
  if (u->count < 0) buf[n++] = '-';
  n += fmt_ulong(buf + n, (unsigned long)(u->count < 0 ? -u->count : u->count));
  buf[n++] = '\n';

  t = fmt_str(tmp, "tmp/");
  t += fmt_ulong(tmp + t, (unsigned long)time(0));
  tmp[t++] = '.';
  t += fmt_ulong(tmp + t, (unsigned long)getpid());
  t += fmt_str(tmp + t, "_NeWmAiLdIrSiZe.quail");
  tmp[t] = 0;

  fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd == -1) return -1;
  if (write(fd, buf, n) != (ssize_t)n) {
    e = errno ? errno : EIO;
    goto fail;
  }
  if (fsync(fd) == -1) { e = errno; goto fail; }
  if (close(fd) == -1) { e = errno; unlinkat(dfd, tmp, 0); errno = e; return -1; }
  if (renameat(dfd, tmp, dfd, "maildirsize") == -1) {
    e = errno;
    unlinkat(dfd, tmp, 0);
    errno = e;
    return -1;
  }
  return 0;
fail:
  close(fd);
  unlinkat(dfd, tmp, 0);
  errno = e;
  return -1;
}

/* 0 counted and written, 1 counted but not written (errno), -1 not
 * counted. */
static int recalc(const char *maildir, const struct maildirquota *q, struct maildirquota_usage *u)
{
  struct maildirquota_usage sum = { 0, 0 };
  int dfd, e, changed = 0, r = 0;
  struct timespec start;

  clock_gettime(CLOCK_REALTIME, &start);
  dfd = open(maildir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd == -1) return -1;
  if (count_all(dfd, &sum, &start, &changed) == -1) {
    e = errno;
    close(dfd);
    errno = e;
    return -1;
  }
  *u = sum;
  if (!maildirquota_limited(q)) {
    if (unlinkat(dfd, "maildirsize", 0) == -1 && errno != ENOENT) r = 1;
  } else if (changed) {
    /* A directory changed during the count (Courier's rule): the numbers
     * may be off by the message that arrived, so they are used once and
     * not saved; the next reader counts again. */
    if (unlinkat(dfd, "maildirsize", 0) == -1 && errno != ENOENT) r = 1;
  } else if (write_size(dfd, q, &sum) == -1)
    r = 1;
  e = errno;
  close(dfd);
  errno = e;
  return r;
}

int maildirquota_count(const char *maildir, struct maildirquota_usage *u)
{
  struct maildirquota_usage sum = { 0, 0 };
  struct timespec start;
  int dfd, e, changed = 0;

  clock_gettime(CLOCK_REALTIME, &start);
  dfd = open(maildir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd == -1) return -1;
  e = count_all(dfd, &sum, &start, &changed) == -1 ? errno : 0;
  close(dfd);
  if (e) { errno = e; return -1; }
  *u = sum;
  return 0;
}

int maildirquota_recalc(const char *maildir, const struct maildirquota *q,
                        struct maildirquota_usage *u)
{
  return recalc(maildir, q, u) ? -1 : 0;
}

int maildirquota_get(const char *maildir, const struct maildirquota *q,
                     struct maildirquota_usage *u)
{
  int r;
  u->bytes = u->count = 0;
  if (!maildirquota_limited(q)) return 0;
  r = maildirquota_read(maildir, q, u);
  if (r == 1) return 0;
  if (r == -1) return -1;
  return recalc(maildir, q, u) == -1 ? -1 : 0;
}

int maildirquota_add(const char *maildir, int64_t bytes, int64_t count)
{
  char buf[2 * FMT_ULONG + 4];
  size_t n = 0;
  int dfd, fd, e;
  ssize_t w;

  if (bytes == INT64_MIN || count == INT64_MIN) { errno = EINVAL; return -1; }
  if (bytes < 0) buf[n++] = '-';
  n += fmt_ulong(buf + n, (unsigned long)(bytes < 0 ? -bytes : bytes));
  buf[n++] = ' ';
  if (count < 0) buf[n++] = '-';
  n += fmt_ulong(buf + n, (unsigned long)(count < 0 ? -count : count));
  buf[n++] = '\n';

  dfd = open(maildir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd == -1) return -1;
  fd = openat(dfd, "maildirsize", O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  e = errno;
  close(dfd);
  if (fd == -1) {
    if (e == ENOENT || e == ELOOP) return 0;
    errno = e;
    return -1;
  }
  /* One write: with O_APPEND concurrent deliveries never mix their
   * lines. A short write (disk full) leaves a line without its newline,
   * which makes the next reader recalculate. */
  w = write(fd, buf, n);
  e = errno;
  close(fd);
  if (w != (ssize_t)n) {
    errno = w == -1 ? e : ENOSPC;
    return -1;
  }
  return 1;
}

int maildirquota_exceeds(const struct maildirquota *q, const struct maildirquota_usage *u,
                         uint64_t size)
{
  uint64_t b = u->bytes > 0 ? (uint64_t)u->bytes : 0;
  uint64_t c = u->count > 0 ? (uint64_t)u->count : 0;
  if (q->bytes && (size > q->bytes || b > q->bytes - size)) return 1;
  if (q->count && c >= q->count) return 1;
  return 0;
}

static unsigned pct(uint64_t used, uint64_t limit)
{
  uint64_t p;
  if (!limit) return 0;
  /* used * 100 could overflow; then divide the limit first (off by at
   * most one percent, for mailboxes of exabytes). */
  if (used <= UINT64_MAX / 100) p = used * 100 / limit;
  else if (limit >= 100) p = used / (limit / 100);
  else p = UINT64_MAX;
  return p > 1000000 ? 1000000 : (unsigned)p;
}

unsigned maildirquota_percent(const struct maildirquota *q, const struct maildirquota_usage *u)
{
  unsigned a = pct(u->bytes > 0 ? (uint64_t)u->bytes : 0, q->bytes);
  unsigned b = pct(u->count > 0 ? (uint64_t)u->count : 0, q->count);
  return a > b ? a : b;
}
