#include "open.h"

#include <errno.h>
#include <fcntl.h>

static int open_retry(const char *fn, int flags, int mode)
{
  int fd;
  do fd = open(fn, flags, mode); while (fd == -1 && errno == EINTR);
  return fd;
}

int open_read(const char *fn) { return open_retry(fn, O_RDONLY | O_NONBLOCK, 0); }
int open_write(const char *fn) { return open_retry(fn, O_WRONLY | O_NONBLOCK, 0); }
int open_append(const char *fn) { return open_retry(fn, O_WRONLY | O_APPEND | O_CREAT, 0600); }
int open_trunc(const char *fn) { return open_retry(fn, O_WRONLY | O_TRUNC | O_CREAT, 0644); }
int open_excl(const char *fn) { return open_retry(fn, O_WRONLY | O_EXCL | O_CREAT, 0644); }
int open_dir(const char *fn) { return open_retry(fn, O_RDONLY | O_DIRECTORY, 0); }
