#ifndef TMPDIR_H
#define TMPDIR_H

/* A scratch directory for one test program: tmpdir_make() creates
 * /tmp/<name>.XXXXXX (exiting 111 if it cannot), tmpdir_path() names a
 * file in it, and tmpdir_remove() deletes the whole tree at the end. */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir_name[256];

static inline const char *tmpdir_make(const char *name)
{
  snprintf(tmpdir_name, sizeof tmpdir_name, "/tmp/%s.XXXXXX", name);
  if (!mkdtemp(tmpdir_name)) { perror("mkdtemp"); exit(111); }
  return tmpdir_name;
}

/* tmpdir/rel, in a static buffer that the next call overwrites. */
static inline const char *tmpdir_path(const char *rel)
{
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", tmpdir_name, rel);
  return path;
}

static inline int tmpdir_rmrf(const char *path)
{
  struct stat st;
  DIR *d;
  struct dirent *de;
  int r = 0;

  if (lstat(path, &st) == -1) return -1;
  if (!S_ISDIR(st.st_mode)) return unlink(path);
  chmod(path, 0700);
  d = opendir(path);
  if (!d) return -1;
  while ((de = readdir(d))) {
    char sub[1024];
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if (snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) >= (int)sizeof sub || tmpdir_rmrf(sub) == -1) r = -1;
  }
  closedir(d);
  if (rmdir(path) == -1) r = -1;
  return r;
}

static inline void tmpdir_remove(void)
{
  if (tmpdir_name[0] && tmpdir_rmrf(tmpdir_name) == -1) perror(tmpdir_name);
  tmpdir_name[0] = 0;
}

/* Writes len bytes of s as the whole content of path (exits on error). */
static inline void tmpdir_write(const char *path, const char *s, size_t len)
{
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(s, 1, len, f) != len || fclose(f) != 0) { perror(path); exit(111); }
}

#endif
