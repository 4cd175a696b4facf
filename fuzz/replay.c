/* replay: runs a fuzz target's LLVMFuzzerTestOneInput once on each file
 * named, or on each regular file in each directory named, without
 * libFuzzer. gcc builds use it so that every corpus file (and so every crash
 * ever found) is a regression test; the sanitizers catch what goes wrong.
 *
 *   build/replay/fuzz_cdb fuzz/corpus/fuzz_cdb
 *   ok - replay fuzz_cdb 12 files
 *
 * Exit 0 when every file was read, 111 when one could not be, 100 on
 * usage. A failed check inside the target aborts. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static const char *target = "replay";

static void die_read(const char *fn)
{
  fprintf(stderr, "not ok - replay %s: unable to read %s: %s\n", target, fn, strerror(errno));
  exit(111);
}

static void die_nomem(void)
{
  fprintf(stderr, "not ok - replay %s: out of memory\n", target);
  exit(111);
}

/* Runs the target on the contents of the regular file fn. The buffer has
 * exactly the file's size, so the sanitizers see any read past its end. */
static void replay_file(const char *fn)
{
  struct stat st;
  unsigned char *buf;
  size_t size, got = 0;
  int fd = open(fn, O_RDONLY | O_CLOEXEC);

  if (fd == -1 || fstat(fd, &st) == -1) die_read(fn);
  size = (size_t)st.st_size;
  buf = malloc(size ? size : 1);
  if (!buf) die_nomem();
  while (got < size) {
    ssize_t r = read(fd, buf + got, size - got);
    if (r < 0) { if (errno == EINTR) continue; die_read(fn); }
    if (r == 0) { errno = EIO; die_read(fn); } /* the file shrank */
    got += (size_t)r;
  }
  close(fd);
  LLVMFuzzerTestOneInput(buf, size);
  free(buf);
}

static int cmp_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every regular file in dir, in name order so that runs repeat.
 * Returns the number of files. */
static unsigned long replay_dir(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *de;
  char **names = 0;
  size_t n = 0, a = 0, i;
  unsigned long count = 0;

  if (!d) die_read(dir);
  for (;;) {
    errno = 0;
    de = readdir(d);
    if (!de) { if (errno) die_read(dir); break; }
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if (n == a) {
      char **p;
      a = a ? a * 2 : 64;
      p = realloc(names, a * sizeof *names);
      if (!p) die_nomem();
      names = p;
    }
    names[n] = malloc(strlen(dir) + strlen(de->d_name) + 2);
    if (!names[n]) die_nomem();
    strcpy(names[n], dir);
    strcat(names[n], "/");
    strcat(names[n], de->d_name);
    ++n;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, cmp_name);
  for (i = 0; i < n; ++i) {
    struct stat st;
    if (stat(names[i], &st) == -1) die_read(names[i]);
    if (S_ISREG(st.st_mode)) { replay_file(names[i]); ++count; }
    free(names[i]);
  }
  free(names);
  return count;
}

int main(int argc, char **argv)
{
  unsigned long count = 0;
  int i;

  if (argc > 0 && argv[0]) {
    const char *slash = strrchr(argv[0], '/');
    target = slash ? slash + 1 : argv[0];
  }
  if (argc < 2) {
    fprintf(stderr, "usage: %s file-or-directory ...\n", target);
    return 100;
  }
  for (i = 1; i < argc; ++i) {
    struct stat st;
    if (stat(argv[i], &st) == -1) die_read(argv[i]);
    if (S_ISDIR(st.st_mode)) count += replay_dir(argv[i]);
    else { replay_file(argv[i]); ++count; }
  }
  printf("ok - replay %s %lu files\n", target, count);
  return 0;
}
