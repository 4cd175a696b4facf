#define _GNU_SOURCE /* pipe2 */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "fd.h"
#include "sig.h"
#include "strerr.h"

/* In the child: tell the parent why it could not run, then leave. Only
 * async-signal-safe calls from here on. */
static void child_report(int fd, int e)
{
  ssize_t w;
  do w = write(fd, &e, sizeof e); while (w == -1 && errno == EINTR);
  _exit(111);
}

pid_t child_start(char *const *argv, int fdin, int *execfailed)
{
  int p[2], e;
  ssize_t r;
  size_t got = 0;
  pid_t pid;

  *execfailed = 0;
  if (pipe2(p, O_CLOEXEC) == -1) return -1;
  pid = fork();
  if (pid == -1) { e = errno; close(p[0]); close(p[1]); errno = e; return -1; }
  if (pid == 0) {
    close(p[0]);
    if (fdin != -1 && fdin != 0) {
      if (fd_copy(0, fdin) == -1) child_report(p[1], errno);
      close(fdin);
    }
    sig_default(SIGPIPE);
    execvp(argv[0], argv);
    child_report(p[1], errno);
  }
  close(p[1]);
  /* End of file: the exec closed the pipe, so the program runs. */
  while (got < sizeof e) {
    r = read(p[0], (char *)&e + got, sizeof e - got);
    if (r == -1 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(p[0]);
  if (got == sizeof e) {
    int wstat;
    child_wait(pid, &wstat);
    *execfailed = 1;
    errno = e;
    return -1;
  }
  return pid;
}

int child_wait(pid_t pid, int *wstat)
{
  pid_t r;
  do r = waitpid(pid, wstat, 0); while (r == -1 && errno == EINTR);
  return r == pid ? 0 : -1;
}

int child_exectemp(int e)
{
  switch (e) {
    case ENOENT: case ENOTDIR: case EACCES: case EPERM: case ELOOP:
      return 0;
    default:
      return error_temp(e);
  }
}

enum child_result child_run(char *const *argv, int *err)
{
  int execfailed, wstat;
  pid_t pid;

  *err = 0;
  pid = child_start(argv, -1, &execfailed);
  if (pid == -1) {
    *err = errno;
    if (!execfailed) return CHILD_ERROR;
    return child_exectemp(errno) ? CHILD_TEMP : CHILD_OTHER;
  }
  if (child_wait(pid, &wstat) == -1) { *err = errno; return CHILD_ERROR; }
  if (!WIFEXITED(wstat)) return CHILD_CRASHED;
  switch (WEXITSTATUS(wstat)) {
    case 0: return CHILD_ZERO;
    case 111: return CHILD_TEMP;
    default: return CHILD_OTHER;
  }
}

void child_temp(enum child_result r, int err, const char *fatal, const char *prog)
{
  switch (r) {
    case CHILD_TEMP:
      if (err) strerr_die(111, fatal, "unable to run ", prog, ": ", error_str(err));
      strerr_die(111, fatal, "temporary child error");
    case CHILD_CRASHED: strerr_die(111, fatal, "child crashed");
    case CHILD_ERROR: strerr_die(111, fatal, "unable to start child: ", error_str(err));
    default: return;
  }
}
