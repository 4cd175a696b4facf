#ifndef HANDOFF_H
#define HANDOFF_H

#include <stddef.h>

#include "stralloc.h"

/* Handing a job to a process started ahead of it, over a SOCK_SEQPACKET
 * socketpair: one message of NUL-terminated text fields, with descriptors
 * passed along (SCM_RIGHTS). qmail-lspawn keeps a qmail-local started this
 * way, waiting for its delivery (qmail-local(8), -W), so that the exec is
 * not on the delivery's path.
 *
 * A message is at most HANDOFF_MAX bytes and carries at most HANDOFF_FDS
 * descriptors. */

#define HANDOFF_MAX 16384
#define HANDOFF_FDS 4

/* qmail-lspawn to a qmail-local waiting with -W: the fields are the user's
 * uid and gid (decimal), then qmail-local's eight arguments (user homedir
 * local dash ext domain sender defaultdelivery); the descriptors are the
 * message and the output. */
#define HANDOFF_LOCAL_FIELDS 10
#define HANDOFF_LOCAL_FDS 2

/* Appends the n fields, each with its NUL, to out. 1, or 0 out of memory
 * or past HANDOFF_MAX. */
int handoff_pack(stralloc *out, const char *const *fields, size_t n);

/* Splits buf (len bytes) into exactly n NUL-terminated fields, pointers
 * into buf. 1, or 0 if buf is not exactly n fields. */
int handoff_unpack(const char *buf, size_t len, const char **fields, size_t n);

/* Sends buf with the nfds descriptors fds. 0, or -1 (errno set; EPIPE
 * when the other side has gone away). */
int handoff_send(int sock, const char *buf, size_t len, const int *fds, int nfds);

/* Waits for one message: its length (the bytes in buf, of size bytes,
 * which must be at least HANDOFF_MAX), 0 when the other side has closed,
 * or -1 (errno set; EPROTO when the message or its descriptors are not
 * what was expected: more than size bytes, or other than nfds
 * descriptors). The nfds descriptors received go into fds, close-on-exec;
 * on any failure none stays open. */
long handoff_recv(int sock, char *buf, size_t size, int *fds, int nfds);

#endif
