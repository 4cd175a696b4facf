/* vdelivermail: delivery into a virtual domain, vpopmail's way.
 *
 *   | QMAILHOME/bin/vdelivermail '' delete|bounce-no-mailbox|address|/path
 *
 * Run by qmail-local from the domain's .qmail-default, as the domain's
 * owner, in the domain directory, with the message (seekable) on
 * descriptor 0. The user is EXT (the address's local part: qmail-local
 * gets "domain-user" through users/assign's "+domain-" line and the
 * virtualdomains prepend, and EXT is what follows the dash), the domain
 * HOST; both lowercased. The user's vpasswd entry (lib/vpasswd) decides:
 * a locked account bounces, a missing directory or Maildir is created,
 * the user's own .qmail is followed if there is one, else the message
 * goes into the user's Maildir under its Maildir++ quota
 * (lib/maildirquota). A name that is not a user is what the second
 * argument says. See vdelivermail(8).
 *
 * Exit codes as qmail-local's programs have them (qmail-command(8)): 0
 * delivered (or deleted), 99 delivered and a program said to stop, 100
 * bounce, 111 try again later; one line on descriptor 2 says why, with
 * its enhanced status code, and qmail-local hands it to qmail-send. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "date822.h"
#include "delivery.h"
#include "dotqmail.h"
#include "env.h"
#include "error.h"
#include "maildir.h"
#include "maildirquota.h"
#include "mbox.h"
#include "sig.h"
#include "stralloc.h"
#include "strerr.h"
#include "vdefault.h"
#include "vdomain.h"
#include "vpasswd.h"

extern char **environ;

#define DOTQMAIL_MAX (16UL << 20)  /* as qmail-local */
#define LOCK_TIMEOUT 30
#define MAILDIR_TIMEOUT 86400
#define MSGFILE_MAX 65536          /* .no-user.msg and friends, as shown */
#define QUOTAWARN_PERCENT 90       /* vpopmail's QUOTA_WARN_PERCENT */
#define QUOTAWARN_INTERVAL 86400   /* one warning a day */
#define FORWARD_MAX 1000           /* forward lines in one .qmail */

static NORETURN void usage(void)
{
  strerr_die(111, "vdelivermail: usage: vdelivermail '' delete|bounce-no-mailbox|address|/path (#4.3.5)");
}
static NORETURN void temp_nomem(void) { strerr_die(111, "Out of memory. (#4.3.0)"); }
static NORETURN void temp_rewind(void) { strerr_die(111, "Unable to rewind message. (#4.3.0)"); }
static NORETURN void temp_read(void) { strerr_die(111, "Unable to read message: ", error_str(errno), ". (#4.3.0)"); }
static NORETURN void temp_fork(void) { strerr_die(111, "Unable to fork: ", error_str(errno), ". (#4.3.0)"); }
static NORETURN void temp_write(const char *fn)
{
  strerr_die(111, "Unable to write ", fn, ": ", error_str(errno), ". (#4.3.0)");
}
/* A system call failed on a file of the store. Always temporary, even
 * for errors that will not go away by themselves (a missing parent
 * directory, a permission): they are the administrator's to fix, and
 * the message is kept until then rather than bounced. */
static NORETURN void die_sys(const char *what, const char *fn)
{
  strerr_die(111, "Unable to ", what, " ", fn, ": ", error_str(errno), ". (#4.3.0)");
}

/* ---- what qmail-local told us ---- */

static enum vdefault_kind instr;
static const char *instrarg;        /* the path or address of instr */
static size_t instrarglen;
static stralloc user = STRALLOC_ZERO;     /* EXT, lowercased */
static stralloc host = STRALLOC_ZERO;     /* HOST, lowercased */
static const char *sender;
static stralloc domdir = STRALLOC_ZERO;   /* the domain directory, absolute */
static stralloc dtline = STRALLOC_ZERO;   /* "Delivered-To: user@host\n" */
static stralloc rpline = STRALLOC_ZERO;   /* "Return-Path: <sender>\n" */
static stralloc ufline = STRALLOC_ZERO;   /* "From sender date\n" */
static off_t msgsize;

static void lower(stralloc *sa)
{
  size_t i;
  for (i = 0; i < sa->len; ++i)
    if (sa->s[i] >= 'A' && sa->s[i] <= 'Z') sa->s[i] = (char)(sa->s[i] + 32);
}

static void setup(int argc, char **argv)
{
  const char *ext, *h;
  struct stat st;

  if (argc != 3) usage();
  instr = vdefault_instruction(argv[2], strlen(argv[2]), &instrarg, &instrarglen);
  if (instr == VDEFAULT_INVALID) usage();

  /* Only qmail-local sets these: without them we were not run from a
   * .qmail file, and the message is better kept than bounced. */
  ext = env_get("EXT");
  h = env_get("HOST");
  if (!ext || !h) strerr_die(111, "vdelivermail: EXT and HOST are not set: run me from .qmail-default. (#4.3.5)");
  sender = env_get("SENDER");
  if (!sender) sender = "";
  if (!stralloc_copys(&user, ext) || !stralloc_copys(&host, h)) temp_nomem();
  lower(&user);
  lower(&host);
  if (!stralloc_0(&user) || !stralloc_0(&host)) temp_nomem();
  --user.len;
  --host.len;

  /* qmail-local started us in the domain directory (HOME). */
  for (;;) {
    if (!stralloc_ready(&domdir, domdir.a + 256)) temp_nomem();
    if (getcwd(domdir.s, domdir.a)) break;
    if (errno != ERANGE) strerr_die(111, "Unable to find the domain directory: ", error_str(errno), ". (#4.3.0)");
  }
  domdir.len = strlen(domdir.s);

  if (!delivery_dtline(&dtline, user.s, host.s)) temp_nomem();
  if (!delivery_rpline(&rpline, sender)) temp_nomem();
  if (!mbox_ufline(&ufline, sender, strlen(sender), time(0))) temp_nomem();

  if (fstat(0, &st) == -1) temp_read();
  msgsize = st.st_size;
  /* The loop check reads with pread: a descriptor that cannot seek shows
   * itself here, before anything is delivered. */
  switch (delivery_looping(0, dtline.s, dtline.len)) {
    case -1:
      if (errno == ESPIPE) temp_rewind();
      temp_read();
    case 1: strerr_die(100, "This message is looping: it already has my Delivered-To line. (#5.4.6)");
  }
}

/* ---- texts from the domain ---- */

static char outspace[1024];
static buffer out = { outspace, 0, 0, sizeof outspace, 2, 0 };

/* Reads dir/name, at most MSGFILE_MAX bytes. 1 read, 0 absent. */
static int readmsg(stralloc *sa, const char *dir, const char *name)
{
  stralloc fn = STRALLOC_ZERO;
  int fd;
  sa->len = 0;
  if (!stralloc_copys(&fn, dir) || !stralloc_append(&fn, '/') || !stralloc_cats(&fn, name) || !stralloc_0(&fn))
    temp_nomem();
  fd = open(fn.s, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd == -1) {
    if (errno == ENOENT || errno == ENOTDIR) { stralloc_free(&fn); return 0; }
    die_sys("read", fn.s);
  }
  for (;;) {
    ssize_t r;
    if (!stralloc_readyplus(sa, 4096)) temp_nomem();
    r = read(fd, sa->s + sa->len, 4096);
    if (r == -1) { if (errno == EINTR) continue; die_sys("read", fn.s); }
    if (!r) break;
    sa->len += (size_t)r;
    if (sa->len >= MSGFILE_MAX) { sa->len = MSGFILE_MAX; break; }
  }
  close(fd);
  stralloc_free(&fn);
  return 1;
}

/* The domain's file, else the one for all domains (base/domains/). */
static int domainmsg(stralloc *sa, const char *name)
{
  stralloc base = STRALLOC_ZERO;
  int r;
  if (readmsg(sa, domdir.s, name)) return 1;
  if (!stralloc_copys(&base, auto_vpopmail) || !stralloc_cats(&base, "/domains") || !stralloc_0(&base))
    temp_nomem();
  r = readmsg(sa, base.s, name);
  stralloc_free(&base);
  return r;
}

/* Writes a text to the report (descriptor 2, which qmail-local passes
 * on): its NULs dropped, its lines kept. */
static void report(const stralloc *sa)
{
  size_t i;
  for (i = 0; i < sa->len; ++i)
    if (sa->s[i]) buffer_put(&out, sa->s + i, 1);
  if (sa->len && sa->s[sa->len - 1] != '\n') buffer_puts(&out, "\n");
  buffer_flush(&out);
}

/* ---- Maildirs ---- */

static char hostname[256];

static void sigalrm(int sig)
{
  static const char msg[] = "Timeout on maildir delivery. (#4.3.0)\n";
  ssize_t w;
  (void)sig;
  maildir_cleanup();
  w = write(2, msg, sizeof msg - 1);
  (void)w;
  _exit(111);
}

static void maildir_put(const char *dir, int fd, const char *head, size_t headlen)
{
  enum maildir_status st;

  if (!hostname[0] && (gethostname(hostname, sizeof hostname - 1) == -1 || !hostname[0]))
    memcpy(hostname, "localhost", 10);
  sig_catch(SIGALRM, sigalrm);
  alarm(MAILDIR_TIMEOUT);
  st = maildir_deliver(dir, fd, head, headlen, hostname, 0);
  alarm(0);
  switch (st) {
    case MAILDIR_OK: return;
    case MAILDIR_ENOMEM: temp_nomem();
    case MAILDIR_ETMP:
      strerr_die(111, "Unable to create a file in ", dir, "/tmp/: ", error_str(errno), ". (#4.2.1)");
    case MAILDIR_EREAD: temp_read();
    case MAILDIR_EWRITE: temp_write(dir);
    case MAILDIR_ENEW:
      strerr_die(111, "Unable to link into ", dir, "/new/: ", error_str(errno), ". (#4.3.0)");
  }
  strerr_die(111, "Temporary error on maildir delivery. (#4.3.0)");
}

/* dir without its trailing slashes ("./Maildir/" -> "./Maildir"), as
 * lib/maildirquota wants it. */
static void trimdir(stralloc *sa, const char *dir)
{
  if (!stralloc_copys(sa, dir)) temp_nomem();
  while (sa->len > 1 && sa->s[sa->len - 1] == '/') --sa->len;
  if (!stralloc_0(sa)) temp_nomem();
}

/* The quota warning: the domain's .quotawarn.msg (or the one for all
 * domains, or a short text of our own), delivered into the Maildir with
 * a Delivered-To and a Date line, at most once in QUOTAWARN_INTERVAL as
 * the timestamp file Maildir/quotawarn says. Trouble here never stops
 * the delivery of the message itself. */
static void quotawarn(const char *md)
{
  stralloc fn = STRALLOC_ZERO, head = STRALLOC_ZERO, text = STRALLOC_ZERO;
  char date[DATE822_MAX];
  struct stat st;
  time_t now = time(0);
  int fd;

  if (!stralloc_copys(&fn, md) || !stralloc_cats(&fn, "/quotawarn") || !stralloc_0(&fn)) temp_nomem();
  if (stat(fn.s, &st) == 0 && st.st_mtime + QUOTAWARN_INTERVAL > now && st.st_mtime <= now) goto out;
  /* The stamp first: a warning that cannot be delivered is not retried
   * with every message. */
  fd = open(fn.s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd == -1) { strerr_warn("vdelivermail: warning: unable to write ", fn.s, ": ", error_str(errno)); goto out; }
  futimens(fd, 0);
  close(fd);

  if (!stralloc_copy(&head, &dtline) || !stralloc_cats(&head, "Date: ")
      || !stralloc_catb(&head, date, date822_fmt(date, now)) || !stralloc_cats(&head, "\n"))
    temp_nomem();
  if (!domainmsg(&text, ".quotawarn.msg")) {
    if (!stralloc_cats(&text, "From: postmaster@") || !stralloc_cat(&text, &host)
        || !stralloc_cats(&text, "\nTo: ") || !stralloc_cat(&text, &user) || !stralloc_append(&text, '@')
        || !stralloc_cat(&text, &host)
        || !stralloc_cats(&text, "\nSubject: Mail quota warning\n\n"
                                 "Your mailbox is now more than 90% full. Please remove some messages\n"
                                 "from it so that you can go on receiving mail.\n"))
      temp_nomem();
  }
  if (!stralloc_cat(&head, &text)) temp_nomem();
  fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd == -1) die_sys("open", "/dev/null");
  maildir_put(md, fd, head.s, head.len);
  close(fd);
  if (maildirquota_add(md, (int64_t)head.len, 1) == -1)
    strerr_warn("vdelivermail: warning: unable to update ", md, "/maildirsize: ", error_str(errno));
out:
  stralloc_free(&fn);
  stralloc_free(&head);
  stralloc_free(&text);
}

/* The quota of a Maildir that is not the user's own (a catch-all, a
 * Maildir line in a .qmail): the definition line of its maildirsize, as
 * vpopmail reads it; none if it has none. */
static int dirquota(const char *md, struct maildirquota *q)
{
  stralloc text = STRALLOC_ZERO;
  size_t nl;
  int r = 0;
  q->bytes = q->count = 0;
  if (readmsg(&text, md, "maildirsize")) {
    for (nl = 0; nl < text.len && text.s[nl] != '\n'; ++nl) {}
    r = maildirquota_parse(text.s, nl, q);
  }
  stralloc_free(&text);
  return r;
}

/* Delivers the message into the Maildir dir, with Return-Path and
 * Delivered-To lines first, under quota q (null: the Maildir's own
 * maildirsize says). Over quota: a bounce with the domain's
 * .over-quota.msg. */
static void tomaildir(const char *dir, const struct maildirquota *q)
{
  stralloc head = STRALLOC_ZERO, md = STRALLOC_ZERO, text = STRALLOC_ZERO;
  struct maildirquota own;
  struct maildirquota_usage u;
  uint64_t size;

  if (!stralloc_copy(&head, &rpline) || !stralloc_cat(&head, &dtline)) temp_nomem();
  size = (uint64_t)msgsize + head.len;
  trimdir(&md, dir);
  if (!q && dirquota(md.s, &own)) q = &own;
  if (q && maildirquota_limited(q)) {
    if (maildirquota_get(md.s, q, &u) == -1) die_sys("read the quota of", md.s);
    if (maildirquota_exceeds(q, &u, size)) {
      quotawarn(md.s);
      if (!domainmsg(&text, ".over-quota.msg"))
        if (!stralloc_copys(&text, "Sorry, the mailbox of ") || !stralloc_cat(&text, &user)
            || !stralloc_append(&text, '@') || !stralloc_cat(&text, &host)
            || !stralloc_cats(&text, " is over its quota. (#5.2.2)"))
          temp_nomem();
      report(&text);
      _exit(100);
    }
    if (maildirquota_percent(q, &u) >= QUOTAWARN_PERCENT) quotawarn(md.s);
  }
  maildir_put(dir, 0, head.s, head.len);
  if (q && maildirquota_limited(q) && maildirquota_add(md.s, (int64_t)size, 1) == -1)
    strerr_warn("vdelivermail: warning: unable to update ", md.s, "/maildirsize: ", error_str(errno));
  stralloc_free(&head);
  stralloc_free(&md);
  stralloc_free(&text);
}

static void tombox(const char *fn)
{
  stralloc head = STRALLOC_ZERO;
  if (!stralloc_copy(&head, &ufline) || !stralloc_cat(&head, &rpline) || !stralloc_cat(&head, &dtline))
    temp_nomem();
  switch (mbox_append(fn, 0, head.s, head.len, LOCK_TIMEOUT)) {
    case MBOX_OK: stralloc_free(&head); return;
    case MBOX_EOPEN: strerr_die(111, "Unable to open ", fn, ": ", error_str(errno), ". (#4.2.1)");
    case MBOX_ELOCK: strerr_die(111, "File has been locked for 30 seconds straight. (#4.3.0)");
    case MBOX_EREAD: temp_read();
    case MBOX_EWRITE: temp_write(fn);
    case MBOX_EMOVED: strerr_die(111, "Mailbox ", fn, " kept being replaced while I waited for its lock. (#4.2.1)");
  }
  temp_write(fn);
}

/* ---- programs and forwards ---- */

static int flag99;

/* sh -c prog with the message on its standard input from the start, in
 * the current directory, with qmail-local's environment. */
static void toprogram(const char *prog)
{
  if (delivery_program(prog, environ)) flag99 = 1;
}

/* All forwards in one qmail-inject -a -f sender -- addr..., after every
 * other line has succeeded (a retry must not send them twice): the
 * message with our Delivered-To line first. */
static void toforwards(char **addrs, size_t n)
{
  static char buf[65536];
  stralloc prog = STRALLOC_ZERO;
  char **argv;
  posix_spawn_file_actions_t fa;
  pid_t pid;
  off_t off = 0;
  int pi[2], r, wstat, werr = 0;
  size_t i;

  if (!n) return;
  argv = calloc(n + 6, sizeof *argv);
  if (!argv) temp_nomem();
  if (!stralloc_copys(&prog, auto_qmail) || !stralloc_cats(&prog, "/bin/qmail-inject") || !stralloc_0(&prog))
    temp_nomem();
  argv[0] = prog.s;
  argv[1] = (char *)"-a";
  argv[2] = (char *)"-f";
  /* qmail-inject takes "<>" for the empty sender. */
  argv[3] = (char *)(*sender ? sender : "<>");
  argv[4] = (char *)"--";
  for (i = 0; i < n; ++i) argv[5 + i] = addrs[i];
  argv[5 + n] = 0;

  if (pipe(pi) == -1) temp_fork();
  r = posix_spawn_file_actions_init(&fa);
  if (r) { errno = r; temp_fork(); }
  if (posix_spawn_file_actions_adddup2(&fa, pi[0], 0) || posix_spawn_file_actions_addclose(&fa, pi[0])
      || posix_spawn_file_actions_addclose(&fa, pi[1]))
    temp_nomem();
  r = posix_spawn(&pid, argv[0], &fa, 0, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(pi[0]);
  if (r) {
    errno = r;
    if (r == EAGAIN || r == ENOMEM) temp_fork();
    strerr_die(111, "Unable to run ", argv[0], ": ", error_str(r), ". (#4.3.0)");
  }
  /* SIGPIPE is ignored: qmail-inject refusing early is an EPIPE here,
   * and its exit code says why. */
  {
    const char *p = dtline.s;
    size_t left = dtline.len;
    while (left && !werr) {
      ssize_t w = write(pi[1], p, left);
      if (w == -1) { if (errno == EINTR) continue; werr = 1; break; }
      p += w;
      left -= (size_t)w;
    }
  }
  while (!werr) {
    ssize_t rd = pread(0, buf, sizeof buf, off), w;
    size_t done = 0;
    if (rd == -1) { if (errno == EINTR) continue; kill(pid, SIGTERM); temp_read(); }
    if (!rd) break;
    off += rd;
    while (done < (size_t)rd) {
      w = write(pi[1], buf + done, (size_t)rd - done);
      if (w == -1) { if (errno == EINTR) continue; werr = 1; break; }
      done += (size_t)w;
    }
  }
  close(pi[1]);
  while (waitpid(pid, &wstat, 0) == -1)
    if (errno != EINTR) strerr_die(111, "Unable to wait for qmail-inject: ", error_str(errno), ". (#4.3.0)");
  if (!WIFEXITED(wstat)) strerr_die(111, "Unable to forward message: qmail-inject crashed. (#4.3.0)");
  switch (WEXITSTATUS(wstat)) {
    case 0:
      if (werr) strerr_die(111, "Unable to forward message: qmail-inject stopped reading. (#4.3.0)");
      break;
    case 100: strerr_die(100, "Unable to forward message: qmail-inject refused it. (#5.3.0)");
    default: strerr_die(111, "Unable to forward message: qmail-inject failed. (#4.3.0)");
  }
  free(argv);
  stralloc_free(&prog);
}

/* ---- a .qmail file ---- */

static stralloc cmds = STRALLOC_ZERO;

/* Opens fn (a .qmail in the current directory) as qmail-local would
 * accept it: 1 with its text in cmds, 0 if there is none. */
static int readdotqmail(const char *fn, int fd, off_t size)
{
  if (size < 0 || (unsigned long long)size > DOTQMAIL_MAX)
    strerr_die(111, "Unable to read ", fn, ": bigger than 16 MiB. (#4.3.0)");
  cmds.len = 0;
  for (;;) {
    ssize_t r;
    if (!stralloc_readyplus(&cmds, 4096)) temp_nomem();
    r = read(fd, cmds.s + cmds.len, 4096);
    if (r == -1) {
      if (errno == EINTR) continue;
      strerr_die(111, "Unable to read ", fn, ": ", error_str(errno), ". (#4.3.0)");
    }
    if (!r) break;
    cmds.len += (size_t)r;
    if (cmds.len > DOTQMAIL_MAX) strerr_die(111, "Unable to read ", fn, ": bigger than 16 MiB. (#4.3.0)");
  }
  close(fd);
  return 1;
}

/* The user's delivery file in the current directory (the user's): for
 * user-ext, .qmail-ext or a matching .qmail-...default first (vpopmail's
 * --enable-qmail-ext), then .qmail. 1 with the text in cmds and
 * *forwardonly set, 0 if there is none (or it is empty: as for
 * qmail-local, an empty file means the default delivery). */
static int finddotqmail(const char *ext, int *forwardonly)
{
  stralloc fn = STRALLOC_ZERO, safe = STRALLOC_ZERO;
  struct dotqmail_file f;
  int found = 0;

  f.fd = -1;
  if (*ext) {
    if (!dotqmail_safeext(&safe, ext)) temp_nomem();
    switch (dotqmail_find(&fn, "-", &safe, auto_patrn, &f)) {
      case DOTQMAIL_ETEMP:
        if (errno == ENOMEM) temp_nomem();
        strerr_die(111, "Unable to open ", fn.s, ": ", error_str(errno), ". (#4.3.0)");
      case DOTQMAIL_EWRITABLE: strerr_die(111, "Uh-oh: .qmail file is writable. (#4.7.0)");
      case DOTQMAIL_FOUND: found = 1; break;
      case DOTQMAIL_NONE: break;
    }
  }
  if (!found) {
    struct stat st;
    int fd;
    if (!stralloc_copys(&fn, ".qmail") || !stralloc_0(&fn)) temp_nomem();
    do fd = open(fn.s, O_RDONLY | O_NONBLOCK | O_CLOEXEC); while (fd == -1 && errno == EINTR);
    if (fd == -1) {
      if (errno != ENOENT && errno != ENOTDIR)
        strerr_die(111, "Unable to open .qmail: ", error_str(errno), ". (#4.3.0)");
    } else {
      if (fstat(fd, &st) == -1) strerr_die(111, "Unable to open .qmail: ", error_str(errno), ". (#4.3.0)");
      if (!S_ISREG(st.st_mode)) close(fd);
      else if (st.st_mode & auto_patrn) strerr_die(111, "Uh-oh: .qmail file is writable. (#4.7.0)");
      else {
        f.fd = fd;
        f.size = st.st_size;
        f.forwardonly = !!(st.st_mode & S_IXUSR);
        found = 1;
      }
    }
  }
  if (found) readdotqmail(fn.s, f.fd, f.size);
  *forwardonly = found && f.forwardonly;
  stralloc_free(&fn);
  stralloc_free(&safe);
  return found && cmds.len;
}

/* Follows the lines in cmds as qmail-local does. quota applies to the
 * user's own Maildir ("./Maildir/"); other Maildirs use their own
 * maildirsize. */
static void dolines(int forwardonly, const struct maildirquota *quota)
{
  struct dotqmail d;
  struct dotqmail_line l;
  char *fwd[FORWARD_MAX];
  size_t nfwd = 0;
  const char *why;
  int r;

  if (!cmds.len || cmds.s[cmds.len - 1] != '\n')
    if (!stralloc_append(&cmds, '\n')) temp_nomem();
  dotqmail_start(&d, cmds.s, cmds.len);
  while ((r = dotqmail_delivery(&d, &forwardonly, &l, &why)) == 1) {
    char *arg = (char *)l.arg;
    arg[l.len] = 0;
    switch (l.kind) {
      case DOTQMAIL_MAILDIR: tomaildir(arg, !strcmp(arg, "./Maildir/") ? quota : 0); break;
      case DOTQMAIL_MBOX: tombox(arg); break;
      case DOTQMAIL_PROGRAM: toprogram(arg); break;
      default: /* DOTQMAIL_FORWARD */
        if (nfwd == FORWARD_MAX) strerr_die(111, "Uh-oh: .qmail has more than 1000 forward lines. (#4.7.0)");
        fwd[nfwd++] = arg;
    }
    if (flag99) break;
  }
  if (r == -1) strerr_die(111, why);
  toforwards(fwd, nfwd);
}

/* ---- users ---- */

/* Makes dir (its last component only: the parent must exist) and the
 * Maildir in it, whatever part of it is missing. */
static void makemaildir(const char *dir)
{
  static const char *const sub[4] = { "/Maildir", "/Maildir/tmp", "/Maildir/new", "/Maildir/cur" };
  stralloc fn = STRALLOC_ZERO;
  unsigned i;

  if (mkdir(dir, 0700) == -1 && errno != EEXIST) die_sys("create the user directory", dir);
  for (i = 0; i < 4; ++i) {
    if (!stralloc_copys(&fn, dir) || !stralloc_cats(&fn, sub[i]) || !stralloc_0(&fn)) temp_nomem();
    if (mkdir(fn.s, 0700) == -1 && errno != EEXIST) die_sys("create", fn.s);
  }
  stralloc_free(&fn);
}

static void deliver_user(const struct vpasswd *pw, const char *ext)
{
  struct maildirquota q;
  struct stat st;
  int forwardonly;

  if (pw->flags & VPW_BOUNCE_MAIL)
    strerr_die(100, "Sorry, the mailbox of ", user.s, "@", host.s, " does not take mail. (#5.2.1)");
  if (!maildirquota_parse(pw->quota, strlen(pw->quota), &q))
    strerr_die(111, "The quota of ", pw->name, " in vpasswd is malformed. (#4.3.5)");
  /* A missing directory or Maildir is made at the first delivery. */
  if (stat(pw->dir, &st) == -1 || !S_ISDIR(st.st_mode)) makemaildir(pw->dir);
  if (chdir(pw->dir) == -1) die_sys("switch to", pw->dir);
  if (finddotqmail(ext, &forwardonly)) {
    dolines(forwardonly, &q);
    return;
  }
  /* Any part of the Maildir may be missing (a hand-made one, a tmp/
   * cleaned away): what is there stays as it is. */
  {
    static const char *const need[3] = { "Maildir/tmp", "Maildir/new", "Maildir/cur" };
    unsigned i;
    for (i = 0; i < 3; ++i)
      if (stat(need[i], &st) == -1) {
        if (errno != ENOENT) die_sys("stat", need[i]);
        makemaildir(".");
        break;
      }
  }
  tomaildir("./Maildir/", &q);
}

/* What .qmail-default says for a name that is not a user. */
static void deliver_nouser(void)
{
  stralloc text = STRALLOC_ZERO, path = STRALLOC_ZERO;
  struct stat st;
  int forwardonly;

  switch (instr) {
    case VDEFAULT_DELETE:
      strerr_warn("vdelivermail: no mailbox ", user.s, "@", host.s, ": message deleted, as .qmail-default says.");
      _exit(0);
    case VDEFAULT_BOUNCE:
      if (!domainmsg(&text, ".no-user.msg") && !stralloc_copys(&text, "Sorry, no mailbox here by that name. (#5.1.1)"))
        temp_nomem();
      report(&text);
      _exit(100);
    case VDEFAULT_FORWARD: {
      char *a[1];
      if (!stralloc_copyb(&path, instrarg, instrarglen) || !stralloc_0(&path)) temp_nomem();
      a[0] = path.s;
      toforwards(a, 1);
      return;
    }
    case VDEFAULT_PATH:
      /* A Maildir, or a user's directory (its .qmail, else its Maildir),
       * as vpopmail's catch-all "/home/vpopmail/domains/x/postmaster". */
      if (!stralloc_copyb(&path, instrarg, instrarglen) || !stralloc_cats(&path, "/new") || !stralloc_0(&path))
        temp_nomem();
      if (stat(path.s, &st) == 0 && S_ISDIR(st.st_mode)) {
        path.len -= 5;
        path.s[path.len] = 0;
        tomaildir(path.s, 0);
        return;
      }
      path.len -= 5;
      path.s[path.len] = 0;
      if (chdir(path.s) == -1) die_sys("switch to", path.s);
      if (finddotqmail("", &forwardonly)) dolines(forwardonly, 0);
      else tomaildir("./Maildir/", 0);
      return;
    case VDEFAULT_INVALID: usage();
  }
}

int main(int argc, char **argv)
{
  stralloc buf = STRALLOC_ZERO, name = STRALLOC_ZERO;
  struct vpasswd pw;
  size_t len;

  umask(077);
  sig_blocknone();
  sig_ignore(SIGPIPE);
  setup(argc, argv);

  /* user, else user-ext's user: the longest name before a '-' that is a
   * user (vdelivermail(8)). A name that cannot be a user is not one. */
  for (len = user.len; len; len = vdefault_shorter(user.s, len)) {
    if (!stralloc_copyb(&name, user.s, len) || !stralloc_0(&name)) temp_nomem();
    {
      stralloc checked = STRALLOC_ZERO;
      const char *bad = vdomain_checkuser(&checked, name.s);
      stralloc_free(&checked);
      if (bad) continue;
    }
    switch (vpasswd_lookup(domdir.s, name.s, &pw, &buf)) {
      case -1:
        if (errno == ENOMEM) temp_nomem();
        strerr_die(111, "Unable to look up ", name.s, " in ", domdir.s, "/vpasswd: ",
                   errno == EPROTO ? "malformed entry" : error_str(errno), ". (#4.3.0)");
      case 1:
        deliver_user(&pw, len < user.len ? user.s + len + 1 : "");
        return flag99 ? 99 : 0;
    }
  }
  deliver_nouser();
  return flag99 ? 99 : 0;
}
