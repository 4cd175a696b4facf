/* Tests for lib/qfile.c.
 * not tested: pread errors other than a descriptor that cannot be read;
 * envelopes larger than memory. A trailer whose msglen and envlen are
 * shifted by the same amount is accepted when the envelope still frames
 * (qfile_read checks the envelope's framing, not its record letters). */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "qfile.h"
#include "stralloc.h"
#include "tmpdir.h"

#define N(a) (sizeof (a) / sizeof (a)[0])
#define IN(s) s, sizeof s - 1

static void test_trailer(void)
{
  static const struct { uint64_t m, e, t; } cases[] = {
    { 0, 0, 0 },
    { 5, 7, 1700000000 },
    { 1, 2, 3 },
    { 99999999999ULL, 1000, 4102444800ULL },
    { UINT64_MAX, UINT64_MAX, UINT64_MAX },
  };
  size_t i;
  char buf[QFILE_TRAILER + 1];

  qfile_trailer_fmt(buf, 5, 7, 1700000000);
  check_bytes(buf, QFILE_TRAILER, "\nQQ1 m=00000000000000000005 e=00000000000000000007 t=00000000001700000000\n",
              QFILE_TRAILER, "trailer text");

  for (i = 0; i < N(cases); ++i) {
    uint64_t m = 1, e = 1, t = 1;
    memset(buf, '#', sizeof buf);
    qfile_trailer_fmt(buf, cases[i].m, cases[i].e, cases[i].t);
    check_long(buf[QFILE_TRAILER], '#', "trailer %zu: nothing written past QFILE_TRAILER", i);
    check_long(qfile_trailer_parse(buf, &m, &e, &t), 1, "trailer %zu parses", i);
    check(m == cases[i].m && e == cases[i].e && t == cases[i].t, "trailer %zu round trip", i);
  }

  /* Any single changed byte is refused or reads differently. */
  {
    static const char repl[] = { '0', '1', '9', ' ', 'x', '\n', '\0', '=', 'Q', (char)0xb0 };
    uint64_t m0 = 12345, e0 = 678, t0 = 1795313113;
    size_t pos, r, same = 0, tried = 0;
    char good[QFILE_TRAILER], bad[QFILE_TRAILER];
    qfile_trailer_fmt(good, m0, e0, t0);
    for (pos = 0; pos < QFILE_TRAILER; ++pos)
      for (r = 0; r < N(repl) + 1; ++r) {
        uint64_t m, e, t;
        memcpy(bad, good, sizeof bad);
        bad[pos] = r < N(repl) ? repl[r] : (char)(good[pos] + 1);
        if (bad[pos] == good[pos]) continue;
        ++tried;
        if (qfile_trailer_parse(bad, &m, &e, &t) && m == m0 && e == e0 && t == t0) {
          ++same;
          printf("# byte %zu changed to 0x%02x still parses the same\n", pos, (unsigned char)bad[pos]);
        }
      }
    check(tried > 700, "changed-byte cases tried: %zu", tried);
    check_long(same, 0, "trailers with one byte changed that parse the same");
  }

  /* numbers over 64 bits (20 nines) are refused */
  {
    uint64_t m, e, t;
    qfile_trailer_fmt(buf, 0, 0, 0);
    memset(buf + 7, '9', 20);
    check_long(qfile_trailer_parse(buf, &m, &e, &t), 0, "m of twenty nines is refused");
  }
}

static unsigned filecount;

/* Writes message + envelope + trailer (with the given numbers) to a new
 * file; returns a descriptor open for reading, and its size in *size. */
static int qfile(const char *msg, size_t msglen, const char *env, size_t envlen,
                 uint64_t tm, uint64_t te, uint64_t tt, uint64_t *size)
{
  stralloc sa = STRALLOC_ZERO;
  char t[QFILE_TRAILER], fn[32];
  int fd;

  qfile_trailer_fmt(t, tm, te, tt);
  stralloc_catb(&sa, msg, msglen);
  stralloc_catb(&sa, env, envlen);
  stralloc_catb(&sa, t, sizeof t);
  snprintf(fn, sizeof fn, "q%u", filecount++);
  tmpdir_write(tmpdir_path(fn), sa.s, sa.len);
  fd = open(tmpdir_path(fn), O_RDONLY);
  if (fd == -1) { perror("open"); exit(111); }
  *size = sa.len;
  stralloc_free(&sa);
  return fd;
}

static const char msg[] = "Received: (qmail 1 invoked by uid 0); 22 Nov 2026 02:05:13 -0000\nSubject: x\n\nhello\n";
static const char env[] = "u0\0p12\0Fa@b.example\0Tc@d.example\0Te@f.example\0\0";

static void test_read(void)
{
  stralloc e = STRALLOC_ZERO;
  uint64_t size, m, t;
  int fd;

  fd = qfile(msg, sizeof msg - 1, env, sizeof env - 1, sizeof msg - 1, sizeof env - 1, 1795313113, &size);
  check_long(qfile_read(fd, size, &m, &t, &e), 1, "qfile_read of a good file");
  check_long(m, sizeof msg - 1, "qfile_read: msglen");
  check_long(t, 1795313113, "qfile_read: qtime");
  check_bytes(e.s, e.len, env, sizeof env - 1, "qfile_read: envelope");
  check_long(qfile_read(fd, size + 1, &m, &t, &e), 0, "qfile_read with a size one too big");
  check_long(qfile_read(fd, size - 1, &m, &t, &e), 0, "qfile_read with a size one too small");
  check_long(qfile_read(fd, QFILE_TRAILER - 1, &m, &t, &e), 0, "qfile_read with a size below the trailer");
  check_long(qfile_read(fd, 0, &m, &t, &e), 0, "qfile_read with size 0");
  close(fd);

  /* an empty message is fine */
  fd = qfile("", 0, env, sizeof env - 1, 0, sizeof env - 1, 7, &size);
  check_long(qfile_read(fd, size, &m, &t, &e), 1, "qfile_read of an empty message");
  check_long(m, 0, "empty message: msglen");
  close(fd);

  /* message and envelope lengths shifted by the same amount: the sum is
   * right, but the "envelope" then starts inside the message */
  fd = qfile(msg, sizeof msg - 1, env, sizeof env - 1, sizeof msg - 3, sizeof env + 1, 1, &size);
  check_long(qfile_read(fd, size, &m, &t, &e), 0, "qfile_read, lengths shifted by 2 bytes");
  close(fd);

  /* the trailer's sizes must match the file */
  {
    static const struct { const char *name; int64_t dm, de; } wrong[] = {
      { "msglen + 1", 1, 0 }, { "msglen - 1", -1, 0 }, { "envlen + 1", 0, 1 }, { "envlen - 1", 0, -1 },
    };
    size_t i;
    for (i = 0; i < N(wrong); ++i) {
      fd = qfile(msg, sizeof msg - 1, env, sizeof env - 1, (uint64_t)((int64_t)sizeof msg - 1 + wrong[i].dm),
                 (uint64_t)((int64_t)sizeof env - 1 + wrong[i].de), 1, &size);
      check_long(qfile_read(fd, size, &m, &t, &e), 0, "qfile_read, trailer %s", wrong[i].name);
      close(fd);
    }
  }
  /* sizes that add up only by wrapping around 2^64 */
  {
    uint64_t fsize = sizeof msg - 1 + sizeof env - 1 + QFILE_TRAILER;
    fd = qfile(msg, sizeof msg - 1, env, sizeof env - 1, fsize - QFILE_TRAILER + 1, UINT64_MAX, 1, &size);
    check_long(qfile_read(fd, size, &m, &t, &e), 0, "qfile_read, msglen + envlen wraps to the file size");
    close(fd);
    fd = qfile(msg, sizeof msg - 1, env, sizeof env - 1, fsize, UINT64_MAX - QFILE_TRAILER + 1, 1, &size);
    check_long(qfile_read(fd, size, &m, &t, &e), 0, "qfile_read, msglen = file size, envlen wraps");
    close(fd);
  }

  /* envelopes that do not end exactly at their terminating NUL */
  {
    static const struct { const char *name; const char *env; size_t len; } bad[] = {
      { "no final NUL", IN("u0\0p12\0Fa\0Tb\0") },
      { "unterminated record", IN("u0\0p12\0Fa\0Tb") },
      { "bytes after the final NUL", IN("u0\0p12\0Fa\0Tb\0\0x") },
      { "two final NULs", IN("u0\0p12\0Fa\0Tb\0\0\0") },
      { "empty envelope", IN("") },
      { "records out of order (F before u)", IN("Fa\0u0\0p12\0Tb\0\0") },
      { "no p record", IN("u0\0Fa\0Tb\0\0") },
      { "a second F", IN("u0\0p12\0Fa\0Fb\0\0") },
      { "a record that is not T after F", IN("u0\0p12\0Fa\0Xb\0\0") },
      { "only u and p", IN("u0\0p12\0\0") },
    };
    size_t i;
    for (i = 0; i < N(bad); ++i) {
      fd = qfile(msg, sizeof msg - 1, bad[i].env, bad[i].len, sizeof msg - 1, bad[i].len, 1, &size);
      check_long(qfile_read(fd, size, &m, &t, &e), 0, "qfile_read, envelope %s", bad[i].name);
      close(fd);
    }
  }

  /* a truncated file, at every length, with its real size */
  {
    stralloc whole = STRALLOC_ZERO;
    char tr[QFILE_TRAILER];
    size_t k, notzero = 0;
    qfile_trailer_fmt(tr, sizeof msg - 1, sizeof env - 1, 1);
    stralloc_catb(&whole, msg, sizeof msg - 1);
    stralloc_catb(&whole, env, sizeof env - 1);
    stralloc_catb(&whole, tr, sizeof tr);
    for (k = 0; k < whole.len; ++k) {
      tmpdir_write(tmpdir_path("trunc"), whole.s, k);
      fd = open(tmpdir_path("trunc"), O_RDONLY);
      if (qfile_read(fd, k, &m, &t, &e) != 0) ++notzero;
      /* and the size claims more than the file has */
      if (qfile_read(fd, whole.len, &m, &t, &e) != 0) ++notzero;
      close(fd);
    }
    check_long(notzero, 0, "truncated files that are not refused");
    stralloc_free(&whole);
  }

  /* a read error */
  fd = open("/dev/null", O_WRONLY);
  check_long(qfile_read(fd, 200, &m, &t, &e), -1, "qfile_read on an unreadable fd");
  close(fd);
  stralloc_free(&e);
}

static void test_name(void)
{
  static const struct { const char *dir; unsigned long id, split; const char *want; } cases[] = {
    { "mess", 1234, 23, "mess/15/1234" },
    { "mess", 1234, 0, "mess/1234" },
    { "queue/todo", 0, 23, "queue/todo/0/0" },
    { "todo", 22, 23, "todo/22/22" },
    { "todo", 23, 23, "todo/0/23" },
    { "todo", 4294967295UL, 23, "todo/11/4294967295" },
    { "d", 7, 1, "d/0/7" },
  };
  stralloc sa = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    stralloc_copys(&sa, "");
    check_long(qfile_name(&sa, cases[i].dir, cases[i].id, cases[i].split), 1, "qfile_name %zu", i);
    check_bytes(sa.s, sa.len, cases[i].want, strlen(cases[i].want), "qfile_name(%s, %lu, %lu)", cases[i].dir,
                cases[i].id, cases[i].split);
  }
  stralloc_copys(&sa, "/var/qmail/queue/");
  qfile_name(&sa, "info", 100, 23);
  check_bytes(sa.s, sa.len, "/var/qmail/queue/info/8/100", 27, "qfile_name appends");
  stralloc_free(&sa);
}

int main(void)
{
  tmpdir_make("qfile_test");
  test_trailer();
  test_read();
  test_name();
  tmpdir_remove();
  return check_end();
}
