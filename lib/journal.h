#ifndef JOURNAL_H
#define JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "stralloc.h"

/* qmail-send's journal (queue/state/journal): an append-only file of
 * records saying what became of each message, so that the queue needs no
 * per-message state files (INTERNALS.md). Each record is framed as
 *
 *   <payload length in decimal> ":" payload "," <8 hex digits> "\n"
 *
 * where the hex digits are the FNV-1a hash of the payload. Replay stops at
 * the first record that is incomplete or does not match its hash (a torn
 * write at a crash), and the file is cut back to the last good record.
 *
 * Payloads are NUL-separated fields after a type letter:
 *   N id birth msglen uid pid sender {c addr}...  a new message; c is L or R
 *                                   (local, remote), l or r when done
 *   D id index                      recipient index delivered (or gave up)
 *   F id index text                 recipient index failed permanently
 *   B id                            the bounce for the F records so far was queued
 *   E id                            the message is gone
 */

#define JOURNAL_MAXRECORD (64 * 1024 * 1024)

struct journal {
  int fd;
  stralloc out;       /* records not yet written */
  uint64_t size;      /* bytes in the file, written or not */
};

/* Opens (creating, mode 0600) fn. 0 or -1. */
int journal_open(struct journal *j, const char *fn);
void journal_close(struct journal *j);

/* Parses one framed record at the start of s[0..len).
 * 1: *payload and *plen set, *used = bytes consumed; 0: incomplete;
 * -1: malformed (bad framing or hash). */
int journal_parse(const char *s, size_t len, const char **payload, size_t *plen, size_t *used);

/* Calls cb for every good record in order (cb returns 0 to go on, -1 to
 * stop with an error), then cuts the file after the last good record.
 * 0 on success, -1 on a read or cut error, or when cb failed. */
int journal_replay(struct journal *j, int (*cb)(void *arg, const char *payload, size_t len), void *arg);

/* Queues a record (written by journal_flush). 0, or -1 (ENOMEM, E2BIG). */
int journal_add(struct journal *j, const char *payload, size_t len);
/* Writes queued records: one write() for all of them. 0 or -1. */
int journal_flush(struct journal *j);
/* journal_flush, then fdatasync: the records are on disk. 0 or -1. */
int journal_sync(struct journal *j);

/* Replacing the journal with a compact one: the caller opens tmp with
 * journal_open (after unlinking it), adds live records, then
 * journal_replace commits it (sync, rename over fn, fsync the directory)
 * and j adopts the new file. On error j keeps the old file. */
int journal_replace(struct journal *j, struct journal *tmp, const char *tmpfn, const char *fn);

/* ---- record fields ---- */

/* Iterates over the NUL-terminated fields of a payload after its type
 * letter: *pos starts at 1. 1 and the field (not NUL-terminated), 0 at
 * the end, -1 if a field has no NUL. */
int journal_field(const char *payload, size_t len, size_t *pos, const char **f, size_t *flen);
/* Reads a field as a number: 1 ok, 0 not a whole decimal number. */
int journal_number(const char *f, size_t flen, unsigned long *u);

#endif
