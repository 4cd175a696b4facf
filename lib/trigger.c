#include "trigger.h"

#include <unistd.h>

#include "open.h"

void trigger_pull(void)
{
  int fd = open_write("lock/trigger");
  if (fd != -1) {
    ssize_t w = write(fd, "", 1);
    (void)w;
    close(fd);
  }
}
