/* fuzz_qmtp: the QMTP pieces of lib/qmtp.c on arbitrary bytes.
 *  - the body conversion gives the same bytes in any chunking as a plain
 *    reference conversion, and never more than the room it promises;
 *  - a recipient list read with qmtp_getlen/qmtp_getfield through a small
 *    buffer agrees, field by field, with netstring_parse on the bytes in
 *    memory, and never reads past the list's length;
 *  - qmtp_server on the input as a string does not crash and sets a port. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buffer.h"
#include "fuzz.h"
#include "netstring.h"
#include "qmtp.h"
#include "stralloc.h"

/* The body rule written the obvious way: -1 for a bad mode byte. */
static long reference(const unsigned char *s, size_t len, char *out)
{
  size_t i, n = 0;
  if (!len) return 0;
  if (s[0] == '\n') { memcpy(out, s + 1, len - 1); return (long)(len - 1); }
  if (s[0] != '\r') return -1;
  for (i = 1; i < len; ++i) {
    if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') { out[n++] = '\n'; ++i; }
    else out[n++] = (char)s[i];
  }
  return (long)n;
}

static void body(const unsigned char *data, size_t size)
{
  char *want = malloc(size + 1), *got = malloc(size + 2);
  long w = reference(data, size, want);
  size_t chunk;

  if (!want || !got) abort();
  for (chunk = 1; chunk <= 7; chunk += 3) {
    struct qmtp_body q;
    size_t pos = 0, n = 0;
    int bad = 0;
    qmtp_body_start(&q);
    while (pos < size) {
      size_t k = size - pos < chunk ? size - pos : chunk;
      ssize_t r = qmtp_body_conv(&q, (const char *)data + pos, k, got + n);
      if (r < 0) { bad = 1; break; }
      if ((size_t)r > k + 1) abort();
      n += (size_t)r;
      pos += k;
    }
    if (bad) { if (w != -1 || pos != 0) abort(); continue; }
    n += qmtp_body_end(&q, got + n);
    if (w < 0 || (size_t)w != n || memcmp(want, got, n)) abort();
  }
  free(want);
  free(got);
}

static void list(const unsigned char *data, size_t size, size_t extra, size_t max)
{
  stralloc sa = STRALLOC_ZERO;
  char space[5];
  buffer b;
  size_t left = size + extra, pos = 0;
  int fd = fuzz_memfd(data, size);

  buffer_init(&b, fd, space, sizeof space, 0);
  while (left) {
    const char *d;
    size_t dlen, used, len, before = left;
    int m = netstring_parse((const char *)data + pos, size - pos, SIZE_MAX, &d, &dlen, &used);
    int r = qmtp_getlen(&b, &left, &len);
    if (r == 1) {
      if (len + 1 > left) abort();
      r = qmtp_getfield(&b, &left, len, &sa, max);
    }
    if (r < 0) {
      /* a netstring that fits in the list's length and in the input
       * cannot fail */
      if (m == 1 && used <= before && used <= size - pos) abort();
      break;
    }
    if (m != 1 || dlen != len || used != before - left) abort();
    if (r == 1) {
      if (sa.len != dlen + 1 || memcmp(sa.s, d, dlen) || sa.s[dlen] || memchr(d, 0, dlen) || dlen >= max) abort();
    } else if (sa.len || (dlen < max && !memchr(d, 0, dlen))) abort();
    pos += used;
    if (pos > size) abort();
  }
  close(fd);
  stralloc_free(&sa);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  char s[128];
  struct sockaddr_storage ss;
  socklen_t len;
  size_t n = size < sizeof s - 1 ? size : sizeof s - 1;

  body(data, size);
  list(data, size, 0, 1000);
  list(data, size, 7, 3);
  memcpy(s, data, n);
  s[n] = 0;
  if (qmtp_server(s, &ss, &len) == 1) {
    if (ss.ss_family == AF_INET) { if (!((struct sockaddr_in *)&ss)->sin_port || len != sizeof(struct sockaddr_in)) abort(); }
    else if (ss.ss_family == AF_INET6) { if (!((struct sockaddr_in6 *)&ss)->sin6_port || len != sizeof(struct sockaddr_in6)) abort(); }
    else abort();
  }
  return 0;
}
