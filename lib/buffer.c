#include "buffer.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

void buffer_init(buffer *b, int fd, char *x, size_t size, int timeout)
{
  b->x = x;
  b->p = 0;
  b->n = 0;
  b->size = size;
  b->fd = fd;
  b->timeout = timeout;
}

static int buffer_wait(int fd, short events, int timeout)
{
  struct pollfd pfd;
  int r;

  if (timeout <= 0) return 0;
  pfd.fd = fd;
  pfd.events = events;
  pfd.revents = 0;
  for (;;) {
    r = poll(&pfd, 1, timeout > 2000000 ? 2000000000 : timeout * 1000);
    if (r > 0) return 0;
    if (r == 0) { errno = ETIMEDOUT; return -1; }
    if (errno != EINTR) return -1;
  }
}

ssize_t buffer_unixread(int fd, char *s, size_t len, int timeout)
{
  ssize_t r;
  for (;;) {
    if (buffer_wait(fd, POLLIN, timeout) == -1) return -1;
    r = read(fd, s, len);
    if (r >= 0 || errno != EINTR) return r;
  }
}

ssize_t buffer_unixwrite(int fd, const char *s, size_t len, int timeout)
{
  ssize_t r;
  for (;;) {
    if (buffer_wait(fd, POLLOUT, timeout) == -1) return -1;
    r = write(fd, s, len);
    if (r >= 0 || errno != EINTR) return r;
  }
}

/* ---- reading ---- */

ssize_t buffer_feed(buffer *b)
{
  ssize_t r;
  if (b->p < b->n) return (ssize_t)(b->n - b->p);
  r = buffer_unixread(b->fd, b->x, b->size, b->timeout);
  if (r <= 0) return r;
  b->p = 0;
  b->n = (size_t)r;
  return r;
}

ssize_t buffer_get(buffer *b, char *s, size_t len)
{
  ssize_t r;
  size_t k;

  if (!len) return 0;
  if (b->p == b->n && len >= b->size)
    return buffer_unixread(b->fd, s, len, b->timeout); /* no point copying twice */
  r = buffer_feed(b);
  if (r <= 0) return r;
  k = (size_t)r < len ? (size_t)r : len;
  memcpy(s, b->x + b->p, k);
  b->p += k;
  return (ssize_t)k;
}

int buffer_getall(buffer *b, char *s, size_t len)
{
  while (len) {
    ssize_t r = buffer_get(b, s, len);
    if (r <= 0) return (int)r;
    s += r;
    len -= (size_t)r;
  }
  return 1;
}

int buffer_getline(buffer *b, stralloc *sa, char sep, size_t max)
{
  size_t have = 0; /* bytes of this line already appended */

  for (;;) {
    ssize_t r = buffer_feed(b);
    const char *x, *end;
    size_t k, room;

    if (r < 0) return -1;
    if (r == 0) return 0;
    x = buffer_peek(b);
    end = memchr(x, sep, (size_t)r);
    k = end ? (size_t)(end - x) + 1 : (size_t)r;
    room = max - have;
    if (k > room) {
      if (!stralloc_catb(sa, x, room)) return -1;
      buffer_seek(b, room);
      return -2;
    }
    if (!stralloc_catb(sa, x, k)) return -1;
    buffer_seek(b, k);
    have += k;
    if (end) return 1;
  }
}

int buffer_skipline(buffer *b, char sep)
{
  for (;;) {
    ssize_t r = buffer_feed(b);
    const char *x, *end;
    if (r <= 0) return (int)r;
    x = buffer_peek(b);
    end = memchr(x, sep, (size_t)r);
    if (end) { buffer_seek(b, (size_t)(end - x) + 1); return 1; }
    buffer_seek(b, (size_t)r);
  }
}

/* ---- writing ---- */

static int buffer_writeall(buffer *b, const char *s, size_t len)
{
  while (len) {
    ssize_t w = buffer_unixwrite(b->fd, s, len, b->timeout);
    if (w < 0) return -1;
    if (w == 0) { errno = EIO; return -1; }
    s += w;
    len -= (size_t)w;
  }
  return 0;
}

int buffer_flush(buffer *b)
{
  size_t p = b->p;
  if (!p) return 0;
  b->p = 0;
  return buffer_writeall(b, b->x, p);
}

int buffer_put(buffer *b, const char *s, size_t len)
{
  if (!len) return 0; /* s may be null then: memcpy must not see it */
  if (len > b->size - b->p) {
    if (buffer_flush(b) == -1) return -1;
    if (len >= b->size) return buffer_writeall(b, s, len);
  }
  memcpy(b->x + b->p, s, len);
  b->p += len;
  return 0;
}

int buffer_puts(buffer *b, const char *s)
{
  return buffer_put(b, s, strlen(s));
}

int buffer_putflush(buffer *b, const char *s, size_t len)
{
  if (buffer_put(b, s, len) == -1) return -1;
  return buffer_flush(b);
}

int buffer_putsflush(buffer *b, const char *s)
{
  return buffer_putflush(b, s, strlen(s));
}

int buffer_copy(buffer *out, buffer *in)
{
  for (;;) {
    ssize_t r = buffer_feed(in);
    if (r < 0) return -2;
    if (r == 0) return 0;
    if (buffer_put(out, buffer_peek(in), (size_t)r) == -1) return -3;
    buffer_seek(in, (size_t)r);
  }
}
