#include "lock.h"

#include <errno.h>
#include <sys/file.h>

static int lock_op(int fd, int op)
{
  int r;
  do r = flock(fd, op); while (r == -1 && errno == EINTR);
  return r;
}

int lock_ex(int fd) { return lock_op(fd, LOCK_EX); }
int lock_exnb(int fd) { return lock_op(fd, LOCK_EX | LOCK_NB); }
int lock_sh(int fd) { return lock_op(fd, LOCK_SH); }
int lock_un(int fd) { return lock_op(fd, LOCK_UN); }
