#ifndef ROUTE_H
#define ROUTE_H

#include "constmap.h"
#include "stralloc.h"

/* Where an envelope recipient goes: qmail-send's rewriting, kept here so
 * that qmail-smtpd's recipient check applies exactly the same rules.
 *
 *   1. an address without '@' gets "@" envnoathost;
 *   2. while its domain is in percenthack and the local part holds a '%',
 *      the last '%' becomes the '@' (user%host@domain -> user@host);
 *   3. a domain in locals: local delivery of the address as it is;
 *   4. virtualdomains, tried in this order: the whole address
 *      (user@domain), the domain, each ".suffix" of it from the longest
 *      down, then "" (the catch-all line ":prepend"); the first entry found
 *      decides: an empty prepend means "not virtual" (remote), otherwise
 *      local delivery of "prepend-address" (always joined with '-',
 *      whatever conf-break says, as qmail does: vpopmail's users/assign
 *      lines depend on it);
 *   5. anything else is remote. */

enum route_channel { ROUTE_LOCAL = 0, ROUTE_REMOTE = 1 };

struct route {
  struct constmap locals;
  struct constmap vdoms;
  struct constmap percenthack;
  const char *envnoathost;
};

/* Rewrites recip into out (replaced, NUL-terminated) and says where it
 * goes: ROUTE_LOCAL, ROUTE_REMOTE, or -1 when out of memory. */
int route_rewrite(const struct route *r, const char *recip, stralloc *out);

/* Steps 1 and 2 only, for qmail-smtpd's relay check: out is the address
 * qmail-send will route (NUL-terminated, the NUL not counted in len).
 * 1 if the percent hack changed it (then out's domain is where the mail
 * really goes), 0 if not, -1 out of memory. */
int route_percenthack(const struct route *r, const char *recip, stralloc *out);
/* For bounces and logs: the address as the sender wrote it, with a
 * virtual-domain prepend removed again ("prepend-user@domain" gives
 * "user@domain"), as qmail's stripvdomprepend does. Points into recip. */
const char *route_stripprepend(const struct route *r, const char *recip);

#endif
