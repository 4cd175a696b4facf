/* Tests for lib/mbox.c.
 * not tested: filesystems without flock (the unlocked append), fsync or
 * close failing. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "mbox.h"
#include "stralloc.h"
#include "tmpdir.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static void test_date(void)
{
  static const struct { long long t; const char *want; } cases[] = {
    { 0, "Thu Jan 01 00:00:00 1970" },
    { 820631134, "Wed Jan 03 01:05:34 1996" },
    { 951782400, "Tue Feb 29 00:00:00 2000" },
    { 951868799, "Tue Feb 29 23:59:59 2000" },
    { 1000000000, "Sun Sep 09 01:46:40 2001" },
    { 1795315582, "Sun Nov 22 02:46:22 2026" },
    { 2147483647, "Tue Jan 19 03:14:07 2038" },
    { 4102444800LL, "Fri Jan 01 00:00:00 2100" },
    { -1, "Wed Dec 31 23:59:59 1969" },
    { 253402300799LL, "Fri Dec 31 23:59:59 9999" },
    { -30610224000LL, "Wed Jan 01 00:00:00 1000" },
    { 253402300800LL, "Thu Jan 01 00:00:00 1970" },   /* out of range */
    { -30610224001LL, "Thu Jan 01 00:00:00 1970" },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    char s[MBOX_DATE + 8];
    size_t n;
    if ((time_t)cases[i].t != cases[i].t) continue;
    n = mbox_date(s, (time_t)cases[i].t);
    check_long(n, MBOX_DATE, "date %zu: length", i);
    check_bytes(s, n, cases[i].want, strlen(cases[i].want), "date %lld", cases[i].t);
  }
}

static void test_ufline(void)
{
  static const struct { const char *sender; const char *want; } cases[] = {
    { "a@b.example", "From a@b.example Thu Jan 01 00:00:00 1970\n" },
    { "", "From MAILER-DAEMON Thu Jan 01 00:00:00 1970\n" },
    { "#@[]", "From #@[] Thu Jan 01 00:00:00 1970\n" },
    { "a b\tc\nd@e", "From a-b-c-d@e Thu Jan 01 00:00:00 1970\n" },
    { "a\rb@c", "From a\rb@c Thu Jan 01 00:00:00 1970\n" }, /* only blanks and newlines change */
  };
  stralloc sa = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    check_long(mbox_ufline(&sa, cases[i].sender, strlen(cases[i].sender), 0), 1, "ufline %zu", i);
    check_bytes(sa.s, sa.len, cases[i].want, strlen(cases[i].want), "ufline %zu", i);
  }
  stralloc_free(&sa);
}

/* Quotes in into a memory buffer (through a pipe-less buffer on a file)
 * in pieces of size piece (0: all at once). */
static void quoted(const char *in, size_t len, size_t piece, stralloc *got)
{
  char space[7]; /* tiny, so that flushing happens mid-way */
  struct mbox_quote q;
  buffer b;
  char buf[4096];
  ssize_t r;
  int fd = open(tmpdir_path("quoted"), O_RDWR | O_CREAT | O_TRUNC, 0600);
  size_t off = 0;

  buffer_init(&b, fd, space, sizeof space, 0);
  mbox_quote_start(&q);
  while (off < len) {
    size_t k = piece && piece < len - off ? piece : len - off;
    if (mbox_quote_put(&q, &b, in + off, k) == -1) break;
    off += k;
  }
  mbox_quote_end(&q, &b);
  buffer_flush(&b);
  got->len = 0;
  lseek(fd, 0, SEEK_SET);
  while ((r = read(fd, buf, sizeof buf)) > 0) stralloc_catb(got, buf, (size_t)r);
  close(fd);
}

static void test_quote(void)
{
  static const struct { const char *in, *want; } cases[] = {
    { "", "\n" },
    { "a\n", "a\n\n" },
    { "a", "a\n\n" },
    { "From me\n", ">From me\n\n" },
    { "From \n", ">From \n\n" },
    { "From", "From\n\n" },
    { "From\n", "From\n\n" },
    { "From:me\n", "From:me\n\n" },
    { ">From me\n", ">>From me\n\n" },
    { ">>>From x", ">>>>From x\n\n" },
    { ">From", ">From\n\n" },
    { ">>>\n", ">>>\n\n" },
    { ">", ">\n\n" },
    { "> From x\n", "> From x\n\n" },
    { " From x\n", " From x\n\n" },
    { "from x\n", "from x\n\n" },
    { "FROM x\n", "FROM x\n\n" },
    { "xFrom x\n", "xFrom x\n\n" },
    { "F>rom x\n", "F>rom x\n\n" },
    { "a\nFrom b\nFrom c\n\nFrom d", "a\n>From b\n>From c\n\n>From d\n\n" },
    { "a From b\n", "a From b\n\n" },
    { "\n\n", "\n\n\n" },
    { "From x\r\nFrom y\r\n", ">From x\r\n>From y\r\n\n" },
    { "Fro", "Fro\n\n" },
  };
  stralloc got = STRALLOC_ZERO;
  size_t i, piece;
  for (i = 0; i < N(cases); ++i) {
    size_t len = strlen(cases[i].in);
    for (piece = 0; piece <= len + 1; ++piece) {
      quoted(cases[i].in, len, piece, &got);
      check_bytes(got.s, got.len, cases[i].want, strlen(cases[i].want), "quote %zu in pieces of %zu", i, piece);
    }
  }
  /* a long run of '>' */
  {
    stralloc in = STRALLOC_ZERO, want = STRALLOC_ZERO;
    size_t k;
    for (k = 0; k < 1000; ++k) stralloc_append(&in, '>');
    stralloc_cats(&in, "From x\n");
    stralloc_append(&want, '>');
    stralloc_cat(&want, &in);
    stralloc_append(&want, '\n');
    quoted(in.s, in.len, 0, &got);
    check_bytes(got.s, got.len, want.s, want.len, "quote: 1000 '>' then From_");
    quoted(in.s, in.len, 3, &got);
    check_bytes(got.s, got.len, want.s, want.len, "quote: 1000 '>' then From_, in pieces");
    stralloc_free(&in);
    stralloc_free(&want);
  }
  stralloc_free(&got);
}

static void content(const char *fn, stralloc *sa)
{
  char buf[65536];
  ssize_t r;
  int fd = open(fn, O_RDONLY);
  sa->len = 0;
  if (fd == -1) { stralloc_copys(sa, "(missing)"); return; }
  while ((r = read(fd, buf, sizeof buf)) > 0) stralloc_catb(sa, buf, (size_t)r);
  close(fd);
}

static int msgfile(const char *s, size_t len)
{
  int fd = open(tmpdir_path("msg"), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd == -1 || write(fd, s, len) != (ssize_t)len) { perror("msg"); exit(111); }
  return fd;
}

static const char head[] = "From a@b Thu Jan 01 00:00:00 1970\nReturn-Path: <a@b>\nDelivered-To: joe@x\n";
static const char msg[] = "Subject: hi\n\nFrom me\nbye";
static const char quotedmsg[] = "Subject: hi\n\n>From me\nbye\n\n";

static void test_append(void)
{
  stralloc got = STRALLOC_ZERO, want = STRALLOC_ZERO;
  struct stat st;
  int fd = msgfile(msg, sizeof msg - 1);

  lseek(fd, 5, SEEK_SET);
  check_long(mbox_append("Mailbox", fd, head, sizeof head - 1, 30), MBOX_OK, "append: new mbox");
  check_long(lseek(fd, 0, SEEK_CUR), 5, "append: the message's offset did not move");
  content("Mailbox", &got);
  stralloc_copys(&want, head);
  stralloc_cats(&want, quotedmsg);
  check_bytes(got.s, got.len, want.s, want.len, "append: new mbox content");
  check(stat("Mailbox", &st) == 0 && (st.st_mode & 07777) == 0600, "append: created with mode 0600");

  check_long(mbox_append("Mailbox", fd, head, sizeof head - 1, 30), MBOX_OK, "append: second message");
  content("Mailbox", &got);
  stralloc_cats(&want, head);
  stralloc_cats(&want, quotedmsg);
  check_bytes(got.s, got.len, want.s, want.len, "append: two messages");

  errno = 0;
  check_long(mbox_append("nodir/Mailbox", fd, head, sizeof head - 1, 30), MBOX_EOPEN, "append: missing directory");
  check_long(errno, ENOENT, "append: missing directory: errno");
  mkdir("adir", 0700);
  check_long(mbox_append("adir", fd, head, sizeof head - 1, 30), MBOX_EOPEN, "append: a directory");

  /* read error: truncated back */
  tmpdir_write(tmpdir_path("Old"), "old content\n", 12);
  errno = 0;
  check_long(mbox_append("Old", -1, head, sizeof head - 1, 30), MBOX_EREAD, "append: unreadable message");
  check_long(errno, EBADF, "append: unreadable message: errno");
  content("Old", &got);
  check_bytes(got.s, got.len, "old content\n", 12, "append: unreadable message: truncated back");

  /* write error in the middle: truncated back */
  {
    struct rlimit old, rl;
    stralloc big = STRALLOC_ZERO;
    int bfd;
    while (big.len < 200000) stralloc_cats(&big, "From line\n");
    bfd = msgfile(big.s, big.len);
    signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old);
    rl = old;
    rl.rlim_cur = 100000;
    setrlimit(RLIMIT_FSIZE, &rl);
    errno = 0;
    check_long(mbox_append("Old", bfd, head, sizeof head - 1, 30), MBOX_EWRITE, "append: write error");
    check_long(errno, EFBIG, "append: write error: errno");
    setrlimit(RLIMIT_FSIZE, &old);
    content("Old", &got);
    check_bytes(got.s, got.len, "old content\n", 12, "append: write error: truncated back");
    close(bfd);
    stralloc_free(&big);
  }
  close(fd);
  stralloc_free(&got);
  stralloc_free(&want);
}

/* The children say "I hold the lock" with SIGUSR1, blocked beforehand. */
static sigset_t usr1;

static void waitusr1(void)
{
  int sig;
  sigwait(&usr1, &sig);
}

static void test_lock(void)
{
  stralloc got = STRALLOC_ZERO;
  int fd = msgfile(msg, sizeof msg - 1);
  int other;
  time_t t0;
  pid_t pid;
  int wstat;

  tmpdir_write(tmpdir_path("Locked"), "old\n", 4);
  other = open("Locked", O_RDONLY);
  check(flock(other, LOCK_EX) == 0, "lock: held by another open file");
  t0 = time(0);
  errno = 0;
  check_long(mbox_append("Locked", fd, head, sizeof head - 1, 1), MBOX_ELOCK, "lock: timeout");
  check_long(errno, ETIMEDOUT, "lock: timeout: errno");
  check(time(0) - t0 <= 3, "lock: timeout after about a second");
  content("Locked", &got);
  check_bytes(got.s, got.len, "old\n", 4, "lock: timeout: file untouched");
  {
    struct sigaction sa;
    sigaction(SIGALRM, 0, &sa);
    check(sa.sa_handler == SIG_DFL, "lock: SIGALRM disposition restored");
    check_long(alarm(0), 0, "lock: no alarm left");
  }
  close(other);

  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, 0);

  /* a lock released while we wait */
  pid = fork();
  if (pid == 0) {
    int l = open("Locked", O_RDONLY);
    flock(l, LOCK_EX);
    kill(getppid(), SIGUSR1);
    usleep(500000);
    _exit(0);
  }
  waitusr1();
  check_long(mbox_append("Locked", fd, head, sizeof head - 1, 10), MBOX_OK, "lock: waited for the lock");
  waitpid(pid, &wstat, 0);
  content("Locked", &got);
  check(got.len == 4 + sizeof head - 1 + sizeof quotedmsg - 1, "lock: appended after the wait");

  /* replaced while we wait: the message goes into the new file */
  pid = fork();
  if (pid == 0) {
    int l = open("Locked", O_RDONLY);
    flock(l, LOCK_EX);
    kill(getppid(), SIGUSR1);
    usleep(300000);
    tmpdir_write(tmpdir_path("Locked.new"), "replaced\n", 9);
    rename("Locked.new", "Locked");
    usleep(200000);
    _exit(0);
  }
  waitusr1();
  check_long(mbox_append("Locked", fd, head, sizeof head - 1, 10), MBOX_OK, "lock: renamed over while waiting");
  waitpid(pid, &wstat, 0);
  content("Locked", &got);
  check(got.len == 9 + sizeof head - 1 + sizeof quotedmsg - 1 && !memcmp(got.s, "replaced\n", 9),
        "lock: renamed over: the message is in the new file");

  /* replaced again each time we get the lock (maildir2mbox run in a
   * loop): a temporary failure, the message written nowhere */
  pid = fork();
  if (pid == 0) {
    int l = open("Locked", O_RDONLY), i;
    flock(l, LOCK_EX);
    kill(getppid(), SIGUSR1);
    for (i = 0; i < 12; ++i) {
      int n;
      usleep(100000);
      tmpdir_write(tmpdir_path("Locked.new"), "again\n", 6);
      n = open("Locked.new", O_RDONLY);
      flock(n, LOCK_EX);
      rename("Locked.new", "Locked");
      close(l); /* releases the old lock: the waiter gets a replaced file */
      l = n;
    }
    usleep(200000);
    _exit(0);
  }
  waitusr1();
  check_long(mbox_append("Locked", fd, head, sizeof head - 1, 10), MBOX_EMOVED, "lock: replaced every time: EMOVED");
  waitpid(pid, &wstat, 0);
  content("Locked", &got);
  check_bytes(got.s, got.len, "again\n", 6, "lock: replaced every time: the message is in no file");

  /* a FIFO with no reader: an error at once, not a wait for ever */
  check(mkfifo("Fifo", 0600) == 0, "fifo: made");
  check_long(mbox_append("Fifo", fd, head, sizeof head - 1, 10), MBOX_EOPEN, "fifo without a reader: EOPEN");

  close(fd);
  stralloc_free(&got);
}

int main(void)
{
  tmpdir_make("mbox_test");
  if (chdir(tmpdir_name) == -1) { perror("chdir"); return 111; }
  test_date();
  test_ufline();
  test_quote();
  test_append();
  test_lock();
  if (chdir("/") == -1) return 111;
  tmpdir_remove();
  return check_end();
}
