/* lib/qq: running the queue program and reading its exit code. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auto.h"
#include "check.h"
#include "qq.h"

static char fake[PATH_MAX];
static char dir[] = "/tmp/qq_test.XXXXXX";

static size_t slurp(const char *name, char *buf, size_t max)
{
  char path[PATH_MAX];
  FILE *f;
  size_t n;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "rb");
  if (!f) return 0;
  n = fread(buf, 1, max, f);
  fclose(f);
  return n;
}

/* Runs a whole conversation with the fake queue; returns qq_close's text. */
static const char *talk(struct qq *qq, int fail)
{
  if (qq_openprog(qq, fake) == -1) return "open failed";
  qq_puts(qq, "Subject: hi\n\nbody\n");
  if (fail) qq_fail(qq);
  qq_from(qq, "a@example.com");
  qq_to(qq, "b@example.com");
  qq_to(qq, "c@example.com");
  return qq_close(qq);
}

static void test_exit_codes(void)
{
  static const struct { int code; const char *want; } cases[] = {
    { 0, "" },
    { 11, "Denvelope address too long for qq (#5.1.3)" },
    { 31, "Dmail server permanently rejected message (#5.3.0)" },
    { 40, "Dqq permanent problem (#5.3.0)" },
    { 51, "Zqq out of memory (#4.3.0)" },
    { 52, "Zqq timeout (#4.3.0)" },
    { 53, "Zqq write error or disk full (#4.3.0)" },
    { 54, "Zqq read error (#4.3.0)" },
    { 55, "Zqq unable to read configuration (#4.3.0)" },
    { 56, "Zqq trouble making network connection (#4.3.0)" },
    { 61, "Zqq trouble in home directory (#4.3.0)" },
    { 62, "Zqq trouble creating files in queue (#4.3.0)" },
    { 66, "Zqq trouble creating files in queue (#4.3.0)" },
    { 71, "Zmail server temporarily rejected message (#4.3.0)" },
    { 72, "Zconnection to mail server timed out (#4.4.1)" },
    { 73, "Zconnection to mail server rejected (#4.4.1)" },
    { 74, "Zcommunication with mail server failed (#4.4.2)" },
    { 81, "Zqq internal bug (#4.3.0)" },
    { 91, "Zqq internal bug (#4.3.0)" },
    { 115, "Denvelope address too long for qq (#5.1.3)" },
    { 120, "Zunable to exec qq (#4.3.0)" },
    { 1, "Zqq temporary problem (#4.3.0)" },
    { 100, "Zqq temporary problem (#4.3.0)" },
  };
  size_t i;
  char num[16];
  for (i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    struct qq qq;
    snprintf(num, sizeof num, "%d", cases[i].code);
    setenv("FAKEQ_EXIT", num, 1);
    check_str(talk(&qq, 0), cases[i].want, "exit %d", cases[i].code);
    check_str(qq_exitstr(cases[i].code), cases[i].want, "qq_exitstr(%d)", cases[i].code);
  }
  unsetenv("FAKEQ_EXIT");
}

static void test_custom(void)
{
  static const struct { const char *fd6; const char *want; } cases[] = {
    { "Dno thanks (#5.7.1)\n", "Dno thanks (#5.7.1)" },
    { "Zcome back later\r\nsecond line", "Zcome back later" },
    { "DSpam\x01score\x7f", "DSpam?score?" },
    { "no letter", "Zqq temporary problem (#4.3.0)" },
    { "D", "Zqq temporary problem (#4.3.0)" },
    { "", "Zqq temporary problem (#4.3.0)" },
  };
  size_t i;
  setenv("FAKEQ_EXIT", "82", 1);
  for (i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    struct qq qq;
    setenv("FAKEQ_FD6", cases[i].fd6, 1);
    check_str(talk(&qq, 0), cases[i].want, "exit 82 with %s on fd 6", cases[i].want);
  }
  {
    /* A long reason is cut at QQ_ERRMAX bytes. */
    static char big[3000];
    struct qq qq;
    const char *r;
    memset(big, 'x', sizeof big - 1);
    big[0] = 'D';
    setenv("FAKEQ_FD6", big, 1);
    r = talk(&qq, 0);
    check_long(strlen(r), QQ_ERRMAX, "a 3000-byte reason is cut to QQ_ERRMAX");
  }
  unsetenv("FAKEQ_FD6");
  unsetenv("FAKEQ_EXIT");
}

static void test_transport(void)
{
  struct qq qq;
  char buf[256];
  size_t n;
  static const char env[] = "Fa@example.com\0Tb@example.com\0Tc@example.com\0";

  check_str(talk(&qq, 0), "", "a normal conversation succeeds");
  check(qq_qp(&qq) > 0, "qq_qp gives the queue program's pid");
  n = slurp("message", buf, sizeof buf);
  check_bytes(buf, n, "Subject: hi\n\nbody\n", 18, "the message arrives on descriptor 0");
  n = slurp("envelope", buf, sizeof buf);
  check_bytes(buf, n, env, sizeof env, "the envelope arrives on descriptor 1, ending with the extra NUL");

  {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/envelope", dir);
    unlink(path);
  }
  check(talk(&qq, 1)[0] == 'Z', "after qq_fail the result is a temporary error");
  n = slurp("envelope", buf, sizeof buf);
  check(n == 0, "after qq_fail no envelope byte is sent (got %ld bytes)", (long)n);

  setenv("FAKEQ_SIGNAL", "9", 1);
  check_str(talk(&qq, 0), "Zqq crashed (#4.3.0)", "a queue program killed by a signal is a temporary error");
  unsetenv("FAKEQ_SIGNAL");

  check_long(qq_openprog(&qq, "/nonexistent/qmail-queue"), -1, "a queue program that does not exist: qq_open fails");
  check_long(errno, ENOENT, "with ENOENT");

  setenv("QMAILQUEUE", fake, 1);
  if (qq_open(&qq) == 0) {
    qq_puts(&qq, "x");
    qq_from(&qq, "");
    check_str(qq_close(&qq), "", "qq_open runs $QMAILQUEUE");
    n = slurp("message", buf, sizeof buf);
    check_bytes(buf, n, "x", 1, "$QMAILQUEUE got the message");
  } else
    check(0, "qq_open runs $QMAILQUEUE");
  unsetenv("QMAILQUEUE");
}

int main(int argc, char **argv)
{
  char *slash;
  (void)argc;
  signal(SIGPIPE, SIG_IGN);
  /* The queue program runs in QMAILHOME; TEST's instance has one. */
  if (access(auto_qmail, X_OK) == -1) {
    printf("# skip: %s (QMAILHOME of this build) does not exist\n", auto_qmail);
    return 0;
  }
  if (!realpath(argv[0], fake)) { perror("realpath"); return 1; }
  slash = strrchr(fake, '/');
  snprintf(slash, sizeof fake - (size_t)(slash - fake), "/bin/fake-queue");
  if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
  setenv("FAKEQ_DIR", dir, 1);
  test_exit_codes();
  test_custom();
  test_transport();
  {
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) return 1;
  }
  return check_end();
}
