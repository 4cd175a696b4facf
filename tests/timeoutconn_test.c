/* Tests for lib/timeoutconn.c: a listening port connects and the socket is
 * blocking again; a closed port gives its error at once.
 * not tested: the timeout itself (it needs an address that swallows SYNs;
 * remote_test.py covers it with a listener whose queue is full). */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include "check.h"
#include "timeoutconn.h"

int main(void)
{
  struct sockaddr_in sin;
  socklen_t len = sizeof sin;
  int l = socket(AF_INET, SOCK_STREAM, 0), c;

  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (l == -1 || bind(l, (struct sockaddr *)&sin, sizeof sin) == -1 || listen(l, 4) == -1
      || getsockname(l, (struct sockaddr *)&sin, &len) == -1)
    return 111;
  c = socket(AF_INET, SOCK_STREAM, 0);
  check_long(timeoutconn(c, (struct sockaddr *)&sin, sizeof sin, 5), 0, "a listening port connects");
  check_long(fcntl(c, F_GETFL) & O_NONBLOCK, 0, "and the socket is blocking again");
  close(c);
  close(l); /* the port is closed now */
  c = socket(AF_INET, SOCK_STREAM, 0);
  errno = 0;
  check_long(timeoutconn(c, (struct sockaddr *)&sin, sizeof sin, 5), -1, "a closed port fails");
  check_long(errno, ECONNREFUSED, "with ECONNREFUSED");
  close(c);
  return check_end();
}
