/* Tests for lib/qmtp.c.
 * not tested: read errors other than end of file; running out of memory. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <unistd.h>

#include "buffer.h"
#include "check.h"
#include "qmtp.h"
#include "stralloc.h"
#include "tmpdir.h"

#define N(a) (sizeof (a) / sizeof (a)[0])
#define IN(s) s, sizeof s - 1

static void test_body(void)
{
  static const struct { const char *in; size_t len; int ok; const char *want; size_t wlen; } cases[] = {
    { IN("\nhello\n"), 1, IN("hello\n") },                 /* LF: as it is */
    { IN("\na\r\nb\r"), 1, IN("a\r\nb\r") },               /* LF mode keeps CR LF */
    { IN("\n"), 1, IN("") },                               /* the mode byte alone */
    { IN("\rhello\r\n"), 1, IN("hello\n") },               /* CR: CR LF -> LF */
    { IN("\ra\r\nb\r\nc"), 1, IN("a\nb\nc") },
    { IN("\ra\rb"), 1, IN("a\rb") },                       /* a lone CR stays */
    { IN("\ra\r\r\nb"), 1, IN("a\r\nb") },                 /* CR CR LF: the first stays */
    { IN("\ra\r\r\r"), 1, IN("a\r\r\r") },                 /* a last CR stays */
    { IN("\r\r"), 1, IN("\r") },
    { IN("\r\n"), 1, IN("\n") },                           /* LF right after the mode byte */
    { IN("\r\n\n"), 1, IN("\n\n") },                       /* bare LFs pass */
    { IN("\r"), 1, IN("") },
    { IN("\ra\0b\r\n"), 1, IN("a\0b\n") },                 /* NULs pass */
    { IN("Xhello"), 0, IN("") },                           /* bad mode byte */
    { IN(" \n"), 0, IN("") },
    { IN("\0"), 0, IN("") },
  };
  size_t i, chunk;

  for (i = 0; i < N(cases); ++i)
    for (chunk = 1; chunk <= cases[i].len + 1; ++chunk) {
      /* the same answer whatever the chunks: a CR may straddle two */
      struct qmtp_body q;
      char out[64];
      size_t pos = 0, n = 0;
      int ok = 1;
      qmtp_body_start(&q);
      while (pos < cases[i].len) {
        size_t k = cases[i].len - pos < chunk ? cases[i].len - pos : chunk;
        ssize_t r = qmtp_body_conv(&q, cases[i].in + pos, k, out + n);
        if (r < 0) { ok = 0; break; }
        if ((size_t)r > k + 1) { ok = -1; break; }
        n += (size_t)r;
        pos += k;
      }
      if (ok == 1) n += qmtp_body_end(&q, out + n);
      check_long(ok, cases[i].ok, "body case %zu chunk %zu: accepted", i, chunk);
      if (ok == 1 && cases[i].ok)
        check_bytes(out, n, cases[i].want, cases[i].wlen, "body case %zu chunk %zu: bytes", i, chunk);
    }
}

static int openstr(const char *s, size_t len)
{
  int fd;
  tmpdir_write(tmpdir_path("in"), s, len);
  fd = open(tmpdir_path("in"), O_RDONLY);
  if (fd == -1) { perror("open"); exit(111); }
  return fd;
}

static void test_getlen(void)
{
  static const struct { const char *in; size_t len; size_t left; int r; size_t want; size_t leftafter; } cases[] = {
    { IN("3:abc,"), 6, 1, 3, 4 },
    { IN("0:,"), 3, 1, 0, 1 },
    { IN("3:abc,"), 5, -2, 0, 0 },          /* the comma would not fit */
    { IN("3:abc,"), 4, -2, 0, 0 },
    { IN("3:abc,"), 2, -2, 0, 0 },          /* nor the colon */
    { IN("3:abc,"), 0, -2, 0, 0 },          /* nothing left at all */
    { IN("12:abcdefghijkl,"), 100, 1, 12, 97 },
    { IN("03:abc,"), 100, -2, 0, 0 },       /* leading zero */
    { IN("00:,"), 100, -2, 0, 0 },
    { IN(":abc,"), 100, -2, 0, 0 },         /* no digits */
    { IN("3x"), 100, -2, 0, 0 },
    { IN("-3:"), 100, -2, 0, 0 },
    { IN("99999999999999999999999999:"), (size_t)-1, -2, 0, 0 }, /* would overflow */
    { IN("18446744073709551615:"), (size_t)-1, -2, 0, 0 },
    { IN("3"), 100, -1, 0, 0 },             /* end of file in the prefix */
    { IN(""), 100, -1, 0, 0 },
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    char space[4];
    buffer b;
    size_t left = cases[i].left, len = 777;
    int fd = openstr(cases[i].in, cases[i].len), r;
    buffer_init(&b, fd, space, sizeof space, 0);
    errno = 0;
    r = qmtp_getlen(&b, &left, &len);
    check_long(r, cases[i].r, "getlen case %zu (%s, left %zu)", i, cases[i].in, cases[i].left);
    if (r == 1) {
      check_long(len, cases[i].want, "getlen case %zu: length", i);
      check_long(left, cases[i].leftafter, "getlen case %zu: left after", i);
    }
    if (r == -1) check_long(errno, EPROTO, "getlen case %zu: end of file is EPROTO", i);
    close(fd);
  }
}

/* A QMTP recipient list read the way qmail-qmtpd reads it. */
static void test_fields(void)
{
  static const struct { const char *in; size_t len; size_t max; const char *want; int r; size_t extra; } cases[] = {
    /* want: the fields joined by '|', "!" for an unusable one; the list's
     * length is the input's plus extra */
    { IN("3:a@b,1:c,"), 1000, "a@b|c", 1, 0 },
    { IN("0:,"), 1000, "", 1, 0 },
    { IN(""), 1000, "", 1, 0 },                       /* no recipients */
    { IN("3:a\0b,1:c,"), 1000, "!|c", 1, 0 },         /* a NUL makes it unusable */
    { IN("5:abcde,2:xy,"), 5, "!|xy", 1, 0 },         /* at least max bytes: dropped */
    { IN("5:abcde,2:xy,"), 6, "abcde|xy", 1, 0 },
    { IN("3:abc;"), 1000, "", -2, 0 },                /* no comma */
    { IN("3:ab"), 1000, "", -2, 0 },               /* the length runs past the list */
    { IN("3:ab"), 1000, "", -1, 10 },              /* end of file inside */
    { IN("3:abc"), 1000, "", -1, 10 },             /* end of file before the comma */
    { IN("3:abc,"), 1000, "abc", -1, 10 },         /* end of file before the next field */
    { IN("3:abc,1"), 1000, "abc", -1, 10 },
    { IN("3:abc,4:x"), 1000, "abc", -2, 0 },          /* the list's own length is 9: runs past it */
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    char space[3];
    buffer b;
    stralloc sa = STRALLOC_ZERO, got = STRALLOC_ZERO;
    size_t left = cases[i].len + cases[i].extra, len;
    int fd = openstr(cases[i].in, cases[i].len), r = 1;
    buffer_init(&b, fd, space, sizeof space, 0);
    while (left) {
      r = qmtp_getlen(&b, &left, &len);
      if (r != 1) break;
      r = qmtp_getfield(&b, &left, len, &sa, cases[i].max);
      if (r < 0) break;
      if (got.len) stralloc_append(&got, '|');
      if (r == 0) { stralloc_cats(&got, "!"); check_long(sa.len, 0, "fields case %zu: dropped field empty", i); }
      else {
        check_long(sa.len, len + 1, "fields case %zu: NUL-terminated", i);
        stralloc_catb(&got, sa.s, sa.len - 1);
      }
      r = 1;
    }
    check_long(r, cases[i].r, "fields case %zu: result", i);
    check_bytes(got.s ? got.s : "", got.len, cases[i].want, strlen(cases[i].want), "fields case %zu: fields", i);
    stralloc_free(&sa);
    stralloc_free(&got);
    close(fd);
  }

  /* qmtp_skip and qmtp_getcomma */
  {
    char space[2];
    buffer b;
    int fd = openstr(IN("abcdef,x"));
    buffer_init(&b, fd, space, sizeof space, 0);
    check_long(qmtp_skip(&b, 6), 1, "skip 6");
    check_long(qmtp_getcomma(&b), 1, "comma after skip");
    check_long(qmtp_getcomma(&b), -2, "x is not a comma");
    check_long(qmtp_getcomma(&b), -1, "end of file is not a comma");
    check_long(qmtp_skip(&b, 1), -1, "skip past the end");
    check_long(qmtp_skip(&b, 0), 1, "skip nothing");
    close(fd);
  }
}

static void test_server(void)
{
  static const struct { const char *in; int ok; int family; const char *addr; unsigned port; } cases[] = {
    { "192.0.2.1", 1, AF_INET, "192.0.2.1", 628 },
    { "192.0.2.1:6280", 1, AF_INET, "192.0.2.1", 6280 },
    { "2001:db8::1", 1, AF_INET6, "2001:db8::1", 628 },
    { "::1", 1, AF_INET6, "::1", 628 },
    { "[2001:db8::1]", 1, AF_INET6, "2001:db8::1", 628 },
    { "[::1]:6280", 1, AF_INET6, "::1", 6280 },
    { "::ffff:192.0.2.1", 1, AF_INET6, "::ffff:192.0.2.1", 628 },
    { "127.0.0.1:65535", 1, AF_INET, "127.0.0.1", 65535 },
    { "127.0.0.1:65536", 0, 0, 0, 0 },
    { "127.0.0.1:0", 0, 0, 0, 0 },
    { "127.0.0.1:", 0, 0, 0, 0 },
    { "127.0.0.1:x", 0, 0, 0, 0 },
    { "[127.0.0.1]", 0, 0, 0, 0 },
    { "[::1", 0, 0, 0, 0 },
    { "[::1]x", 0, 0, 0, 0 },
    { "[::1]:", 0, 0, 0, 0 },
    { "host.example", 0, 0, 0, 0 },             /* no DNS, as in qmail */
    { "192.0.2", 0, 0, 0, 0 },
    { "", 0, 0, 0, 0 },
    { "1.2.3.4 ", 0, 0, 0, 0 },
    { "[aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa]", 0, 0, 0, 0 },
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    struct sockaddr_storage ss;
    socklen_t len = 0;
    char buf[INET6_ADDRSTRLEN];
    int r = qmtp_server(cases[i].in, &ss, &len);
    check_long(r, cases[i].ok, "server %s: accepted", cases[i].in);
    if (!r || !cases[i].ok) continue;
    check_long(ss.ss_family, cases[i].family, "server %s: family", cases[i].in);
    if (ss.ss_family == AF_INET) {
      struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
      inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
      check_long(ntohs(sin->sin_port), cases[i].port, "server %s: port", cases[i].in);
      check_long(len, sizeof *sin, "server %s: length", cases[i].in);
    } else {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
      inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
      check_long(ntohs(sin6->sin6_port), cases[i].port, "server %s: port", cases[i].in);
      check_long(len, sizeof *sin6, "server %s: length", cases[i].in);
    }
    check_str(buf, cases[i].addr, "server %s: address", cases[i].in);
  }
}

int main(void)
{
  tmpdir_make("qmtp_test");
  test_body();
  test_getlen();
  test_fields();
  test_server();
  tmpdir_remove();
  return check_end();
}
