#ifndef RCPTHOSTS_H
#define RCPTHOSTS_H

#include <stddef.h>

#include "cdb.h"
#include "constmap.h"
#include "stralloc.h"

/* The domains this host accepts mail for (qmail-smtpd(8), qmail-qmtpd(8)):
 * control/rcpthosts and control/morercpthosts.cdb (qmail-newmrh), read
 * relative to the current directory (QMAILHOME).
 *
 * An address without '@' is always allowed (qmail-send adds envnoathost,
 * which is presumably ours). Otherwise its domain (after the last '@',
 * lowercased) is allowed if the domain itself, or ".suffix" for any
 * suffix that starts at one of its dots, is listed in either file:
 * "example.com" matches only example.com, ".example.com" matches every
 * subdomain of it (mail.example.com, a.b.example.com) but not example.com
 * itself. This is qmail's rule exactly; in particular a trailing '.' is
 * not ignored ("example.com." is a different domain to this check), and
 * morercpthosts.cdb is looked up with the lowercased domain as key, as
 * qmail-newmrh writes its keys. */
struct rcpthosts {
  int flag;              /* 0: no rcpthosts file: everything allowed */
  stralloc list;
  struct constmap map;
  int fdmrh;             /* morercpthosts.cdb (close-on-exec), or -1 */
  struct cdb mrh;        /* mapped from fdmrh */
  stralloc host;         /* scratch: the lowercased domain */
};

/* Reads the files: 1 ok (rcpthosts exists), 0 no rcpthosts file (every
 * domain allowed: qmail's open relay, the caller decides what to do),
 * -1 a file could not be read (temporary). A missing morercpthosts.cdb is
 * not an error; one that cannot be opened or mapped is. */
int rcpthosts_init(struct rcpthosts *r);
/* 1 allowed, 0 not allowed, -1 out of memory or morercpthosts.cdb is
 * corrupt (temporary). */
int rcpthosts_allowed(struct rcpthosts *r, const char *addr, size_t len);
void rcpthosts_free(struct rcpthosts *r);

#endif
