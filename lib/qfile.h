#ifndef QFILE_H
#define QFILE_H

#include <stddef.h>
#include <stdint.h>

#include "stralloc.h"

/* The queue file that qmail-queue commits into todo/ (INTERNALS.md):
 *
 *   message    the Received line, then the message as read from fd 0
 *   envelope   "u" uid NUL "p" pid NUL "F" sender NUL ("T" rcpt NUL)* NUL
 *   trailer    QFILE_TRAILER bytes of text:
 *              "\nQQ1 m=<20 digits> e=<20 digits> t=<20 digits>\n"
 *              m = message bytes, e = envelope bytes, t = queue time
 *
 * One file per message means one inode creation per message, and the
 * trailer lets a reader find the envelope with one pread at the end. */

#define QFILE_TRAILER 74

/* Writes the trailer into buf (QFILE_TRAILER bytes, no NUL). */
void qfile_trailer_fmt(char *buf, uint64_t msglen, uint64_t envlen, uint64_t qtime);
/* 1 and the numbers set if buf is a well-formed trailer, else 0. */
int qfile_trailer_parse(const char *buf, uint64_t *msglen, uint64_t *envlen, uint64_t *qtime);

/* Reads and checks the trailer of the queue file open on fd, whose size
 * is filesize, then reads the envelope into env (replacing it).
 * 1 ok, 0 not a valid queue file (sizes disagree, bad trailer, or an
 * envelope that is not u, p, F, T... ending exactly at its extra NUL),
 * -1 read error. */
int qfile_read(int fd, uint64_t filesize, uint64_t *msglen, uint64_t *qtime, stralloc *env);

/* Appends "dir/<id % split>/<id>" (split 0: "dir/<id>"). 1 or 0 (ENOMEM). */
int qfile_name(stralloc *sa, const char *dir, unsigned long id, unsigned long split);

#endif
