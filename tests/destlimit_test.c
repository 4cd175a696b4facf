/* Tests for lib/destlimit.c: per-destination limits for qmail-send.
 * not tested: running out of memory. */

#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "destlimit.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static void counter(struct dest *d, void *arg)
{
  (void)d;
  ++*(int *)arg;
}

int main(void)
{
  static const char conf[] = "slow.test:2\0.big.test:5\0held.test:0\0bad.test:x\0neg.test:-1\0:20\0";
  static const struct { const char *domain; unsigned long want; } lookups[] = {
    { "slow.test", 2 },
    { "SLOW.Test", 2 },
    { "a.slow.test", 20 },          /* no ".slow.test" line: the default */
    { "big.test", 20 },             /* ".big.test" is for subdomains only */
    { "mx.big.test", 5 },
    { "a.b.big.test", 5 },
    { "held.test", 0 },
    { "bad.test", DESTLIMIT_NONE }, /* a typo sets no limit */
    { "neg.test", DESTLIMIT_NONE },
    { "other.test", 20 },
    { "", 20 },
  };
  struct destlimit dl = { 0 };
  struct dest *a, *b, *c;
  struct destwait w;
  size_t i, len;
  int count;
  const char *dom;

  /* No file: nothing is limited. */
  check_long((long)(destlimit_lookup(&dl, "x.test", 6) == DESTLIMIT_NONE), 1L, "no config: no limit");
  if (!destlimit_config(&dl, "", 0)) return 111;
  check_long((long)(destlimit_lookup(&dl, "x.test", 6) == DESTLIMIT_NONE), 1L, "empty config: no limit");

  if (!destlimit_config(&dl, conf, sizeof conf - 1)) return 111;
  for (i = 0; i < N(lookups); ++i)
    check_long((long)destlimit_lookup(&dl, lookups[i].domain, strlen(lookups[i].domain)), (long)lookups[i].want,
               "lookup %s", lookups[i].domain);

  /* Destinations: one per domain whatever its case. */
  a = destlimit_get(&dl, "slow.test", 9);
  b = destlimit_get(&dl, "SLOW.TEST", 9);
  check(a && a == b, "same destination for slow.test and SLOW.TEST");
  check_str(a->name, "slow.test", "name lowercased");
  check_long((long)a->limit, 2L, "limit of slow.test");

  /* Two may start, the third waits; nobody overtakes a waiter. */
  check(destlimit_may(a), "first may start");
  ++a->inflight;
  check(destlimit_may(a), "second may start");
  ++a->inflight;
  check(!destlimit_may(a), "third may not start");
  check(destlimit_wait(a, 7, 70, 0), "wait 7/0");
  check(destlimit_wait(a, 8, 80, 3), "wait 8/3");
  check(!destlimit_pop(a, &w), "no pop while full");
  --a->inflight;
  check(!destlimit_may(a), "a slot is free but waiters come first");
  check(destlimit_pop(a, &w) && w.id == 7 && w.serial == 70 && w.idx == 0, "first waiter out first");
  ++a->inflight;
  check(!destlimit_pop(a, &w), "full again: no pop");
  --a->inflight;
  check(destlimit_pop(a, &w) && w.id == 8 && w.idx == 3, "second waiter");
  check(!destlimit_pop(a, &w), "queue empty");
  check(destlimit_may(a), "free and nobody waiting: may start");

  /* The FIFO keeps its order through growth and reuse of its front. */
  for (i = 0; i < 1000; ++i)
    if (!destlimit_wait(a, i, i, i)) return 111;
  a->inflight = 0;
  for (i = 0; i < 500; ++i)
    if (!destlimit_pop(a, &w) || w.id != i) break;
  check_long((long)i, 500L, "500 popped in order");
  for (i = 1000; i < 1600; ++i)
    if (!destlimit_wait(a, i, i, i)) return 111;
  for (i = 500; i < 1600; ++i)
    if (!destlimit_pop(a, &w) || w.id != i) break;
  check_long((long)i, 1600L, "all popped in order after reuse");
  check(!destlimit_pop(a, &w), "empty after all");

  /* A held domain: nothing starts, waiters stay until the limit rises. */
  c = destlimit_get(&dl, "held.test", 9);
  check(c && !destlimit_may(c), "held.test may not start");
  check(destlimit_wait(c, 1, 1, 0), "wait on held.test");
  check(!destlimit_pop(c, &w), "no pop on held.test");
  {
    static const char conf2[] = "held.test:1\0";
    if (!destlimit_config(&dl, conf2, sizeof conf2 - 1)) return 111;
  }
  check_long((long)c->limit, 1L, "reload raises held.test's limit");
  check(a->limit == DESTLIMIT_NONE, "reload removes slow.test's limit");
  check(destlimit_pop(c, &w) && w.id == 1, "waiter released after reload");

  count = 0;
  destlimit_each(&dl, counter, &count);
  check_long((long)count, 2L, "two destinations");
  /* Dropping: only when nothing is under way or waiting. */
  ++c->inflight;
  destlimit_drop(&dl, c);
  check_long((long)dl.count, 2L, "busy destination kept");
  --c->inflight;
  destlimit_drop(&dl, c);
  check_long((long)dl.count, 1L, "idle destination dropped");
  c = destlimit_get(&dl, "held.test", 9);
  check(c && c->inflight == 0 && c->wlen == 0, "recreated empty");

  /* Many destinations: the table grows and finds every one again. */
  for (i = 0; i < 3000; ++i) {
    char name[32];
    int n = snprintf(name, sizeof name, "d%zu.test", i);
    struct dest *d = destlimit_get(&dl, name, (size_t)n);
    if (!d) return 111;
    d->inflight = i;
  }
  for (i = 0; i < 3000; ++i) {
    char name[32];
    int n = snprintf(name, sizeof name, "D%zu.TEST", i);
    struct dest *d = destlimit_get(&dl, name, (size_t)n);
    if (!d || d->inflight != i) break;
  }
  check_long((long)i, 3000L, "3000 destinations found again");

  dom = destlimit_domain("a@b@Example.test", &len);
  check_bytes(dom, len, "Example.test", 12, "domain after the last @");
  dom = destlimit_domain("nodomain", &len);
  check_bytes(dom, len, "", 0, "no @: empty domain");

  destlimit_free(&dl);
  return check_end();
}
