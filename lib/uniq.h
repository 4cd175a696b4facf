#ifndef UNIQ_H
#define UNIQ_H

#include "stralloc.h"

/* Appends a name unique to this host, in the Maildir convention
 * (cr.yp.to/proto/maildir.html, with the modern M/P/Q fields):
 *   <seconds>.M<microseconds>P<pid>Q<count>.<host>
 * host has '/' and ':' replaced by \057 and \072, as Maildir readers
 * expect. The count is per process. Returns 1, or 0 (ENOMEM). */
int uniq_maildir(stralloc *sa, const char *host);

#endif
