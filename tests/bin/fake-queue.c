/* fake-queue: a stand-in for qmail-queue in tests.
 * Copies descriptor 0 to $FAKEQ_DIR/message and descriptor 1 to
 * $FAKEQ_DIR/envelope, writes $FAKEQ_FD6 (if set) to descriptor 6, then
 * exits with $FAKEQ_EXIT (default 0), or kills itself with $FAKEQ_SIGNAL. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void copy(int from, const char *dir, const char *name)
{
  char path[4096], buf[4096];
  ssize_t r;
  int fd;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd == -1) _exit(99);
  while ((r = read(from, buf, sizeof buf)) > 0)
    if (write(fd, buf, (size_t)r) != r) _exit(99);
  close(fd);
}

int main(void)
{
  const char *dir = getenv("FAKEQ_DIR");
  const char *fd6 = getenv("FAKEQ_FD6");
  const char *code = getenv("FAKEQ_EXIT");
  const char *sig = getenv("FAKEQ_SIGNAL");
  if (!dir) return 98;
  copy(0, dir, "message");
  copy(1, dir, "envelope");
  if (fd6 && write(6, fd6, strlen(fd6)) < 0) return 97;
  if (sig) kill(getpid(), atoi(sig));
  return code ? atoi(code) : 0;
}
