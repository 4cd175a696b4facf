#include "fd.h"

#include <fcntl.h>
#include <unistd.h>

int fd_copy(int to, int from)
{
  if (to == from) return 0;
  if (fcntl(from, F_GETFL, 0) == -1) return -1;
  close(to);
  if (dup2(from, to) == -1) return -1;
  return 0;
}

int fd_move(int to, int from)
{
  if (to == from) return 0;
  if (fd_copy(to, from) == -1) return -1;
  close(from);
  return 0;
}

static int fd_setflag(int fd, int get, int set, int flag, int on)
{
  int f = fcntl(fd, get);
  if (f == -1) return -1;
  f = on ? (f | flag) : (f & ~flag);
  return fcntl(fd, set, f) == -1 ? -1 : 0;
}

int fd_coe(int fd) { return fd_setflag(fd, F_GETFD, F_SETFD, FD_CLOEXEC, 1); }
int fd_nocoe(int fd) { return fd_setflag(fd, F_GETFD, F_SETFD, FD_CLOEXEC, 0); }
int fd_nonblock(int fd) { return fd_setflag(fd, F_GETFL, F_SETFL, O_NONBLOCK, 1); }
int fd_block(int fd) { return fd_setflag(fd, F_GETFL, F_SETFL, O_NONBLOCK, 0); }
