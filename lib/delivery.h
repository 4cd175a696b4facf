#ifndef DELIVERY_H
#define DELIVERY_H

#include <stddef.h>

#include "env.h"
#include "stralloc.h"

/* What qmail-local adds to a message and tells its programs about a local
 * delivery (qmail-local(8), qmail-command(8)). Shared with any program
 * that delivers the way qmail-local does. */

/* "Delivered-To: local@host\n". A newline inside the address becomes '_',
 * so that the field stays one line. 1, or 0 (ENOMEM). */
int delivery_dtline(stralloc *sa, const char *local, const char *host);

/* "Return-Path: <sender>\n" with the sender's local part quoted as in
 * RFC 822 (lib/quote); a newline becomes '_'. 1, or 0 (ENOMEM). */
int delivery_rpline(stralloc *sa, const char *sender);

/* The loop check: reads the header of the message on fd, from offset 0,
 * and looks for a line equal to dtline[0..len) (which ends in '\n'). The
 * header ends at the first line that is only "\n", or at end of file.
 * 1 if the line is there, 0 if not, -1 on a read error (errno set). Reads
 * with pread: fd's offset does not move. No line is buffered whole. */
int delivery_looping(int fd, const char *dtline, size_t len);

/* The facts about one delivery that programs see in their environment. */
struct delivery {
  const char *user;      /* USER */
  const char *home;      /* HOME */
  const char *local;     /* LOCAL; RECIPIENT is local@host */
  const char *ext;       /* EXT, and EXT2..EXT4 after its first three '-' */
  const char *host;      /* HOST, and HOST2..HOST4 without its last three '.' parts */
  const char *sender;    /* SENDER */
  const char *newsender; /* NEWSENDER */
  const char *deflt;     /* DEFAULT, or 0: then DEFAULT is removed */
  const char *dtline;    /* DTLINE, RPLINE, UFLINE: the lines, with their newlines */
  const char *rpline;
  const char *ufline;
};

/* Sets the 18 variables of qmail-command(8) in e (which normally starts
 * as a copy of this process's environment). 1, or 0 (errno set). */
int delivery_env(envbuild *e, const struct delivery *d);

/* Runs a |program line as qmail-local does: sh -c prog in the current
 * directory, the message on descriptor 0 rewound to its start, SIGPIPE
 * and SIGALRM back to their defaults, environment envp; waits for it.
 * 0 when it exited 0, 1 when it exited 99 (done: skip the rest of the
 * file). Anything else ends the delivery as qmail-local does: exit 100
 * for 100 and the sysexits codes qmail counts as permanent (64 65 70 76
 * 77 78 112; the program has said why on descriptors 1 and 2), exit 111
 * for any other code, a crash, or a program that cannot be run. */
int delivery_program(const char *prog, char *const *envp);

#endif
