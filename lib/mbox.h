#ifndef MBOX_H
#define MBOX_H

#include <stddef.h>
#include <time.h>

#include "buffer.h"
#include "stralloc.h"

/* mbox files (mbox(5)): the From_ line, >From quoting, and appending one
 * message under a lock, truncating back on any error. */

/* The delivery date of a From_ line, in UTC, as qmail writes it (myctime):
 * "Sun Jan 03 01:05:34 1996", always MBOX_DATE bytes (years 1000-9999;
 * others print as 1970). No NUL. */
#define MBOX_DATE 24
size_t mbox_date(char *s, time_t t);

/* "From <sender> <date>\n" (qmail's UFLINE): an empty sender is written
 * MAILER-DAEMON, and spaces, tabs and newlines in it become '-'. Copied
 * into sa. 1, or 0 (ENOMEM). */
int mbox_ufline(stralloc *sa, const char *sender, size_t len, time_t t);

/* >From quoting while copying a message into an mbox: a '>' is put before
 * every line that is ">"* followed by "From " (mboxrd). The message may
 * come in pieces of any size; no line is buffered. */
struct mbox_quote {
  size_t gt;      /* '>' seen at the start of the current line */
  unsigned from;  /* bytes of "From " matched after them */
  int inline_;    /* past the start of the line: copy to its end */
  int partial;    /* something was written since the last newline */
};

void mbox_quote_start(struct mbox_quote *q);
/* 0, or -1 if out could not be written (errno set). */
int mbox_quote_put(struct mbox_quote *q, buffer *out, const char *s, size_t len);
/* Ends the message: a newline if its last line had none, then the blank
 * line that ends every message in an mbox. 0 or -1. */
int mbox_quote_end(struct mbox_quote *q, buffer *out);

enum mbox_status {
  MBOX_OK = 0,
  MBOX_EOPEN,     /* the file could not be opened (or created) */
  MBOX_ELOCK,     /* another process held the lock for the whole timeout */
  MBOX_EREAD,     /* the message could not be read */
  MBOX_EWRITE,    /* writing, fsync or close failed */
  MBOX_EMOVED     /* the mbox was replaced every time we got its lock */
};

/* Appends one message to the mbox fn (created with mode 0600 if missing):
 * head[0..headlen) (the From_, Return-Path and Delivered-To lines), then
 * the whole content of fd from offset 0 (pread; fd's offset does not
 * move), >From-quoted, then the blank line; then fsync. The file is
 * locked with flock first, waiting at most locktimeout seconds (0: as long
 * as it takes); SIGALRM and alarm() are used while waiting, and any alarm
 * the caller had set is cancelled. If the file cannot be locked at all
 * (no flock on this filesystem) the message is appended unlocked, as qmail
 * does. If it was replaced (renamed over) while we waited, the new file is
 * opened and locked instead. On any error after the lock the file is
 * truncated back to its old size. errno says why on failure. */
enum mbox_status mbox_append(const char *fn, int fd, const char *head, size_t headlen, unsigned locktimeout);

#endif
