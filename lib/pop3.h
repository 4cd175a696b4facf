#ifndef POP3_H
#define POP3_H

#include <stddef.h>

#include "buffer.h"

/* POP3 (RFC 1939, RFC 2449) as qmail-popup and qmail-pop3d speak it: the
 * one parser of command lines, and the writer of messages in the POP3
 * multi-line form.
 *
 * A command line is given without its CRLF (or LF). The verb is
 * case-insensitive and ends at the first space or at the end of the line;
 * the argument is what follows that one space, unchanged. */

enum pop3_verb {
  POP3_UNKNOWN = 0,
  POP3_USER, POP3_PASS, POP3_APOP, POP3_QUIT, POP3_NOOP, POP3_CAPA,
  POP3_STAT, POP3_LIST, POP3_UIDL, POP3_RETR, POP3_TOP, POP3_DELE,
  POP3_RSET, POP3_LAST
};

/* The verb of line[0..len); *arg and *arglen: the argument (empty, with
 * *arg = line + len, when there is no space). A verb not in the list, or
 * one followed by anything but a space ("STAT\t"), is POP3_UNKNOWN; the
 * argument is set all the same. */
enum pop3_verb pop3_verb(const char *line, size_t len, const char **arg, size_t *arglen);

/* The numeric arguments of arg[0..len): between min and max (at most 2)
 * decimal numbers, each one or more digits and nothing else (no sign),
 * separated by one or more spaces; spaces after the last are ignored (some
 * clients send "LIST "). Returns how many were stored in num[], or -1:
 * too few, too many, a non-digit, or a number over ULONG_MAX (never
 * wrapped, unlike qmail's scan_ulong). */
int pop3_nums(const char *arg, size_t len, unsigned min, unsigned max, unsigned long num[2]);

/* Writing a message file as the text of RETR or TOP: an LF not preceded by
 * CR becomes CRLF (a CRLF in the file stays as it is), a '.' starting a
 * line is doubled, a last line without LF is ended with CRLF, and ".\r\n"
 * closes the text. For TOP n k (top set) only the header, the blank line
 * after it, and the first k lines of the body are written; a message
 * without a blank line is all header. Feed the file in pieces of any
 * size: the output does not depend on how it is cut. */
struct pop3_msg {
  int top;               /* TOP: count body lines */
  unsigned long left;    /* TOP: body lines still to write */
  int bol;               /* at the start of a line */
  int cr;                /* the last byte written was a CR of the file */
  int inbody;            /* past the blank line ending the header */
  size_t linelen;        /* bytes of the current line so far (saturated at 2) */
  int done;              /* TOP: nothing more will be written before pop3_msg_end */
};

void pop3_msg_start(struct pop3_msg *m, int top, unsigned long k);
/* 0, or -1 when writing to out failed (errno set). Once m->done is set,
 * further input is ignored and the caller may stop reading. */
int pop3_msg_put(struct pop3_msg *m, buffer *out, const char *x, size_t n);
int pop3_msg_end(struct pop3_msg *m, buffer *out);

#endif
