/* qmail-start: start the queue manager and its helpers, each with its own
 * user, connected by pipes (qmail-start(8)):
 *
 *   qmail-start [defaultdelivery [logger arg...]]
 *
 * qmail-lspawn runs as root (it becomes each recipient for qmail-local),
 * qmail-rspawn as qmailr, qmail-clean as qmailq, the logger as qmaill in
 * the nofiles group, and qmail-start itself becomes qmail-send (qmails), so
 * the process a supervisor watches is qmail-send. All but the logger get
 * the qmail group; qmail-rspawn also every group that lists the remote
 * user as a member, as initgroups(3) would give it (notqmail 20221115),
 * read from /etc/group without NSS. No descriptor above 2 that qmail-start
 * inherits is passed on. qmail-send's descriptors: 0 the log, 1/2 to and from
 * qmail-lspawn, 3/4 qmail-rspawn, 5/6 qmail-clean. Without a logger the
 * log goes to qmail-start's standard output. The environment is passed on
 * to every program (qmail-local gives it to .qmail programs): run it under
 * `env -` with just what deliveries should see. */

#define _GNU_SOURCE /* pipe2, close_range */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "auto.h"
#include "error.h"
#include "fd.h"
#include "ids.h"
#include "prot.h"
#include "pwfile.h"
#include "strerr.h"

#define FATAL "qmail-start: fatal: "

static NORETURN void die(const char *what)
{
  strerr_die(111, FATAL, what, ": ", error_str(errno));
}

static int pi[7][2]; /* pi[1]..pi[6]: the six pipes; pi[0]: the log */

static void closeall(void)
{
  int i;
  for (i = 0; i < 7; ++i) {
    if (pi[i][0] > 6) close(pi[i][0]);
    if (pi[i][1] > 6) close(pi[i][1]);
  }
}

/* Closes every descriptor from 3 up. Whatever qmail-start inherits beyond
 * 0..2 (a supervisor's, a shell's) would otherwise reach every daemon and,
 * through qmail-lspawn and qmail-local, every .qmail program. 0..2 stay:
 * 1 is the log without a logger, 2 everybody's stderr, and 0 is only ever
 * replaced. Called first, so nothing of ours is open yet. */
static void closeinherited(void)
{
  long max;
  int fd;
  if (close_range(3, ~0U, 0) == 0) return;
  /* ENOSYS before Linux 5.9; EPERM from some seccomp filters. */
  max = sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 1048576) max = 1048576; /* the kernel's default nr_open */
  for (fd = 3; fd < max; ++fd) close(fd);
}

/* qmail-rspawn's groups: the qmail group first, then the groups whose
 * member list names the remote user, at most RGROUPS in all. */
#define RGROUPS 256
static gid_t rgroups[RGROUPS];
static size_t nrgroups;

static void remotegroups(gid_t qmail)
{
  unsigned long g[RGROUPS - 1];
  size_t n, i;
  if (pwfile_member_gids(IDS_GROUP_FILE, auto_users[IDS_REMOTE], g, RGROUPS - 1, &n) == -1)
    die("unable to read " IDS_GROUP_FILE);
  rgroups[0] = qmail;
  nrgroups = 1;
  for (i = 0; i < n; ++i)
    if ((gid_t)g[i] != qmail) rgroups[nrgroups++] = (gid_t)g[i];
}

/* In a child: make in and out its descriptors 0 and 1, then exec. */
static NORETURN void child(int in, int out, const char *prog, char *const *argv)
{
  if (dup2(in, 0) == -1 || dup2(out, 1) == -1) _exit(111);
  closeall();
  execv(prog, argv);
  _exit(111);
}

int main(int argc, char **argv)
{
  struct ids ids;
  const char *missing;
  char *defaultdelivery = (char *)"./Mailbox";
  char **logger = 0;
  int i;

  closeinherited();
  if (argc > 1) defaultdelivery = argv[1];
  if (argc > 2) logger = argv + 2;
  if (chdir(auto_qmail) == -1) die("unable to chdir to the qmail home directory");
  if (ids_load(&ids, 1, &missing) == -1)
    strerr_die(111, FATAL, "unable to look up the qmail user or group ", missing ? missing : "", ": ", error_str(errno));
  if (prot_gid(ids.gid[IDS_QMAIL]) == -1) die("unable to set the qmail group");
  remotegroups(ids.gid[IDS_QMAIL]);

  for (i = 0; i < 7; ++i) { pi[i][0] = -1; pi[i][1] = -1; }
  for (i = logger ? 0 : 1; i < 7; ++i) {
    /* Above 6, so that placing 0..6 in the children never overwrites one. */
    int k;
    if (pipe2(pi[i], O_CLOEXEC) == -1) die("unable to create a pipe");
    for (k = 0; k < 2; ++k)
      if (pi[i][k] < 7) {
        int fd = fcntl(pi[i][k], F_DUPFD_CLOEXEC, 7);
        if (fd == -1) die("unable to move a descriptor");
        close(pi[i][k]);
        pi[i][k] = fd;
      }
  }

  if (logger) {
    switch (fork()) {
      case -1: die("unable to fork");
      case 0:
        if (prot_gid(ids.gid[IDS_NOFILES]) == -1 || prot_uid(ids.uid[IDS_LOG]) == -1) _exit(111);
        if (dup2(pi[0][0], 0) == -1) _exit(111);
        closeall();
        for (i = 2; i < 7; ++i) close(i);
        execvp(logger[0], logger);
        _exit(111);
    }
  }

  switch (fork()) {
    case -1: die("unable to fork");
    case 0: {
      char *args[3];
      args[0] = (char *)"bin/qmail-lspawn";
      args[1] = defaultdelivery;
      args[2] = 0;
      child(pi[1][0], pi[2][1], args[0], args);
    }
  }
  switch (fork()) {
    case -1: die("unable to fork");
    case 0: {
      char *args[2];
      args[0] = (char *)"bin/qmail-rspawn";
      args[1] = 0;
      if (prot_groups(ids.gid[IDS_QMAIL], rgroups, nrgroups) == -1 || prot_uid(ids.uid[IDS_REMOTE]) == -1)
        _exit(111);
      child(pi[3][0], pi[4][1], args[0], args);
    }
  }
  switch (fork()) {
    case -1: die("unable to fork");
    case 0: {
      char *args[2];
      args[0] = (char *)"bin/qmail-clean";
      args[1] = 0;
      if (prot_uid(ids.uid[IDS_QUEUE]) == -1) _exit(111);
      child(pi[5][0], pi[6][1], args[0], args);
    }
  }

  if (prot_uid(ids.uid[IDS_SEND]) == -1) die("unable to become the qmails user");
  {
    char *args[2];
    int fds[7];
    fds[0] = logger ? pi[0][1] : 1;
    fds[1] = pi[1][1];
    fds[2] = pi[2][0];
    fds[3] = pi[3][1];
    fds[4] = pi[4][0];
    fds[5] = pi[5][1];
    fds[6] = pi[6][0];
    if (!logger && dup2(1, 0) == -1) die("unable to set up the log");
    for (i = logger ? 0 : 1; i < 7; ++i)
      if (dup2(fds[i], i) == -1) die("unable to set up descriptors");
    closeall();
    args[0] = (char *)"bin/qmail-send";
    args[1] = 0;
    execv(args[0], args);
    die("unable to run qmail-send");
  }
}
