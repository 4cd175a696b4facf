#ifndef MAILDIRLIST_H
#define MAILDIRLIST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "stralloc.h"

/* Reading a Maildir (maildir(5)) as a POP3 server does: the messages of
 * new/ and cur/ in delivery order, each with its unique name, and the
 * moves a reader makes. Every function works on the Maildir that is the
 * current directory (qmail-pop3d changes into it first). */

struct maildirlist_msg {
  char *fn;          /* "new/<name>" or "cur/<name>", NUL-terminated */
  size_t uniqlen;    /* the unique name is fn + 4, up to the first ':' */
  uint64_t size;     /* the file's size when it was listed */
  time_t when;       /* delivery time: the number the name starts with */
};

struct maildirlist {
  struct maildirlist_msg *m;
  size_t len;
  size_t a;
};

#define MAILDIRLIST_ZERO { 0, 0, 0 }

/* Lists the regular files of new/ and cur/ whose names do not start with
 * '.', sorted by delivery time (the decimal number before the first '.' of
 * the name, as Maildir names begin; the file's mtime for a name without
 * one), then by unique name, cur/ before new/. A unique name found twice
 * (new/X and cur/X:2, at once, as while another reader moves it) is
 * listed once, from cur/. Messages delivered in the current second are
 * listed: a Maildir file appears in new/ only when complete. Files that
 * vanish while being listed are skipped. Returns 0, or -1 (errno set: new/
 * or cur/ cannot be read, or no memory); l is emptied first. */
int maildirlist_scan(struct maildirlist *l);
void maildirlist_free(struct maildirlist *l);

/* The unique name of a file name in new/ or cur/ (with or without the
 * "new/" prefix): the bytes before the first ':'. */
size_t maildirlist_uniqlen(const char *name, size_t len);

/* Finds the message with unique name u[0..ulen) in cur/ or new/, where
 * another reader may have moved it (new/X to cur/X:2, or cur/X:2,S):
 * 1 and its name ("cur/..." or "new/...", NUL-terminated) in fn, 0 when it
 * is in neither, -1 on error (errno set). */
int maildirlist_find(const char *u, size_t ulen, stralloc *fn);

/* Moves new/X to cur/X:2, (a message the reader has seen, as qmail-pop3d
 * leaves it). A name not in new/ is left alone. 1 moved, 0 nothing to
 * do, -1 on error (errno set; ENOENT: another reader moved or removed it). */
int maildirlist_seen(const char *fn, stralloc *tmp);

/* Removes files in tmp/ not accessed for 36 hours (maildir(5): a delivery
 * that died); errors are ignored. */
void maildirlist_clean(time_t now);

#endif
