/* Tests for lib/buffer.c.
 * not tested: EINTR retries (they need a signal to land mid-call), short
 * writes from the kernel, timeouts above 2000000 seconds. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buffer.h"
#include "check.h"
#include "stralloc.h"
#include "tmpdir.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static unsigned tmpcount;

/* A descriptor open for reading and writing on a new file holding s,
 * positioned at its start. The name is removed at once. */
static int datafd(const char *s, size_t len)
{
  char name[32];
  const char *fn;
  int fd;
  snprintf(name, sizeof name, "f%u", tmpcount++);
  fn = tmpdir_path(name);
  fd = open(fn, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd == -1) { perror(fn); exit(111); }
  unlink(fn);
  if (len && write(fd, s, len) != (ssize_t)len) { perror("write"); exit(111); }
  if (lseek(fd, 0, SEEK_SET) == -1) { perror("lseek"); exit(111); }
  return fd;
}

/* The whole content of fd, from its start, into sa. */
static void slurp(int fd, stralloc *sa)
{
  char buf[4096];
  ssize_t r;
  off_t off = 0;
  sa->len = 0;
  while ((r = pread(fd, buf, sizeof buf, off)) > 0) {
    stralloc_catb(sa, buf, (size_t)r);
    off += r;
  }
}

/* ---- buffer_getline and buffer_skipline ---- */

struct step { char op; int r; const char *line; size_t len; };
#define G(r, s) { 'g', r, s, sizeof s - 1 }
#define S(r) { 's', r, 0, 0 }
#define IN(s) s, sizeof s - 1

static const struct getline_case {
  const char *name;
  const char *in;
  size_t inlen;
  size_t max;
  char sep;
  struct step steps[8];
} getline_cases[] = {
  { "normal lines", IN("one\ntwo\n\nlast\n"), 100, '\n',
    { G(1, "one\n"), G(1, "two\n"), G(1, "\n"), G(1, "last\n"), G(0, "") } },
  { "last line without separator", IN("one\nlast"), 100, '\n',
    { G(1, "one\n"), G(0, "last"), G(0, "") } },
  { "empty input", IN(""), 100, '\n',
    { G(0, ""), S(0) } },
  { "line longer than max", IN("0123456789abc\nnext\n"), 8, '\n',
    { G(-2, "01234567"), S(1), G(1, "next\n"), G(0, "") } },
  { "line of exactly max bytes with separator", IN("abcd\nefgh\n"), 5, '\n',
    { G(1, "abcd\n"), G(1, "efgh\n"), G(0, "") } },
  { "line one byte over max", IN("abcde\nxy\n"), 5, '\n',
    { G(-2, "abcde"), S(1), G(1, "xy\n") } },
  { "separator is the byte after max", IN("abcd\nxy\n"), 4, '\n',
    { G(-2, "abcd"), S(1), G(1, "xy\n") } },
  { "long last line, no separator", IN("0123456789"), 4, '\n',
    { G(-2, "0123"), S(0), G(0, "") } },
  { "NUL separator", IN("a\0bc\0d"), 100, 0,
    { { 'g', 1, "a\0", 2 }, { 'g', 1, "bc\0", 3 }, G(0, "d") } },
  { "skipline then getline", IN("skip me\nkeep\n"), 100, '\n',
    { S(1), G(1, "keep\n"), S(0) } },
  { "max 0", IN("a\n"), 0, '\n',
    { G(-2, ""), S(1), G(0, "") } },
};

static void run_getline_case(const struct getline_case *c, size_t bufsize)
{
  char *space = malloc(bufsize);
  stralloc sa = STRALLOC_ZERO;
  buffer b;
  size_t i;
  int fd = datafd(c->in, c->inlen);
  char sep = c->sep;

  buffer_init(&b, fd, space, bufsize, 0);
  for (i = 0; i < N(c->steps) && c->steps[i].op; ++i) {
    const struct step *s = &c->steps[i];
    if (s->op == 'g') {
      int r;
      sa.len = 0;
      r = buffer_getline(&b, &sa, sep, c->max);
      check_long(r, s->r, "getline %s, buffer %zu, step %zu: result", c->name, bufsize, i);
      check_bytes(sa.len ? sa.s : "", sa.len, s->line, s->len, "getline %s, buffer %zu, step %zu: line",
                  c->name, bufsize, i);
    } else
      check_long(buffer_skipline(&b, sep), s->r, "skipline %s, buffer %zu, step %zu", c->name, bufsize, i);
  }
  close(fd);
  free(space);
  stralloc_free(&sa);
}

static void test_getline(void)
{
  static const size_t sizes[] = { 1, 2, 3, 7, 4096 };
  size_t i, j;
  for (i = 0; i < N(getline_cases); ++i)
    for (j = 0; j < N(sizes); ++j) run_getline_case(&getline_cases[i], sizes[j]);
}

/* getline appends to what sa holds already; max counts only the new bytes. */
static void test_getline_appends(void)
{
  char space[4];
  stralloc sa = STRALLOC_ZERO;
  buffer b;
  int fd = datafd("abc\nxyz", 7);
  buffer_init(&b, fd, space, sizeof space, 0);
  stralloc_copys(&sa, "old:");
  check_long(buffer_getline(&b, &sa, '\n', 4), 1, "getline append: result");
  check_bytes(sa.s, sa.len, "old:abc\n", 8, "getline append: line");
  check_long(buffer_getline(&b, &sa, '\n', 4), 0, "getline append at eof: result");
  check_bytes(sa.s, sa.len, "old:abc\nxyz", 11, "getline append at eof: partial line");
  close(fd);
  stralloc_free(&sa);
}

/* A read error is -1, for both. */
static void test_getline_error(void)
{
  char space[16];
  stralloc sa = STRALLOC_ZERO;
  buffer b;
  int fd = open("/dev/null", O_WRONLY);
  buffer_init(&b, fd, space, sizeof space, 0);
  errno = 0;
  check_long(buffer_getline(&b, &sa, '\n', 100), -1, "getline on a write-only fd");
  check_long(errno, EBADF, "getline on a write-only fd: errno");
  check_long(buffer_skipline(&b, '\n'), -1, "skipline on a write-only fd");
  close(fd);
  stralloc_free(&sa);
}

/* ---- buffer_get, getall, feed, peek, seek ---- */

static void test_get(void)
{
  static const char data[] = "0123456789abcdefghij"; /* 20 bytes */
  char space[8], out[32];
  buffer b;
  ssize_t r;
  int fd = datafd(data, 20);

  buffer_init(&b, fd, space, sizeof space, 0);
  r = buffer_get(&b, out, 3);
  check_long(r, 3, "get 3");
  check_bytes(out, 3, "012", 3, "get 3 data");
  /* 5 more are buffered; asking for 10 gives those 5 */
  r = buffer_get(&b, out, 10);
  check_long(r, 5, "get 10 returns what is buffered");
  check_bytes(out, 5, "34567", 5, "get buffered data");
  /* buffer empty, request >= size: read straight into out */
  r = buffer_get(&b, out, 10);
  check_long(r, 10, "get 10 with empty buffer reads directly");
  check_bytes(out, 10, "89abcdefgh", 10, "direct read data");
  check_long(b.p, b.n, "direct read leaves the buffer empty");
  r = buffer_get(&b, out, 0);
  check_long(r, 0, "get 0 bytes");
  r = buffer_get(&b, out, 10);
  check_long(r, 2, "get the last 2");
  check_bytes(out, 2, "ij", 2, "last 2 data");
  check_long(buffer_get(&b, out, 10), 0, "get at eof");
  check_long(buffer_get(&b, out, 1), 0, "get at eof, small");
  close(fd);

  /* getall across many small reads */
  fd = datafd(data, 20);
  buffer_init(&b, fd, space, 3, 0);
  check_long(buffer_getall(&b, out, 17), 1, "getall 17 through a 3-byte buffer");
  check_bytes(out, 17, data, 17, "getall data");
  check_long(buffer_getall(&b, out, 3), 1, "getall the last 3");
  check_bytes(out, 3, "hij", 3, "getall last data");
  check_long(buffer_getall(&b, out, 0), 1, "getall 0 bytes");
  check_long(buffer_getall(&b, out, 1), 0, "getall at eof");
  close(fd);

  fd = datafd(data, 20);
  buffer_init(&b, fd, space, sizeof space, 0);
  check_long(buffer_getall(&b, out, 25), 0, "getall past eof gives 0");
  close(fd);

  fd = open("/dev/null", O_WRONLY);
  buffer_init(&b, fd, space, sizeof space, 0);
  check_long(buffer_get(&b, out, 1), -1, "get read error");
  check_long(buffer_getall(&b, out, 1), -1, "getall read error");
  check_long(buffer_feed(&b), -1, "feed read error");
  close(fd);
}

static void test_feed_peek_seek(void)
{
  static const char data[] = "hello, world";
  char space[5];
  buffer b;
  ssize_t r;
  int fd = datafd(data, 12);
  stralloc all = STRALLOC_ZERO;

  buffer_init(&b, fd, space, sizeof space, 0);
  r = buffer_feed(&b);
  check_long(r, 5, "feed fills the buffer");
  check_bytes(buffer_peek(&b), 5, "hello", 5, "peek after feed");
  r = buffer_feed(&b);
  check_long(r, 5, "feed again without seek reads nothing new");
  buffer_seek(&b, 2);
  r = buffer_feed(&b);
  check_long(r, 3, "feed after seek 2");
  check_bytes(buffer_peek(&b), 3, "llo", 3, "peek after seek 2");
  buffer_seek(&b, 3);
  r = buffer_feed(&b);
  check_long(r, 5, "feed refills when empty");
  check_bytes(buffer_peek(&b), 5, ", wor", 5, "peek after refill");
  buffer_seek(&b, 5);
  r = buffer_feed(&b);
  check_long(r, 2, "feed the last 2");
  check_bytes(buffer_peek(&b), 2, "ld", 2, "peek last");
  buffer_seek(&b, 2);
  check_long(buffer_feed(&b), 0, "feed at eof");
  check_long(buffer_feed(&b), 0, "feed at eof again");
  close(fd);

  /* the usual feed/peek/seek loop reads everything in order */
  fd = datafd(data, 12);
  buffer_init(&b, fd, space, 3, 0);
  while ((r = buffer_feed(&b)) > 0) {
    stralloc_catb(&all, buffer_peek(&b), 1);
    buffer_seek(&b, 1);
  }
  check_long(r, 0, "feed loop ends at eof");
  check_bytes(all.s, all.len, data, 12, "feed loop data");
  close(fd);
  stralloc_free(&all);
}

/* ---- writing ---- */

static void test_write(void)
{
  char space[4];
  buffer b;
  stralloc got = STRALLOC_ZERO;
  int fd = datafd("", 0);

  buffer_init(&b, fd, space, sizeof space, 0);
  check_long(buffer_put(&b, "ab", 2), 0, "put 2 into a 4-byte buffer");
  slurp(fd, &got);
  check_long(got.len, 0, "put 2: nothing written yet");
  check_long(buffer_put(&b, "cd", 2), 0, "put 2 more: buffer exactly full");
  slurp(fd, &got);
  check_long(got.len, 0, "full buffer: still nothing written");
  check_long(buffer_put(&b, "0123456789", 10), 0, "put larger than the buffer");
  slurp(fd, &got);
  check_bytes(got.s, got.len, "abcd0123456789", 14, "put larger than the buffer: flushed, then written");
  check_long(b.p, 0, "put larger than the buffer: nothing pending");
  check_long(buffer_puts(&b, "xyz"), 0, "puts");
  check_long(b.p, 3, "puts: 3 pending");
  check_long(buffer_puts(&b, "WX"), 0, "puts that does not fit");
  slurp(fd, &got);
  check_bytes(got.s, got.len, "abcd0123456789xyz", 17, "puts that does not fit flushes first");
  check_long(buffer_flush(&b), 0, "flush");
  slurp(fd, &got);
  check_bytes(got.s, got.len, "abcd0123456789xyzWX", 19, "after flush");
  check_long(buffer_flush(&b), 0, "flush with nothing pending");
  check_long(buffer_putflush(&b, "!", 1), 0, "putflush");
  slurp(fd, &got);
  check_bytes(got.s, got.len, "abcd0123456789xyzWX!", 20, "after putflush");
  check_long(buffer_putsflush(&b, "end\n"), 0, "putsflush");
  slurp(fd, &got);
  check_bytes(got.s, got.len, "abcd0123456789xyzWX!end\n", 24, "after putsflush");
  check_long(buffer_put(&b, "", 0), 0, "put 0 bytes");
  check_long(b.p, 0, "put 0 bytes: nothing pending");
  close(fd);

  /* many small puts through a 1-byte buffer */
  {
    char one[1];
    size_t i;
    int ok = 0;
    fd = datafd("", 0);
    buffer_init(&b, fd, one, 1, 0);
    for (i = 0; i < 1000; ++i) ok |= buffer_put(&b, &"abcdefghij"[i % 10], 1);
    ok |= buffer_flush(&b);
    check_long(ok, 0, "1000 puts through a 1-byte buffer");
    slurp(fd, &got);
    check_long(got.len, 1000, "1000 puts: length");
    for (i = 0, ok = 0; i < got.len; ++i) ok += got.s[i] != "abcdefghij"[i % 10];
    check_long(ok, 0, "1000 puts: content");
    close(fd);
  }

  /* write errors */
  fd = open("/dev/null", O_RDONLY);
  buffer_init(&b, fd, space, sizeof space, 0);
  check_long(buffer_put(&b, "ab", 2), 0, "put on a read-only fd is buffered");
  errno = 0;
  check_long(buffer_flush(&b), -1, "flush on a read-only fd");
  check_long(errno, EBADF, "flush on a read-only fd: errno");
  check_long(buffer_putflush(&b, "0123456789", 10), -1, "big put on a read-only fd");
  close(fd);
  stralloc_free(&got);
}

static void test_copy(void)
{
  char inspace[3], outspace[5], data[10000];
  buffer in, out;
  stralloc got = STRALLOC_ZERO;
  size_t i;
  int infd, outfd;

  for (i = 0; i < sizeof data; ++i) data[i] = (char)(i * 7 + i / 256);
  infd = datafd(data, sizeof data);
  outfd = datafd("", 0);
  buffer_init(&in, infd, inspace, sizeof inspace, 0);
  buffer_init(&out, outfd, outspace, sizeof outspace, 0);
  check_long(buffer_copy(&out, &in), 0, "copy 10000 bytes");
  check_long(buffer_flush(&out), 0, "flush after copy");
  slurp(outfd, &got);
  check_bytes(got.s, got.len, data, sizeof data, "copy content");
  close(infd);
  close(outfd);

  /* read error: -2 */
  infd = open("/dev/null", O_WRONLY);
  outfd = datafd("", 0);
  buffer_init(&in, infd, inspace, sizeof inspace, 0);
  buffer_init(&out, outfd, outspace, sizeof outspace, 0);
  check_long(buffer_copy(&out, &in), -2, "copy with a read error");
  close(infd);
  close(outfd);

  /* write error: -3 (more input than the output buffer holds) */
  infd = datafd(data, 100);
  outfd = open("/dev/null", O_RDONLY);
  buffer_init(&in, infd, inspace, sizeof inspace, 0);
  buffer_init(&out, outfd, outspace, sizeof outspace, 0);
  check_long(buffer_copy(&out, &in), -3, "copy with a write error");
  close(infd);
  close(outfd);

  /* empty input */
  infd = datafd("", 0);
  outfd = datafd("", 0);
  buffer_init(&in, infd, inspace, sizeof inspace, 0);
  buffer_init(&out, outfd, outspace, sizeof outspace, 0);
  check_long(buffer_copy(&out, &in), 0, "copy of empty input");
  buffer_flush(&out);
  slurp(outfd, &got);
  check_long(got.len, 0, "copy of empty input writes nothing");
  close(infd);
  close(outfd);
  stralloc_free(&got);
}

/* ---- timeouts ---- */

static void test_timeout(void)
{
  int p[2];
  char space[16], c;
  buffer b;
  stralloc sa = STRALLOC_ZERO;
  time_t start;

  if (pipe(p) == -1) { perror("pipe"); exit(111); }
  buffer_init(&b, p[0], space, sizeof space, 1);
  start = time(0);
  errno = 0;
  check_long(buffer_feed(&b), -1, "feed on a silent pipe times out");
  check_long(errno, ETIMEDOUT, "read timeout: errno");
  check(time(0) - start <= 5, "read timeout took about a second");
  errno = 0;
  check_long(buffer_getline(&b, &sa, '\n', 100), -1, "getline on a silent pipe times out");
  check_long(errno, ETIMEDOUT, "getline timeout: errno");
  errno = 0;
  check_long(buffer_unixread(p[0], &c, 1, 1), -1, "unixread times out");
  check_long(errno, ETIMEDOUT, "unixread timeout: errno");

  /* data that is there is read at once, timeout or not */
  check_long(write(p[1], "x\n", 2), 2, "write into the pipe");
  sa.len = 0;
  check_long(buffer_getline(&b, &sa, '\n', 100), 1, "getline with a timeout and data");
  check_bytes(sa.s, sa.len, "x\n", 2, "getline with a timeout: line");

  /* A full pipe: the write times out. */
  {
    char big[4096], wspace[8];
    int flags = fcntl(p[1], F_GETFL);
    memset(big, 'z', sizeof big);
    fcntl(p[1], F_SETFL, flags | O_NONBLOCK);
    while (write(p[1], big, sizeof big) > 0) continue;
    while (write(p[1], big, 1) > 0) continue;
    fcntl(p[1], F_SETFL, flags);
    buffer_init(&b, p[1], wspace, sizeof wspace, 1);
    errno = 0;
    check_long(buffer_putflush(&b, "abc", 3), -1, "write into a full pipe times out");
    check_long(errno, ETIMEDOUT, "write timeout: errno");
  }
  close(p[0]);
  close(p[1]);
  stralloc_free(&sa);
}

int main(void)
{
  tmpdir_make("buffer_test");
  signal(SIGPIPE, SIG_IGN);
  test_getline();
  test_getline_appends();
  test_getline_error();
  test_get();
  test_feed_peek_seek();
  test_write();
  test_copy();
  test_timeout();
  tmpdir_remove();
  return check_end();
}
