/* qmail-queue: put one message into the queue.
 *
 * Message on descriptor 0, envelope on descriptor 1 (qmail-queue(8)).
 * The whole message, its envelope and a trailer go into one file, which
 * becomes visible in todo/ once it is complete, and is then fsynced, with
 * its directory, before the exit 0: a kill at any point leaves either
 * nothing or a whole message, and a power cut before the fsyncs at worst a
 * file whose trailer's hash tells qmail-send it is not whole. The layout
 * and the order are in INTERNALS.md and qmail-queue-file(5).
 *
 * This program is setuid qmailq. It takes no arguments and reads no
 * environment variable: nothing the caller controls can point it
 * anywhere but the compiled-in queue. It prints no diagnostics; its exit
 * code says what went wrong (the table in qmail-queue(8)). */

#include <errno.h>
#include <signal.h>
#include <stdio.h> /* rename */
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "commit.h"
#include "date822.h"
#include "envelope.h"
#include "fmt.h"
#include "ids.h"
#include "open.h"
#include "pwfile.h"
#include "qfile.h"
#include "qpool.h"
#include "sig.h"
#include "stralloc.h"
#include "strerr.h"
#include "trigger.h"

/* Exit codes (qmail-queue(8)). 11-40 are permanent, the rest temporary. */
enum {
  QQ_ADDRTOOLONG = 11,
  QQ_NOMEM = 51,
  QQ_TIMEOUT = 52,
  QQ_WRITE = 53,
  QQ_READ = 54,
  QQ_CONFIG = 55,
  QQ_HOME = 61,
  QQ_QUEUEDIR = 62,
  QQ_PID = 63,
  QQ_TODO = 66,
  QQ_BUG = 81,
  QQ_ENVELOPE = 91
};

/* The 24-hour suicide timer: a caller that never closes its end must not
 * pin a half-written message forever. Well below qmail-send's 36 hours
 * after which it removes leftovers. */
#define DEATH 86400

/* The named fallback file in pid/, if one is being written (unlink is
 * async-signal-safe, so the signal handlers may clean up too). */
static char *pidfile;

static NORETURN void die(int code)
{
  if (pidfile) unlink(pidfile);
  _exit(code);
}
static void sigalrm(int sig) { (void)sig; die(QQ_TIMEOUT); }
static void sigbug(int sig) { (void)sig; die(QQ_BUG); }

static NORETURN void die_write(void) { die(errno == ENOMEM ? QQ_NOMEM : QQ_WRITE); }

static char outspace[65536];
static char inspace[65536];
static buffer out;
static buffer in;
static struct qfile_hash hash; /* of everything put before the trailer */

static void put(const char *s, size_t len)
{
  qfile_hash_add(&hash, s, len);
  if (buffer_put(&out, s, len) == -1) die_write();
}
static void puts0(const char *s) { put(s, strlen(s)); }

/* How qmail's Received line says who queued the message: "by alias",
 * "from network" (the qmaild user), "for bounce" (the qmails user), or 0
 * for "by uid N". */
static const char *invoked(uid_t uid)
{
  const char *names[3];
  unsigned long ids[3];
  int found[3];

  names[0] = auto_users[IDS_ALIAS];
  names[1] = auto_users[IDS_DAEMON];
  names[2] = auto_users[IDS_SEND];
  if (pwfile_lookup(IDS_PASSWD_FILE, 0, names, 3, ids, 0, found) == -1) die(QQ_CONFIG);
  if (!found[0] || !found[1] || !found[2]) die(QQ_CONFIG);
  if (uid == ids[0]) return "by alias";
  if (uid == ids[1]) return "from network";
  if (uid == ids[2]) return "for bounce";
  return 0;
}

/* "Received: (qmail PID invoked by alias); 22 Nov 2026 01:53:00 -0000\n",
 * exactly as qmail writes it. */
static void put_received(unsigned long pid, uid_t uid, const char *how, time_t when)
{
  char num[FMT_ULONG];
  char date[DATE822_MAX];

  puts0("Received: (qmail ");
  put(num, fmt_ulong(num, pid));
  puts0(" invoked ");
  if (how)
    puts0(how);
  else {
    puts0("by uid ");
    put(num, fmt_ulong(num, (unsigned long)uid));
  }
  puts0("); ");
  put(date, date822_fmt(date, when));
  puts0("\n");
}

/* A queue file's mode; QFILE_SYNCED is added once it is on disk. */
#define QUEUEFILE_MODE 0644

/* The queue file under construction. Preferably an unnamed O_TMPFILE
 * file, which vanishes by itself if we die; on filesystems without
 * O_TMPFILE, a named file in pid/, which qmail-send removes when it finds
 * it stale. */
static stralloc pidfn = STRALLOC_ZERO;
static int named;
static int reused;    /* a file from the pool: it must be cut to length */
static stralloc poolfn = STRALLOC_ZERO; /* and its name there */

static int open_named(unsigned long pid, time_t when)
{
  unsigned long seq;
  int fd;
  named = 1;
  for (seq = 1; seq < 10; ++seq) {
    pidfn.len = 0;
    if (!stralloc_cats(&pidfn, "pid/") || !stralloc_catulong(&pidfn, pid) || !stralloc_append(&pidfn, '.')
        || !stralloc_catulong(&pidfn, (unsigned long)when) || !stralloc_append(&pidfn, '.')
        || !stralloc_catulong(&pidfn, seq) || !stralloc_0(&pidfn))
      die(QQ_NOMEM);
    fd = open_excl(pidfn.s);
    if (fd != -1) { pidfile = pidfn.s; return fd; }
    if (errno != EEXIST) break;
  }
  die(QQ_PID);
}

static int open_queuefile(unsigned long pid, time_t when)
{
  int fd;
  /* A file from the pool first (lib/qpool.h): no inode to allocate. */
  fd = qpool_take(&poolfn);
  if (fd != -1) {
    /* The mark of its last message's fsync must not stand for ours. */
    if (fchmod(fd, QUEUEFILE_MODE) == -1) die_write();
    reused = 1;
    return fd;
  }
  fd = commit_tmpfile("pid", QUEUEFILE_MODE);
  if (fd != -1) return fd;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) die(errno == ENOMEM ? QQ_NOMEM : QQ_PID);
  return open_named(pid, when);
}

/* The unnamed file could not be given a name (an old kernel without /proc
 * mounted): copy it into a named file in pid/ and commit that instead. */
static int copy_to_named(int tmp, uint64_t size, unsigned long pid, time_t when)
{
  char buf[65536];
  uint64_t off = 0;
  int fd = open_named(pid, when);
  while (off < size) {
    ssize_t r = pread(tmp, buf, sizeof buf, (off_t)off);
    if (r <= 0) die(QQ_READ);
    if (commit_writeall(fd, buf, (size_t)r) == -1) die_write();
    off += (uint64_t)r;
  }
  if (fsync(fd) == -1) die_write();
  close(tmp);
  return fd;
}

/* Copies the envelope from descriptor 1, checking it on the way. */
static uint64_t copy_envelope(uid_t uid, unsigned long pid)
{
  struct envelope_scan scan;
  char num[FMT_ULONG];
  uint64_t len = 0;
  size_t n;

  /* qmail's intd records: who queued it, and which process. */
  n = fmt_ulong(num, (unsigned long)uid);
  put("u", 1);
  put(num, n);
  put("", 1);
  len += n + 2;
  n = fmt_ulong(num, pid);
  put("p", 1);
  put(num, n);
  put("", 1);
  len += n + 2;

  envelope_start(&scan, ENVELOPE_MAXADDR);
  for (;;) {
    ssize_t r = buffer_feed(&in);
    size_t used;
    enum envelope_status st;
    if (r == -1) die(QQ_READ);
    if (r == 0) die(QQ_READ); /* end of file before the final NUL: abort */
    st = envelope_feed(&scan, buffer_peek(&in), (size_t)r, &used);
    if (st == ENVELOPE_BAD) die(QQ_ENVELOPE);
    if (st == ENVELOPE_TOOLONG) die(QQ_ADDRTOOLONG);
    put(buffer_peek(&in), used);
    buffer_seek(&in, used);
    len += used;
    if (st == ENVELOPE_DONE) return len;
  }
}

int main(void)
{
  stralloc todofn = STRALLOC_ZERO;
  char trailer[QFILE_TRAILER];
  const char *how;
  struct stat st;
  unsigned long pid;
  uint64_t msglen, envlen;
  time_t now;
  uid_t uid;
  int fd;

  sig_blocknone();
  umask(033);
  if (chdir(auto_qmail) == -1) die(QQ_HOME);
  if (chdir("queue") == -1) die(QQ_QUEUEDIR);

  pid = (unsigned long)getpid();
  uid = getuid();
  now = time(0);

  sig_ignore(SIGPIPE);
  sig_catch(SIGALRM, sigalrm);
  sig_bugcatch(sigbug);
  alarm(DEATH);

  fd = open_queuefile(pid, now);
  if (fstat(fd, &st) == -1) die(QQ_PID);

  buffer_init(&out, fd, outspace, sizeof outspace, 0);
  buffer_init(&in, 0, inspace, sizeof inspace, 0);

  how = invoked(uid);
  qfile_hash_init(&hash);
  /* qmail-smtpd starts this program ahead of the message (qmail-smtpd(8)):
   * the message's time is when its first bytes come, not when we began. */
  if (buffer_feed(&in) == -1) die(QQ_READ);
  now = time(0);
  put_received(pid, uid, how, now);
  msglen = out.p;
  for (;;) {
    ssize_t r = buffer_feed(&in);
    if (r == -1) die(QQ_READ);
    if (r == 0) break;
    put(buffer_peek(&in), (size_t)r);
    buffer_seek(&in, (size_t)r);
    msglen += (uint64_t)r;
  }

  buffer_init(&in, 1, inspace, sizeof inspace, 0);
  envlen = copy_envelope(uid, pid);

  qfile_trailer_fmt(trailer, msglen, envlen, (uint64_t)now, qfile_hash_end(&hash));
  if (buffer_put(&out, trailer, sizeof trailer) == -1) die_write();
  if (buffer_flush(&out) == -1) die_write();
  /* A reused file may be longer: its old message must not trail this one. */
  if (reused && ftruncate(fd, (off_t)(msglen + envlen + QFILE_TRAILER)) == -1) die_write();

  /* Visible first, durable next (INTERNALS.md, "Committing a message"):
   * qmail-send may start the deliveries while the fsyncs below run. The
   * caller hears of success only after both; a crash before them leaves at
   * worst a file whose hash does not match, which qmail-send drops. */
  if (!qfile_name(&todofn, "todo", (unsigned long)st.st_ino, auto_split) || !stralloc_0(&todofn)) die(QQ_NOMEM);
  if (!reused) qpool_share(fd);
  if (!named && !reused && commit_namefd(fd, todofn.s) == -1) {
    struct stat dst;
    size_t dirlen = (size_t)(strrchr(todofn.s, '/') - todofn.s);
    int missing;
    if (errno != ENOENT) die(QQ_TODO);
    /* ENOENT: is todo/N missing, or could the file not be named at all? */
    todofn.s[dirlen] = 0;
    missing = stat(todofn.s, &dst) == -1;
    todofn.s[dirlen] = '/';
    if (missing) die(QQ_TODO);
    fd = copy_to_named(fd, msglen + envlen + QFILE_TRAILER, pid, now);
    qpool_share(fd);
    /* The message number is the new file's inode, as everywhere else. */
    if (fstat(fd, &st) == -1) die(QQ_PID);
    todofn.len = 0;
    if (!qfile_name(&todofn, "todo", (unsigned long)st.st_ino, auto_split) || !stralloc_0(&todofn)) die(QQ_NOMEM);
  }
  if (reused) {
    /* The name is new to todo/ (numbers are unique among live files). */
    if (rename(poolfn.s, todofn.s) == -1) die(QQ_TODO);
    /* Out of the pool, so no other qmail-queue can take it now (one that
     * opened it before finds the pool name gone); a delivery may start
     * the moment qmail-send sees it, and takes a shared lock: ours
     * becomes shared too (lib/qpool.h). */
    qpool_share(fd);
  } else if (named) {
    if (link(pidfn.s, todofn.s) == -1) die(QQ_TODO);
    pidfile = 0;
    unlink(pidfn.s); /* if this is lost in a crash, qmail-send removes it when stale */
  }
  /* From here the message may be queued: a failure below is temporary for
   * the caller, who sends it again, and it may then be delivered twice,
   * never lost. */
  if (fsync(fd) == -1) die_write();
  /* Tells a commit that it need not fsync the file again (lib/qfile.h);
   * should this fail, the commit does. */
  (void)fchmod(fd, QUEUEFILE_MODE | QFILE_SYNCED);
  if (commit_dirof(todofn.s) == -1) die(QQ_TODO);
  close(fd);
  trigger_pull();
  return 0;
}
