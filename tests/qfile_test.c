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

static int same(const struct qfile_trailer *t, uint64_t m, uint64_t e, uint64_t q, uint64_t h)
{
  return t->msglen == m && t->envlen == e && t->qtime == q && t->hash == h;
}

static void test_trailer(void)
{
  static const struct { uint64_t m, e, t, h; } cases[] = {
    { 0, 0, 0, 0 },
    { 5, 7, 1700000000, 0x0123456789abcdefULL },
    { 1, 2, 3, 1 },
    { 99999999999ULL, 1000, 4102444800ULL, 0xfedcba9876543210ULL },
    { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX },
  };
  size_t i;
  char buf[QFILE_TRAILER + 1];
  struct qfile_trailer t;

  qfile_trailer_fmt(buf, 5, 7, 1700000000, 0x0123456789abcdefULL);
  check_bytes(buf, QFILE_TRAILER,
              "\nQQ2 m=00000000000000000005 e=00000000000000000007 t=00000000001700000000 h=0123456789abcdef\n",
              QFILE_TRAILER, "trailer text");

  for (i = 0; i < N(cases); ++i) {
    memset(buf, '#', sizeof buf);
    memset(&t, 0, sizeof t);
    qfile_trailer_fmt(buf, cases[i].m, cases[i].e, cases[i].t, cases[i].h);
    check_long(buf[QFILE_TRAILER], '#', "trailer %zu: nothing written past QFILE_TRAILER", i);
    check_long(qfile_trailer_parse(buf, QFILE_TRAILER, &t), 1, "trailer %zu parses", i);
    check(same(&t, cases[i].m, cases[i].e, cases[i].t, cases[i].h) && t.hashed && t.len == QFILE_TRAILER,
          "trailer %zu round trip", i);
  }

  /* Any single changed byte is refused or reads differently. */
  {
    static const char repl[] = { '0', '1', '9', 'a', 'f', 'A', 'F', 'g', ' ', 'x', '\n', '\0', '=', 'Q', (char)0xb0 };
    uint64_t m0 = 12345, e0 = 678, t0 = 1795313113, h0 = 0x9abcdef012345678ULL;
    size_t pos, r, alike = 0, tried = 0;
    char good[QFILE_TRAILER], bad[QFILE_TRAILER];
    qfile_trailer_fmt(good, m0, e0, t0, h0);
    for (pos = 0; pos < QFILE_TRAILER; ++pos)
      for (r = 0; r < N(repl) + 1; ++r) {
        memcpy(bad, good, sizeof bad);
        bad[pos] = r < N(repl) ? repl[r] : (char)(good[pos] + 1);
        if (bad[pos] == good[pos]) continue;
        ++tried;
        if (qfile_trailer_parse(bad, QFILE_TRAILER, &t) && same(&t, m0, e0, t0, h0)) {
          ++alike;
          printf("# byte %zu changed to 0x%02x still parses the same\n", pos, (unsigned char)bad[pos]);
        }
      }
    check(tried > 1300, "changed-byte cases tried: %zu", tried);
    check_long(alike, 0, "trailers with one byte changed that parse the same");
  }

  /* numbers over 64 bits (20 nines) are refused; so is a short buffer */
  qfile_trailer_fmt(buf, 0, 0, 0, 0);
  memset(buf + 7, '9', 20);
  check_long(qfile_trailer_parse(buf, QFILE_TRAILER, &t), 0, "m of twenty nines is refused");
  qfile_trailer_fmt(buf, 0, 0, 0, 0);
  check_long(qfile_trailer_parse(buf, QFILE_TRAILER - 1, &t), 0, "a QQ2 trailer one byte short is refused");

  /* QQ1, from before the hash: read in the last 74 bytes, not hashed */
  {
    static const char qq1[] = "\nQQ1 m=00000000000000000005 e=00000000000000000007 t=00000000001700000000\n";
    char longer[QFILE_TRAILER];
    check_long(sizeof qq1 - 1, QFILE_TRAILER1, "a QQ1 trailer is QFILE_TRAILER1 bytes");
    memset(&t, 0xff, sizeof t);
    check_long(qfile_trailer_parse(qq1, sizeof qq1 - 1, &t), 1, "QQ1 alone parses");
    check(same(&t, 5, 7, 1700000000, 0) && !t.hashed && t.len == QFILE_TRAILER1, "QQ1: its numbers, no hash");
    memset(longer, 'Z', sizeof longer);
    memcpy(longer + QFILE_TRAILER - QFILE_TRAILER1, qq1, QFILE_TRAILER1);
    check_long(qfile_trailer_parse(longer, sizeof longer, &t), 1, "QQ1 at the end of QFILE_TRAILER bytes parses");
    check(same(&t, 5, 7, 1700000000, 0) && t.len == QFILE_TRAILER1, "QQ1 at the end: its numbers");
    check_long(qfile_trailer_parse(qq1, sizeof qq1 - 2, &t), 0, "QQ1 one byte short is refused");
    check_long(qfile_trailer_parse(qq1 + 1, sizeof qq1 - 2, &t), 0, "QQ1 without its first byte is refused");
  }
}

/* qfile_hash of the len bytes at s, in one go. */
static uint64_t hashof(const char *s, size_t len)
{
  struct qfile_hash h;
  qfile_hash_init(&h);
  qfile_hash_add(&h, s, len);
  return qfile_hash_end(&h);
}

static void test_hash(void)
{
  static const char text[] = "Received: (qmail 1 invoked by uid 0)\nSubject: hash\n\nabcdefghijklmnopq\n";
  size_t n = sizeof text - 1, a, b, split = 0, diff = 0;
  uint64_t whole = hashof(text, n);

  /* The format's own values: qmail-queue writes them into queue files,
   * and tests/e2e/quail.py computes them the same way. */
  check(hashof("", 0) == 0xff2d951d2458fb1bULL, "hash of nothing: %016llx", (unsigned long long)hashof("", 0));
  check(hashof("abc", 3) == 0xfd923f2bbc65f4a2ULL, "hash of abc: %016llx", (unsigned long long)hashof("abc", 3));

  /* In pieces, cut anywhere: the same. */
  for (a = 0; a <= n; ++a)
    for (b = a; b <= n; ++b) {
      struct qfile_hash h;
      qfile_hash_init(&h);
      qfile_hash_add(&h, text, a);
      qfile_hash_add(&h, text + a, b - a);
      qfile_hash_add(&h, text + b, n - b);
      if (qfile_hash_end(&h) != whole) ++split;
    }
  check_long(split, 0, "pieces that hash differently from the whole");

  /* Any one byte changed, dropped, or added at the end: different. */
  {
    char t[sizeof text + 1];
    unsigned v;
    for (a = 0; a < n; ++a)
      for (v = 1; v < 256; ++v) {
        memcpy(t, text, n);
        t[a] = (char)((unsigned char)t[a] ^ v);
        if (hashof(t, n) == whole) ++diff;
      }
    for (a = 0; a < n; ++a)
      if (hashof(text, a) == whole) ++diff;
    memcpy(t, text, n);
    t[n] = 0;
    if (hashof(t, n + 1) == whole) ++diff;
    check_long(diff, 0, "changed texts that hash the same");
  }
}

static unsigned filecount;

/* Writes message + envelope + trailer (with the given numbers, and the
 * hash of message and envelope) to a new file; returns a descriptor open
 * for reading, and its size in *size. */
static int qfile(const char *msg, size_t msglen, const char *env, size_t envlen,
                 uint64_t tm, uint64_t te, uint64_t tt, uint64_t *size)
{
  stralloc sa = STRALLOC_ZERO;
  char t[QFILE_TRAILER], fn[32];
  int fd;

  stralloc_catb(&sa, msg, msglen);
  stralloc_catb(&sa, env, envlen);
  qfile_trailer_fmt(t, tm, te, tt, hashof(sa.s, sa.len));
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
    stralloc_catb(&whole, msg, sizeof msg - 1);
    stralloc_catb(&whole, env, sizeof env - 1);
    qfile_trailer_fmt(tr, sizeof msg - 1, sizeof env - 1, 1, hashof(whole.s, whole.len));
    stralloc_catb(&whole, tr, sizeof tr);
    for (k = 0; k < whole.len; ++k) {
      tmpdir_write(tmpdir_path("trunc"), whole.s, k);
      fd = open(tmpdir_path("trunc"), O_RDONLY);
      if (qfile_read(fd, k, &m, &t, &e) != 0) ++notzero;
      /* and the size claims more than the file has */
      if (qfile_read(fd, whole.len, &m, &t, &e) != 0) ++notzero;
      if (qfile_verify(fd, k) != 0) ++notzero;
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

/* Writes the len bytes at s to a new file: its descriptor, for reading. */
static int file_of(const char *s, size_t len)
{
  char fn[32];
  int fd;
  snprintf(fn, sizeof fn, "v%u", filecount++);
  tmpdir_write(tmpdir_path(fn), s, len);
  fd = open(tmpdir_path(fn), O_RDONLY);
  if (fd == -1) { perror("open"); exit(111); }
  return fd;
}

static void test_verify(void)
{
  stralloc whole = STRALLOC_ZERO, e = STRALLOC_ZERO;
  char tr[QFILE_TRAILER];
  size_t k, missed = 0, body;
  uint64_t size, m, t;
  int fd;

  fd = qfile(msg, sizeof msg - 1, env, sizeof env - 1, sizeof msg - 1, sizeof env - 1, 1, &size);
  check_long(qfile_verify(fd, size), 1, "qfile_verify of a whole file");
  check_long(qfile_verify(fd, size - 1), 0, "qfile_verify with a size one too small");
  close(fd);

  /* Every byte of message and envelope, changed: caught. */
  stralloc_catb(&whole, msg, sizeof msg - 1);
  stralloc_catb(&whole, env, sizeof env - 1);
  body = whole.len;
  qfile_trailer_fmt(tr, sizeof msg - 1, sizeof env - 1, 1, hashof(whole.s, body));
  stralloc_catb(&whole, tr, sizeof tr);
  for (k = 0; k < body; ++k) {
    whole.s[k] ^= 0x20;
    fd = file_of(whole.s, whole.len);
    if (qfile_verify(fd, whole.len) != 0) ++missed;
    close(fd);
    whole.s[k] ^= 0x20;
  }
  check_long(missed, 0, "changed bytes qfile_verify misses");

  /* What a reused file may hold after a power cut: the new message's
   * first bytes, then the old one's, and the old trailer. */
  {
    stralloc old = STRALLOC_ZERO;
    static const char oldmsg[] = "Received: (qmail 2 invoked by uid 0); 22 Nov 2026 02:05:14 -0000\nSubject: older and longer\n\nsecret\n";
    stralloc_catb(&old, oldmsg, sizeof oldmsg - 1);
    stralloc_catb(&old, env, sizeof env - 1);
    qfile_trailer_fmt(tr, sizeof oldmsg - 1, sizeof env - 1, 1, hashof(old.s, old.len));
    stralloc_catb(&old, tr, sizeof tr);
    memcpy(old.s, msg, 40);
    fd = file_of(old.s, old.len);
    check_long(qfile_read(fd, old.len, &m, &t, &e), 1, "a mixed file still reads as a queue file");
    check_long(qfile_verify(fd, old.len), 0, "qfile_verify: a mixed file is not whole");
    close(fd);
    stralloc_free(&old);
  }

  /* Bigger than qfile_verify's buffer: its end counts too. */
  {
    stralloc big = STRALLOC_ZERO;
    size_t i, blen;
    stralloc_cats(&big, "Subject: big\n\n");
    for (i = 0; i < 20000; ++i) stralloc_cats(&big, "0123456789\n");
    blen = big.len;
    stralloc_catb(&big, env, sizeof env - 1);
    qfile_trailer_fmt(tr, blen, sizeof env - 1, 1, hashof(big.s, big.len));
    stralloc_catb(&big, tr, sizeof tr);
    fd = file_of(big.s, big.len);
    check_long(qfile_verify(fd, big.len), 1, "qfile_verify of a 220 KB file");
    close(fd);
    big.s[blen - 2] = 'x';
    fd = file_of(big.s, big.len);
    check_long(qfile_verify(fd, big.len), 0, "qfile_verify: its last message byte changed");
    close(fd);
    stralloc_free(&big);
  }

  /* QQ1: read as before, and whole by definition (it has no hash). */
  {
    stralloc q = STRALLOC_ZERO;
    char q1[QFILE_TRAILER1 + 1];
    snprintf(q1, sizeof q1, "\nQQ1 m=%020u e=%020u t=%020u\n", (unsigned)(sizeof msg - 1), (unsigned)(sizeof env - 1), 7u);
    stralloc_catb(&q, msg, sizeof msg - 1);
    stralloc_catb(&q, env, sizeof env - 1);
    stralloc_catb(&q, q1, QFILE_TRAILER1);
    fd = file_of(q.s, q.len);
    check_long(qfile_read(fd, q.len, &m, &t, &e), 1, "qfile_read of a QQ1 file");
    check(m == sizeof msg - 1 && t == 7, "QQ1 file: msglen and qtime");
    check_bytes(e.s, e.len, env, sizeof env - 1, "QQ1 file: envelope");
    check_long(qfile_verify(fd, q.len), 1, "qfile_verify of a QQ1 file");
    check_long(qfile_read(fd, q.len - 1, &m, &t, &e), 0, "QQ1 file with a size one too small");
    close(fd);
    /* a QQ1 file shorter than a QQ2 trailer: only an empty message */
    q.len = 0;
    stralloc_catb(&q, "u0\0p1\0F\0\0", 9);
    snprintf(q1, sizeof q1, "\nQQ1 m=%020u e=%020u t=%020u\n", 0u, 9u, 7u);
    stralloc_catb(&q, q1, QFILE_TRAILER1);
    fd = file_of(q.s, q.len);
    check(q.len < QFILE_TRAILER && qfile_read(fd, q.len, &m, &t, &e) == 1 && m == 0, "a QQ1 file of %zu bytes", q.len);
    close(fd);
    stralloc_free(&q);
  }

  fd = open("/dev/null", O_WRONLY);
  check_long(qfile_verify(fd, 200), -1, "qfile_verify on an unreadable fd");
  close(fd);
  stralloc_free(&whole);
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
  test_hash();
  test_read();
  test_verify();
  test_name();
  tmpdir_remove();
  return check_end();
}
