/* fuzz_memfd, shared by the fuzz targets (fuzz.h). */
#define _GNU_SOURCE /* memfd_create */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

int fuzz_memfd(const unsigned char *data, size_t size)
{
  size_t off = 0;
  int fd = memfd_create("fuzz", MFD_CLOEXEC);
  if (fd == -1) abort();
  while (off < size) {
    ssize_t w = write(fd, data + off, size - off);
    if (w <= 0) abort();
    off += (size_t)w;
  }
  if (lseek(fd, 0, SEEK_SET) == -1) abort();
  return fd;
}
