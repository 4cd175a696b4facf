#ifndef QMTP_H
#define QMTP_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "buffer.h"
#include "stralloc.h"

/* The pieces of QMTP (cr.yp.to/proto/qmtp.txt) and QMQP
 * (cr.yp.to/proto/qmqp.html) that qmail-qmtpd, qmail-qmqpd and
 * qmail-qmqpc share: the message-body conversion, netstrings nested in a
 * netstring of known length, and the QMQP server address.
 *
 * Everything here reads untrusted bytes from the network a piece at a
 * time: no length the peer announces is ever allocated or buffered whole,
 * except a field (an address) of at most the caller's max. */

/* Large enough for any real message, small enough that a length never
 * comes near overflowing anything. qmail stopped at about 2 GB too. */
#define QMTP_MAXLEN 2000000000UL

/* ---- the QMTP message body ----
 * Its first byte gives the line ending of the rest and is not part of the
 * message: LF means the message is as it is; CR means every CR LF pair
 * stands for LF (a CR not followed by LF stays, also a last CR). */
struct qmtp_body {
  int state;
};

void qmtp_body_start(struct qmtp_body *q);
/* Converts in[0..len), a chunk of the body, into out, which needs room for
 * len + 1 bytes (a CR held back at the end of the previous chunk may come
 * out now). Returns the number of bytes written, or -1 if the first byte
 * of the body is neither LF nor CR (nothing is written then). */
ssize_t qmtp_body_conv(struct qmtp_body *q, const char *in, size_t len, char *out);
/* At the end of the body: writes a CR still held back (out needs 1 byte).
 * Returns the count (0 or 1). A body that never got its first byte (length
 * 0) is the caller's to refuse. */
size_t qmtp_body_end(struct qmtp_body *q, char *out);

/* ---- netstrings inside a region of known length ----
 * *left is what remains of the enclosing netstring's data; each reader
 * consumes from it and fails (-2) rather than read past it. All return
 *   1  ok
 *  -1  read error, or end of file (errno EPROTO)
 *  -2  malformed: not a netstring, or running past *left */

/* The length prefix "<digits>:" of an inner netstring. On success the
 * announced data and its comma fit in what is left (*len + 1 <= *left). */
int qmtp_getlen(buffer *b, size_t *left, size_t *len);
/* The len bytes announced by qmtp_getlen and the comma: 1 with the bytes
 * NUL-terminated in sa (sa->len counts the NUL), 0 if they were unusable
 * as an address (at least max bytes long, or holding a NUL: read and
 * dropped, sa empty), -1, -2. Consumes len + 1 from *left. */
int qmtp_getfield(buffer *b, size_t *left, size_t len, stralloc *sa, size_t max);
/* Discards n bytes: 1, or -1 (end of file: errno EPROTO). */
int qmtp_skip(buffer *b, size_t n);
/* One byte that must be ',': 1, -1 or -2. */
int qmtp_getcomma(buffer *b);

/* ---- QMQP servers ----
 * An address as control/qmqpservers or qmail-qmqpc's arguments give it:
 * an IPv4 or IPv6 address, optionally with a port: "192.0.2.1",
 * "2001:db8::1", "192.0.2.1:6280" or "[2001:db8::1]:6280". 1 and *ss and
 * *sslen set, or 0 if s is none of these. */
#define QMQP_PORT 628
int qmtp_server(const char *s, struct sockaddr_storage *ss, socklen_t *sslen);

#endif
