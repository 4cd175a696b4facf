#ifndef MAILDIR_H
#define MAILDIR_H

#include <stddef.h>

#include "stralloc.h"

/* Delivering one message into a Maildir (maildir(5)).
 *
 * The message is written into an unnamed O_TMPFILE file in tmp/, fsynced,
 * then given its name in new/ directly, and new/ is fsynced: one file
 * creation, nothing to clean up if the process dies half-way, and the
 * message is visible only once it is complete and on disk. Where the
 * filesystem has no O_TMPFILE, or the unnamed file cannot be given a name
 * (an old kernel without /proc), the classic way is used instead: a new
 * tmp/<unique> file, fsynced and closed, linked to new/<unique>, the tmp/
 * name removed, new/ fsynced. Either way new/ never holds a partial
 * message. */

enum maildir_status {
  MAILDIR_OK = 0,
  MAILDIR_ETMP,    /* no file could be created in tmp/ (or the Maildir is missing) */
  MAILDIR_EREAD,   /* the message could not be read */
  MAILDIR_EWRITE,  /* writing, fsync or close failed (disk full, I/O error) */
  MAILDIR_ENEW,    /* the file could not be named in new/, or new/ not fsynced */
  MAILDIR_ENOMEM
};

/* Delivers head[0..headlen) (the Return-Path and Delivered-To lines)
 * followed by the whole content of fd, read with pread from offset 0 (fd's
 * offset does not move), into the Maildir dir ("./Maildir/" or
 * "./Maildir"). host goes into the unique name (lib/uniq). On success the
 * name in new/ is in name (if not null), NUL-terminated. On failure errno
 * says why. A failure is never a partial delivery: nothing is left in
 * new/, except when only the final fsync of new/ failed (MAILDIR_ENEW
 * with the complete message named: delivered twice later, never lost). */
enum maildir_status maildir_deliver(const char *dir, int fd, const char *head, size_t headlen,
                                    const char *host, stralloc *name);

/* Async-signal-safe: removes the named tmp/ file being written, if any
 * (for a timeout handler; an unnamed file needs nothing). */
void maildir_cleanup(void);

#endif
