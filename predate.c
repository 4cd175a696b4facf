/* predate: run a program with a Date field in local time in front of its
 * input (predate(1)): "predate sendmail -t" gives the message the sender's
 * own time zone, which qmail-inject (always UTC, "-0000") does not.
 *
 * This is the one program of the mail path that reads the time zone
 * (TZ, /etc/localtime): that is its whole purpose. */

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buffer.h"
#include "error.h"
#include "fd.h"
#include "fmt.h"
#include "sig.h"
#include "strerr.h"

#define FATAL "predate: fatal: "

extern char **environ;

static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static pid_t child;

/* The child must not see a message that was cut short: it is killed
 * before it can read the end of its input and act on half a message. */
static NORETURN void die_read(void)
{
  int e = errno;
  kill(child, SIGKILL);
  strerr_die(111, FATAL, "unable to read input: ", error_str(e));
}

/* "Date: 22 Nov 2026 02:53:00 +0100\n", as qmail's predate writes it:
 * no weekday, the offset rounded to the minute. */
static size_t datefield(char *s, time_t now)
{
  struct tm tm;
  long off, minutes;
  size_t n = 0;

  if (!localtime_r(&now, &tm)) strerr_die(111, FATAL, "unable to find the local time");
  off = tm.tm_gmtoff;
  n += fmt_str(s + n, "Date: ");
  n += fmt_ulong(s + n, (unsigned long)tm.tm_mday);
  s[n++] = ' ';
  n += fmt_str(s + n, months[tm.tm_mon % 12]);
  s[n++] = ' ';
  n += fmt_ulong(s + n, (unsigned long)(tm.tm_year + 1900L));
  s[n++] = ' ';
  n += fmt_ulong0(s + n, (unsigned long)tm.tm_hour, 2);
  s[n++] = ':';
  n += fmt_ulong0(s + n, (unsigned long)tm.tm_min, 2);
  s[n++] = ':';
  n += fmt_ulong0(s + n, (unsigned long)tm.tm_sec, 2);
  s[n++] = ' ';
  s[n++] = off < 0 ? '-' : '+';
  minutes = ((off < 0 ? -off : off) + 30) / 60;
  n += fmt_ulong0(s + n, (unsigned long)(minutes / 60), 2);
  n += fmt_ulong0(s + n, (unsigned long)(minutes % 60), 2);
  s[n++] = '\n';
  return n;
}

int main(int argc, char **argv)
{
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t dfl;
  char date[100];
  char inspace[8192], outspace[8192];
  buffer in, out;
  int pi[2], wstat, r, writing = 1;
  pid_t w;

  (void)argc;
  if (!argv[0] || !argv[1]) strerr_die(100, "predate: usage: predate child [ arg ... ]");
  sig_ignore(SIGPIPE);

  if (pipe(pi) == -1) strerr_die(111, FATAL, "unable to create pipe: ", error_str(errno));
  if (fd_coe(pi[1]) == -1) strerr_die(111, FATAL, "unable to set up descriptors: ", error_str(errno));
  /* The child gets the read end as its descriptor 0, and SIGPIPE back. */
  sigemptyset(&dfl);
  sigaddset(&dfl, SIGPIPE);
  r = posix_spawn_file_actions_init(&fa);
  if (!r) r = posix_spawn_file_actions_adddup2(&fa, pi[0], 0);
  if (!r && pi[0] != 0) r = posix_spawn_file_actions_addclose(&fa, pi[0]);
  if (!r) r = posix_spawnattr_init(&attr);
  if (!r) r = posix_spawnattr_setsigdefault(&attr, &dfl);
  if (!r) r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  if (!r) r = posix_spawnp(&child, argv[1], &fa, &attr, argv + 1, environ);
  if (r) {
    errno = r;
    strerr_die(111, FATAL, "unable to run ", argv[1], ": ", error_str(errno));
  }
  close(pi[0]);

  buffer_init(&out, pi[1], outspace, sizeof outspace, 0);
  buffer_init(&in, 0, inspace, sizeof inspace, 0);
  /* A child that stops reading early (it has refused the message, say)
   * is not an error here: its exit code says what happened. */
  if (buffer_put(&out, date, datefield(date, time(0))) == -1) writing = 0;
  for (;;) {
    ssize_t n = buffer_feed(&in);
    if (n == -1) die_read();
    if (!n) break;
    if (writing && buffer_put(&out, buffer_peek(&in), (size_t)n) == -1) writing = 0;
    buffer_seek(&in, (size_t)n);
  }
  if (writing) buffer_flush(&out);
  close(pi[1]);

  do w = waitpid(child, &wstat, 0); while (w == -1 && errno == EINTR);
  if (w == -1) strerr_die(111, FATAL, "wait failed: ", error_str(errno));
  if (!WIFEXITED(wstat)) strerr_die(111, FATAL, "child crashed");
  return WEXITSTATUS(wstat);
}
