/* Tests for lib/route.c: qmail-send's recipient rewriting, and the percent
 * hack step alone that qmail-smtpd's relay check uses.
 * not tested: running out of memory. */

#include <stdlib.h>

#include "check.h"
#include "constmap.h"
#include "route.h"
#include "stralloc.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static void map(struct constmap *m, const char *items, size_t len, int colon)
{
  if (!constmap_init(m, items, len, colon)) exit(111);
}

int main(void)
{
  static const char locals[] = "example.test\0local.test\0";
  static const char vdoms[] = "vd.test:vd\0user@vd2.test:single\0.sub.test:subs\0except.vd.test:\0";
  static const char pct[] = "example.test\0pct.test\0";
  static const struct { const char *in; int channel; const char *out; } rw[] = {
    { "a@example.test", ROUTE_LOCAL, "a@example.test" },
    { "a@EXAMPLE.test", ROUTE_LOCAL, "a@EXAMPLE.test" },
    { "a", ROUTE_LOCAL, "a@example.test" },
    { "a@remote.test", ROUTE_REMOTE, "a@remote.test" },
    { "a%remote.test@example.test", ROUTE_REMOTE, "a@remote.test" },
    { "a%b%local.test@pct.test", ROUTE_LOCAL, "a%b@local.test" },
    { "a%remote.test", ROUTE_REMOTE, "a@remote.test" },
    { "a%remote.test@local.test", ROUTE_LOCAL, "a%remote.test@local.test" },
    { "joe@vd.test", ROUTE_LOCAL, "vd-joe@vd.test" },
    { "user@vd2.test", ROUTE_LOCAL, "single-user@vd2.test" },
    { "x@a.sub.test", ROUTE_LOCAL, "subs-x@a.sub.test" },
    { "x@except.vd.test", ROUTE_REMOTE, "x@except.vd.test" },
  };
  static const struct { const char *in; int changed; const char *out; } ph[] = {
    { "a@example.test", 0, "a@example.test" },
    { "a", 0, "a@example.test" },
    { "a%remote.test@example.test", 1, "a@remote.test" },
    { "a%remote.test", 1, "a@remote.test" },
    { "a%x%remote.test@example.test", 1, "a%x@remote.test" },
    { "a%example.test%remote.test@example.test", 1, "a%example.test@remote.test" },
    { "a%example.test@example.test", 1, "a@example.test" },
    { "a%remote.test@other.test", 0, "a%remote.test@other.test" },
    { "a@remote.test%example.test", 0, "a@remote.test%example.test" },
  };
  struct route r;
  stralloc out = STRALLOC_ZERO;
  size_t i;

  map(&r.locals, locals, sizeof locals - 1, 0);
  map(&r.vdoms, vdoms, sizeof vdoms - 1, 1);
  map(&r.percenthack, pct, sizeof pct - 1, 0);
  r.envnoathost = "example.test";

  for (i = 0; i < N(rw); ++i) {
    check_long(route_rewrite(&r, rw[i].in, &out), rw[i].channel, "rewrite %s: channel", rw[i].in);
    check_bytes(out.s, out.len - 1, rw[i].out, strlen(rw[i].out), "rewrite %s: address", rw[i].in);
  }
  for (i = 0; i < N(ph); ++i) {
    check_long(route_percenthack(&r, ph[i].in, &out), ph[i].changed, "percenthack %s: changed", ph[i].in);
    check_bytes(out.s, out.len, ph[i].out, strlen(ph[i].out), "percenthack %s: address", ph[i].in);
    check_long(out.s[out.len], 0, "percenthack %s: NUL-terminated", ph[i].in);
  }
  constmap_free(&r.locals);
  constmap_free(&r.vdoms);
  constmap_free(&r.percenthack);
  stralloc_free(&out);
  return check_end();
}
