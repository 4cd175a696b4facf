#ifndef BUFFER_H
#define BUFFER_H

#include <stddef.h>
#include <sys/types.h>

#include "stralloc.h"

/* Buffered I/O on a file descriptor, in one direction, with an optional
 * timeout per read or write (poll() before each system call). Daemons use
 * this instead of stdio. */
typedef struct buffer {
  char *x;        /* the buffer */
  size_t p;       /* read: start of unread data; write: bytes pending */
  size_t n;       /* read: end of unread data; write: unused */
  size_t size;    /* capacity of x */
  int fd;
  int timeout;    /* seconds; 0 = wait forever */
} buffer;

void buffer_init(buffer *b, int fd, char *x, size_t size, int timeout);

/* One read or write with the buffer's timeout: poll, then the call,
 * retried on EINTR. Timeouts fail with errno ETIMEDOUT. Exposed so that
 * programs reading straight into their own memory keep the same rules. */
ssize_t buffer_unixread(int fd, char *s, size_t len, int timeout);
ssize_t buffer_unixwrite(int fd, const char *s, size_t len, int timeout);

/* ---- reading ---- */

/* Makes sure some data is buffered. Returns the number of bytes available,
 * 0 at end of file, -1 on error (errno set). */
ssize_t buffer_feed(buffer *b);
/* Pointer to the buffered data (valid for buffer_feed()'s count). */
#define buffer_peek(b) ((b)->x + (b)->p)
/* Consumes n buffered bytes (n must not exceed what buffer_feed gave). */
#define buffer_seek(b, m) ((b)->p += (m))
/* Reads up to len bytes: >0 count, 0 end of file, -1 error. */
ssize_t buffer_get(buffer *b, char *s, size_t len);
/* Reads exactly len bytes: 1 done, 0 end of file first, -1 error. */
int buffer_getall(buffer *b, char *s, size_t len);

/* Appends one line, terminated by sep, to sa (the separator included).
 *   1  a whole line was read
 *   0  end of file; sa holds whatever partial line came before it
 *  -1  read error (errno set)
 *  -2  the line grew past max bytes; sa holds the first max bytes and the
 *      rest of the line is still unread (buffer_skipline() discards it)
 * max bounds memory: no line is ever buffered whole beyond it. */
int buffer_getline(buffer *b, stralloc *sa, char sep, size_t max);
/* Discards input up to and including sep: 1, 0 at end of file, -1 error. */
int buffer_skipline(buffer *b, char sep);

/* ---- writing ---- */

/* 0 on success, -1 on error (errno set); data may stay buffered. */
int buffer_put(buffer *b, const char *s, size_t len);
int buffer_puts(buffer *b, const char *s);
int buffer_flush(buffer *b);
int buffer_putflush(buffer *b, const char *s, size_t len);
int buffer_putsflush(buffer *b, const char *s);

/* Copies everything from in to out until end of file on in.
 * Returns 0, -2 on a read error, -3 on a write error (qmail's convention). */
int buffer_copy(buffer *out, buffer *in);

#endif
