#include "checkpw.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void checkpw_child(char *const *argv, int rfd, int keepstdio)
{
  int null = keepstdio ? -1 : open("/dev/null", O_RDWR);
  if (!keepstdio && null == -1) _exit(111);
  if (rfd != 3) {
    if (dup2(rfd, 3) == -1) _exit(111);
    close(rfd);
  } else if (fcntl(3, F_SETFD, 0) == -1)
    _exit(111);
  if (!keepstdio) {
    if (dup2(null, 0) == -1 || dup2(null, 1) == -1) _exit(111);
    if (null > 3) close(null);
  }
  signal(SIGPIPE, SIG_DFL); /* the caller ignores it; the program need not */
  execvp(argv[0], argv);
  _exit(111);
}

int checkpw_run(char *const *argv, const char *user, size_t ulen, const char *pass, size_t plen,
                const char *timestamp, unsigned int timeout)
{
  return checkpw_runv(argv, user, ulen, pass, plen, timestamp, timeout, 0);
}

int checkpw_runv(char *const *argv, const char *user, size_t ulen, const char *pass, size_t plen,
                 const char *timestamp, unsigned int timeout, int keepstdio)
{
  char data[CHECKPW_MAX];
  size_t tlen = strlen(timestamp), n;
  struct timespec step = { 0, 1000000 };
  unsigned long waited = 0, limit = (unsigned long)timeout * 1000000000UL;
  int pi[2], wstatus, r;
  pid_t pid;

  if (ulen > CHECKPW_MAX || plen > CHECKPW_MAX || tlen > CHECKPW_MAX
      || ulen + plen + tlen + 3 > CHECKPW_MAX)
    return 1;
  n = 0;
  memcpy(data, user, ulen); n += ulen; data[n++] = 0;
  memcpy(data + n, pass, plen); n += plen; data[n++] = 0;
  memcpy(data + n, timestamp, tlen); n += tlen; data[n++] = 0;

  /* The caller's 0, 1 and 2 are open, so the pipe is at 3 or above. */
  if (pipe(pi) == -1) { explicit_bzero(data, sizeof data); return -1; }
  fcntl(pi[0], F_SETFD, FD_CLOEXEC);
  fcntl(pi[1], F_SETFD, FD_CLOEXEC);
  pid = fork();
  if (pid == -1) {
    close(pi[0]); close(pi[1]);
    explicit_bzero(data, sizeof data);
    return -1;
  }
  if (pid == 0) {
    close(pi[1]);
    checkpw_child(argv, pi[0], keepstdio);
  }
  close(pi[0]);
  /* 512 bytes fit in a pipe: the write cannot block on the reader. A
   * program that exits without reading gives EPIPE, which SIGPIPE must not
   * turn into our death: callers ignore SIGPIPE. */
  {
    size_t done = 0;
    while (done < n) {
      ssize_t w = write(pi[1], data + done, n - done);
      if (w == -1) { if (errno == EINTR) continue; break; }
      done += (size_t)w;
    }
  }
  explicit_bzero(data, sizeof data);
  close(pi[1]);

  /* Wait with a deadline: the steps grow to 50 ms, so a quick answer costs
   * about a millisecond and a hung program about nothing. */
  for (;;) {
    r = waitpid(pid, &wstatus, timeout ? WNOHANG : 0);
    if (r == pid) break;
    if (r == -1 && errno != EINTR) return -1;
    if (!timeout) continue; /* EINTR */
    if (waited >= limit) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &wstatus, 0) == -1 && errno == EINTR) {}
      return -1;
    }
    nanosleep(&step, 0);
    waited += (unsigned long)step.tv_nsec;
    if (step.tv_nsec < 50000000) step.tv_nsec *= 2;
  }
  if (!WIFEXITED(wstatus)) return -1;
  return WEXITSTATUS(wstatus);
}
