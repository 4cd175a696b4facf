/* lib/requeue: the message again, with its Delivered-To line, through a
 * fake queue program named by $QMAILQUEUE.
 * not tested: running out of memory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auto.h"
#include "check.h"
#include "requeue.h"

#define IN(s) s, sizeof s - 1

static char fake[PATH_MAX];
static char dir[] = "/tmp/requeue_test.XXXXXX";

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
  unlink(path);
  return n;
}

/* A file holding s, positioned at off. */
static int file(const char *s, off_t off)
{
  char path[PATH_MAX];
  int fd;
  snprintf(path, sizeof path, "%s/in", dir);
  fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd == -1 || write(fd, s, strlen(s)) != (ssize_t)strlen(s) || lseek(fd, off, SEEK_SET) == -1) {
    perror("file");
    exit(111);
  }
  unlink(path);
  return fd;
}

static void test_requeue(void)
{
  static const struct {
    const char *msg; off_t off; const char *dtline; const char *sender; const char *rcpt[3];
    const char *want; const char *env; size_t envlen;
  } cases[] = {
    { "Subject: x\n\nbody\n", 0, "Delivered-To: a@b\n", "s@t", { "r@u", "v@w", 0 },
      "Delivered-To: a@b\nSubject: x\n\nbody\n", IN("Fs@t\0Tr@u\0Tv@w\0\0") },
    { "Subject: x\n\nbody\n", 12, "", "", { "r@u", 0 },      /* from the current offset; empty sender */
      "body\n", IN("F\0Tr@u\0\0") },
    { "", 0, "DT\n", "#@[]", { 0 }, "DT\n", IN("F#@[]\0\0") },  /* no recipients: the queue decides */
  };
  size_t i;
  char buf[256];
  for (i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    unsigned long qp = 0;
    int fd = file(cases[i].msg, cases[i].off);
    const char *r = requeue(fd, cases[i].dtline, cases[i].sender, (char *const *)cases[i].rcpt, &qp);
    size_t n;
    close(fd);
    check_str(r, "", "requeue case %zu: queued", i);
    check(qp > 0, "requeue case %zu: a qp", i);
    n = slurp("message", buf, sizeof buf);
    check_bytes(buf, n, cases[i].want, strlen(cases[i].want), "requeue case %zu: the message", i);
    n = slurp("envelope", buf, sizeof buf);
    check_bytes(buf, n, cases[i].env, cases[i].envlen, "requeue case %zu: the envelope", i);
  }
}

static void test_failures(void)
{
  char *rcpt[] = { "r@u", 0 };
  unsigned long qp = 0;
  const char *r;
  char buf[64];
  int fd;

  /* A read error: temporary, and the envelope is never finished. */
  fd = open(dir, O_RDONLY);
  r = requeue(fd, "DT\n", "s", rcpt, &qp);
  close(fd);
  check(r[0] == 'Z' && strstr(r, "unable to read message: "), "a read error is temporary: %s", r);
  check_long(slurp("envelope", buf, sizeof buf), 0, "after a read error no envelope reaches the queue");
  slurp("message", buf, sizeof buf);

  setenv("FAKEQ_EXIT", "31", 1);
  fd = file("x\n", 0);
  r = requeue(fd, "DT\n", "s", rcpt, &qp);
  close(fd);
  check(r[0] == 'D', "the queue refuses permanently: %s", r);
  setenv("FAKEQ_EXIT", "53", 1);
  fd = file("x\n", 0);
  r = requeue(fd, "DT\n", "s", rcpt, &qp);
  close(fd);
  check(r[0] == 'Z', "the queue fails temporarily: %s", r);
  unsetenv("FAKEQ_EXIT");

  setenv("QMAILQUEUE", "/nonexistent/qmail-queue", 1);
  fd = file("x\n", 0);
  qp = 7;
  r = requeue(fd, "DT\n", "s", rcpt, &qp);
  close(fd);
  check(r[0] == 'Z' && strstr(r, "unable to start the queue program"), "no queue program: temporary: %s", r);
  check_long(qp, 0, "no queue program: qp 0");
  setenv("QMAILQUEUE", fake, 1);
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
  setenv("QMAILQUEUE", fake, 1);
  test_requeue();
  test_failures();
  {
    char buf[64];
    slurp("message", buf, sizeof buf);
    slurp("envelope", buf, sizeof buf);
  }
  rmdir(dir);
  return check_end();
}
