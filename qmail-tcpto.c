/* qmail-tcpto: print queue/lock/tcpto, the addresses whose SMTP
 * connections timed out recently (lib/tcpto.h), as qmail-tcpto does:
 *   192.0.2.1 timed out 15 seconds ago; # recent timeouts: 2
 * Exit 0, or 111 if the file cannot be read. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "error.h"
#include "fmt.h"
#include "lock.h"
#include "strerr.h"
#include "tcpto.h"

#define FATAL "qmail-tcpto: fatal: "

static char outspace[1024];
static buffer out = { outspace, 0, 0, sizeof outspace, 1, 0 };

int main(void)
{
  unsigned char buf[TCPTO_SIZE];
  size_t i, got = 0;
  int fd;
  uint64_t now = (uint64_t)time(0);

  if (chdir(auto_qmail) == -1) strerr_die(111, FATAL, "unable to chdir to ", auto_qmail, ": ", error_str(errno));
  fd = open(TCPTO_FILE, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd == -1) strerr_die(111, FATAL, "unable to open " TCPTO_FILE ": ", error_str(errno));
  if (lock_sh(fd) == -1) strerr_die(111, FATAL, "unable to lock " TCPTO_FILE ": ", error_str(errno));
  while (got < sizeof buf) {
    ssize_t r = read(fd, buf + got, sizeof buf - got);
    if (r == -1 && errno == EINTR) continue;
    if (r == -1) strerr_die(111, FATAL, "unable to read " TCPTO_FILE ": ", error_str(errno));
    if (r == 0) break;
    got += (size_t)r;
  }
  close(fd);
  for (; got < sizeof buf; ++got) buf[got] = 0;

  for (i = 0; i < TCPTO_SIZE / TCPTO_RECORD; ++i) {
    struct sockaddr_storage ss;
    unsigned errors;
    uint64_t when;
    char ip[INET6_ADDRSTRLEN + 1], num[FMT_ULONG];
    const void *a;
    if (!tcpto_record(buf, i, &ss, &errors, &when)) continue;
    a = ss.ss_family == AF_INET ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
                                : (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
    if (!inet_ntop(ss.ss_family, a, ip, sizeof ip)) continue;
    buffer_puts(&out, ip);
    if (when <= now) {
      buffer_puts(&out, " timed out ");
      buffer_put(&out, num, fmt_ulong(num, (unsigned long)(now - when)));
      buffer_puts(&out, " seconds ago");
    } else
      buffer_puts(&out, " timed out in the future (the clock went back)");
    buffer_puts(&out, "; # recent timeouts: ");
    buffer_put(&out, num, fmt_ulong(num, errors));
    buffer_puts(&out, "\n");
  }
  if (buffer_flush(&out) == -1) strerr_die(111, FATAL, "unable to write output: ", error_str(errno));
  return 0;
}
