/* preline: prepend the envelope lines to the message for a program.
 *
 *   |preline [-dfr] command [arg ...]
 *
 * Runs command with, on its descriptor 0, $UFLINE (the mbox "From " line),
 * $RPLINE (Return-Path) and $DTLINE (Delivered-To), as qmail-local sets
 * them, followed by the message. For programs such as procmail that do
 * not read qmail-command(8)'s environment. -f, -r and -d leave out the
 * From_, Return-Path and Delivered-To line; -F, -R and -D put them back
 * (qmail has them too). preline exits with command's exit code. */

#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buffer.h"
#include "child.h"
#include "env.h"
#include "error.h"
#include "sgetopt.h"
#include "sig.h"
#include "strerr.h"

#define FATAL "preline: fatal: "

static NORETURN void die_usage(void)
{
  strerr_die(100, "preline: usage: preline [ -dfr ] cmd [ arg ... ]");
}

static pid_t pid;

/* The copy broke off on our side: make sure the command does not deliver
 * the part it got as if it were the whole message. */
static NORETURN void die_copy(const char *what, int e)
{
  int wstat;
  kill(pid, SIGTERM);
  child_wait(pid, &wstat);
  strerr_die(111, FATAL, what, error_str(e));
}

/* Needs name in the environment only when its line is wanted. */
static const char *line(const char *name, int want)
{
  const char *s;
  if (!want) return 0;
  s = env_get(name);
  if (!s) strerr_die(100, FATAL, name, " not set");
  return s;
}

int main(int argc, char **argv)
{
  int flagufline = 1, flagrpline = 1, flagdtline = 1;
  const char *ufline, *rpline, *dtline;
  char outspace[8192], inspace[8192];
  buffer out, in;
  struct sgetopt g = SGETOPT_INIT;
  int opt, pi[2], execfailed, wstat, broken = 0;

  sig_ignore(SIGPIPE);
  while ((opt = sgetopt(&g, argc, argv, "frdFRD")) != SGETOPT_END)
    switch (opt) {
      case 'f': flagufline = 0; break;
      case 'r': flagrpline = 0; break;
      case 'd': flagdtline = 0; break;
      case 'F': flagufline = 1; break;
      case 'R': flagrpline = 1; break;
      case 'D': flagdtline = 1; break;
      default: die_usage();
    }
  if (g.ind >= argc) die_usage();
  argv += g.ind;
  ufline = line("UFLINE", flagufline);
  rpline = line("RPLINE", flagrpline);
  dtline = line("DTLINE", flagdtline);

  if (pipe2(pi, O_CLOEXEC) == -1) strerr_die(111, FATAL, "unable to create pipe: ", error_str(errno));
  pid = child_start(argv, pi[0], &execfailed);
  if (pid == -1) {
    if (!execfailed) strerr_die(111, FATAL, "unable to fork: ", error_str(errno));
    strerr_die(child_exectemp(errno) ? 111 : 100, FATAL, "unable to run ", *argv, ": ", error_str(errno));
  }
  close(pi[0]);

  buffer_init(&out, pi[1], outspace, sizeof outspace, 0);
  buffer_init(&in, 0, inspace, sizeof inspace, 0);
  if ((ufline && buffer_puts(&out, ufline) == -1) || (rpline && buffer_puts(&out, rpline) == -1)
      || (dtline && buffer_puts(&out, dtline) == -1))
    broken = 1;
  while (!broken) {
    ssize_t n = buffer_feed(&in);
    if (n < 0) die_copy("unable to read input: ", errno);
    if (n == 0) break;
    if (buffer_put(&out, buffer_peek(&in), (size_t)n) == -1) broken = 1;
    buffer_seek(&in, (size_t)n);
  }
  if (!broken && buffer_flush(&out) == -1) broken = 1;
  /* A command that stops reading early (EPIPE) has made up its mind: its
   * exit code is the answer, as for any other command. */
  if (broken && errno != EPIPE) die_copy("unable to copy input: ", errno);
  close(pi[1]);

  if (child_wait(pid, &wstat) == -1) strerr_die(111, FATAL, "wait failed: ", error_str(errno));
  if (!WIFEXITED(wstat)) strerr_die(111, FATAL, "child crashed");
  _exit(WEXITSTATUS(wstat));
}
