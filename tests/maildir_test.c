/* Tests for lib/maildir.c.
 * not tested here: the classic tmp/ fallback for filesystems without
 * O_TMPFILE and kernels without /proc, and the order of fsync, link and
 * directory fsync (tests/e2e/local_test.py forces both with strace);
 * fsync failing; the 24-hour timeout (qmail-local's). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "maildir.h"
#include "stralloc.h"
#include "tmpdir.h"

/* The names in a directory, sorted, joined by '|'. */
static void listdir(const char *dir, stralloc *sa)
{
  DIR *d = opendir(dir);
  struct dirent *de;
  char names[200][256];
  int n = 0, i, j;
  sa->len = 0;
  if (!d) { stralloc_copys(sa, "(missing)"); return; }
  while ((de = readdir(d)) && n < 200) {
    if (de->d_name[0] == '.') continue;
    snprintf(names[n++], sizeof names[0], "%s", de->d_name);
  }
  closedir(d);
  for (i = 0; i < n; ++i)
    for (j = i + 1; j < n; ++j)
      if (strcmp(names[i], names[j]) > 0) {
        char t[256];
        memcpy(t, names[i], sizeof t);
        memcpy(names[i], names[j], sizeof t);
        memcpy(names[j], t, sizeof t);
      }
  for (i = 0; i < n; ++i) {
    if (i) stralloc_append(sa, '|');
    stralloc_cats(sa, names[i]);
  }
}

static int count(const char *dir)
{
  stralloc sa = STRALLOC_ZERO;
  int n = 0;
  size_t i;
  listdir(dir, &sa);
  if (sa.len && strcmp("(missing)", sa.s ? sa.s : "")) {
    n = 1;
    for (i = 0; i < sa.len; ++i) n += sa.s[i] == '|';
  }
  stralloc_free(&sa);
  return n;
}

static void content(const char *fn, stralloc *sa)
{
  char buf[65536];
  ssize_t r;
  int fd = open(fn, O_RDONLY);
  sa->len = 0;
  if (fd == -1) return;
  while ((r = read(fd, buf, sizeof buf)) > 0) stralloc_catb(sa, buf, (size_t)r);
  close(fd);
}

static int msgfile(const char *s, size_t len)
{
  int fd = open(tmpdir_path("msg"), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd == -1 || write(fd, s, len) != (ssize_t)len) { perror("msg"); exit(111); }
  return fd;
}

static void makemaildir(const char *d, int tmp, int new, int cur)
{
  char p[512];
  mkdir(d, 0700);
  snprintf(p, sizeof p, "%s/tmp", d);
  if (tmp) mkdir(p, 0700);
  snprintf(p, sizeof p, "%s/new", d);
  if (new) mkdir(p, 0700);
  snprintf(p, sizeof p, "%s/cur", d);
  if (cur) mkdir(p, 0700);
}

/* Delivers msg into dir and checks the result: exactly one new file with
 * head + msg in it, nothing in tmp/. */
static void deliver_ok(const char *dir, const char *head, size_t headlen, const char *msg, size_t msglen,
                       const char *name)
{
  stralloc got = STRALLOC_ZERO, want = STRALLOC_ZERO, uniq = STRALLOC_ZERO, fn = STRALLOC_ZERO;
  char newdir[512], tmpd[512];
  struct stat st;
  int before, fd = msgfile(msg, msglen);
  enum maildir_status r;

  snprintf(newdir, sizeof newdir, "%s/new", dir);
  snprintf(tmpd, sizeof tmpd, "%s/tmp", dir);
  before = count(newdir);
  lseek(fd, 3, SEEK_SET);
  r = maildir_deliver(dir, fd, head, headlen, "host.example", &uniq);
  check_long(r, MAILDIR_OK, "%s: delivered", name);
  check_long(lseek(fd, 0, SEEK_CUR), 3, "%s: the message's offset did not move", name);
  check_long(count(newdir), before + 1, "%s: one more file in new/", name);
  check_long(count(tmpd), 0, "%s: nothing in tmp/", name);
  check(uniq.len > 1 && uniq.s[uniq.len - 1] == 0, "%s: name returned", name);
  check(uniq.len && strstr(uniq.s, ".host.example") != 0 && strchr(uniq.s, '/') == 0, "%s: name has the host", name);
  stralloc_copys(&fn, newdir);
  stralloc_append(&fn, '/');
  stralloc_cats(&fn, uniq.s ? uniq.s : "");
  stralloc_0(&fn);
  content(fn.s, &got);
  stralloc_copyb(&want, head, headlen);
  stralloc_catb(&want, msg, msglen);
  check(got.len == want.len && !memcmp(got.s ? got.s : "", want.s ? want.s : "", got.len),
        "%s: content is head + message (%zu bytes, want %zu)", name, got.len, want.len);
  check(stat(fn.s, &st) == 0 && (st.st_mode & 07777) == 0600, "%s: mode 0600", name);
  check(stat(fn.s, &st) == 0 && st.st_nlink == 1, "%s: one link", name);
  close(fd);
  stralloc_free(&got);
  stralloc_free(&want);
  stralloc_free(&uniq);
  stralloc_free(&fn);
}

static const char head[] = "Return-Path: <a@b>\nDelivered-To: joe@example.com\n";

static void test_ok(void)
{
  static const char msg[] = "Subject: hi\n\nFrom me\nbody\n";
  stralloc big = STRALLOC_ZERO, bighead = STRALLOC_ZERO;
  size_t i;

  makemaildir("Maildir", 1, 1, 1);
  deliver_ok("./Maildir/", head, sizeof head - 1, msg, sizeof msg - 1, "maildir ./Maildir/");
  deliver_ok("Maildir", head, sizeof head - 1, msg, sizeof msg - 1, "maildir without the final slash");
  {
    char abs[512];
    snprintf(abs, sizeof abs, "%s", tmpdir_path("Maildir/")); /* tmpdir_path's buffer is reused */
    deliver_ok(abs, head, sizeof head - 1, msg, sizeof msg - 1, "maildir absolute path");
  }
  deliver_ok("./Maildir/", head, sizeof head - 1, "", 0, "empty message");
  deliver_ok("./Maildir/", "", 0, msg, sizeof msg - 1, "no head");
  deliver_ok("./Maildir/", head, sizeof head - 1, "no newline", 10, "message without a final newline");
  deliver_ok("./Maildir/", head, sizeof head - 1, "a\0b\r\n\xff", 6, "binary message");

  for (i = 0; i < 300000; ++i) stralloc_append(&big, (char)('a' + i % 26 + (i % 77 == 0 ? -87 : 0)));
  deliver_ok("./Maildir/", head, sizeof head - 1, big.s, big.len, "300 kB message");
  deliver_ok("./Maildir/", head, sizeof head - 1, big.s, 65536 - (sizeof head - 1), "message filling the buffer exactly");
  for (i = 0; i < 70000; ++i) stralloc_append(&bighead, 'h');
  deliver_ok("./Maildir/", bighead.s, bighead.len, msg, sizeof msg - 1, "70 kB head");
  stralloc_free(&big);
  stralloc_free(&bighead);

  /* unique names */
  {
    stralloc a = STRALLOC_ZERO, b = STRALLOC_ZERO;
    int fd = msgfile(msg, sizeof msg - 1);
    check_long(maildir_deliver("./Maildir/", fd, head, sizeof head - 1, "h", &a), MAILDIR_OK, "unique: first");
    check_long(maildir_deliver("./Maildir/", fd, head, sizeof head - 1, "h", &b), MAILDIR_OK, "unique: second");
    check(a.len && b.len && strcmp(a.s, b.s) != 0, "unique: two names differ");
    check_long(maildir_deliver("./Maildir/", fd, head, sizeof head - 1, "a/b:c", &a), MAILDIR_OK, "unique: odd host");
    check(a.len && strstr(a.s, ".a\\057b\\072c") != 0, "unique: '/' and ':' in the host are escaped");
    check_long(maildir_deliver("./Maildir/", fd, head, sizeof head - 1, "h", 0), MAILDIR_OK, "no name wanted");
    close(fd);
    stralloc_free(&a);
    stralloc_free(&b);
  }
  maildir_cleanup(); /* nothing to clean: harmless */
}

static void test_errors(void)
{
  static const char msg[] = "Subject: x\n\nbody\n";
  int fd = msgfile(msg, sizeof msg - 1);

  errno = 0;
  check_long(maildir_deliver("./Nothing/", fd, head, sizeof head - 1, "h", 0), MAILDIR_ETMP, "missing maildir");
  check_long(errno, ENOENT, "missing maildir: errno");

  makemaildir("NoTmp", 0, 1, 1);
  check_long(maildir_deliver("./NoTmp/", fd, head, sizeof head - 1, "h", 0), MAILDIR_ETMP, "maildir without tmp/");
  check_long(count("NoTmp/new"), 0, "maildir without tmp/: nothing in new/");

  makemaildir("NoNew", 1, 0, 1);
  errno = 0;
  check_long(maildir_deliver("./NoNew/", fd, head, sizeof head - 1, "h", 0), MAILDIR_ENEW, "maildir without new/");
  check_long(errno, ENOENT, "maildir without new/: errno");
  check_long(count("NoNew/tmp"), 0, "maildir without new/: nothing left in tmp/");

  tmpdir_write(tmpdir_path("File"), "x", 1);
  check_long(maildir_deliver("./File/", fd, head, sizeof head - 1, "h", 0), MAILDIR_ETMP, "maildir is a file");

  makemaildir("M2", 1, 1, 1);
  errno = 0;
  check_long(maildir_deliver("./M2/", -1, head, sizeof head - 1, "h", 0), MAILDIR_EREAD, "unreadable message");
  check_long(errno, EBADF, "unreadable message: errno");
  check_long(count("M2/new"), 0, "unreadable message: nothing in new/");
  check_long(count("M2/tmp"), 0, "unreadable message: nothing in tmp/");
  {
    int wfd = open(tmpdir_path("msg"), O_WRONLY);
    check_long(maildir_deliver("./M2/", wfd, head, sizeof head - 1, "h", 0), MAILDIR_EREAD, "write-only message fd");
    check_long(count("M2/new"), 0, "write-only message fd: nothing in new/");
    close(wfd);
  }

  /* A write error (the file size limit stands in for a full disk). */
  {
    struct rlimit old, rl;
    stralloc big = STRALLOC_ZERO;
    int bfd;
    while (big.len < 100000) stralloc_cats(&big, "0123456789");
    bfd = msgfile(big.s, big.len);
    signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old);
    rl = old;
    rl.rlim_cur = 4096;
    setrlimit(RLIMIT_FSIZE, &rl);
    errno = 0;
    check_long(maildir_deliver("./M2/", bfd, head, sizeof head - 1, "h", 0), MAILDIR_EWRITE, "write error");
    check_long(errno, EFBIG, "write error: errno");
    setrlimit(RLIMIT_FSIZE, &old);
    check_long(count("M2/new"), 0, "write error: nothing in new/");
    check_long(count("M2/tmp"), 0, "write error: nothing in tmp/");
    close(bfd);
    stralloc_free(&big);
  }

  if (geteuid() != 0) {
    makemaildir("RO", 1, 1, 1);
    chmod("RO/tmp", 0500);
    check_long(maildir_deliver("./RO/", fd, head, sizeof head - 1, "h", 0), MAILDIR_ETMP, "read-only tmp/");
    chmod("RO/tmp", 0700);
    chmod("RO/new", 0500);
    errno = 0;
    check_long(maildir_deliver("./RO/", fd, head, sizeof head - 1, "h", 0), MAILDIR_ENEW, "read-only new/");
    check_long(errno, EACCES, "read-only new/: errno");
    check_long(count("RO/tmp"), 0, "read-only new/: nothing in tmp/");
    chmod("RO/new", 0700);
  } else {
    printf("# skip - read-only tmp/ and new/: running as root\n");
  }
  close(fd);
}

int main(void)
{
  tmpdir_make("maildir_test");
  if (chdir(tmpdir_name) == -1) { perror("chdir"); return 111; }
  test_ok();
  test_errors();
  if (chdir("/") == -1) return 111;
  tmpdir_remove();
  return check_end();
}
