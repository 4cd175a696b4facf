#define _GNU_SOURCE /* pipe2 */
/* qmail-lspawn: run qmail-local for qmail-send, as the recipient's user.
 *
 * `qmail-lspawn defaultdelivery`, started by qmail-start as root. For each
 * delivery it finds the user in charge of the local part (users/cdb, then
 * qmail-getpw run as the qmailp user), forks a child that drops to that
 * user (never root) and executes bin/qmail-local with the message on
 * descriptor 0, and reports qmail-local's result (lib/spawner.h).
 *
 * qmail-getpw runs in the delivery child, as in qmail: a name service
 * that hangs holds up that delivery only (until control/timeoutlocal),
 * never the loop that starts and reaps all the others.
 *
 * One qmail-local is kept started ahead (qmail-local -W, lib/handoff.h),
 * waiting as root for a delivery to a user already known: it gets the
 * user's ids, its arguments and its descriptors, takes the identity
 * itself, and the exec (a good part of a local delivery's time here) is
 * off the delivery's path. A bin/qmail-local that will not wait so (one
 * a site put in its place) is simply executed for each delivery. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auto.h"
#include "cdb.h"
#include "control.h"
#include "error.h"
#include "handoff.h"
#include "fd.h"
#include "fmt.h"
#include "ids.h"
#include "prot.h"
#include "qlx.h"
#include "scan.h"
#include "sig.h"
#include "spawner.h"
#include "stralloc.h"
#include "users.h"

static const char *defaultdelivery;
static struct ids ids;

/* ---- who handles a local part ---- */

/* users/cdb, kept mapped and reopened when qmail-newu replaces it. */
static struct cdb usercdb;
static int haveusercdb;
static struct stat usercdbst;

static int usercdb_refresh(void)
{
  struct stat st;
  int fd;
  if (stat("users/cdb", &st) == -1) {
    if (errno != ENOENT) return -1;
    if (haveusercdb) { cdb_free(&usercdb); haveusercdb = 0; }
    return 0;
  }
  if (haveusercdb && st.st_ino == usercdbst.st_ino && st.st_dev == usercdbst.st_dev
      && st.st_mtime == usercdbst.st_mtime && st.st_size == usercdbst.st_size)
    return 0;
  fd = open("users/cdb", O_RDONLY | O_CLOEXEC);
  if (fd == -1) return errno == ENOENT ? 0 : -1;
  if (haveusercdb) { cdb_free(&usercdb); haveusercdb = 0; }
  if (cdb_init(&usercdb, fd) == -1) { close(fd); return -1; }
  close(fd);
  haveusercdb = 1;
  usercdbst = st;
  return 0;
}

/* qmail-getpw's answers, kept for a minute: qmail runs it (fork, exec,
 * getpwnam) for every delivery to a user not in users/cdb. The delivery
 * children that ran it send their answer back through cachepipe, whose
 * write end only they hold, and only until they exec (close-on-exec):
 * one write of at most PIPE_BUF bytes each, so records never interleave. */
#define GETPW_TTL 60
#define GETPW_CACHE 4096
#define GETPW_MAX 16384 /* a local part (at most 4096) and a passwd entry */
struct pwcache {
  stralloc local;
  stralloc nughde;
  time_t expires;
};
static struct pwcache pwcache[GETPW_CACHE];
static int cachepipe[2] = { -1, -1 };
static stralloc cachein = STRALLOC_ZERO;

static unsigned long pwcache_hash(const char *s)
{
  unsigned long h = 5381;
  while (*s) h = (h * 33) ^ (unsigned char)*s++;
  return h % GETPW_CACHE;
}

static void pwcache_put(const char *local, const char *nughde, size_t len, time_t now)
{
  struct pwcache *c = &pwcache[pwcache_hash(local)];
  if (stralloc_copys(&c->local, local) && stralloc_0(&c->local) && stralloc_copyb(&c->nughde, nughde, len))
    c->expires = now + GETPW_TTL;
  else
    c->local.len = 0;
}

/* Takes in what the children have sent: local NUL nughde-length NUL nughde. */
static void pwcache_drain(time_t now)
{
  char buf[4096];
  size_t pos = 0;
  ssize_t r;
  while ((r = read(cachepipe[0], buf, sizeof buf)) > 0)
    if (!stralloc_catb(&cachein, buf, (size_t)r)) { cachein.len = 0; return; }
  for (;;) {
    const char *p = cachein.s + pos, *nul1, *nul2;
    size_t left = cachein.len - pos, n;
    unsigned long len;
    if (!left || !(nul1 = memchr(p, 0, left))) break;
    if (!(nul2 = memchr(nul1 + 1, 0, left - (size_t)(nul1 + 1 - p)))) break;
    if (!scan_whole_ulong(nul1 + 1, GETPW_MAX, &len)) { cachein.len = pos = 0; break; } /* cannot happen */
    n = (size_t)(nul2 + 1 - p);
    if (left - n < len) break;
    pwcache_put(p, nul2 + 1, len, now);
    pos += n + len;
  }
  if (pos) {
    memmove(cachein.s, cachein.s + pos, cachein.len - pos);
    cachein.len -= pos;
  }
}

/* In the delivery child: offers its qmail-getpw answer to the cache. */
static void pwcache_offer(const char *local, const stralloc *nughde)
{
  stralloc rec = STRALLOC_ZERO;
  if (stralloc_copys(&rec, local) && stralloc_0(&rec) && stralloc_catulong(&rec, (unsigned long)nughde->len)
      && stralloc_0(&rec) && stralloc_cat(&rec, nughde) && rec.len <= PIPE_BUF)
    if (write(cachepipe[1], rec.s, rec.len) < 0) { /* a full pipe: no caching this time */ }
  stralloc_free(&rec);
}

/* Runs bin/qmail-getpw local as the qmailp user. Returns 0 with nughde
 * set, or the QLX code to report. */
static int getpw_run(const char *local, stralloc *nughde)
{
  char buf[512];
  int pi[2], wstat;
  pid_t pid;
  ssize_t r;

  if (pipe2(pi, O_CLOEXEC) == -1) return QLX_SYS;
  pid = fork();
  if (pid == -1) { close(pi[0]); close(pi[1]); return QLX_SYS; }
  if (pid == 0) {
    char *args[3];
    int null = open("/dev/null", O_RDONLY);
    args[0] = (char *)"bin/qmail-getpw";
    args[1] = (char *)local;
    args[2] = 0;
    /* not qmail-send's command pipe: qmail-getpw reads nothing */
    if (null == -1 || fd_move(0, null) == -1) _exit(QLX_SYS);
    if (fd_move(1, pi[1]) == -1) _exit(QLX_SYS);
    if (prot_gid(ids.gid[IDS_NOFILES]) == -1) _exit(QLX_USAGE);
    if (prot_uid(ids.uid[IDS_PASSWD]) == -1) _exit(QLX_USAGE);
    execv(args[0], args);
    _exit(QLX_EXECPW);
  }
  close(pi[1]);
  nughde->len = 0;
  for (;;) {
    r = read(pi[0], buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    if (nughde->len + (size_t)r > GETPW_MAX) { r = -2; break; } /* no valid answer is that long */
    if (!stralloc_catb(nughde, buf, (size_t)r)) { r = -1; break; }
  }
  close(pi[0]);
  while (waitpid(pid, &wstat, 0) == -1)
    if (errno != EINTR) return QLX_SYS;
  if (!WIFEXITED(wstat)) return QLX_SYS;
  if (WEXITSTATUS(wstat)) return WEXITSTATUS(wstat);
  return r == -1 ? QLX_NOMEM : r == -2 ? QLX_SYS : 0;
}

/* What the parent can tell without qmail-getpw: 0 with nughde set (users/cdb
 * or the cache), -1 when qmail-getpw must be asked, or a QLX code. */
static int lookup(const char *local, stralloc *nughde)
{
  struct pwcache *c;
  time_t now;
  int r;

  if (usercdb_refresh() == -1) return QLX_CDB;
  if (haveusercdb) {
    r = users_cdb(&usercdb, local, nughde);
    if (r == -1) return errno == ENOMEM ? QLX_NOMEM : QLX_CDB;
    if (r == 1) return 0;
  }
  now = time(0);
  pwcache_drain(now);
  c = &pwcache[pwcache_hash(local)];
  if (c->local.len && c->expires > now && !strcmp(c->local.s, local))
    return stralloc_copy(nughde, &c->nughde) ? 0 : QLX_NOMEM;
  return -1;
}

/* ---- a qmail-local started ahead ---- */

static pid_t readypid;     /* waiting for its delivery (0: none) */
static int readysock = -1; /* our end of its socket */
static int readysaid;      /* it said it waits (qmail-local -W's "R") */
static int readyworked;    /* one has taken a delivery */
static int readyfailed;    /* bin/qmail-local would not wait: no more */

static void ready_start(void)
{
  int sv[2];
  pid_t pid;
  if (readypid || readyfailed) return;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) return;
  pid = vfork();
  if (pid == 0) {
    char *args[3];
    int null = open("/dev/null", O_RDWR);
    setpgid(0, 0); /* as for any delivery child (start) */
    sig_default(SIGCHLD);
    sig_default(SIGPIPE);
    sig_blocknone();
    /* Not qmail-send's pipes: only the socket, until the delivery. */
    if (null == -1 || fd_copy(0, null) == -1 || fd_move(1, null) == -1) _exit(QLX_SYS);
    if (fd_move(3, sv[1]) == -1 || fd_nocoe(3) == -1) _exit(QLX_SYS); /* 3 may have been it */
    args[0] = (char *)"bin/qmail-local";
    args[1] = (char *)"-W";
    args[2] = 0;
    execv(args[0], args);
    _exit(QLX_EXECSOFT);
  }
  close(sv[1]);
  if (pid == -1) { close(sv[0]); return; }
  readypid = pid;
  readysock = sv[0];
  readysaid = 0;
}

static void ready_drop(void)
{
  close(readysock); /* it sees the end of its socket and exits */
  readysock = -1;
  readypid = 0;
}

/* Hands the delivery to the qmail-local started ahead: its pid, or -1 if
 * there is none or it is gone (the caller starts one the usual way). */
static pid_t ready_use(const struct users_entry *u, const char *local, const char *host, const char *sender,
                       int fdmess, int fdout)
{
  static stralloc msg = STRALLOC_ZERO;
  char uid[FMT_ULONG], gid[FMT_ULONG];
  const char *f[HANDOFF_LOCAL_FIELDS];
  int fds[HANDOFF_LOCAL_FDS];
  pid_t pid = readypid;
  int r;

  if (!pid) return -1;
  if (!readysaid) {
    char c;
    ssize_t n = recv(readysock, &c, 1, MSG_DONTWAIT);
    if (n == -1 && (errno == EAGAIN || errno == EINTR)) return -1; /* not yet: keep it for later */
    if (n != 1 || c != 'R') {
      /* Gone without a word: a bin/qmail-local that will not wait. */
      if (!readyworked) readyfailed = 1;
      ready_drop();
      return -1;
    }
    readysaid = 1;
  }
  uid[fmt_ulong(uid, (unsigned long)u->uid)] = 0;
  gid[fmt_ulong(gid, (unsigned long)u->gid)] = 0;
  f[0] = uid;
  f[1] = gid;
  f[2] = u->user;
  f[3] = u->home;
  f[4] = local;
  f[5] = u->dash;
  f[6] = u->ext;
  f[7] = host;
  f[8] = sender;
  f[9] = defaultdelivery;
  fds[0] = fdmess;
  fds[1] = fdout;
  msg.len = 0;
  r = handoff_pack(&msg, f, HANDOFF_LOCAL_FIELDS) ? handoff_send(readysock, msg.s, msg.len, fds, HANDOFF_LOCAL_FDS) : -1;
  ready_drop();
  if (r == -1) return -1;
  readyworked = 1;
  return pid;
}

/* ---- the delivery ---- */

static void qlx_result(stralloc *result, int code)
{
  const char *s;
  switch (code) {
    case QLX_CDB: s = "ZTrouble reading users/cdb in qmail-lspawn.\n"; break;
    case QLX_NOMEM: s = "ZOut of memory in qmail-lspawn.\n"; break;
    case QLX_SYS: s = "ZTemporary failure in qmail-lspawn.\n"; break;
    case QLX_NOALIAS: s = "ZUnable to find alias user!\n"; break;
    case QLX_ROOT: s = "ZNot allowed to perform deliveries as root.\n"; break;
    case QLX_USAGE: s = "ZInternal qmail-lspawn bug.\n"; break;
    case QLX_NFS: s = "ZNFS failure in qmail-local.\n"; break;
    case QLX_EXECHARD: s = "DUnable to run qmail-local.\n"; break;
    case QLX_EXECSOFT: s = "ZUnable to run qmail-local.\n"; break;
    case QLX_EXECPW: s = "ZUnable to run qmail-getpw.\n"; break;
    default: s = "ZTemporary failure in qmail-lspawn.\n";
  }
  stralloc_copys(result, s);
}

static pid_t start(int fdmess, int fdout, const char *sender, const char *recip, stralloc *result)
{
  static stralloc nughde = STRALLOC_ZERO;
  static stralloc local = STRALLOC_ZERO;
  struct users_entry u;
  const char *at = strrchr(recip, '@');
  pid_t pid;
  int r;

  if (!stralloc_copyb(&local, recip, (size_t)(at - recip)) || !stralloc_0(&local)) {
    qlx_result(result, QLX_NOMEM);
    return -1;
  }
  if (!local.s[0]) { stralloc_copys(result, "K"); return -1; } /* <>: nothing to do, as qmail */
  r = lookup(local.s, &nughde);
  if (r > 0) { qlx_result(result, r); return -1; }
  if (r == 0) {
    if (!users_split(&nughde, &u)) { qlx_result(result, QLX_USAGE); return -1; }
    if (!u.uid) { qlx_result(result, QLX_ROOT); return -1; }
  }

  if (r == 0) {
    pid = ready_use(&u, local.s, at + 1, sender, fdmess, fdout);
    if (pid != -1) return pid;
  }

  /* When the user is known already, the child only sets itself up and
   * executes qmail-local, all of it system calls: vfork spares the copy
   * of this process that fork makes, so the delivery starts sooner and
   * costs less. qmail-getpw's run (r == -1) needs a real fork. */
  pid = r == 0 ? vfork() : fork();
  if (pid) return pid;

  {
    char *args[11];
    setpgid(0, 0); /* lspawn stops the whole group if the delivery hangs */
    sig_default(SIGCHLD);
    sig_default(SIGPIPE);
    sig_blocknone();
    if (r == -1) {
      int e = getpw_run(local.s, &nughde);
      if (e) _exit(e);
      pwcache_offer(local.s, &nughde);
      if (!users_split(&nughde, &u)) _exit(QLX_USAGE);
      if (!u.uid) _exit(QLX_ROOT);
    }
    args[0] = (char *)"bin/qmail-local";
    args[1] = (char *)"--";
    args[2] = (char *)u.user;
    args[3] = (char *)u.home;
    args[4] = local.s;
    args[5] = (char *)u.dash;
    args[6] = (char *)u.ext;
    args[7] = (char *)(at + 1);
    args[8] = (char *)sender;
    args[9] = (char *)defaultdelivery;
    args[10] = 0;
    if (fd_move(0, fdmess) == -1) _exit(QLX_SYS);
    if (fd_move(1, fdout) == -1) _exit(QLX_SYS);
    if (fd_copy(2, 1) == -1) _exit(QLX_SYS);
    fd_nocoe(0);
    fd_nocoe(1);
    fd_nocoe(2);
    if (prot_gid((gid_t)u.gid) == -1) _exit(QLX_USAGE);
    if (prot_uid((uid_t)u.uid) == -1) _exit(QLX_USAGE);
    if (!getuid() || !geteuid()) _exit(QLX_ROOT);
    execv(args[0], args);
    _exit(error_temp(errno) ? QLX_EXECSOFT : QLX_EXECHARD);
  }
}

static void report(stralloc *result, int wstat, const char *s, size_t len)
{
  size_t i;
  /* A delivery has ended: the next qmail-local can start ahead now,
   * without taking the processor from one under way. */
  ready_start();
  if (!WIFEXITED(wstat)) { stralloc_copys(result, "Zqmail-local crashed.\n"); return; }
  switch (WEXITSTATUS(wstat)) {
    case QLX_CDB: case QLX_NOMEM: case QLX_SYS: case QLX_NOALIAS: case QLX_ROOT:
    case QLX_USAGE: case QLX_NFS: case QLX_EXECHARD: case QLX_EXECSOFT: case QLX_EXECPW:
      qlx_result(result, WEXITSTATUS(wstat));
      return;
    case 111: case 71: case 74: case 75: stralloc_copys(result, "Z"); break;
    case 0: stralloc_copys(result, "K"); break;
    default: stralloc_copys(result, "D"); break; /* 100 and anything else */
  }
  for (i = 0; i < len && s[i]; ++i) continue;
  stralloc_catb(result, s, i);
}

static const struct spawner_ops lspawn = { "lspawn", 3000, start, report };

int main(int argc, char **argv)
{
  const char *missing;
  unsigned long limit = 86400;

  if (argc < 2 || !argv[1]) _exit(100);
  defaultdelivery = argv[1];
  if (chdir(auto_qmail) == -1) _exit(111);
  if (ids_load(&ids, 1, &missing) == -1) _exit(111);
  /* How long one local delivery may take before it is stopped. */
  if (control_readulong(&limit, "control/timeoutlocal") == -1) _exit(111);
  if (!limit) limit = 86400;
  if (pipe2(cachepipe, O_CLOEXEC | O_NONBLOCK) == -1) _exit(111);
  ready_start();
  spawner_run(&lspawn, limit);
}
