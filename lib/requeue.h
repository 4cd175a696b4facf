#ifndef REQUEUE_H
#define REQUEUE_H

/* Sending the message a .qmail program is delivering on to other
 * addresses, as qmail-local forwards and as forward and condredirect do:
 * the Delivered-To line first, then the message from fd (its current
 * offset to its end), through lib/qq (so $QMAILQUEUE is honoured).
 *
 * rcpt is a null-terminated list of addresses. Returns "" when the
 * message is queued, otherwise text starting with 'D' (permanent) or 'Z'
 * (temporary), as qq_close() does; a read error on fd is temporary and
 * leaves nothing in the queue. *qp is the queue program's pid (0 if it
 * never started), which qmail reports as "qp". */
const char *requeue(int fd, const char *dtline, const char *sender, char *const *rcpt, unsigned long *qp);

#endif
