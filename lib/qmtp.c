#include "qmtp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "scan.h"

enum { QMTP_MODE, QMTP_LF, QMTP_CRLF, QMTP_CRLF_CR };

void qmtp_body_start(struct qmtp_body *q) { q->state = QMTP_MODE; }

ssize_t qmtp_body_conv(struct qmtp_body *q, const char *in, size_t len, char *out)
{
  size_t i = 0, n = 0;

  if (!len) return 0;
  if (q->state == QMTP_MODE) {
    if (in[0] == '\n') q->state = QMTP_LF;
    else if (in[0] == '\r') q->state = QMTP_CRLF;
    else return -1;
    i = 1;
  }
  if (q->state == QMTP_LF) {
    memcpy(out, in + i, len - i);
    return (ssize_t)(len - i);
  }
  for (; i < len; ++i) {
    char c = in[i];
    if (q->state == QMTP_CRLF_CR) {
      q->state = QMTP_CRLF;
      if (c == '\n') { out[n++] = '\n'; continue; }
      out[n++] = '\r'; /* a lone CR stays */
    }
    if (c == '\r') q->state = QMTP_CRLF_CR;
    else out[n++] = c;
  }
  return (ssize_t)n;
}

size_t qmtp_body_end(struct qmtp_body *q, char *out)
{
  if (q->state != QMTP_CRLF_CR) return 0;
  q->state = QMTP_CRLF;
  out[0] = '\r';
  return 1;
}

static int qmtp_getc(buffer *b, char *c)
{
  ssize_t r = buffer_get(b, c, 1);
  if (r == 1) return 1;
  if (r == 0) errno = EPROTO;
  return -1;
}

int qmtp_getlen(buffer *b, size_t *left, size_t *len)
{
  size_t n = 0, digits = 0;
  char c;

  for (;;) {
    if (!*left) return -2;
    if (qmtp_getc(b, &c) == -1) return -1;
    --*left;
    if (c == ':') break;
    if (c < '0' || c > '9') return -2;
    if (digits == 1 && n == 0) return -2; /* leading zero */
    /* n * 10 + digit <= *left, so no overflow; and n >= *left could not
     * fit with its comma in what is left after the colon anyway */
    if ((size_t)(c - '0') > *left || n > (*left - (size_t)(c - '0')) / 10) return -2;
    n = n * 10 + (size_t)(c - '0');
    if (n >= *left) return -2;
    ++digits;
  }
  if (!digits) return -2;
  if (n >= *left) return -2;
  *len = n;
  return 1;
}

int qmtp_skip(buffer *b, size_t n)
{
  while (n) {
    ssize_t r = buffer_feed(b);
    size_t k;
    if (r <= 0) { if (!r) errno = EPROTO; return -1; }
    k = (size_t)r < n ? (size_t)r : n;
    buffer_seek(b, k);
    n -= k;
  }
  return 1;
}

int qmtp_getcomma(buffer *b)
{
  char c;
  if (qmtp_getc(b, &c) == -1) return -1;
  return c == ',' ? 1 : -2;
}

int qmtp_getfield(buffer *b, size_t *left, size_t len, stralloc *sa, size_t max)
{
  int r, ok = 1;

  if (len >= *left) return -2;
  sa->len = 0;
  if (len >= max) {
    if (qmtp_skip(b, len) == -1) return -1;
    ok = 0;
  } else {
    if (!stralloc_ready(sa, len + 1)) return -1;
    r = buffer_getall(b, sa->s, len);
    if (r <= 0) { if (!r) errno = EPROTO; return -1; }
    if (memchr(sa->s, 0, len)) ok = 0;
    else { sa->s[len] = 0; sa->len = len + 1; }
  }
  r = qmtp_getcomma(b);
  if (r != 1) return r;
  *left -= len + 1;
  if (!ok) sa->len = 0;
  return ok;
}

int qmtp_server(const char *s, struct sockaddr_storage *ss, socklen_t *sslen)
{
  char host[INET6_ADDRSTRLEN + 1];
  const char *colon, *h = s;
  size_t hlen;
  unsigned long port = QMQP_PORT;
  struct sockaddr_in *sin = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

  memset(ss, 0, sizeof *ss);
  hlen = strlen(s);
  if (s[0] == '[') {
    /* "[v6]" or "[v6]:port" */
    const char *end = strchr(s, ']');
    if (!end) return 0;
    h = s + 1;
    hlen = (size_t)(end - h);
    if (end[1] == ':') { if (!scan_whole_ulong(end + 2, 65535, &port) || !port) return 0; }
    else if (end[1]) return 0;
  } else {
    colon = strchr(s, ':');
    /* exactly one colon: "v4:port"; more: a bare IPv6 address */
    if (colon && !strchr(colon + 1, ':')) {
      hlen = (size_t)(colon - s);
      if (!scan_whole_ulong(colon + 1, 65535, &port) || !port) return 0;
    }
  }
  if (hlen >= sizeof host) return 0;
  memcpy(host, h, hlen);
  host[hlen] = 0;
  if (s[0] != '[' && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons((unsigned short)port);
    *sslen = sizeof *sin;
    return 1;
  }
  if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((unsigned short)port);
    *sslen = sizeof *sin6;
    return 1;
  }
  memset(ss, 0, sizeof *ss);
  return 0;
}
