#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np */
#include "qq.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auto.h"
#include "env.h"
#include "fd.h"

extern char **environ;

/* A pipe whose two ends are close-on-exec and numbered 7 or more, so that
 * none of them is one of the child's 0, 1 or 6 before the dup2s (and none
 * of them but those three reaches the child). */
static int qq_pipe(int p[2])
{
  int i;
  if (pipe2(p, O_CLOEXEC) == -1) return -1;
  for (i = 0; i < 2; ++i) {
    if (p[i] < 7) {
      int fd = fcntl(p[i], F_DUPFD_CLOEXEC, 7);
      if (fd == -1) { close(p[0]); close(p[1]); return -1; }
      close(p[i]);
      p[i] = fd;
    }
  }
  return 0;
}

int qq_openprog(struct qq *qq, const char *prog)
{
  posix_spawn_file_actions_t fa;
  char *argv[2];
  int pim[2], pie[2], perr[2];
  int r;

  if (!prog) prog = env_get("QMAILQUEUE");
  if (!prog || !*prog) prog = "bin/qmail-queue";

  if (qq_pipe(pim) == -1) return -1;
  if (qq_pipe(pie) == -1) { close(pim[0]); close(pim[1]); return -1; }
  if (qq_pipe(perr) == -1) { close(pim[0]); close(pim[1]); close(pie[0]); close(pie[1]); return -1; }

  r = posix_spawn_file_actions_init(&fa);
  if (!r) r = posix_spawn_file_actions_adddup2(&fa, pim[0], 0);
  if (!r) r = posix_spawn_file_actions_adddup2(&fa, pie[0], 1);
  if (!r) r = posix_spawn_file_actions_adddup2(&fa, perr[1], 6);
  if (!r) r = posix_spawn_file_actions_addchdir_np(&fa, auto_qmail);
  if (!r) {
    argv[0] = (char *)prog;
    argv[1] = 0;
    r = posix_spawn(&qq->pid, prog, &fa, 0, argv, environ);
  }
  posix_spawn_file_actions_destroy(&fa);
  close(pim[0]);
  close(pie[0]);
  close(perr[1]);
  if (r) {
    close(pim[1]);
    close(pie[1]);
    close(perr[0]);
    errno = r;
    return -1;
  }
  qq->fdm = pim[1];
  qq->fde = pie[1];
  qq->fderr = perr[0];
  qq->flagerr = 0;
  qq->err[0] = 0;
  buffer_init(&qq->b, qq->fdm, qq->buf, sizeof qq->buf, 0);
  return 0;
}

int qq_open(struct qq *qq) { return qq_openprog(qq, 0); }

unsigned long qq_qp(const struct qq *qq) { return (unsigned long)qq->pid; }

void qq_fail(struct qq *qq) { qq->flagerr = 1; }

void qq_put(struct qq *qq, const char *s, size_t len)
{
  if (!qq->flagerr && buffer_put(&qq->b, s, len) == -1) qq->flagerr = 1;
}

void qq_puts(struct qq *qq, const char *s) { qq_put(qq, s, strlen(s)); }

void qq_from(struct qq *qq, const char *sender)
{
  if (!qq->flagerr && buffer_flush(&qq->b) == -1) qq->flagerr = 1;
  close(qq->fdm);
  qq->fdm = -1;
  buffer_init(&qq->b, qq->fde, qq->buf, sizeof qq->buf, 0);
  qq_put(qq, "F", 1);
  qq_puts(qq, sender);
  qq_put(qq, "", 1);
}

void qq_to(struct qq *qq, const char *rcpt)
{
  qq_put(qq, "T", 1);
  qq_puts(qq, rcpt);
  qq_put(qq, "", 1);
}

const char *qq_exitstr(int code)
{
  switch (code) {
    case 0: return "";
    case 115: /* compatibility */
    case 11: return "Denvelope address too long for qq (#5.1.3)";
    case 31: return "Dmail server permanently rejected message (#5.3.0)";
    case 51: return "Zqq out of memory (#4.3.0)";
    case 52: return "Zqq timeout (#4.3.0)";
    case 53: return "Zqq write error or disk full (#4.3.0)";
    case 54: return "Zqq read error (#4.3.0)";
    case 55: return "Zqq unable to read configuration (#4.3.0)";
    case 56: return "Zqq trouble making network connection (#4.3.0)";
    case 61: return "Zqq trouble in home directory (#4.3.0)";
    case 62: case 63: case 64: case 65: case 66:
      return "Zqq trouble creating files in queue (#4.3.0)";
    case 71: return "Zmail server temporarily rejected message (#4.3.0)";
    case 72: return "Zconnection to mail server timed out (#4.4.1)";
    case 73: return "Zconnection to mail server rejected (#4.4.1)";
    case 74: return "Zcommunication with mail server failed (#4.4.2)";
    case 81: case 91: return "Zqq internal bug (#4.3.0)";
    case 120: return "Zunable to exec qq (#4.3.0)";
    default:
      if (code >= 11 && code <= 40) return "Dqq permanent problem (#5.3.0)";
      return "Zqq temporary problem (#4.3.0)";
  }
}

/* The filter's own reason, from its descriptor 6: only what it wrote
 * before it exited (never wait for more), one line, printable. */
static const char *qq_custom(struct qq *qq)
{
  size_t len = 0, i;
  fd_nonblock(qq->fderr);
  while (len < QQ_ERRMAX) {
    ssize_t r = read(qq->fderr, qq->err + len, QQ_ERRMAX - len);
    if (r <= 0) { if (r == -1 && errno == EINTR) continue; break; }
    len += (size_t)r;
  }
  for (i = 0; i < len; ++i)
    if (qq->err[i] == '\n' || qq->err[i] == '\r' || !qq->err[i]) break;
  len = i;
  qq->err[len] = 0;
  if (len < 2 || (qq->err[0] != 'D' && qq->err[0] != 'Z')) return qq_exitstr(-1);
  for (i = 1; i < len; ++i)
    if ((unsigned char)qq->err[i] < 32 || (unsigned char)qq->err[i] > 126) qq->err[i] = '?';
  return qq->err;
}

const char *qq_close(struct qq *qq)
{
  const char *result;
  int wstat, code;
  pid_t r;

  qq_put(qq, "", 1);
  if (!qq->flagerr && buffer_flush(&qq->b) == -1) qq->flagerr = 1;
  if (qq->flagerr && qq->pid > 0) {
    /* Never let a message we know is broken reach the queue. qmail-queue
     * commits only after reading the envelope's final NUL, which a failed
     * writer may not have sent; killing it first makes sure. */
    kill(qq->pid, SIGKILL);
  }
  if (qq->fdm != -1) close(qq->fdm);
  close(qq->fde);

  do r = waitpid(qq->pid, &wstat, 0); while (r == -1 && errno == EINTR);
  if (r != qq->pid) result = "Zqq waitpid surprise (#4.3.0)";
  else if (!WIFEXITED(wstat)) result = qq->flagerr ? "Zqq read error (#4.3.0)" : "Zqq crashed (#4.3.0)";
  else {
    code = WEXITSTATUS(wstat);
    if (code == 82) result = qq_custom(qq);
    else if (code == 0 && qq->flagerr) result = qq_exitstr(54);
    else result = qq_exitstr(code);
  }
  close(qq->fderr);
  return result;
}
