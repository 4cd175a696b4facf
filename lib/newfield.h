#ifndef NEWFIELD_H
#define NEWFIELD_H

#include <stddef.h>
#include <time.h>

#include "stralloc.h"

/* The header fields qmail-inject makes up, exactly as qmail writes them
 * (newfield.c), in UTC without reading /etc/localtime (lib/date822):
 *
 *   Date: 22 Nov 2026 01:53:00 -0000
 *   Message-ID: <20261122015300.1234.qmail@idhost>
 *
 * Each appends the whole line, newline included, to sa: 1, or 0 when out
 * of memory. */
int newfield_date(stralloc *sa, time_t when);
int newfield_msgid(stralloc *sa, time_t when, unsigned long pid, const char *idhost, size_t len);

#endif
