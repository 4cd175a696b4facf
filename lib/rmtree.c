#define _GNU_SOURCE /* fdopendir and the *at calls with older glibc */
#include "rmtree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "stralloc.h"

static int rmat(int dfd, const char *name, int depth)
{
  stralloc names = STRALLOC_ZERO;
  struct dirent *de;
  DIR *d;
  size_t pos;
  int fd, e;

  if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT) return 0;
  if (errno != EISDIR && errno != EPERM) return -1;
  if (depth > RMTREE_MAXDEPTH) { errno = ELOOP; return -1; }
  do fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC); while (fd == -1 && errno == EINTR);
  if (fd == -1) return -1;
  d = fdopendir(fd);
  if (!d) { e = errno; close(fd); errno = e; return -1; }
  /* The names first: deleting while readdir walks may skip entries. */
  errno = 0;
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
      if (!stralloc_cats(&names, de->d_name) || !stralloc_0(&names)) goto fail;
  if (errno) goto fail;
  for (pos = 0; pos < names.len; pos += strlen(names.s + pos) + 1)
    if (rmat(fd, names.s + pos, depth + 1) == -1) goto fail;
  closedir(d);
  stralloc_free(&names);
  if (unlinkat(dfd, name, AT_REMOVEDIR) == -1 && errno != ENOENT) return -1;
  return 0;
fail:
  e = errno;
  closedir(d);
  stralloc_free(&names);
  errno = e;
  return -1;
}

int rmtree_at(int dfd, const char *name)
{
  return rmat(dfd, name, 0);
}
