#ifndef RECEIVED_H
#define RECEIVED_H

#include <time.h>

#include "stralloc.h"

/* The trace field qmail-smtpd and qmail-qmtpd put on top of every message,
 * byte for byte as qmail's received.c writes it:
 *
 *   Received: from REMOTEHOST (HELO HELO) (REMOTEINFO@REMOTEIP)
 *     by LOCAL with PROTOCOL; DATE
 *
 * i.e. "Received: from " remotehost, then " (HELO " helo ")" only when
 * helo is given and differs from remotehost (case-insensitively), then
 * "\n  (" [remoteinfo "@"] remoteip ")\n  by " local " with " protocol
 * "; " date822 "\n". Every field the client or DNS controls is passed
 * through qmail's safeput: bytes other than letters, digits and
 * ".@%+/=:-" become '?', so nothing can break the header. remotehost
 * null or empty gives "unknown". Appends to out: 1, or 0 (ENOMEM). */
int received(stralloc *out, const char *protocol, const char *local, const char *remoteip,
             const char *remotehost, const char *remoteinfo, const char *helo, time_t when);

#endif
