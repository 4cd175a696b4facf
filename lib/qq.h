#ifndef QQ_H
#define QQ_H

#include <stddef.h>
#include <sys/types.h>

#include "buffer.h"

/* Talking to qmail-queue (or to the program named by $QMAILQUEUE, as every
 * qmail program that queues mail allows since netqmail 1.04):
 *
 *   qq_open(&qq); qq_puts(&qq, header); ...; qq_from(&qq, sender);
 *   qq_to(&qq, rcpt); ...; err = qq_close(&qq);
 *
 * qq_close() is the one place that reads qmail-queue's exit code. It
 * returns "" on success, otherwise text starting with 'D' (permanent: do
 * not retry) or 'Z' (temporary) followed by a human-readable reason with
 * its enhanced status code, e.g. "Zqq write error or disk full (#4.3.0)".
 * Exit 82 means the queue program (a filter) wrote its own reason, starting
 * with D or Z, on its descriptor 6; that text is returned, sanitized. */

#define QQ_ERRMAX 1000

struct qq {
  pid_t pid;
  int fdm;           /* message pipe */
  int fde;           /* envelope pipe */
  int fderr;         /* the read end of the child's descriptor 6 */
  int flagerr;
  buffer b;
  char buf[8192];
  char err[QQ_ERRMAX + 1];
};

/* Starts the queue program in QMAILHOME. 0, or -1 (errno set). */
int qq_open(struct qq *qq);
/* The same with an explicit program path (tests), or 0 for the default. */
int qq_openprog(struct qq *qq, const char *prog);
void qq_put(struct qq *qq, const char *s, size_t len);
void qq_puts(struct qq *qq, const char *s);
/* Ends the message and starts the envelope. */
void qq_from(struct qq *qq, const char *sender);
void qq_to(struct qq *qq, const char *rcpt);
/* Marks the message as failed (the caller's own input broke off, or the
 * message was refused half-way): nothing more is written, the envelope's
 * final NUL is never sent, the queue program is killed before it could
 * commit, and qq_close reports a temporary error. */
void qq_fail(struct qq *qq);
const char *qq_close(struct qq *qq);
/* The queue program's pid, which qmail logs as "qp". */
unsigned long qq_qp(const struct qq *qq);

/* The table itself: text for an exit code of the queue program (82 needs
 * the custom text and is handled by qq_close). */
const char *qq_exitstr(int code);

#endif
