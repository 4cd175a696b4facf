/* Tests for the pieces of qmail-remote's SMTP client: lib/smtpreply.c
 * (replies, EHLO keywords), lib/dotstuff.c (DATA framing, checked also
 * against qmail-smtpd's reader lib/smtpdata.c), lib/smtproutes.c and
 * lib/tcpto.c.
 * not tested: smtpreply_get on read errors other than end of file (the
 * timeouts are buffer_test's); the tcpto file functions under lock
 * contention; running out of memory. */

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <unistd.h>

#include "buffer.h"
#include "check.h"
#include "constmap.h"
#include "dotstuff.h"
#include "smtpdata.h"
#include "smtpreply.h"
#include "smtproutes.h"
#include "stralloc.h"
#include "tcpto.h"
#include "tmpdir.h"

#define N(a) (sizeof (a) / sizeof (a)[0])
#define IN(s) s, sizeof s - 1

/* ---- smtpreply ---- */

static void test_reply(void)
{
  static const struct {
    const char *in; size_t len;
    int r;              /* smtpreply_feed's answer, fed whole */
    unsigned code;
    const char *text; size_t tlen;
    size_t used;
  } cases[] = {
    { IN("220 hello\r\n"), 1, 220, IN("220 hello\n"), 11 },
    { IN("220 hello\n"), 1, 220, IN("220 hello\n"), 10 },                  /* bare LF ends a line */
    { IN("250\r\n"), 1, 250, IN("250\n"), 5 },
    { IN("250-a\r\n250-b\r\n250 c\r\n"), 1, 250, IN("250-a\n250-b\n250 c\n"), 21 },
    { IN("250-a\r\n250 c\r\nNEXT"), 1, 250, IN("250-a\n250 c\n"), 14 },    /* the rest is unread */
    { IN("250-a\r\n550 c\r\n"), 1, 0, IN("250-a\n550 c\n"), 14 },        /* codes that disagree */
    { IN("550-a\r\n250 c\r\n"), 1, 0, IN("550-a\n250 c\n"), 14 },
    { IN("250-a\r\n251 c\r\n"), 1, 0, IN("250-a\n251 c\n"), 14 },
    { IN("250 a\rb\r\n"), 1, 250, IN("250 ab\n"), 9 },                     /* CRs dropped */
    { IN("250 a\0b\x01\tc\x7f\n"), 1, 250, IN("250 a?b?\tc?\n"), 12 },
    { IN("250 2.1.5 ok\r\n"), 1, 250, IN("250 2.1.5 ok\n"), 14 },
    { IN("250 ok"), 0, 0, IN("250 ok"), 6 },                                /* no line end yet */
    { IN("250-ok\r\n"), 0, 0, IN("250-ok\n"), 8 },
    { IN(""), 0, 0, IN(""), 0 },
    /* codes out of range: read to the end, code 0 */
    { IN("999 what\r\n"), 1, 0, IN("999 what\n"), 10 },
    { IN("160 x\r\n"), 1, 0, IN("160 x\n"), 7 },
    { IN("199 x\r\n"), 1, 0, IN("199 x\n"), 7 },
    { IN("260 x\r\n"), 1, 0, IN("260 x\n"), 7 },
    { IN("600 x\r\n"), 1, 0, IN("600 x\n"), 7 },
    { IN("099 x\r\n"), 1, 0, IN("099 x\n"), 7 },
    { IN("559 x\r\n"), 1, 559, IN("559 x\n"), 7 },
    { IN("200 x\r\n"), 1, 200, IN("200 x\n"), 7 },
    /* malformed lines end the reply at once */
    { IN("hello\r\n"), 1, 0, IN("h\n"), 1 },
    { IN("25 x\r\n"), 1, 0, IN("25 \n"), 3 },
    { IN("250x\r\n"), 1, 0, IN("250\n"), 4 },
    { IN("\r\n"), 1, 0, IN("\n"), 2 },
    { IN("250-a\r\nxyz\r\n"), 1, 0, IN("250-a\nx\n"), 8 },
    { IN("250-a\r\n\r\n250 b\r\n"), 1, 0, IN("250-a\n\n"), 9 },
    { IN("2500 x\r\n"), 1, 0, IN("250\n"), 4 },
  };
  struct smtpreply r = SMTPREPLY_ZERO;
  size_t i, k;

  for (i = 0; i < N(cases); ++i) {
    size_t used = 999;
    int x;
    smtpreply_start(&r);
    x = smtpreply_feed(&r, cases[i].in, cases[i].len, &used);
    check_long(x, cases[i].r, "reply case %zu: result", i);
    check_long(used, cases[i].used, "reply case %zu: used", i);
    check_bytes(r.text.s, r.text.len, cases[i].text, cases[i].tlen, "reply case %zu: text", i);
    if (x == 1) check_long(r.code, cases[i].code, "reply case %zu: code", i);
    /* a byte at a time gives the same */
    smtpreply_start(&r);
    for (k = 0, x = 0; k < cases[i].len && x == 0; ++k) {
      x = smtpreply_feed(&r, cases[i].in + k, 1, &used);
      if (x == 1 && used != 1) x = 77;
    }
    check_long(x, cases[i].r, "reply case %zu: result byte by byte", i);
    check_bytes(r.text.s, r.text.len, cases[i].text, cases[i].tlen, "reply case %zu: text byte by byte", i);
    if (x == 1) check_long(r.code, cases[i].code, "reply case %zu: code byte by byte", i);
  }
  stralloc_free(&r.text);
}

/* A reply of megabytes: its text is cut, the reply is still read to its
 * end, and the line after a huge one is kept. */
static void test_reply_huge(void)
{
  struct smtpreply r = SMTPREPLY_ZERO;
  stralloc in = STRALLOC_ZERO;
  size_t i, used = 0;
  int x;

  stralloc_copys(&in, "250-first\r\n250-");
  for (i = 0; i < 100000; ++i) stralloc_cats(&in, "xxxxxxxxxx");
  stralloc_cats(&in, "\r\n250 SIZE 1000\r\n");
  smtpreply_start(&r);
  x = smtpreply_feed(&r, in.s, in.len, &used);
  check_long(x, 1, "huge line: complete");
  check_long(used, in.len, "huge line: all read");
  check_long(r.code, 250, "huge line: code");
  check_long(r.cut, 1, "huge line: cut");
  check_long(r.text.len, 10 + SMTPREPLY_LINEMAX + 1 + 14, "huge line: text length");
  check(r.text.len >= 14 && !memcmp(r.text.s + r.text.len - 14, "250 SIZE 1000\n", 14), "huge line: next line kept");

  /* 10 MB of continuation lines */
  stralloc_copys(&in, "");
  for (i = 0; i < 200000; ++i) stralloc_cats(&in, "550-this is line after line of a reply of megabytes\r\n");
  stralloc_cats(&in, "550 end\r\n");
  smtpreply_start(&r);
  x = smtpreply_feed(&r, in.s, in.len, &used);
  check_long(x, 1, "many lines: complete");
  check_long(used, in.len, "many lines: all read");
  check_long(r.code, 550, "many lines: code");
  check(r.text.len <= SMTPREPLY_MAX, "many lines: text bounded (%zu)", r.text.len);
  check(r.text.len && r.text.s[r.text.len - 1] == '\n', "many lines: text ends in a newline");
  stralloc_free(&in);
  stralloc_free(&r.text);
}

static void test_reply_get(void)
{
  static const char s[] = "220 hi\r\n250-x\n250 y\r\n354 go\r\n250 partial";
  struct smtpreply r = SMTPREPLY_ZERO;
  char space[3]; /* small: replies straddle refills */
  buffer b;
  int fd;

  tmpdir_make("smtpclient_test");
  fd = open(tmpdir_path("replies"), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd == -1 || write(fd, s, sizeof s - 1) != (ssize_t)(sizeof s - 1) || lseek(fd, 0, SEEK_SET) != 0) exit(111);
  buffer_init(&b, fd, space, sizeof space, 0);
  check_long(smtpreply_get(&r, &b), 1, "get: greeting");
  check_long(r.code, 220, "get: greeting code");
  check_long(smtpreply_get(&r, &b), 1, "get: multi-line");
  check_str((r.text.s[r.text.len] = 0, r.text.s), "250-x\n250 y\n", "get: multi-line text");
  check_long(smtpreply_get(&r, &b), 1, "get: 354");
  check_long(r.code, 354, "get: 354 code");
  check_long(smtpreply_get(&r, &b), 0, "get: end of file inside a reply");
  close(fd);
  stralloc_free(&r.text);
}

static void test_ehlo(void)
{
  static const struct {
    const char *text;
    int pipelining, size; unsigned long long sizemax; int eight, utf8, enh;
  } cases[] = {
    { "250-mx.example\n250-PIPELINING\n250-SIZE 10240000\n250-8BITMIME\n250-SMTPUTF8\n250 ENHANCEDSTATUSCODES\n",
      1, 1, 10240000, 1, 1, 1 },
    { "250 mx.example\n", 0, 0, 0, 0, 0, 0 },
    { "250 PIPELINING\n", 0, 0, 0, 0, 0, 0 },                 /* the first line is the name */
    { "250-x\n250-pipelining\n250 size\n", 1, 1, 0, 0, 0, 0 },
    { "250-x\n250-SIZE\n", 0, 1, 0, 0, 0, 0 },
    { "250-x\n250-SIZE 0\n", 0, 1, 0, 0, 0, 0 },
    { "250-x\n250-SIZE junk\n", 0, 1, 0, 0, 0, 0 },
    { "250-x\n250-SIZE 99999999999999999999999\n", 0, 1, ~0ULL, 0, 0, 0 },
    { "250-x\n250-SIZEX 10\n250-PIPELININGX\n250-8BITMIMEX\n", 0, 0, 0, 0, 0, 0 },
    { "250-x\n250-8BITMIME\n250 SMTPUTF8", 0, 0, 0, 1, 1, 0 }, /* no final newline */
    { "250-x\n250-AUTH PLAIN\n250-STARTTLS\n250 SIZE\t77\n", 0, 1, 77, 0, 0, 0 },
    { "250-x\nPIPELINING\n", 0, 0, 0, 0, 0, 0 },             /* not a reply line */
    { "", 0, 0, 0, 0, 0, 0 },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    struct smtpreply_ehlo e;
    smtpreply_ehlo(cases[i].text, strlen(cases[i].text), &e);
    check_long(e.pipelining, cases[i].pipelining, "ehlo case %zu: PIPELINING", i);
    check_long(e.size, cases[i].size, "ehlo case %zu: SIZE", i);
    check(e.sizemax == cases[i].sizemax, "ehlo case %zu: SIZE limit %llu", i, e.sizemax);
    check_long(e.eightbitmime, cases[i].eight, "ehlo case %zu: 8BITMIME", i);
    check_long(e.smtputf8, cases[i].utf8, "ehlo case %zu: SMTPUTF8", i);
    check_long(e.enhancedstatuscodes, cases[i].enh, "ehlo case %zu: ENHANCEDSTATUSCODES", i);
  }
}

/* ---- dotstuff ---- */

static void stuff(const char *in, size_t len, size_t step, stralloc *out)
{
  struct dotstuff d;
  size_t pos = 0;
  char *buf = malloc(2 * len + DOTSTUFF_ENDMAX + 1);
  if (!buf) exit(111);
  out->len = 0;
  dotstuff_start(&d);
  while (pos < len) {
    size_t n = step < len - pos ? step : len - pos;
    stralloc_catb(out, buf, dotstuff_feed(&d, in + pos, n, buf));
    pos += n;
  }
  stralloc_catb(out, buf, dotstuff_end(&d, buf));
  free(buf);
}

static void collect(void *ctx, const char *s, size_t n) { stralloc_catb((stralloc *)ctx, s, n); }

static void test_dotstuff(void)
{
  static const struct { const char *in; size_t len; const char *want; size_t wlen; } cases[] = {
    { IN(""), IN(".\r\n") },
    { IN("a\n"), IN("a\r\n.\r\n") },
    { IN("a"), IN("a\r\n.\r\n") },                            /* a final line end is added */
    { IN("a\r\n"), IN("a\r\n.\r\n") },
    { IN("a\r"), IN("a\r\n.\r\n") },
    { IN("\n"), IN("\r\n.\r\n") },
    { IN(".\n"), IN("..\r\n.\r\n") },
    { IN("."), IN("..\r\n.\r\n") },
    { IN("..x\n.\n"), IN("...x\r\n..\r\n.\r\n") },
    { IN("a.b\n"), IN("a.b\r\n.\r\n") },                      /* only at the start of a line */
    /* the smuggling cases: every line start is one, after CR too */
    { IN("a\r.\r\nb\n"), IN("a\r\n..\r\nb\r\n.\r\n") },
    { IN("a\n.\nb\n"), IN("a\r\n..\r\nb\r\n.\r\n") },
    { IN("a\r\n.\rb\n"), IN("a\r\n..\r\nb\r\n.\r\n") },
    { IN("a\r.\rb"), IN("a\r\n..\r\nb\r\n.\r\n") },
    { IN("a\n.\r\nMAIL FROM:<x>\r\n"), IN("a\r\n..\r\nMAIL FROM:<x>\r\n.\r\n") },
    { IN("\r\r\n"), IN("\r\n\r\n.\r\n") },                     /* CR, then CRLF: two line ends */
    { IN("\n\r"), IN("\r\n\r\n.\r\n") },                       /* LF, then CR: two */
    { IN("\r\n\r\n"), IN("\r\n\r\n.\r\n") },
    { IN("a\0b\xff\n"), IN("a\0b\xff\r\n.\r\n") },             /* NUL and 8-bit as they are */
  };
  stralloc out = STRALLOC_ZERO;
  size_t i, step;
  for (i = 0; i < N(cases); ++i)
    for (step = 1; step <= 4; ++step) {
      stuff(cases[i].in, cases[i].len, step, &out);
      check_bytes(out.s, out.len, cases[i].want, cases[i].wlen, "dotstuff case %zu, pieces of %zu", i, step);
    }

  /* qmail-smtpd's reader takes every output back as one whole message:
   * the message with CR and CRLF turned into LF and a final LF. */
  for (i = 0; i < N(cases); ++i) {
    struct smtpdata d;
    stralloc got = STRALLOC_ZERO;
    int end = 0;
    size_t used;
    stuff(cases[i].in, cases[i].len, 1000, &out);
    smtpdata_start(&d, 1, 0);
    used = smtpdata_feed(&d, out.s, out.len, &end, collect, &got);
    check(end && used == out.len && !d.bare, "dotstuff case %zu: one message for smtpdata", i);
    stralloc_free(&got);
  }
  stralloc_free(&out);
}

/* ---- smtproutes ---- */

static void test_routes(void)
{
  static const char list[] = "example.com:mx.example.net\0.sub.example.com:[192.0.2.7]:2525\0"
                             "exact.example.org:\0:smarthost.example:26\0[192.0.2.1]:lit.example";
  static const char list2[] = ".example.com:a\0x.y:b";
  static const struct { const char *host; const char *want; } cases[] = {
    { "example.com", "mx.example.net" },
    { "EXAMPLE.Com", "mx.example.net" },
    { "a.sub.example.com", "[192.0.2.7]:2525" },
    { "a.b.sub.example.com", "[192.0.2.7]:2525" },
    { "sub.example.com", "smarthost.example:26" },            /* .sub... is for subdomains only */
    { "x.example.com", "smarthost.example:26" },
    { "exact.example.org", "" },
    { "other.example", "smarthost.example:26" },
    { "[192.0.2.1]", "lit.example" },
  };
  static const struct { const char *host; const char *want; } cases2[] = {
    { "a.example.com", "a" }, { "example.com", 0 }, { "x.y", "b" }, { "z.x.y", 0 }, { "", 0 },
  };
  struct constmap m;
  size_t i;
  if (!constmap_init(&m, list, sizeof list, 1)) exit(111);
  for (i = 0; i < N(cases); ++i)
    check_str(smtproutes_find(&m, cases[i].host, strlen(cases[i].host)), cases[i].want, "routes case %zu", i);
  constmap_free(&m);
  if (!constmap_init(&m, list2, sizeof list2, 1)) exit(111);
  for (i = 0; i < N(cases2); ++i)
    check_str(smtproutes_find(&m, cases2[i].host, strlen(cases2[i].host)), cases2[i].want, "routes2 case %zu", i);
  constmap_free(&m);
}

static void test_relay(void)
{
  static const struct { const char *in; int ok; int kind; const char *host; unsigned port; const char *ip; } cases[] = {
    { "", 1, SMTPROUTES_MX, 0, 25, 0 },
    { ":2525", 1, SMTPROUTES_MX, 0, 2525, 0 },
    { "mx.example.net", 1, SMTPROUTES_NAME, "mx.example.net", 25, 0 },
    { "mx.example.net:587", 1, SMTPROUTES_NAME, "mx.example.net", 587, 0 },
    { "192.0.2.1", 1, SMTPROUTES_IP, 0, 25, "192.0.2.1" },
    { "192.0.2.1:26", 1, SMTPROUTES_IP, 0, 26, "192.0.2.1" },
    { "[192.0.2.1]", 1, SMTPROUTES_IP, 0, 25, "192.0.2.1" },
    { "[192.0.2.1]:65535", 1, SMTPROUTES_IP, 0, 65535, "192.0.2.1" },
    { "[IPv6:2001:db8::1]", 1, SMTPROUTES_IP, 0, 25, "2001:db8::1" },
    { "[ipv6:::1]:2525", 1, SMTPROUTES_IP, 0, 2525, "::1" },
    { "[IPv6:::ffff:192.0.2.1]", 1, SMTPROUTES_IP, 0, 25, "::ffff:192.0.2.1" },
    { "mx:0", 0, 0, 0, 0, 0 },
    { "mx:65536", 0, 0, 0, 0, 0 },
    { "mx:", 0, 0, 0, 0, 0 },
    { "mx:25x", 0, 0, 0, 0, 0 },
    { "mx:-1", 0, 0, 0, 0, 0 },
    { "2001:db8::1", 0, 0, 0, 0, 0 },                         /* bare IPv6: brackets needed */
    { "[2001:db8::1]", 0, 0, 0, 0, 0 },                       /* the IPv6: tag is needed */
    { "[IPv6:192.0.2.1]", 0, 0, 0, 0, 0 },
    { "[192.0.2.1", 0, 0, 0, 0, 0 },
    { "[192.0.2.1]x", 0, 0, 0, 0, 0 },
    { "[]", 0, 0, 0, 0, 0 },
    { "[mx.example]", 0, 0, 0, 0, 0 },
    { "[192.0.2.256]", 0, 0, 0, 0, 0 },
    { "mx example", 0, 0, 0, 0, 0 },
    { "mx/example", 0, 0, 0, 0, 0 },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    struct smtproutes_relay r;
    int ok = smtproutes_relay(cases[i].in, &r);
    check_long(ok, cases[i].ok, "relay case %zu (%s): ok", i, cases[i].in);
    if (!ok || !cases[i].ok) continue;
    check_long(r.kind, cases[i].kind, "relay case %zu: kind", i);
    check_long(r.port, cases[i].port, "relay case %zu: port", i);
    if (cases[i].host) check_bytes(r.host, r.hostlen, cases[i].host, strlen(cases[i].host), "relay case %zu: host", i);
    if (cases[i].ip) {
      char buf[INET6_ADDRSTRLEN];
      const void *a = r.ss.ss_family == AF_INET ? (const void *)&((struct sockaddr_in *)&r.ss)->sin_addr
                                                : (const void *)&((struct sockaddr_in6 *)&r.ss)->sin6_addr;
      unsigned port = ntohs(r.ss.ss_family == AF_INET ? ((struct sockaddr_in *)&r.ss)->sin_port
                                                      : ((struct sockaddr_in6 *)&r.ss)->sin6_port);
      check_str(inet_ntop(r.ss.ss_family, a, buf, sizeof buf), cases[i].ip, "relay case %zu: address", i);
      check_long(port, cases[i].port, "relay case %zu: address port", i);
      check_long(r.sslen, r.ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6),
                 "relay case %zu: address length", i);
    }
  }
  {
    static const struct { const char *in; int ok; } lits[] = {
      { "[192.0.2.1]", 1 }, { "[IPv6:2001:db8::2]", 1 }, { "[IPV6:::1]", 1 }, { "192.0.2.1", 0 },
      { "[192.0.2.1]:25", 0 }, { "[IPv6:]", 0 }, { "[]", 0 }, { "[", 0 }, { "example.com", 0 },
    };
    for (i = 0; i < N(lits); ++i) {
      struct sockaddr_storage ss;
      socklen_t len;
      check_long(smtproutes_literal(lits[i].in, strlen(lits[i].in), &ss, &len), lits[i].ok, "literal case %zu (%s)", i,
                 lits[i].in);
    }
  }
}

/* ---- tcpto ---- */

static struct sockaddr_storage addr(const char *s)
{
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  if (strchr(s, ':')) {
    ss.ss_family = AF_INET6;
    inet_pton(AF_INET6, s, &((struct sockaddr_in6 *)&ss)->sin6_addr);
  } else {
    ss.ss_family = AF_INET;
    inet_pton(AF_INET, s, &((struct sockaddr_in *)&ss)->sin_addr);
  }
  return ss;
}

static void test_tcpto(void)
{
  unsigned char buf[TCPTO_SIZE];
  struct sockaddr_storage a = addr("192.0.2.1"), b = addr("2001:db8::1"), c = addr("192.0.2.2"), got;
  uint64_t t = 1700000000, when;
  unsigned errors;
  size_t i, used;

  memset(buf, 0, sizeof buf);
  check_long(tcpto_check(buf, &a, t, 0), 0, "tcpto: empty");
  check_long(tcpto_update(buf, &a, 1, t), 1, "tcpto: first timeout recorded");
  check_long(tcpto_check(buf, &a, t + 1, 0), 0, "tcpto: one timeout is not dead");
  check_long(tcpto_update(buf, &a, 1, t + 60), 0, "tcpto: a timeout within 2 minutes is the same outage");
  check_long(tcpto_update(buf, &a, 1, t + 120), 1, "tcpto: second timeout");
  check_long(tcpto_check(buf, &a, t + 121, 0), 1, "tcpto: two timeouts: dead");
  check_long(tcpto_check(buf, &a, t + 120 + 3839, 0), 1, "tcpto: dead for 64 minutes");
  check_long(tcpto_check(buf, &a, t + 120 + 3840, 0), 0, "tcpto: alive after 64 minutes (jitter 0)");
  check_long(tcpto_check(buf, &a, t + 120 + 3840, 31), 1, "tcpto: jitter 31 adds 31 minutes");
  check_long(tcpto_check(buf, &a, t + 120 + 5823, 31), 1, "tcpto: still dead at 97 minutes");
  check_long(tcpto_check(buf, &a, t + 120 + 5824, 31), 0, "tcpto: alive after 97 minutes");
  check_long(tcpto_check(buf, &c, t + 121, 0), 0, "tcpto: other address");
  check_long(tcpto_check(buf, &a, t - 1000, 0), 0, "tcpto: clock went back");
  /* IPv6 and IPv4 side by side */
  tcpto_update(buf, &b, 1, t);
  tcpto_update(buf, &b, 1, t + 200);
  check_long(tcpto_check(buf, &b, t + 201, 0), 1, "tcpto: IPv6 dead");
  check_long(tcpto_update(buf, &a, 0, t + 300), 1, "tcpto: success forgets");
  check_long(tcpto_check(buf, &a, t + 301, 0), 0, "tcpto: forgotten");
  check_long(tcpto_check(buf, &b, t + 301, 0), 1, "tcpto: the other record stays");
  /* an old outage restarts the count */
  tcpto_update(buf, &c, 1, t);
  tcpto_update(buf, &c, 1, t + 10000);
  check_long(tcpto_check(buf, &c, t + 10001, 0), 0, "tcpto: timeouts hours apart are not two");
  /* listing */
  for (i = used = 0; i < TCPTO_SIZE / TCPTO_RECORD; ++i)
    if (tcpto_record(buf, i, &got, &errors, &when)) {
      ++used;
      if (got.ss_family == AF_INET6) {
        check_long(errors, 2, "tcpto: IPv6 record errors");
        check(when == t + 200, "tcpto: IPv6 record time");
      }
    }
  check_long(used, 2, "tcpto: records in use");
  /* a full table reuses the oldest record */
  memset(buf, 0, sizeof buf);
  for (i = 0; i < TCPTO_SIZE / TCPTO_RECORD; ++i) {
    struct sockaddr_storage x = addr("198.51.100.1");
    ((struct sockaddr_in *)&x)->sin_addr.s_addr = htonl(0xc6336400 + (uint32_t)i);
    tcpto_update(buf, &x, 1, t + 1000 - i);
  }
  tcpto_update(buf, &a, 1, t + 2000);
  tcpto_update(buf, &a, 1, t + 2200);
  check_long(tcpto_check(buf, &a, t + 2201, 0), 1, "tcpto: full table: new address recorded");
  {
    struct sockaddr_storage oldest = addr("198.51.100.1");
    ((struct sockaddr_in *)&oldest)->sin_addr.s_addr = htonl(0xc6336400 + TCPTO_SIZE / TCPTO_RECORD - 1);
    tcpto_update(buf, &oldest, 1, t + 2300);
    check_long(tcpto_check(buf, &oldest, t + 2301, 0), 0, "tcpto: full table: the oldest record went");
  }
  /* qmail's layout reads as records that never match an address */
  memset(buf, 0xff, sizeof buf);
  check_long(tcpto_check(buf, &a, t, 0), 0, "tcpto: garbage file");
  check_long(tcpto_record(buf, 0, &got, &errors, &when), 0, "tcpto: garbage record not listed");
}

int main(void)
{
  test_reply();
  test_reply_huge();
  test_reply_get();
  test_ehlo();
  test_dotstuff();
  test_routes();
  test_relay();
  test_tcpto();
  tmpdir_remove();
  return check_end();
}
