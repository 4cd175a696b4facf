/* Tests for lib/child.c.
 * not tested: fork or wait failing (CHILD_ERROR). */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "child.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static const char *result_name(int r)
{
  switch (r) {
    case CHILD_ZERO: return "ZERO";
    case CHILD_TEMP: return "TEMP";
    case CHILD_OTHER: return "OTHER";
    case CHILD_CRASHED: return "CRASHED";
    case CHILD_ERROR: return "ERROR";
  }
  return "?";
}

static void test_run(void)
{
  static const struct { const char *argv[4]; int want; int err; } cases[] = {
    { { "true", 0 }, CHILD_ZERO, 0 },
    { { "false", 0 }, CHILD_OTHER, 0 },
    { { "sh", "-c", "exit 111", 0 }, CHILD_TEMP, 0 },
    { { "sh", "-c", "exit 100", 0 }, CHILD_OTHER, 0 },
    { { "sh", "-c", "exit 99", 0 }, CHILD_OTHER, 0 },
    { { "sh", "-c", "exit 112", 0 }, CHILD_OTHER, 0 },
    { { "sh", "-c", "kill -SEGV $$", 0 }, CHILD_CRASHED, 0 },
    { { "sh", "-c", "kill -KILL $$", 0 }, CHILD_CRASHED, 0 },
    { { "/nonexistent/program", 0 }, CHILD_OTHER, ENOENT },     /* does not exist: permanent */
    { { "quail-no-such-program-here", 0 }, CHILD_OTHER, ENOENT }, /* through PATH */
    { { "/etc/passwd/x", 0 }, CHILD_OTHER, ENOTDIR },
    { { "/", 0 }, CHILD_OTHER, EACCES },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    int err = -1;
    int r = child_run((char *const *)cases[i].argv, &err);
    if (!check_ok(r == cases[i].want, "child_run case %zu (%s %s)", i, cases[i].argv[0], cases[i].argv[2] ? cases[i].argv[2] : ""))
      printf(": got %s, want %s\n", result_name(r), result_name(cases[i].want));
    check_long(err, cases[i].err, "child_run case %zu: err", i);
  }
}

static void test_exectemp(void)
{
  static const struct { int e; int want; } cases[] = {
    { ENOENT, 0 }, { ENOTDIR, 0 }, { EACCES, 0 }, { EPERM, 0 }, { ELOOP, 0 },
    { ENOEXEC, 0 }, { E2BIG, 0 }, { ENAMETOOLONG, 0 },
    { ENOMEM, 1 }, { ETXTBSY, 1 }, { EIO, 1 }, { EAGAIN, 1 }, { EMFILE, 1 },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i)
    check_long(child_exectemp(cases[i].e), cases[i].want, "child_exectemp(%s)", strerror(cases[i].e));
}

/* The child reads fdin as its descriptor 0, and SIGPIPE is back at its
 * default even when the parent ignores it. */
static void test_start(void)
{
  char *argv[] = { "sh", "-c", "read x; test \"$x\" = hello", 0 };
  char *pipeargv[] = { "sh", "-c", "exec yes", 0 };
  char *bad[] = { "/nonexistent", 0 };
  int p[2], wstat, execfailed = -1;
  pid_t pid;

  if (pipe2(p, O_CLOEXEC) == -1) { perror("pipe"); exit(111); }
  pid = child_start(argv, p[0], &execfailed);
  check(pid > 0, "child_start starts a program");
  check_long(execfailed, 0, "child_start: execfailed is 0 on success");
  close(p[0]);
  if (write(p[1], "hello\n", 6) != 6) { perror("write"); exit(111); }
  close(p[1]);
  check_long(child_wait(pid, &wstat), 0, "child_wait");
  check(WIFEXITED(wstat) && WEXITSTATUS(wstat) == 0, "the child read the pipe as its descriptor 0");

  /* SIGPIPE: "yes" writing into a closed pipe must die of it. */
  signal(SIGPIPE, SIG_IGN);
  if (pipe2(p, O_CLOEXEC) == -1) { perror("pipe"); exit(111); }
  {
    int saved = dup(1);
    dup2(p[1], 1);
    close(p[1]);
    close(p[0]);
    pid = child_start(pipeargv, -1, &execfailed);
    dup2(saved, 1);
    close(saved);
  }
  check(pid > 0, "child_start with fdin -1");
  child_wait(pid, &wstat);
  check(WIFSIGNALED(wstat) && WTERMSIG(wstat) == SIGPIPE, "the child has SIGPIPE at its default");
  signal(SIGPIPE, SIG_DFL);

  errno = 0;
  pid = child_start(bad, -1, &execfailed);
  check_long(pid, -1, "child_start of a missing program: -1");
  check_long(execfailed, 1, "child_start of a missing program: execfailed");
  check_long(errno, ENOENT, "child_start of a missing program: errno");
  check_long(waitpid(-1, &wstat, WNOHANG), -1, "the failed child was reaped already");
}

/* child_temp exits 111 for the temporary outcomes and returns for the
 * others. */
static void test_temp(void)
{
  static const struct { int r; int err; int want; } cases[] = {
    { CHILD_ZERO, 0, -1 }, { CHILD_OTHER, 0, -1 }, { CHILD_OTHER, ENOENT, -1 },
    { CHILD_TEMP, 0, 111 }, { CHILD_TEMP, ENOMEM, 111 }, { CHILD_CRASHED, 0, 111 }, { CHILD_ERROR, EAGAIN, 111 },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    int wstat, code;
    pid_t pid = fork();
    if (pid == 0) {
      int null = open("/dev/null", O_WRONLY);
      if (null != -1) dup2(null, 2);
      child_temp((enum child_result)cases[i].r, cases[i].err, "test: ", "prog");
      _exit(77);
    }
    waitpid(pid, &wstat, 0);
    code = WIFEXITED(wstat) ? WEXITSTATUS(wstat) : -2;
    check_long(code, cases[i].want == -1 ? 77 : cases[i].want, "child_temp case %zu (%s)", i, result_name(cases[i].r));
  }
}

int main(void)
{
  test_run();
  test_exectemp();
  test_start();
  test_temp();
  return check_end();
}
