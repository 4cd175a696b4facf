#ifndef BOUNCE_H
#define BOUNCE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "stralloc.h"

/* Bounce messages (qmail-send): RFC 3464 multipart/report whose first
 * part is qmail's QSBMF text, word for word, so that both QSBMF parsers
 * (ezmlm-return, Sisimai, ...) and DSN parsers read them:
 *
 *   text/plain              "Hi. This is the qmail-send program at ..."
 *                           "<rcpt>:" and the report for each failure,
 *                           "--- Below this line is a copy of the message."
 *   message/delivery-status Reporting-MTA, Arrival-Date, then per
 *                           recipient Final-Recipient, Action, Status,
 *                           Diagnostic-Code
 *   message/rfc822          Return-Path and the original message, or
 *   text/rfc822-headers     only its header, when it is over maxbytes
 *
 * A bounce of a bounce (empty sender) goes to doublebounceto with the
 * envelope sender "#@[]" and qmail's double-bounce wording. */

struct bounce_failure {
  const char *rcpt;     /* as the sender wrote it (virtual prepend removed) */
  const char *report;   /* the delivery report */
  int remote;           /* 1 if it failed in remote delivery */
};

struct bounce {
  unsigned long id;
  const char *sender;           /* the original envelope sender */
  time_t birth;                 /* when the message was queued */
  const struct bounce_failure *f;
  size_t nf;
  int fdmess;                   /* the message, read with pread */
  uint64_t msglen;
  uint64_t maxbytes;            /* 0: always the whole message */
  const char *bouncefrom;       /* control/bouncefrom */
  const char *bouncehost;       /* control/bouncehost */
  const char *doublebounceto;   /* "user@host", or "" to discard */
  const char *me;               /* Reporting-MTA */
};

/* Queues the bounce through lib/qq. Returns "" when it is queued (or
 * deliberately discarded: then *discarded is 1), else qq's 'D'/'Z' text.
 * *qp is the queue program's pid, for the log. */
const char *bounce_inject(const struct bounce *b, unsigned long *qp, int *discarded);

/* The enhanced status code in a report's "(#x.y.z)", or dflt. Writes at
 * most 16 bytes into buf (NUL-terminated) and returns buf. */
const char *bounce_status(const char *report, const char *dflt, char *buf);

/* Appends qmail's QSBMF paragraph for one failed recipient to sa
 * ("<rcpt>:\nreport\n\n" with qmail's newline rules), as addbounce does. */
int bounce_paragraph(stralloc *sa, const char *rcpt, const char *report);

#endif
