#ifndef CONTROL_H
#define CONTROL_H

#include "stralloc.h"

/* Control files (QMAILHOME/control/...), read relative to the current
 * directory: programs chdir to QMAILHOME first.
 *
 * Every reader answers
 *    1  the file exists and was read;
 *    0  the file does not exist: use the default;
 *   -1  it could not be read, or holds garbage (errno set): a temporary
 *       failure, never a silent default.
 *
 * Trailing blanks (space, tab, CR) are ignored everywhere, as qmail does.
 * Lines are bounded (CONTROL_MAXLINE); a longer line is an error (E2BIG),
 * and so is a line holding a NUL byte (EINVAL). */

#define CONTROL_MAXLINE 4096

extern stralloc control_me; /* control/me, NUL-terminated, after control_init */

/* Reads control/me. Needed before control_rldef(..., 1, ...). */
int control_init(void);

/* The first line of fn, without its newline or trailing blanks. */
int control_readline(stralloc *sa, const char *fn);

/* control_readline, or when fn is absent: control/me if flagme (and me
 * exists), else def (if def is not null). Returns 1 when the file was read,
 * 0 when a default was used (or none was available: then sa is empty and
 * not terminated), -1 on error. Otherwise sa is NUL-terminated. */
int control_rldef(stralloc *sa, const char *fn, int flagme, const char *def);

/* The first line as a decimal number; garbage is an error (EINVAL), not a
 * default (qmail quietly used the default). */
int control_readulong(unsigned long *u, const char *fn);

/* Every line as a list: each item NUL-terminated in sa. Empty lines and
 * lines starting with '#' are skipped. When fn is absent and flagme is set,
 * the list is control/me alone. */
int control_readfile(stralloc *sa, const char *fn, int flagme);

/* The same readers on an open descriptor (read to its end, not closed):
 * for callers that hold the file already, and for fuzzing. */
int control_readline_fd(stralloc *sa, int fd);
int control_readfile_fd(stralloc *sa, int fd);

#endif
