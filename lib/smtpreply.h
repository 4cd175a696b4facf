#ifndef SMTPREPLY_H
#define SMTPREPLY_H

#include <stddef.h>

#include "buffer.h"
#include "stralloc.h"

/* SMTP replies as qmail-remote reads them from a server it does not trust
 * (RFC 5321 4.2). A reply is one or more lines "ddd-text" ending with a
 * line "ddd text" (or "ddd" alone). The reader is a state machine fed any
 * number of bytes at a time, so that recorded replies can be tested and
 * fuzzed without a socket; smtpreply_get drives it from a buffer.
 *
 *  - A line ends at LF; a CR before the LF is dropped, and so is any other
 *    CR (qmail drops every CR): servers that end lines with a bare LF are
 *    understood. A line never ends at a bare CR.
 *  - Every line must carry the same code (RFC 5321 4.2.1); a reply whose
 *    lines disagree ("250-ok" then "550 no") is malformed, since reading
 *    either code could turn a refusal into a success. The code must be
 *    three digits, the
 *    first 2 to 5 and the second 0 to 5 (RFC 5321 4.2.1: 1yz is never
 *    used by SMTP); anything else, and a line that does not start with
 *    three digits followed by ' ', '-' or the end of the line, makes the
 *    reply malformed: code 0, which the caller treats as a temporary
 *    protocol error. A malformed line ends the reply at once, since nothing
 *    after it can be trusted to be in step.
 *  - The text kept is bounded: at most SMTPREPLY_LINEMAX bytes of each
 *    line and SMTPREPLY_MAX bytes in all; the rest of a long line or of a
 *    reply of megabytes is read and thrown away (so one huge line does not
 *    push the EHLO keywords after it out of the text). Every
 *    line kept ends in '\n' (qmail's smtptext), so the text reads as the
 *    reply did. NUL and the other control bytes except tab become '?',
 *    because the text ends up in NUL-terminated reports, logs and bounces.
 *    Enhanced status codes ("250 2.1.5 ok") stay in the text as they were. */

#define SMTPREPLY_MAX 65536
#define SMTPREPLY_LINEMAX 2048

struct smtpreply {
  stralloc text;      /* the reply's lines, each ending in '\n' (bounded) */
  unsigned code;      /* 200..599 once a well-formed reply ended, else 0 */
  int cut;            /* some text was thrown away */
  /* the parser's state */
  int state;
  unsigned linecode;
  size_t pos;         /* bytes of this line seen so far */
  size_t lines;       /* whole lines before this one */
  size_t linekept;    /* bytes of this line kept in text */
  int mixed;          /* a line's code differed from the first line's */
};

#define SMTPREPLY_ZERO { STRALLOC_ZERO, 0, 0, 0, 0, 0, 0, 0, 0 }

/* Readies r for a new reply (keeps the memory of the old one). */
void smtpreply_start(struct smtpreply *r);

/* Feeds s[0..n). *used is set to the bytes consumed. Returns
 *   1  the reply is complete (bytes after it, s + *used, are not read);
 *      r->code is its code, or 0 if it was malformed;
 *   0  all of s was consumed and the reply goes on;
 *  -1  out of memory. */
int smtpreply_feed(struct smtpreply *r, const char *s, size_t n, size_t *used);

/* Reads one whole reply from b (starts r itself). Returns 1 (see
 * r->code), 0 on end of file before the reply ended, -1 on a read error
 * or timeout (errno set), -2 out of memory. */
int smtpreply_get(struct smtpreply *r, buffer *b);

/* What an EHLO reply's text offers (RFC 5321 4.1.1.1): each line after
 * the first is a keyword and its parameters. Keywords are matched without
 * regard to case. */
struct smtpreply_ehlo {
  int pipelining;           /* PIPELINING (RFC 2920) */
  int size;                 /* SIZE (RFC 1870) was offered */
  unsigned long long sizemax; /* its limit; 0 = no limit given */
  int eightbitmime;         /* 8BITMIME (RFC 6152) */
  int smtputf8;             /* SMTPUTF8 (RFC 6531) */
  int enhancedstatuscodes;  /* ENHANCEDSTATUSCODES (RFC 2034) */
};

/* Parses text as smtpreply keeps it ("250-name\n250-PIPELINING\n...").
 * Lines that are not "ddd-" or "ddd " followed by a keyword are ignored;
 * a SIZE whose value is not a number is taken as SIZE without a limit,
 * and a value too large to hold saturates. */
void smtpreply_ehlo(const char *text, size_t len, struct smtpreply_ehlo *e);

#endif
