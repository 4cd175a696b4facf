#ifndef ENVELOPE_H
#define ENVELOPE_H

#include <stddef.h>

/* The qmail-queue envelope (qmail-queue(8)): "F" sender NUL, then "T"
 * recipient NUL for each recipient, then one more NUL. Stored envelopes in
 * the queue add "u" uid NUL and "p" pid NUL records before the F record.
 *
 * The scanner checks an envelope as it streams past (qmail-queue copies it
 * straight into the queue file), byte-exact with qmail-queue's rules: the
 * first record must be F, every later one T, each address at most
 * ENVELOPE_MAXADDR bytes. Bytes after the final NUL are not looked at. */

#define ENVELOPE_MAXADDR 1000

enum envelope_status {
  ENVELOPE_MORE,     /* valid so far; feed more bytes */
  ENVELOPE_DONE,     /* the terminating NUL was seen */
  ENVELOPE_BAD,      /* format error (qmail-queue exit 91) */
  ENVELOPE_TOOLONG   /* an address is over the limit (qmail-queue exit 11) */
};

struct envelope_scan {
  int state;
  size_t addrlen;
  size_t maxaddr;
  unsigned long rcpts;
};

void envelope_start(struct envelope_scan *s, size_t maxaddr);
/* Consumes bytes from buf; *used says how many belong to the envelope
 * (all of them unless DONE, BAD or TOOLONG came first). */
enum envelope_status envelope_feed(struct envelope_scan *s, const char *buf, size_t len, size_t *used);

/* Iterates over the records of a complete envelope in memory.
 * *pos starts at 0. Returns 1 with the record's type letter and its
 * address (not NUL-terminated), 0 at the terminating empty record, -1 if
 * the bytes end before it or a record has no NUL. */
int envelope_next(const char *s, size_t len, size_t *pos, char *type,
                  const char **addr, size_t *alen);

#endif
