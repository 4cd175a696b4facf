#define _GNU_SOURCE /* O_TMPFILE */
#include "commit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"
#include "open.h"

int commit_writeall(int fd, const char *s, size_t len)
{
  while (len) {
    ssize_t w = write(fd, s, len);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    if (w == 0) { errno = EIO; return -1; }
    s += w;
    len -= (size_t)w;
  }
  return 0;
}

int commit_fsyncclose(int fd)
{
  if (fsync(fd) == -1) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  /* close() can report a deferred write error (NFS); it counts. */
  return close(fd);
}

int commit_dir(const char *dir)
{
  int fd = open_dir(dir);
  if (fd == -1) return -1;
  if (fsync(fd) == -1) {
    int e = errno;
    close(fd);
    /* Some filesystems cannot fsync a directory at all; they have no
     * ordering to offer, and refusing every message would not help. */
    if (e == EINVAL || e == EROFS) return 0;
    errno = e;
    return -1;
  }
  close(fd);
  return 0;
}

int commit_dirof(const char *path)
{
  const char *slash = strrchr(path, '/');
  char *dir;
  int r;

  if (!slash) return commit_dir(".");
  if (slash == path) return commit_dir("/");
  dir = strndup(path, (size_t)(slash - path));
  if (!dir) { errno = ENOMEM; return -1; }
  r = commit_dir(dir);
  free(dir);
  return r;
}

int commit_rename(const char *tmp, const char *fn)
{
  if (rename(tmp, fn) == -1) return -1;
  return commit_dirof(fn);
}

int commit_link(const char *tmp, const char *fn)
{
  if (link(tmp, fn) == -1) return -1;
  return commit_dirof(fn);
}

int commit_tmpfile(const char *dir, int mode)
{
  int fd;
  /* O_RDWR, so that a caller can still copy the data out if naming the
   * file turns out to be impossible (commit_linkfd). */
  do fd = open(dir, O_TMPFILE | O_RDWR, mode); while (fd == -1 && errno == EINTR);
  return fd;
}

int commit_namefd(int fd, const char *fn)
{
  /* Linux 6.10 and later let a process name an O_TMPFILE file it opened
   * itself; older kernels want CAP_DAC_READ_SEARCH and answer ENOENT. Then
   * /proc/self/fd, which needs no privilege, only /proc. */
  if (linkat(fd, "", AT_FDCWD, fn, AT_EMPTY_PATH) == -1) {
    char proc[32 + FMT_ULONG];
    size_t n;
    if (errno != ENOENT && errno != EPERM) return -1;
    n = fmt_str(proc, "/proc/self/fd/");
    proc[n + fmt_ulong(proc + n, (unsigned long)fd)] = 0;
    if (linkat(AT_FDCWD, proc, AT_FDCWD, fn, AT_SYMLINK_FOLLOW) == -1) return -1;
  }
  return 0;
}

int commit_linkfd(int fd, const char *fn)
{
  if (commit_namefd(fd, fn) == -1) return -1;
  return commit_dirof(fn);
}

int commit_replace(const char *fn, const char *data, size_t len, int mode)
{
  size_t n = strlen(fn);
  char *tmp = malloc(n + 5);
  int fd, e;

  if (!tmp) { errno = ENOMEM; return -1; }
  memcpy(tmp, fn, n);
  memcpy(tmp + n, ".tmp", 5);
  do fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode); while (fd == -1 && errno == EINTR);
  if (fd == -1) goto fail;
  if (commit_writeall(fd, data, len) == -1) { e = errno; close(fd); errno = e; goto failunlink; }
  if (commit_fsyncclose(fd) == -1) goto failunlink;
  if (commit_rename(tmp, fn) == -1) goto failunlink;
  free(tmp);
  return 0;
failunlink:
  e = errno;
  unlink(tmp);
  errno = e;
fail:
  e = errno;
  free(tmp);
  errno = e;
  return -1;
}
