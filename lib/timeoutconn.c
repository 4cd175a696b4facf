#include "timeoutconn.h"

#include <errno.h>
#include <poll.h>

#include "fd.h"

int timeoutconn(int fd, const struct sockaddr *sa, socklen_t len, unsigned long timeout)
{
  struct pollfd p;
  int r, err;
  socklen_t elen = sizeof err;

  if (fd_nonblock(fd) == -1) return -1;
  if (connect(fd, sa, len) == 0) return fd_block(fd);
  if (errno != EINPROGRESS && errno != EINTR) return -1;
  p.fd = fd;
  p.events = POLLOUT;
  /* poll() takes milliseconds in an int. */
  do r = poll(&p, 1, timeout > 2000000 ? 2000000000 : (int)(timeout * 1000));
  while (r == -1 && errno == EINTR);
  if (r == 0) { errno = ETIMEDOUT; return -1; }
  if (r == -1) return -1;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1) return -1;
  if (err) { errno = err; return -1; }
  return fd_block(fd);
}
