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
 *              "\nQQ2 m=<20 digits> e=<20 digits> t=<20 digits> h=<16 hex>\n"
 *              m = message bytes, e = envelope bytes, t = queue time,
 *              h = qfile_hash of the message and envelope
 *
 * One file per message means one inode creation per message, and the
 * trailer lets a reader find the envelope with one pread at the end.
 *
 * The hash is for crashes, not attacks. qmail-queue names the file in
 * todo/ before its fsync, so that the deliveries need not wait for it;
 * after a power cut a file may then be in todo/ without its bytes (or with
 * an earlier message's, for a reused file). Such a file was never
 * acknowledged, and qmail-send tells it by its hash (qfile_verify).
 *
 * Files from before the hash end in a QQ1 trailer, the same without
 * " h=...": still read, taken as intact. */

#define QFILE_TRAILER 93  /* QQ2, what qmail-queue writes */
#define QFILE_TRAILER1 74 /* QQ1 */

/* Set in a queue file's mode once qmail-queue's fsync of it has returned:
 * qmail-clean, committing a file without it, fsyncs the file itself (its
 * qmail-queue is still at it, or died). In memory only: after a crash
 * it means nothing, and qfile_verify decides. */
#define QFILE_SYNCED 0100 /* S_IXUSR */

struct qfile_hash {
  uint64_t h, len;
  unsigned char part[8];
  unsigned npart;
};
void qfile_hash_init(struct qfile_hash *q);
void qfile_hash_add(struct qfile_hash *q, const char *s, size_t len);
uint64_t qfile_hash_end(const struct qfile_hash *q);

struct qfile_trailer {
  uint64_t msglen, envlen, qtime, hash;
  int hashed;  /* QQ2: hash is set */
  size_t len;  /* QFILE_TRAILER, or QFILE_TRAILER1 for QQ1 */
};

/* Writes a QQ2 trailer into buf (QFILE_TRAILER bytes, no NUL). */
void qfile_trailer_fmt(char *buf, uint64_t msglen, uint64_t envlen, uint64_t qtime, uint64_t hash);
/* The trailer at the end of the len bytes at buf (a file's last bytes, len
 * at most QFILE_TRAILER): QQ2 if all QFILE_TRAILER bytes are one, else QQ1
 * in the last QFILE_TRAILER1. 1 and *t set, or 0. */
int qfile_trailer_parse(const char *buf, size_t len, struct qfile_trailer *t);

/* Reads and checks the trailer of the queue file open on fd, whose size
 * is filesize, then reads the envelope into env (replacing it).
 * 1 ok, 0 not a valid queue file (sizes disagree, bad trailer, or an
 * envelope that is not u, p, F, T... ending exactly at its extra NUL),
 * -1 read error. */
int qfile_read(int fd, uint64_t filesize, uint64_t *msglen, uint64_t *qtime, stralloc *env);

/* Reads the whole queue file on fd (filesize bytes): 1 if its message and
 * envelope hash to its trailer's h, or it has a QQ1 trailer; 0 if not, or
 * if the trailer is not valid; -1 read error. */
int qfile_verify(int fd, uint64_t filesize);

/* Appends "dir/<id % split>/<id>" (split 0: "dir/<id>"). 1 or 0 (ENOMEM). */
int qfile_name(stralloc *sa, const char *dir, unsigned long id, unsigned long split);

#endif
