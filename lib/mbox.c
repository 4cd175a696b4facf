#include "mbox.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt.h"

/* ---- the From_ line ---- */

static const char mbox_days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char mbox_months[12][4] = {
  "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* UTC fields without gmtime, which would read /etc/localtime first. Days
 * to civil date after Howard Hinnant's algorithm. */
size_t mbox_date(char *s, time_t t)
{
  long long tt = (long long)t, days, era, doe, yoe, doy, mp, secs;
  unsigned long year;
  unsigned mon, day, wday;
  size_t n = 0;

  if (tt < -30610224000LL || tt > 253402300799LL) tt = 0; /* 1000-01-01 .. 9999-12-31 */
  days = tt / 86400;
  secs = tt % 86400;
  if (secs < 0) { secs += 86400; --days; }
  wday = (unsigned)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
  days += 719468;
  era = (days >= 0 ? days : days - 146096) / 146097;
  doe = days - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
  mon = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
  year = (unsigned long)(yoe + era * 400 + (mon <= 2));

  n += fmt_str(s + n, mbox_days[wday]);
  s[n++] = ' ';
  n += fmt_str(s + n, mbox_months[mon - 1]);
  s[n++] = ' ';
  n += fmt_ulong0(s + n, day, 2);
  s[n++] = ' ';
  n += fmt_ulong0(s + n, (unsigned long)(secs / 3600), 2);
  s[n++] = ':';
  n += fmt_ulong0(s + n, (unsigned long)(secs / 60 % 60), 2);
  s[n++] = ':';
  n += fmt_ulong0(s + n, (unsigned long)(secs % 60), 2);
  s[n++] = ' ';
  n += fmt_ulong(s + n, year);
  return n;
}

int mbox_ufline(stralloc *sa, const char *sender, size_t len, time_t t)
{
  char date[MBOX_DATE];
  size_t i, start;

  if (!stralloc_copys(sa, "From ")) return 0;
  if (!len) {
    if (!stralloc_cats(sa, "MAILER-DAEMON")) return 0;
  } else {
    start = sa->len;
    if (!stralloc_catb(sa, sender, len)) return 0;
    for (i = start; i < sa->len; ++i)
      if (sa->s[i] == ' ' || sa->s[i] == '\t' || sa->s[i] == '\n') sa->s[i] = '-';
  }
  return stralloc_append(sa, ' ') && stralloc_catb(sa, date, mbox_date(date, t)) && stralloc_append(sa, '\n');
}

/* ---- >From quoting ---- */

void mbox_quote_start(struct mbox_quote *q)
{
  q->gt = 0;
  q->from = 0;
  q->inline_ = 0;
  q->partial = 0;
}

static int mbox_putgt(buffer *out, size_t n)
{
  static const char gts[64] = ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>";
  while (n) {
    size_t k = n < sizeof gts ? n : sizeof gts;
    if (buffer_put(out, gts, k) == -1) return -1;
    n -= k;
  }
  return 0;
}

/* Writes what was held back at the start of a line that turned out not to
 * be a From_ line. */
static int mbox_flushprefix(struct mbox_quote *q, buffer *out)
{
  if (mbox_putgt(out, q->gt) == -1 || buffer_put(out, "From ", q->from) == -1) return -1;
  if (q->gt || q->from) q->partial = 1;
  q->gt = 0;
  q->from = 0;
  return 0;
}

int mbox_quote_put(struct mbox_quote *q, buffer *out, const char *s, size_t len)
{
  while (len) {
    if (q->inline_) {
      const char *nl = memchr(s, '\n', len);
      size_t k = nl ? (size_t)(nl - s) + 1 : len;
      if (buffer_put(out, s, k) == -1) return -1;
      q->partial = !nl;
      if (nl) q->inline_ = 0;
      s += k;
      len -= k;
      continue;
    }
    /* At the start of a line, holding back ">"* and a part of "From ". */
    if (*s == '>' && !q->from) {
      ++q->gt;
      ++s;
      --len;
      continue;
    }
    if (*s == "From "[q->from]) {
      ++s;
      --len;
      if (++q->from == 5) {
        if (buffer_put(out, ">", 1) == -1) return -1;
        if (mbox_flushprefix(q, out) == -1) return -1;
        q->inline_ = 1;
      }
      continue;
    }
    if (mbox_flushprefix(q, out) == -1) return -1;
    q->inline_ = 1; /* this byte (maybe the newline) is copied as it is */
  }
  return 0;
}

int mbox_quote_end(struct mbox_quote *q, buffer *out)
{
  if (mbox_flushprefix(q, out) == -1) return -1;
  if (q->partial && buffer_put(out, "\n", 1) == -1) return -1;
  mbox_quote_start(q);
  return buffer_put(out, "\n", 1);
}

/* ---- appending ---- */

static volatile sig_atomic_t mbox_alarmed;

/* Keeps interrupting every second once the time is up, so that a flock
 * entered just after the first alarm is interrupted too. */
static void mbox_sigalrm(int sig)
{
  (void)sig;
  mbox_alarmed = 1;
  alarm(1);
}

/* 1 locked, 0 the file cannot be locked at all, -1 timed out. */
static int mbox_lock(int fd, unsigned timeout)
{
  struct sigaction sa, old;
  sigset_t set, oldset;
  int r;

  do r = flock(fd, LOCK_EX | LOCK_NB); while (r == -1 && errno == EINTR);
  if (r == 0) return 1;
  if (errno != EWOULDBLOCK) return 0;

  memset(&sa, 0, sizeof sa);
  sa.sa_handler = mbox_sigalrm;
  sigemptyset(&sa.sa_mask);
  mbox_alarmed = 0;
  sigaction(SIGALRM, &sa, &old);
  sigemptyset(&set);
  sigaddset(&set, SIGALRM);
  sigprocmask(SIG_UNBLOCK, &set, &oldset);
  if (timeout) alarm(timeout);
  for (;;) {
    if (flock(fd, LOCK_EX) == 0) { r = 1; break; }
    if (errno != EINTR) { r = 0; break; }
    if (mbox_alarmed) { r = -1; errno = ETIMEDOUT; break; }
  }
  alarm(0);
  sigprocmask(SIG_SETMASK, &oldset, 0);
  sigaction(SIGALRM, &old, 0);
  return r;
}

static enum mbox_status mbox_undo(int fd, int locked, off_t pos, enum mbox_status st)
{
  int e = errno;
  /* Only under the lock: without it, another writer may have appended. */
  if (locked) while (ftruncate(fd, pos) == -1 && errno == EINTR) {}
  close(fd);
  errno = e;
  return st;
}

enum mbox_status mbox_append(const char *fn, int msgfd, const char *head, size_t headlen, unsigned locktimeout)
{
  static char inbuf[65536], outbuf[65536];
  struct mbox_quote q;
  struct stat st, st2;
  buffer out;
  unsigned attempt;
  off_t pos, off = 0;
  int fd, locked, e;

  for (attempt = 0;; ++attempt) {
    /* O_NONBLOCK, as qmail's open_append: a FIFO without a reader is an
     * error now rather than a delivery that never ends. */
    do fd = open(fn, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
    while (fd == -1 && errno == EINTR);
    if (fd == -1) return MBOX_EOPEN;
    if (fcntl(fd, F_SETFL, O_WRONLY | O_APPEND) == -1) { e = errno; close(fd); errno = e; return MBOX_EOPEN; }
    locked = mbox_lock(fd, locktimeout);
    if (locked == -1) { e = errno; close(fd); errno = e; return MBOX_ELOCK; }
    if (fstat(fd, &st) == -1) { e = errno; close(fd); errno = e; return MBOX_EWRITE; }
    /* Renamed over while we waited for the lock (maildir2mbox replaces
     * the mbox that way): what we hold is no longer the mailbox. Written
     * there, the message would be lost; after a few tries it is a
     * temporary failure instead. */
    if (locked && (!st.st_nlink || stat(fn, &st2) == -1 || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev)) {
      close(fd);
      if (attempt >= 5) return MBOX_EMOVED;
      continue;
    }
    break;
  }
  pos = st.st_size;

  buffer_init(&out, fd, outbuf, sizeof outbuf, 0);
  if (buffer_put(&out, head, headlen) == -1) return mbox_undo(fd, locked, pos, MBOX_EWRITE);
  mbox_quote_start(&q);
  for (;;) {
    ssize_t r = pread(msgfd, inbuf, sizeof inbuf, off);
    if (r == -1) {
      if (errno == EINTR) continue;
      return mbox_undo(fd, locked, pos, MBOX_EREAD);
    }
    if (r == 0) break;
    off += r;
    if (mbox_quote_put(&q, &out, inbuf, (size_t)r) == -1) return mbox_undo(fd, locked, pos, MBOX_EWRITE);
  }
  if (mbox_quote_end(&q, &out) == -1 || buffer_flush(&out) == -1 || fsync(fd) == -1)
    return mbox_undo(fd, locked, pos, MBOX_EWRITE);
  /* After a good fsync the message is in the file; a failing close (NFS)
   * is still reported: delivered twice is better than lost. */
  if (close(fd) == -1) return MBOX_EWRITE;
  return MBOX_OK;
}
