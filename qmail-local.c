/* qmail-local: deliver or forward one message as ~/.qmail<dash><ext> says.
 *
 *   qmail-local [-nN] user homedir local dash ext domain sender defaultdelivery
 *
 * Run by qmail-lspawn as the user, with the message (exactly the message,
 * seekable) on descriptor 0. The rules are qmail 1.03's (qmail-local(8),
 * dot-qmail(5), qmail-command(8)); the .qmail lines are parsed by
 * lib/dotqmail, mailboxes written by lib/maildir and lib/mbox, forwards
 * queued through lib/qq. Exit 0 with "did F+W+P" (and "qp N" after a
 * forward) on descriptor 1; 100 permanent, 111 temporary, with one line
 * saying why and its enhanced status code. The text goes back to
 * qmail-send as the delivery report.
 *
 *   qmail-local -W
 *
 * Started ahead by qmail-lspawn, as root, with a socket on descriptor 3:
 * waits for one delivery (lib/handoff.h), takes on the user's identity,
 * and goes on as if started for it. The exec is then off the delivery's
 * path. */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "delivery.h"
#include "dotqmail.h"
#include "env.h"
#include "error.h"
#include "fd.h"
#include "fmt.h"
#include "handoff.h"
#include "maildir.h"
#include "mbox.h"
#include "prot.h"
#include "qlx.h"
#include "qq.h"
#include "scan.h"
#include "sig.h"
#include "stralloc.h"
#include "strerr.h"

extern char **environ;

/* A .qmail file bigger than this is refused (temporarily). qmail has no
 * limit; 16 MiB is some 400,000 forward lines. */
#define DOTQMAIL_MAX (16UL << 20)
/* How long an mbox may stay locked by someone else (qmail's 30 seconds). */
#define LOCK_TIMEOUT 30
/* maildir(5): a delivery is abandoned after 24 hours. */
#define MAILDIR_TIMEOUT 86400

static NORETURN void usage(void)
{
  strerr_die(100, "qmail-local: usage: qmail-local [ -nN ] user homedir local dash ext domain sender aliasempty");
}
static NORETURN void temp_nomem(void) { strerr_die(111, "Out of memory. (#4.3.0)"); }
static NORETURN void temp_rewind(void) { strerr_die(111, "Unable to rewind message. (#4.3.0)"); }
static NORETURN void temp_read(void) { strerr_die(111, "Unable to read message: ", error_str(errno), ". (#4.3.0)"); }
static NORETURN void temp_qmail(const char *fn)
{
  strerr_die(111, "Unable to open ", fn, ": ", error_str(errno), ". (#4.3.0)");
}
static NORETURN void temp_write(const char *fn)
{
  strerr_die(111, "Unable to write ", fn, ": ", error_str(errno), ". (#4.3.0)");
}

static int flagdoit = 1;
static int flag99;

static const char *user, *homedir, *local, *dash, *ext, *host, *sender, *aliasempty;
static const char *deflt; /* DEFAULT, when a -default file was used */

static stralloc dtline = STRALLOC_ZERO;    /* "Delivered-To: local@host\n" */
static stralloc rpline = STRALLOC_ZERO;    /* "Return-Path: <sender>\n" */
static stralloc ufline = STRALLOC_ZERO;    /* "From sender date\n" */
static stralloc head = STRALLOC_ZERO;      /* what goes before the message */
static stralloc safeext = STRALLOC_ZERO;
static stralloc qme = STRALLOC_ZERO;       /* the .qmail file name last tried */
static stralloc newsender = STRALLOC_ZERO; /* NUL-terminated */
static stralloc cmds = STRALLOC_ZERO;      /* the delivery instructions */

static char outspace[1024];
static buffer out = { outspace, 0, 0, sizeof outspace, 1, 0 };

/* ---- the home directory ---- */

static void checkhome(void)
{
  struct stat st;

  if (stat(".", &st) == -1)
    strerr_die(111, "Unable to stat home directory: ", error_str(errno), ". (#4.3.0)");
  if (st.st_mode & auto_patrn) strerr_die(111, "Uh-oh: home directory is writable. (#4.7.0)");
  /* The sticky bit is how a user says "I am editing my .qmail files". */
  if (st.st_mode & S_ISVTX) {
    if (flagdoit) strerr_die(111, "Home directory is sticky: user is editing his .qmail file. (#4.2.1)");
    strerr_warn("Warning: home directory is sticky.");
  }
}

/* ---- mailboxes ---- */

static char hostname[256];

static const char *myhost(void)
{
  /* The host name goes into Maildir file names, as in qmail. */
  if (!hostname[0] && (gethostname(hostname, sizeof hostname - 1) == -1 || !hostname[0]))
    memcpy(hostname, "localhost", 10);
  return hostname;
}

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

static void maildir(const char *fn)
{
  enum maildir_status st;

  if (!stralloc_copy(&head, &rpline) || !stralloc_cat(&head, &dtline)) temp_nomem();
  myhost();
  sig_catch(SIGALRM, sigalrm);
  alarm(MAILDIR_TIMEOUT);
  st = maildir_deliver(fn, 0, head.s, head.len, hostname, 0);
  alarm(0);
  switch (st) {
    case MAILDIR_OK: return;
    case MAILDIR_ENOMEM: temp_nomem();
    case MAILDIR_ETMP:
      strerr_die(111, "Unable to create a file in ", fn, "tmp/: ", error_str(errno), ". (#4.2.1)");
    case MAILDIR_EREAD: temp_read();
    case MAILDIR_EWRITE: temp_write(fn);
    case MAILDIR_ENEW:
      strerr_die(111, "Unable to link into ", fn, "new/: ", error_str(errno), ". (#4.3.0)");
  }
  strerr_die(111, "Temporary error on maildir delivery. (#4.3.0)");
}

static void mailfile(const char *fn)
{
  if (!stralloc_copy(&head, &ufline) || !stralloc_cat(&head, &rpline) || !stralloc_cat(&head, &dtline))
    temp_nomem();
  switch (mbox_append(fn, 0, head.s, head.len, LOCK_TIMEOUT)) {
    case MBOX_OK: return;
    case MBOX_EOPEN: strerr_die(111, "Unable to open ", fn, ": ", error_str(errno), ". (#4.2.1)");
    case MBOX_ELOCK: strerr_die(111, "File has been locked for 30 seconds straight. (#4.3.0)");
    case MBOX_EREAD: temp_read();
    case MBOX_EWRITE: temp_write(fn);
    case MBOX_EMOVED: strerr_die(111, "Mailbox ", fn, " kept being replaced while I waited for its lock. (#4.2.1)");
  }
  temp_write(fn);
}

/* ---- programs ---- */

static envbuild env = ENVBUILD_ZERO;
static int envready;

static void buildenv(void)
{
  struct delivery d;
  if (envready) return;
  d.user = user;
  d.home = homedir;
  d.local = local;
  d.ext = ext;
  d.host = host;
  d.sender = sender;
  d.newsender = newsender.s;
  d.deflt = deflt;
  d.dtline = dtline.s;
  d.rpline = rpline.s;
  d.ufline = ufline.s;
  if (!envbuild_init(&env, environ) || !delivery_env(&env, &d)) temp_nomem();
  envready = 1;
}

/* sh -c prog in the home directory, the message on its standard input
 * from the start, the environment of qmail-command(8). */
static void mailprogram(const char *prog)
{
  buildenv();
  if (delivery_program(prog, env.v)) flag99 = 1;
}

/* ---- forwards ---- */

static unsigned long forward_qp;
static struct qq qq;

/* All forward lines in one message to qmail-queue, after every other
 * line has succeeded: the message with a new Delivered-To line (but no
 * Return-Path), from NEWSENDER. */
static void mailforward(char **recips, size_t n)
{
  static char buf[65536];
  const char *err;
  off_t off = 0;
  size_t i;

  if (qq_open(&qq) == -1) strerr_die(111, "Unable to run qmail-queue: ", error_str(errno), ". (#4.3.0)");
  forward_qp = qq_qp(&qq);
  qq_put(&qq, dtline.s, dtline.len);
  for (;;) {
    ssize_t r = pread(0, buf, sizeof buf, off);
    if (r == -1 && errno == EINTR) continue;
    if (r == -1) { qq_fail(&qq); break; }
    if (r == 0) break;
    qq_put(&qq, buf, (size_t)r);
    off += r;
  }
  qq_from(&qq, newsender.s);
  for (i = 0; i < n; ++i) qq_to(&qq, recips[i]);
  err = qq_close(&qq);
  if (!*err) return;
  strerr_die(*err == 'D' ? 100 : 111, "Unable to forward message: ", err + 1, ".");
}

/* ---- reporting ---- */

static void sayit(const char *type, const char *arg, size_t len)
{
  buffer_puts(&out, type);
  buffer_put(&out, arg, len);
  buffer_putsflush(&out, "\n");
}

static void count_print(unsigned long files, unsigned long forwards, unsigned long programs)
{
  char num[FMT_ULONG];
  buffer_puts(&out, "did ");
  buffer_put(&out, num, fmt_ulong(num, files));
  buffer_puts(&out, "+");
  buffer_put(&out, num, fmt_ulong(num, forwards));
  buffer_puts(&out, "+");
  buffer_put(&out, num, fmt_ulong(num, programs));
  buffer_puts(&out, "\n");
  if (forward_qp) {
    buffer_puts(&out, "qp ");
    buffer_put(&out, num, fmt_ulong(num, forward_qp));
    buffer_puts(&out, "\n");
  }
  buffer_flush(&out);
}

/* ---- setup ---- */

static void args(int argc, char **argv)
{
  int i = 1;
  const char **want[8];
  int k;

  for (; i < argc && argv[i][0] == '-' && argv[i][1]; ++i) {
    const char *o = argv[i] + 1;
    if (!strcmp(o, "-")) { ++i; break; }
    for (; *o; ++o) {
      if (*o == 'n') flagdoit = 0;
      else if (*o == 'N') flagdoit = 1;
      else usage();
    }
  }
  want[0] = &user;
  want[1] = &homedir;
  want[2] = &local;
  want[3] = &dash;
  want[4] = &ext;
  want[5] = &host;
  want[6] = &sender;
  want[7] = &aliasempty;
  for (k = 0; k < 8; ++k) {
    if (i >= argc) usage();
    *want[k] = argv[i++];
  }
  if (i != argc) usage();
  if (homedir[0] != '/') usage();
}

/* -W: the delivery comes from qmail-lspawn on descriptor 3. Exit codes
 * are qmail-lspawn's (lib/qlx.h), as for its own child; end of file (it
 * went away before using us) is no delivery at all. */
static void wait_for_delivery(int *argc, char ***argv)
{
  static char buf[HANDOFF_MAX];
  static char *av[HANDOFF_LOCAL_FIELDS + 1];
  const char *f[HANDOFF_LOCAL_FIELDS];
  int fds[HANDOFF_LOCAL_FDS];
  unsigned long uid, gid;
  long n;
  int k;

  /* Ready: until qmail-lspawn has read this, it does not hand us a
   * delivery (a bin/qmail-local that knows nothing of -W never says it). */
  if (write(3, "R", 1) != 1) _exit(0);
  n = handoff_recv(3, buf, sizeof buf, fds, HANDOFF_LOCAL_FDS);
  if (n == 0) _exit(0);
  if (n < 0) _exit(QLX_USAGE);
  if (!handoff_unpack(buf, (size_t)n, f, HANDOFF_LOCAL_FIELDS) || !scan_whole_ulong(f[0], (unsigned long)-1, &uid)
      || !scan_whole_ulong(f[1], (unsigned long)-1, &gid))
    _exit(QLX_USAGE);
  close(3);
  if (fd_move(0, fds[0]) == -1 || fd_move(1, fds[1]) == -1 || fd_copy(2, 1) == -1) _exit(QLX_SYS);
  if (prot_gid((gid_t)gid) == -1 || prot_uid((uid_t)uid) == -1) _exit(QLX_USAGE);
  if (!getuid() || !geteuid()) _exit(QLX_ROOT);
  av[0] = (char *)"qmail-local";
  av[1] = (char *)"--";
  for (k = 2; k < HANDOFF_LOCAL_FIELDS; ++k) av[k] = (char *)f[k];
  av[HANDOFF_LOCAL_FIELDS] = 0;
  *argc = HANDOFF_LOCAL_FIELDS;
  *argv = av;
}

static void readcmds(int fd, off_t size)
{
  if (size < 0 || (unsigned long long)size > DOTQMAIL_MAX) goto toobig;
  if (!stralloc_ready(&cmds, (size_t)size + 2)) temp_nomem();
  cmds.len = 0;
  for (;;) {
    ssize_t r;
    if (cmds.len == cmds.a && !stralloc_readyplus(&cmds, 4096)) temp_nomem();
    r = read(fd, cmds.s + cmds.len, cmds.a - cmds.len);
    if (r == -1) {
      if (errno == EINTR) continue;
      strerr_die(111, "Unable to read ", qme.s, ": ", error_str(errno), ". (#4.3.0)");
    }
    if (r == 0) break;
    cmds.len += (size_t)r;
    if (cmds.len > DOTQMAIL_MAX) goto toobig;
  }
  close(fd);
  return;
toobig:
  strerr_die(111, "Unable to read ", qme.s, ": bigger than 16 MiB. (#4.3.0)");
}

int main(int argc, char **argv)
{
  struct dotqmail_file f;
  struct dotqmail d;
  struct dotqmail_line l;
  char **recips = 0;
  size_t numforward = 0, arecips = 0;
  unsigned long count_file = 0, count_forward = 0, count_program = 0;
  const char *why;
  int flagforwardonly, r;

  if (argc == 2 && !strcmp(argv[1], "-W")) wait_for_delivery(&argc, &argv);
  umask(077);
  sig_blocknone();
  sig_ignore(SIGPIPE);
  args(argc, argv);

  if (chdir(homedir) == -1)
    strerr_die(111, "Unable to switch to ", homedir, ": ", error_str(errno), ". (#4.3.0)");
  checkhome();

  /* The three lines get a NUL for the environment (and stralloc_0 counts
   * it in len until the decrements below). */
  if (!delivery_dtline(&dtline, local, host) || !stralloc_0(&dtline)) temp_nomem();
  if (flagdoit) {
    /* The message is read with pread from here on: a descriptor that
     * cannot seek (a pipe) shows itself with ESPIPE at the first read. */
    switch (delivery_looping(0, dtline.s, dtline.len - 1)) {
      case -1:
        if (errno == ESPIPE) temp_rewind();
        temp_read();
      case 1: strerr_die(100, "This message is looping: it already has my Delivered-To line. (#5.4.6)");
    }
  }
  if (!delivery_rpline(&rpline, sender) || !stralloc_0(&rpline)) temp_nomem();
  if (!mbox_ufline(&ufline, sender, strlen(sender), time(0)) || !stralloc_0(&ufline)) temp_nomem();
  --dtline.len;
  --rpline.len;
  --ufline.len;

  if (!dotqmail_safeext(&safeext, ext)) temp_nomem();
  switch (dotqmail_find(&qme, dash, &safeext, auto_patrn, &f)) {
    case DOTQMAIL_ETEMP:
      if (errno == ENOMEM) temp_nomem();
      temp_qmail(qme.s);
    case DOTQMAIL_EWRITABLE: strerr_die(111, "Uh-oh: .qmail file is writable. (#4.7.0)");
    case DOTQMAIL_NONE:
      /* Only the basic address may do without a .qmail file. */
      if (*dash) strerr_die(100, "Sorry, no mailbox here by that name. (#5.1.1)");
      break;
    case DOTQMAIL_FOUND:
      if (f.isdefault && f.deflt <= strlen(ext)) deflt = ext + f.deflt;
      break;
  }
  flagforwardonly = f.forwardonly;
  cmds.len = 0;
  if (f.fd != -1) readcmds(f.fd, f.size);

  switch (dotqmail_newsender(&newsender, &qme, dash, &safeext, local, host, sender)) {
    case 0: temp_nomem();
    case -1: temp_qmail(qme.s);
  }

  if (!cmds.len) {
    if (!stralloc_copys(&cmds, aliasempty)) temp_nomem();
    flagforwardonly = 0;
  }
  /* Every line ends in a newline, so that each argument can be
   * NUL-terminated in place. */
  if (!cmds.len || cmds.s[cmds.len - 1] != '\n')
    if (!stralloc_append(&cmds, '\n')) temp_nomem();

  dotqmail_start(&d, cmds.s, cmds.len);
  while ((r = dotqmail_delivery(&d, &flagforwardonly, &l, &why)) == 1) {
    char *arg = (char *)l.arg;
    arg[l.len] = 0;
    switch (l.kind) {
      case DOTQMAIL_MBOX:
      case DOTQMAIL_MAILDIR:
        ++count_file;
        if (l.kind == DOTQMAIL_MAILDIR) {
          if (flagdoit) maildir(arg);
          else sayit("maildir ", arg, l.len);
        } else {
          if (flagdoit) mailfile(arg);
          else sayit("mbox ", arg, l.len);
        }
        break;
      case DOTQMAIL_PROGRAM:
        ++count_program;
        if (flagdoit) mailprogram(arg);
        else sayit("program ", arg, l.len);
        break;
      default: /* DOTQMAIL_FORWARD */
        ++count_forward;
        if (!flagdoit) { sayit("forward ", arg, l.len); break; }
        if (numforward == arecips) {
          char **p;
          if (arecips > ((size_t)-1) / 2 / sizeof *recips) temp_nomem();
          arecips = arecips ? arecips * 2 : 16;
          p = realloc(recips, arecips * sizeof *recips);
          if (!p) temp_nomem();
          recips = p;
        }
        recips[numforward++] = arg;
        break;
    }
    /* Exit code 99: the rest of the file is skipped, but the forwards
     * already seen still happen. */
    if (flag99) break;
  }
  if (r == -1) strerr_die(111, why);

  if (numforward && flagdoit) mailforward(recips, numforward);
  count_print(count_file, count_forward, count_program);
  return 0;
}
