#include "strerr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void strerr_warnv(const char *const *v, unsigned n)
{
  char buf[1024];
  size_t len = 0;
  unsigned i;
  int saved = errno;

  /* One write when the message fits, so lines from concurrent processes
   * sharing a log pipe do not interleave. */
  for (i = 0; i <= n; ++i) {
    const char *s = i < n ? v[i] : "\n";
    size_t slen;
    if (!s) continue;
    slen = strlen(s);
    while (slen) {
      size_t room = sizeof buf - len;
      size_t k = slen < room ? slen : room;
      memcpy(buf + len, s, k);
      len += k;
      s += k;
      slen -= k;
      if (len == sizeof buf) {
        if (write(2, buf, len) < 0) { errno = saved; return; }
        len = 0;
      }
    }
  }
  if (len) {
    ssize_t w = write(2, buf, len);
    (void)w;
  }
  errno = saved;
}

void strerr_diev(int code, const char *const *v, unsigned n)
{
  strerr_warnv(v, n);
  _exit(code);
}
