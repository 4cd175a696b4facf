#ifndef HEADER_H
#define HEADER_H

#include <stddef.h>

#include "stralloc.h"

/* Message header fields as qmail-inject sees them (qmail's hfield.c and
 * headerbody.c): which fields it knows, which lines are fields at all, and
 * how a message is split into fields (with their continuation lines) and
 * a body. */

/* The fields qmail knows, in qmail's order. */
enum header_type {
  HEADER_UNKNOWN = 0,
  HEADER_SENDER, HEADER_FROM, HEADER_REPLYTO, HEADER_TO, HEADER_CC, HEADER_BCC,
  HEADER_DATE, HEADER_MESSAGEID, HEADER_SUBJECT,
  HEADER_R_SENDER, HEADER_R_FROM, HEADER_R_REPLYTO, HEADER_R_TO, HEADER_R_CC, HEADER_R_BCC,
  HEADER_R_DATE, HEADER_R_MESSAGEID,
  HEADER_RETURNRECEIPTTO, HEADER_ERRORSTO, HEADER_APPARENTLYTO, HEADER_RECEIVED,
  HEADER_RETURNPATH, HEADER_DELIVEREDTO, HEADER_CONTENTLENGTH, HEADER_CONTENTTYPE,
  HEADER_CONTENTTRANSFERENCODING, HEADER_NOTICEREQUESTEDUPONDELIVERYTO,
  HEADER_MAILFOLLOWUPTO,
  HEADER_NUM
};

/* Which known field s[0..len) (a field with or without its contents) is:
 * its name in any case of letters, then optional spaces and tabs, then a
 * colon. HEADER_UNKNOWN otherwise. */
int header_known(const char *s, size_t len);

/* The field's name in lower case ("message-id"), "unknown-header" for 0. */
const char *header_name(int type);

/* 1 if s[0..len) starts a header field: a colon, and before it (trailing
 * spaces and tabs aside) a nonempty name of printable ASCII without
 * spaces. */
int header_valid(const char *s, size_t len);

/* Splitting a message, one line at a time (each line with its '\n'; the
 * caller adds one to a last line without it). A line starting with a
 * space or tab continues the field before it; a line starting "From " is
 * kept as the field "MBOX-Line: From ..."; a blank line ends the header
 * and is the first line of the body; any other line that is not a field
 * ends the header too, and then the body starts with a blank line added
 * before it. */
struct header_split_ops {
  int (*field)(void *arg, stralloc *field); /* a whole field; may change it */
  int (*end)(void *arg);                    /* the header is complete */
  int (*body)(void *arg, const char *s, size_t len);
};

struct header_split {
  stralloc field; /* the field being collected */
  size_t max;     /* the longest field accepted, continuation lines included */
  int have;       /* field holds a field */
  int ended;      /* the header has ended */
};

#define HEADER_SPLIT_ZERO { STRALLOC_ZERO, 0, 0, 0 }

void header_split_init(struct header_split *hs, size_t max);

/* Feeds one line. partial says that the line was cut short (only its
 * first len bytes were read): it is refused if it belongs in the header.
 * Returns 1 when the line went into the header; 0 when the header ended
 * with it (end was called, then body with what the body starts with, and
 * everything after belongs to the body); -1 when a callback failed (it
 * returned -1) or memory ran out; -2 when a field would grow beyond max. */
int header_split_line(struct header_split *hs, const char *line, size_t len, int partial,
                      const struct header_split_ops *ops, void *arg);

/* The end of the input: hands over the last field and ends the header, if
 * that has not happened yet (a message that is all header gets no blank
 * line). 0, or -1 when a callback failed. */
int header_split_eof(struct header_split *hs, const struct header_split_ops *ops, void *arg);

void header_split_free(struct header_split *hs);

#endif
