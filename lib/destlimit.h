#ifndef DESTLIMIT_H
#define DESTLIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "constmap.h"
#include "stralloc.h"

/* qmail-send's per-destination concurrency limit for remote deliveries
 * (control/concurrencydomains, qmail-control(5)): at most N deliveries at
 * once to one recipient domain, so that a slow or throttling site cannot
 * take every remote slot, and a site that limits connections per client
 * is not hammered.
 *
 * The file holds lines "domain:N", ".suffix:N" and ":N" (the default),
 * matched in smtproutes' order: the whole domain, then each ".suffix" from
 * the longest, then ":". A domain no line matches (and every domain when
 * the file is absent) has no limit of its own, as in qmail: only
 * concurrencyremote applies. N may be 0: that domain's mail is held until
 * the limit is raised (and qmail-send told with HUP).
 *
 * A recipient whose destination is full waits in that destination's FIFO
 * queue; when one of its deliveries ends, the first waiter takes the slot.
 * The table holds only destinations with deliveries under way or waiting,
 * so its size is bounded by the queue, not by history.
 *
 * Waiters are named by (message id, serial, recipient index), never by
 * pointer: a message can be removed while its recipients wait, and the
 * caller checks that the message it finds is still the one that waited. */

struct destwait {
  unsigned long id;
  uint64_t serial;
  size_t idx;
};

struct dest {
  char *name;                /* lowercased domain */
  size_t namelen;
  unsigned long inflight;    /* deliveries under way */
  unsigned long limit;       /* DESTLIMIT_NONE: none */
  struct destwait *w;        /* FIFO: w[whead .. wlen) */
  size_t whead, wlen, wsize;
  struct dest *next;         /* hash chain */
};

#define DESTLIMIT_NONE ((unsigned long)-1)

struct destlimit {
  stralloc text;             /* the control file's lines */
  struct constmap map;
  int havemap;
  struct dest **tab;
  size_t size, count;
};

/* Takes the lines of control/concurrencydomains (as control_readfile
 * gives them; len 0 when the file is absent), copying them. 1, or 0 if out
 * of memory (the old table is kept). Existing destinations get their new
 * limits. */
int destlimit_config(struct destlimit *dl, const char *lines, size_t len);

/* The limit the configuration gives a domain. */
unsigned long destlimit_lookup(const struct destlimit *dl, const char *domain, size_t len);

/* The destination of a domain (compared without regard to ASCII case),
 * created when missing; 0 if out of memory. */
struct dest *destlimit_get(struct destlimit *dl, const char *domain, size_t len);

/* 1 if another delivery may start to d now: under its limit and nobody
 * waiting before it. */
int destlimit_may(const struct dest *d);

/* Queues a waiter at the end of d's FIFO. 1, or 0 if out of memory. */
int destlimit_wait(struct dest *d, unsigned long id, uint64_t serial, size_t idx);

/* Takes the first waiter, if d has one and a free slot: 1 with *w set,
 * else 0. */
int destlimit_pop(struct dest *d, struct destwait *w);

/* Frees d if nothing is under way or waiting for it; d is invalid after. */
void destlimit_drop(struct destlimit *dl, struct dest *d);

/* Calls fn for every destination (for waking waiters after a reload). fn
 * may not drop the destination it is given. */
void destlimit_each(struct destlimit *dl, void (*fn)(struct dest *, void *), void *arg);

/* The domain of an address: after its last '@', or "" when it has none. */
const char *destlimit_domain(const char *addr, size_t *len);

void destlimit_free(struct destlimit *dl);

#endif
