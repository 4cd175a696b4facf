#ifndef DOTSTUFF_H
#define DOTSTUFF_H

#include <stddef.h>

/* The message text of an SMTP DATA command, as qmail-remote sends it: the
 * one place that decides how a stored message is framed on the wire.
 *
 * A stored message ends its lines with LF. On the wire every line must
 * end in CRLF, and a line starting with '.' gets a second '.' (RFC 5321
 * 4.5.2). Here CR, LF and CRLF each end a line and each goes out as CRLF,
 * and a '.' at the start of every line is doubled, including a line that
 * starts after a bare CR. So "\r.\r\n" in a message goes out as
 * "\r\n..\r\n", never as something the next server could take for the end
 * of the data (SMTP smuggling: notqmail 1.09 sends the bare CR as it is).
 * qmail sends a bare CR as it is; RFC 5321 2.3.8 forbids it on the wire.
 * A CR LF pair is one line end, not two. Nothing else is changed: NUL and
 * 8-bit bytes go out as they are, as qmail sends them.
 *
 * The end adds CRLF if the last line had no line end (qmail refuses such
 * a message; a line end added at the very end changes nothing a reader
 * could see), then ".\r\n". */

struct dotstuff {
  int linestart;  /* the next byte starts a line */
  int cr;         /* the last byte was a CR (its CRLF has gone out) */
};

void dotstuff_start(struct dotstuff *d);
/* Converts in[0..n) into out, which needs room for 2 * n bytes. Returns
 * the number of bytes written. */
size_t dotstuff_feed(struct dotstuff *d, const char *in, size_t n, char *out);
/* The end of the data: writes at most DOTSTUFF_ENDMAX bytes into out and
 * returns the count. */
#define DOTSTUFF_ENDMAX 5
size_t dotstuff_end(struct dotstuff *d, char *out);

#endif
