/* Tests for lib/commit.c.
 * not tested: fsync or close failing (needs a failing disk or NFS);
 * directories that cannot be fsynced (EINVAL/EROFS are accepted). */

#define _GNU_SOURCE /* O_TMPFILE in the skip test */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "commit.h"
#include "stralloc.h"
#include "tmpdir.h"

static int exists(const char *fn)
{
  struct stat st;
  return lstat(fn, &st) == 0;
}

static void content(const char *fn, stralloc *sa)
{
  char buf[4096];
  ssize_t r;
  int fd = open(fn, O_RDONLY);
  sa->len = 0;
  if (fd == -1) return;
  while ((r = read(fd, buf, sizeof buf)) > 0) stralloc_catb(sa, buf, (size_t)r);
  close(fd);
}

static long mode_of(const char *fn)
{
  struct stat st;
  return stat(fn, &st) == 0 ? (long)(st.st_mode & 07777) : -1;
}

static void test_replace(void)
{
  stralloc sa = STRALLOC_ZERO;
  struct stat st1, st2;

  check_long(commit_replace("file", "hello\n", 6, 0640), 0, "replace: new file");
  content("file", &sa);
  check_bytes(sa.s, sa.len, "hello\n", 6, "replace: content");
  check_long(mode_of("file"), 0640, "replace: mode");
  check(!exists("file.tmp"), "replace: no file.tmp left");
  stat("file", &st1);

  check_long(commit_replace("file", "bye", 3, 0600), 0, "replace: existing file");
  content("file", &sa);
  check_bytes(sa.s, sa.len, "bye", 3, "replace: new content");
  check_long(mode_of("file"), 0600, "replace: new mode");
  check(!exists("file.tmp"), "replace again: no file.tmp left");
  stat("file", &st2);
  check(st1.st_ino != st2.st_ino, "replace: a new inode (renamed over, not rewritten)");

  check_long(commit_replace("file", "", 0, 0644), 0, "replace: empty content");
  content("file", &sa);
  check_long(sa.len, 0, "replace: empty file");

  check_long(commit_replace("dir/inner", "x", 1, 0644), 0, "replace: in a subdirectory");
  content("dir/inner", &sa);
  check_bytes(sa.s, sa.len, "x", 1, "replace: in a subdirectory: content");
  check(!exists("dir/inner.tmp"), "replace in a subdirectory: no .tmp left");

  errno = 0;
  check_long(commit_replace("missing/file", "x", 1, 0644), -1, "replace: missing directory");
  check_long(errno, ENOENT, "replace: missing directory: errno");

  /* a stale file.tmp from a crash is simply overwritten */
  tmpdir_write(tmpdir_path("file.tmp"), "stale stale stale", 17);
  check_long(commit_replace("file", "fresh", 5, 0644), 0, "replace over a stale .tmp");
  content("file", &sa);
  check_bytes(sa.s, sa.len, "fresh", 5, "replace over a stale .tmp: content");
  check(!exists("file.tmp"), "replace over a stale .tmp: none left");

  /* the rename cannot happen: fn is a non-empty directory */
  mkdir("busy", 0755);
  mkdir("busy/sub", 0755);
  check_long(commit_replace("busy", "x", 1, 0644), -1, "replace over a non-empty directory fails");
  check(!exists("busy.tmp"), "failed replace: .tmp removed");
  stralloc_free(&sa);
}

static void test_tmpfile(void)
{
  stralloc sa = STRALLOC_ZERO;
  int fd = commit_tmpfile("dir", 0640);

  if (fd == -1 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    printf("# skip: O_TMPFILE not supported here\n");
    return;
  }
  check(fd >= 0, "tmpfile in dir");
  check_long(commit_writeall(fd, "queued message\n", 15), 0, "writeall into the tmpfile");
  check_long(fsync(fd), 0, "fsync of the tmpfile");
  check(!exists("dir/named"), "nothing named yet");
  check_long(commit_linkfd(fd, "dir/named"), 0, "linkfd");
  content("dir/named", &sa);
  check_bytes(sa.s, sa.len, "queued message\n", 15, "linkfd: content");
  check_long(mode_of("dir/named"), 0640, "linkfd: mode");
  errno = 0;
  check_long(commit_linkfd(fd, "dir/named"), -1, "linkfd onto an existing name");
  check_long(errno, EEXIST, "linkfd onto an existing name: errno");
  errno = 0;
  check_long(commit_linkfd(fd, "missing/named"), -1, "linkfd into a missing directory");
  check_long(errno, ENOENT, "linkfd into a missing directory: errno");
  close(fd);

  errno = 0;
  check_long(commit_tmpfile("missing", 0600), -1, "tmpfile in a missing directory");
  check_long(errno, ENOENT, "tmpfile in a missing directory: errno");

  /* a tmpfile that is never linked leaves nothing behind */
  {
    int n = 0;
    DIR *d;
    struct dirent *de;
    fd = commit_tmpfile("empty", 0600);
    commit_writeall(fd, "x", 1);
    close(fd);
    d = opendir("empty");
    while (d && (de = readdir(d))) n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    if (d) closedir(d);
    check_long(n, 0, "an unlinked tmpfile leaves the directory empty");
  }
  stralloc_free(&sa);
}

static void test_rename_link(void)
{
  stralloc sa = STRALLOC_ZERO;

  tmpdir_write(tmpdir_path("t1"), "one", 3);
  errno = 0;
  check_long(commit_rename("t1", "missing/x"), -1, "rename into a missing directory");
  check_long(errno, ENOENT, "rename into a missing directory: errno");
  check(exists("t1"), "failed rename keeps the source");
  errno = 0;
  check_long(commit_link("t1", "missing/x"), -1, "link into a missing directory");
  check_long(errno, ENOENT, "link into a missing directory: errno");
  errno = 0;
  check_long(commit_rename("nosuch", "dir/x"), -1, "rename of a missing file");
  check_long(errno, ENOENT, "rename of a missing file: errno");

  check_long(commit_link("t1", "dir/linked"), 0, "link");
  check(exists("t1") && exists("dir/linked"), "link: both names");
  errno = 0;
  check_long(commit_link("t1", "dir/linked"), -1, "link onto an existing name");
  check_long(errno, EEXIST, "link onto an existing name: errno");
  check_long(commit_rename("t1", "dir/renamed"), 0, "rename");
  check(!exists("t1"), "rename: old name gone");
  content("dir/renamed", &sa);
  check_bytes(sa.s, sa.len, "one", 3, "rename: content");
  stralloc_free(&sa);
}

static void test_dirof(void)
{
  static const struct { const char *path; int r; int err; } cases[] = {
    { "file", 0, 0 },
    { "dir/file", 0, 0 },
    { "dir/", 0, 0 },
    { "./file", 0, 0 },
    { "/file", 0, 0 },
    { "nodir/file", -1, ENOENT },
    { "file/x", -1, ENOTDIR },
  };
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    errno = 0;
    check_long(commit_dirof(cases[i].path), cases[i].r, "dirof(\"%s\")", cases[i].path);
    if (cases[i].r) check_long(errno, cases[i].err, "dirof(\"%s\"): errno", cases[i].path);
  }
  check_long(commit_dir("."), 0, "commit_dir(\".\")");
  errno = 0;
  check_long(commit_dir("missing"), -1, "commit_dir of a missing directory");
  check_long(errno, ENOENT, "commit_dir of a missing directory: errno");
}

static void test_write_close(void)
{
  int fd = open("w", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  char big[100000];
  stralloc sa = STRALLOC_ZERO;

  memset(big, 'b', sizeof big);
  check_long(commit_writeall(fd, big, sizeof big), 0, "writeall of 100000 bytes");
  check_long(commit_writeall(fd, "", 0), 0, "writeall of nothing");
  check_long(commit_fsyncclose(fd), 0, "fsyncclose");
  check(fcntl(fd, F_GETFD) == -1 && errno == EBADF, "fsyncclose closed the fd");
  content("w", &sa);
  check_long(sa.len, sizeof big, "writeall: all bytes there");
  errno = 0;
  check_long(commit_fsyncclose(-1), -1, "fsyncclose(-1)");
  check_long(errno, EBADF, "fsyncclose(-1): errno");
  fd = open("w", O_RDONLY);
  errno = 0;
  check_long(commit_writeall(fd, "x", 1), -1, "writeall to a read-only fd");
  check_long(errno, EBADF, "writeall to a read-only fd: errno");
  close(fd);
  stralloc_free(&sa);
}

int main(void)
{
  char cwd[4096];
  umask(022);
  if (!getcwd(cwd, sizeof cwd)) { perror("getcwd"); return 111; }
  if (chdir(tmpdir_make("commit_test")) == -1 || mkdir("dir", 0755) == -1 || mkdir("empty", 0755) == -1) {
    perror("setup");
    return 111;
  }
  test_replace();
  test_tmpfile();
  test_rename_link();
  test_dirof();
  test_write_close();
  if (chdir(cwd) == -1) perror("chdir");
  tmpdir_remove();
  return check_end();
}
