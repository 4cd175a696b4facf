/* Tests for lib/lock.c.
 * not tested: EINTR retries while lock_ex waits. */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "lock.h"
#include "tmpdir.h"

static int openlock(void)
{
  int fd = open(tmpdir_path("lockfile"), O_RDWR | O_CREAT, 0600);
  if (fd == -1) { perror("open"); exit(111); }
  return fd;
}

static void test_same_process(void)
{
  int a = openlock(), b = openlock(), c;

  check_long(lock_exnb(a), 0, "exnb on a free file");
  errno = 0;
  check_long(lock_exnb(b), -1, "exnb on a second open file description");
  check_long(errno, EWOULDBLOCK, "exnb on a locked file: errno");
  c = dup(a);
  check_long(lock_exnb(c), 0, "exnb on a dup of the holder (same description)");
  close(c);
  check_long(lock_exnb(a), 0, "exnb again by the holder");
  check_long(lock_un(a), 0, "unlock");
  check_long(lock_exnb(b), 0, "exnb after unlock");
  check_long(lock_un(b), 0, "unlock b");

  check_long(lock_sh(a), 0, "shared lock");
  check_long(lock_sh(b), 0, "second shared lock");
  errno = 0;
  c = openlock();
  check_long(lock_exnb(c), -1, "exnb while shared locks are held");
  check_long(errno, EWOULDBLOCK, "exnb while shared: errno");
  lock_un(a);
  lock_un(b);
  check_long(lock_exnb(c), 0, "exnb after the shared locks go");
  close(c); /* closing the last descriptor releases the lock */
  check_long(lock_exnb(a), 0, "exnb after the holder closed");
  close(a);
  check_long(lock_ex(b), 0, "lock_ex on a free file");
  close(b);
  errno = 0;
  check_long(lock_exnb(-1), -1, "exnb on a bad fd");
  check_long(errno, EBADF, "exnb on a bad fd: errno");
}

static void test_other_process(void)
{
  int fd = openlock(), p[2], status;
  pid_t pid;
  char c;

  if (pipe(p) == -1) { perror("pipe"); exit(111); }
  pid = fork();
  if (pid == -1) { perror("fork"); exit(111); }
  if (!pid) {
    /* child: its own open file description, locked and held until the
     * parent writes to (or closes) the pipe */
    int mine = openlock();
    char x;
    close(p[1]);
    if (lock_ex(mine) == -1) _exit(1);
    if (read(p[0], &x, 1) == -1) _exit(2);
    _exit(0);
  }
  close(p[0]);
  /* wait until the child holds the lock */
  {
    int tries;
    for (tries = 0; tries < 500; ++tries) {
      if (lock_exnb(fd) == -1) break;
      lock_un(fd);
      usleep(10000);
    }
  }
  errno = 0;
  check_long(lock_exnb(fd), -1, "exnb while another process holds the lock");
  check_long(errno, EWOULDBLOCK, "exnb against another process: errno");
  c = 'x';
  (void)!write(p[1], &c, 1);
  close(p[1]);
  /* lock_ex waits for the child to exit and release it */
  check_long(lock_ex(fd), 0, "lock_ex waits, then gets the lock");
  waitpid(pid, &status, 0);
  check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child ran normally (status %d)", status);
  close(fd);
}

int main(void)
{
  tmpdir_make("lock_test");
  test_same_process();
  test_other_process();
  tmpdir_remove();
  return check_end();
}
