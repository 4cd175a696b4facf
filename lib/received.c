#include "received.h"

#include <string.h>

#include "date822.h"

/* qmail 1.03's set. notqmail later added '[' and ']'; we keep 1.03's, so
 * that the line is byte for byte what qmail 1.03 sites have always seen. */
static int received_issafe(unsigned char c)
{
  if (c >= 'a' && c <= 'z') return 1;
  if (c >= 'A' && c <= 'Z') return 1;
  if (c >= '0' && c <= '9') return 1;
  return c && strchr(".@%+/=:-", c) != 0;
}

static int received_safeput(stralloc *out, const char *s)
{
  size_t n = strlen(s), i;
  if (!stralloc_readyplus(out, n)) return 0;
  for (i = 0; i < n; ++i)
    out->s[out->len + i] = received_issafe((unsigned char)s[i]) ? s[i] : '?';
  out->len += n;
  return 1;
}

/* ASCII only, as qmail's case_diffs: no locale can make two names equal. */
static int received_samecase(const char *a, const char *b)
{
  for (;; ++a, ++b) {
    unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
    if (x >= 'A' && x <= 'Z') x = (unsigned char)(x + 32);
    if (y >= 'A' && y <= 'Z') y = (unsigned char)(y + 32);
    if (x != y) return 0;
    if (!x) return 1;
  }
}

int received(stralloc *out, const char *protocol, const char *local, const char *remoteip,
             const char *remotehost, const char *remoteinfo, const char *helo, time_t when)
{
  char date[DATE822_MAX];
  size_t oldlen = out->len;

  if (!remotehost || !*remotehost) remotehost = "unknown";
  if (!remoteip) remoteip = "unknown";
  if (!local) local = "unknown";

  if (!stralloc_cats(out, "Received: from ") || !received_safeput(out, remotehost)) goto nomem;
  if (helo && !received_samecase(helo, remotehost))
    if (!stralloc_cats(out, " (HELO ") || !received_safeput(out, helo) || !stralloc_cats(out, ")")) goto nomem;
  if (!stralloc_cats(out, " (")) goto nomem;
  if (remoteinfo)
    if (!received_safeput(out, remoteinfo) || !stralloc_cats(out, "@")) goto nomem;
  if (!received_safeput(out, remoteip) || !stralloc_cats(out, ")\n  by ") || !received_safeput(out, local)
      || !stralloc_cats(out, " with ") || !stralloc_cats(out, protocol) || !stralloc_cats(out, "; ")
      || !stralloc_catb(out, date, date822_fmt(date, when)) || !stralloc_cats(out, "\n"))
    goto nomem;
  return 1;
nomem:
  out->len = oldlen; /* nothing half-written is left for a caller that goes on */
  return 0;
}
