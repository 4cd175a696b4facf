#include "requeue.h"

#include <errno.h>

#include "buffer.h"
#include "error.h"
#include "qq.h"
#include "stralloc.h"

static stralloc requeue_err = STRALLOC_ZERO;

static const char *requeue_fail(const char *what, int e)
{
  requeue_err.len = 0;
  if (!stralloc_copys(&requeue_err, "Z") || !stralloc_cats(&requeue_err, what)
      || !stralloc_cats(&requeue_err, error_str(e)) || !stralloc_cats(&requeue_err, " (#4.3.0)")
      || !stralloc_0(&requeue_err))
    return "Zout of memory (#4.3.0)";
  return requeue_err.s;
}

const char *requeue(int fd, const char *dtline, const char *sender, char *const *rcpt, unsigned long *qp)
{
  struct qq qq;
  char inspace[8192];
  buffer in;
  const char *r;
  int readerr = 0;

  *qp = 0;
  if (qq_open(&qq) == -1) return requeue_fail("unable to start the queue program: ", errno);
  *qp = qq_qp(&qq);
  qq_puts(&qq, dtline);
  buffer_init(&in, fd, inspace, sizeof inspace, 0);
  for (;;) {
    ssize_t n = buffer_feed(&in);
    if (n == 0) break;
    if (n < 0) { readerr = errno; qq_fail(&qq); break; }
    qq_put(&qq, buffer_peek(&in), (size_t)n);
    buffer_seek(&in, (size_t)n);
    if (qq.flagerr) break; /* the queue program quit: qq_close says why */
  }
  qq_from(&qq, sender);
  for (; *rcpt; ++rcpt) qq_to(&qq, *rcpt);
  r = qq_close(&qq);
  if (readerr) return requeue_fail("unable to read message: ", readerr);
  return r;
}
