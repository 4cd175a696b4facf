#define _GNU_SOURCE /* pipe2, memfd_create */
#include "spawner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "commit.h"
#include "fd.h"
#include "fmt.h"
#include "ids.h"
#include "lock.h"
#include "qfile.h"
#include "qpool.h"
#include "scan.h"
#include "sig.h"
#include "stralloc.h"

/* Hard limits on what qmail-send may send us (it is trusted, but a bug must
 * not become unbounded memory). */
#define SPAWN_MAXFIELD 4096
#define SPAWN_MAXOUTPUT 65536

struct job {
  int used;           /* 1 running, 2 finished: result sent, not yet acknowledged */
  pid_t pid;          /* 0 once reaped */
  int wstat;
  int fdin;           /* read end of the child's output; -1 once closed */
  stralloc output;
  stralloc result;    /* kept until acknowledged */
  unsigned long id;
  unsigned long idx;
  time_t deadline;
  int timedout;
};

static const struct spawner_ops *ops;
static struct job *jobs;
static unsigned long njobs;       /* slots in use */
static unsigned long timeout;
static uid_t queueuid;

static int reading = 1;           /* qmail-send is still there */
static int mutexfd = -1;          /* lock/<name>mutex, held while a new spawner must wait */
static int orphanfd = -1;         /* results file once qmail-send is gone */
static stralloc orphanfn = STRALLOC_ZERO;

static char outspace[4096];
static buffer out;

static int selfpipe[2];

static void sigchld(int sig)
{
  int e = errno;
  (void)sig;
  if (write(selfpipe[1], "", 1) < 0) { /* full: a wakeup is pending anyway */ }
  errno = e;
}

/* ---- results ---- */

/* qmail-send is gone: from now on results go to queue/orphans/, under a
 * lock that the next qmail-send waits for. */
static void orphan_write(const struct job *j, const stralloc *result);

static void orphan_start(void)
{
  char num[FMT_ULONG];
  unsigned long i;
  reading = 0;
  if (orphanfd != -1 || !njobs) return;
  orphanfn.len = 0;
  if (!stralloc_copys(&orphanfn, "queue/orphans/") || !stralloc_cats(&orphanfn, ops->name)
      || !stralloc_append(&orphanfn, '.') || !stralloc_catb(&orphanfn, num, fmt_ulong(num, (unsigned long)getpid()))
      || !stralloc_0(&orphanfn))
    return;
  orphanfd = open(orphanfn.s, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
  /* Without the file these deliveries may happen twice: nothing worse. */
  if (orphanfd != -1 && lock_ex(orphanfd) == -1) { close(orphanfd); orphanfd = -1; }
  /* Results qmail-send may never have recorded. */
  for (i = 0; i < auto_spawn; ++i)
    if (jobs[i].used == 2) {
      orphan_write(&jobs[i], &jobs[i].result);
      jobs[i].used = 0;
      --njobs;
    }
  /* The orphans file is there and locked: a new spawner (and so a new
   * qmail-send) may start now, and will wait on that file instead. */
  if (mutexfd != -1) { close(mutexfd); mutexfd = -1; }
}

static void orphan_write(const struct job *j, const stralloc *result)
{
  stralloc rec = STRALLOC_ZERO;
  if (orphanfd == -1) return;
  if (stralloc_catulong(&rec, j->id) && stralloc_0(&rec) && stralloc_catulong(&rec, j->idx) && stralloc_0(&rec)
      && stralloc_cat(&rec, result) && stralloc_0(&rec))
    commit_writeall(orphanfd, rec.s, rec.len);
  stralloc_free(&rec);
}

/* 1 if qmail-send got it (the slot then waits for the acknowledgement),
 * 0 if it went to the orphans file. */
static int result_send(unsigned long delnum, const struct job *j, const stralloc *result)
{
  char num[FMT_ULONG];
  if (reading) {
    int bad = buffer_put(&out, num, fmt_ulong(num, delnum)) == -1 || buffer_put(&out, "", 1) == -1
           || buffer_put(&out, result->s, result->len) == -1 || buffer_put(&out, "", 1) == -1
           || buffer_flush(&out) == -1;
    if (!bad) return 1;
    out.p = 0;
    orphan_start();
  }
  orphan_write(j, result);
  return 0;
}

static void result_now(unsigned long delnum, unsigned long id, unsigned long idx, const char *text)
{
  stralloc r = STRALLOC_ZERO;
  struct job tmp;
  tmp.id = id;
  tmp.idx = idx;
  if (!stralloc_copys(&r, text)) r.len = 0;
  result_send(delnum, &tmp, &r);
  stralloc_free(&r);
}

int spawner_timedout(stralloc *result, unsigned long t)
{
  return stralloc_cats(result, "ZDelivery took more than ") && stralloc_catulong(result, t)
      && stralloc_cats(result, " seconds; it was stopped and will be retried. (#4.3.0)\n");
}

static void job_finish(unsigned long delnum)
{
  struct job *j = &jobs[delnum];
  stralloc result = STRALLOC_ZERO;

  /* What the child wrote before it died is still in the pipe. */
  if (j->fdin != -1) {
    char buf[4096];
    ssize_t r;
    fd_nonblock(j->fdin);
    while ((r = read(j->fdin, buf, sizeof buf)) > 0)
      if (j->output.len < SPAWN_MAXOUTPUT) stralloc_catb(&j->output, buf, (size_t)r);
    close(j->fdin);
    j->fdin = -1;
  }
  if (ops->truncreport > 100 && j->output.len > ops->truncreport) {
    static const char truncmess[] = "\nError report too long, sorry.\n";
    j->output.len = ops->truncreport - (sizeof truncmess - 1) - 3;
    stralloc_cats(&j->output, truncmess);
  }
  if (j->timedout) spawner_timedout(&result, timeout);
  else ops->report(&result, j->wstat, j->output.s ? j->output.s : "", j->output.len);
  j->output.len = 0;
  if (result_send(delnum, j, &result)) {
    /* Kept until qmail-send says it is on record: if qmail-send dies
     * first, the result goes to the orphans file (orphan_start). */
    stralloc_free(&j->result);
    j->result = result;
    j->used = 2;
    return;
  }
  stralloc_free(&result);
  j->used = 0;
  --njobs;
}

/* ---- commands ---- */

/* delnum, id, index, sender, recipient, msglen (spawner.h) */
#define FIELDS 6
static stralloc field[FIELDS];
static int stage;
static int toolong;

/* The committed message id, for its delivery: queue/mess/..., under the
 * shared lock that keeps it from being reused while the delivery and its
 * children read it (lib/qpool.h). The descriptor, or -1 with why set. */
static int message_open(unsigned long id, const char **why)
{
  stralloc fn = STRALLOC_ZERO;
  struct stat st;
  int fd;

  if (!qfile_name(&fn, "queue/mess", id, auto_split) || !stralloc_0(&fn)) {
    *why = "Zqmail-spawn out of memory. (#4.3.0)\n";
    return -1;
  }
  fd = open(fn.s, O_RDONLY | O_CLOEXEC);
  if (fd == -1) { stralloc_free(&fn); *why = "Zqmail-spawn unable to open message. (#4.3.0)\n"; return -1; }
  if (!qpool_hold(fd, fn.s, id)) {
    stralloc_free(&fn);
    close(fd);
    *why = "Zqmail-spawn unable to lock message. (#4.3.0)\n";
    return -1;
  }
  stralloc_free(&fn);
  if (fstat(fd, &st) == -1) { close(fd); *why = "Zqmail-spawn unable to fstat message. (#4.3.0)\n"; return -1; }
  if (!S_ISREG(st.st_mode)) { close(fd); *why = "ZSorry, message has wrong type. (#4.3.5)\n"; return -1; }
  /* Only the queue user writes the queue; anything else here is an attack. */
  if (st.st_uid != queueuid) { close(fd); *why = "ZSorry, message has wrong owner. (#4.3.5)\n"; return -1; }
  return fd;
}

/* Where a kernel or a sandbox refuses memfd_create: an unnamed file in
 * queue/pid (qmail-lspawn is root), given to the delivery read-only
 * through /proc/self/fd when /proc is there. Without /proc it stays
 * writable, as a copy only that delivery sees. */
static int copy_open(int *sealable)
{
  int fd = memfd_create("message", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  *sealable = fd != -1;
  if (fd == -1) fd = open("queue/pid", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  return fd;
}

static int copy_readonly(int fd)
{
  char proc[32 + FMT_ULONG];
  size_t n = fmt_str(proc, "/proc/self/fd/");
  int ro;
  proc[n + fmt_ulong(proc + n, (unsigned long)fd)] = 0;
  ro = open(proc, O_RDONLY | O_CLOEXEC);
  if (ro == -1) return fd;
  close(fd);
  return ro;
}

/* A message not committed yet (spawner.h): its first msglen bytes, from
 * queue/todo/... or, once qmail-clean has moved it, queue/mess/..., in a
 * sealed memory file the delivery reads from its start. Those bytes never
 * change (the commit cuts only what follows them), and the file itself is
 * let go at once: it cannot be reused before this delivery has ended. */
static int message_copy(unsigned long id, unsigned long msglen, const char **why)
{
  static char buf[65536];
  static const char *const dirs[2] = { "queue/todo", "queue/mess" };
  stralloc fn = STRALLOC_ZERO;
  struct stat st;
  unsigned long off = 0;
  int fd = -1, mfd, i, sealable;

  if (msglen > SPAWNER_EARLYMAX) { *why = "ZInternal error: message too big to copy. (#4.3.5)\n"; return -1; }
  for (i = 0; i < 2; ++i) {
    fn.len = 0;
    if (!qfile_name(&fn, dirs[i], id, auto_split) || !stralloc_0(&fn)) break;
    fd = open(fn.s, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd != -1 || errno != ENOENT) break;
  }
  stralloc_free(&fn);
  if (fd == -1) { *why = "Zqmail-spawn unable to open message. (#4.3.0)\n"; return -1; }
  if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_uid != queueuid || (uint64_t)st.st_size < msglen) {
    close(fd);
    *why = "ZSorry, message is not what qmail-send says it is. (#4.3.5)\n";
    return -1;
  }
  mfd = copy_open(&sealable);
  if (mfd == -1) { close(fd); *why = "Zqmail-spawn unable to copy message. (#4.3.0)\n"; return -1; }
  while (off < msglen) {
    size_t want = msglen - off < sizeof buf ? (size_t)(msglen - off) : sizeof buf;
    ssize_t r = pread(fd, buf, want, (off_t)off);
    if (r == -1 && errno == EINTR) continue;
    if (r <= 0 || commit_writeall(mfd, buf, (size_t)r) == -1) break;
    off += (unsigned long)r;
  }
  close(fd);
  if (off < msglen || lseek(mfd, 0, SEEK_SET) != 0
      || (sealable && fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == -1)) {
    close(mfd);
    *why = "Zqmail-spawn unable to copy message. (#4.3.0)\n";
    return -1;
  }
  return sealable ? mfd : copy_readonly(mfd);
}

static void command_do(void)
{
  unsigned long delnum, id, idx, msglen = 0;
  stralloc result = STRALLOC_ZERO;
  const char *why = 0;
  int fdmess, pi[2];
  pid_t pid;
  struct job *j;

  if (!scan_whole_ulong(field[0].s, auto_spawn - 1, &delnum)) return; /* no slot to answer on */
  if (toolong) { result_now(delnum, 0, 0, "ZInternal error: command too long. (#4.3.5)\n"); return; }
  if (!scan_whole_ulong(field[1].s, (unsigned long)-1, &id) || !scan_whole_ulong(field[2].s, (unsigned long)-1, &idx)
      || (field[5].s[0] && !scan_whole_ulong(field[5].s, (unsigned long)-1, &msglen))) {
    result_now(delnum, 0, 0, "DInternal error: bad message id. (#5.3.5)\n");
    return;
  }
  j = &jobs[delnum];
  if (j->used == 2) { j->used = 0; --njobs; } /* qmail-send moved on: it has the result */
  if (j->used) { result_now(delnum, id, idx, "ZInternal error: delnum in use. (#4.3.5)\n"); return; }
  if (!strchr(field[4].s, '@')) { result_now(delnum, id, idx, "DSorry, address must include host name. (#5.1.3)\n"); return; }

  fdmess = field[5].s[0] ? message_copy(id, msglen, &why) : message_open(id, &why);
  if (fdmess == -1) { result_now(delnum, id, idx, why); return; }
  if (pipe2(pi, O_CLOEXEC) == -1) {
    close(fdmess);
    result_now(delnum, id, idx, "Zqmail-spawn unable to create pipe. (#4.3.0)\n");
    return;
  }
  pid = ops->start(fdmess, pi[1], field[3].s, field[4].s, &result);
  close(fdmess);
  close(pi[1]);
  j->id = id;
  j->idx = idx;
  if (pid == -1) {
    close(pi[0]);
    if (!result.len && !stralloc_copys(&result, "Zqmail-spawn unable to fork. (#4.3.0)\n")) result.len = 0;
    result_send(delnum, j, &result);
    stralloc_free(&result);
    return;
  }
  stralloc_free(&result);
  j->used = 1;
  j->pid = pid;
  j->fdin = pi[0];
  j->output.len = 0;
  j->timedout = 0;
  j->deadline = time(0) + (time_t)timeout;
  ++njobs;
}

static void commands_read(void)
{
  char buf[4096];
  ssize_t r = read(0, buf, sizeof buf);
  ssize_t i;
  if (r == -1) { if (errno != EINTR && errno != EAGAIN) orphan_start(); return; }
  if (r == 0) { orphan_start(); return; }
  for (i = 0; i < r; ++i) {
    stralloc *f = &field[stage];
    if (buf[i]) {
      if (f->len < SPAWN_MAXFIELD) { if (!stralloc_append(f, buf[i])) toolong = 1; }
      else toolong = 1;
      continue;
    }
    if (!stralloc_0(f)) toolong = 1;
    if (stage == 0 && f->s[0] == 'a') { /* an acknowledgement */
      unsigned long delnum;
      if (scan_whole_ulong(f->s + 1, auto_spawn - 1, &delnum) && jobs[delnum].used == 2) {
        jobs[delnum].used = 0;
        --njobs;
      }
      f->len = 0;
      continue;
    }
    if (++stage < FIELDS) continue;
    command_do();
    for (stage = 0; stage < FIELDS; ++stage) field[stage].len = 0;
    stage = 0;
    toolong = 0;
  }
}

/* ---- the loop ---- */

static void reap(void)
{
  int wstat;
  pid_t pid;
  unsigned long i;
  while ((pid = waitpid(-1, &wstat, WNOHANG)) > 0)
    for (i = 0; i < auto_spawn; ++i)
      if (jobs[i].used == 1 && jobs[i].pid == pid) {
        jobs[i].pid = 0;
        jobs[i].wstat = wstat;
        job_finish(i);
        break;
      }
}

void spawner_run(const struct spawner_ops *o, unsigned long t)
{
  struct pollfd *pfd;
  unsigned long *slot;
  struct ids ids;
  const char *missing;
  char num[FMT_ULONG];
  unsigned long i;

  ops = o;
  timeout = t;
  if (chdir(auto_qmail) == -1) _exit(111);
  if (ids_load(&ids, 0, &missing) == -1) _exit(111);
  queueuid = ids.uid[IDS_QUEUE];
  jobs = calloc(auto_spawn, sizeof *jobs);
  pfd = calloc(auto_spawn + 2, sizeof *pfd);
  slot = calloc(auto_spawn + 2, sizeof *slot);
  if (!jobs || !pfd || !slot) _exit(111);
  for (i = 0; i < FIELDS; ++i) field[i].len = 0;
  if (pipe2(selfpipe, O_CLOEXEC | O_NONBLOCK) == -1) _exit(111);

  buffer_init(&out, 1, outspace, sizeof outspace, 0);
  sig_ignore(SIGPIPE);
  sig_catch(SIGCHLD, sigchld);

  /* Wait until a spawner left over from a killed qmail-send has put its
   * results where the new qmail-send will find them (orphan_start). */
  {
    stralloc fn = STRALLOC_ZERO;
    if (stralloc_cats(&fn, "queue/lock/") && stralloc_cats(&fn, ops->name) && stralloc_cats(&fn, "mutex") && stralloc_0(&fn)) {
      mutexfd = open(fn.s, O_WRONLY | O_CLOEXEC);
      if (mutexfd != -1 && lock_ex(mutexfd) == -1) { close(mutexfd); mutexfd = -1; }
    }
    stralloc_free(&fn);
  }
  if (buffer_put(&out, num, fmt_ulong(num, auto_spawn)) == -1 || buffer_putflush(&out, "", 1) == -1) _exit(111);

  for (;;) {
    time_t now = time(0);
    int n = 0, wait = -1, r;

    if (!reading && !njobs) break;
    if (reading) { pfd[n].fd = 0; pfd[n].events = POLLIN; slot[n++] = (unsigned long)-1; }
    pfd[n].fd = selfpipe[0]; pfd[n].events = POLLIN; slot[n++] = (unsigned long)-2;
    for (i = 0; i < auto_spawn; ++i) {
      struct job *j = &jobs[i];
      if (j->used != 1) continue;
      if (j->pid && !j->timedout) {
        if (j->deadline <= now) {
          /* The child made itself a process group: stop all of it. */
          kill(-j->pid, SIGKILL);
          kill(j->pid, SIGKILL);
          j->timedout = 1;
        } else if (wait == -1 || (j->deadline - now) * 1000 < wait)
          wait = (int)((j->deadline - now) * 1000 > 2000000000 ? 2000000000 : (j->deadline - now) * 1000);
      }
      if (j->fdin != -1) { pfd[n].fd = j->fdin; pfd[n].events = POLLIN; slot[n++] = i; }
    }
    r = poll(pfd, (nfds_t)n, wait);
    if (r == -1) {
      if (errno != EINTR) sleep(1);
      continue;
    }
    for (i = 0; i < (unsigned long)n; ++i) {
      if (!pfd[i].revents) continue;
      if (slot[i] == (unsigned long)-1) { commands_read(); continue; }
      if (slot[i] == (unsigned long)-2) {
        char drain[64];
        while (read(selfpipe[0], drain, sizeof drain) > 0) continue;
        continue;
      }
      {
        struct job *j = &jobs[slot[i]];
        char buf[4096];
        ssize_t got;
        if (j->used != 1 || j->fdin == -1) continue;
        got = read(j->fdin, buf, sizeof buf);
        if (got > 0) {
          if (j->output.len < SPAWN_MAXOUTPUT) stralloc_catb(&j->output, buf, (size_t)got);
        } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
          /* End of output; the result comes when the child is reaped. */
          close(j->fdin);
          j->fdin = -1;
        }
      }
    }
    reap();
  }
  if (orphanfd != -1) {
    fsync(orphanfd);
    close(orphanfd); /* releases the lock: qmail-send may read it now */
  }
  _exit(0);
}
