/* qmail-tcpok: clear queue/lock/tcpto (lib/tcpto.h), so that qmail-remote
 * tries every address again at once, as qmail-tcpok does. The file keeps
 * its size (1024 zero bytes) and is written in place under its lock.
 * Exit 0, or 111 on any trouble. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "auto.h"
#include "error.h"
#include "lock.h"
#include "strerr.h"
#include "tcpto.h"

#define FATAL "qmail-tcpok: fatal: "

int main(void)
{
  unsigned char buf[TCPTO_SIZE];
  size_t done = 0;
  int fd;

  if (chdir(auto_qmail) == -1) strerr_die(111, FATAL, "unable to chdir to ", auto_qmail, ": ", error_str(errno));
  fd = open(TCPTO_FILE, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd == -1) strerr_die(111, FATAL, "unable to open " TCPTO_FILE ": ", error_str(errno));
  if (lock_ex(fd) == -1) strerr_die(111, FATAL, "unable to lock " TCPTO_FILE ": ", error_str(errno));
  memset(buf, 0, sizeof buf);
  while (done < sizeof buf) {
    ssize_t w = pwrite(fd, buf + done, sizeof buf - done, (off_t)done);
    if (w == -1 && errno == EINTR) continue;
    if (w <= 0) strerr_die(111, FATAL, "unable to write " TCPTO_FILE ": ", error_str(errno));
    done += (size_t)w;
  }
  if (close(fd) == -1) strerr_die(111, FATAL, "unable to write " TCPTO_FILE ": ", error_str(errno));
  return 0;
}
