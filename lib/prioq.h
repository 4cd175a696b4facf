#ifndef PRIOQ_H
#define PRIOQ_H

#include <stddef.h>
#include <time.h>

/* A binary min-heap of (time, item): the queue manager's "what is due
 * next". Items are opaque pointers. */
struct prioq_elt {
  time_t when;
  void *item;
};

struct prioq {
  struct prioq_elt *p;
  size_t len;
  size_t a;
};

#define PRIOQ_ZERO { 0, 0, 0 }

int prioq_insert(struct prioq *pq, time_t when, void *item); /* 1, or 0 (ENOMEM) */
/* The earliest element, or 0 when empty. */
const struct prioq_elt *prioq_min(const struct prioq *pq);
void prioq_delmin(struct prioq *pq);
/* Sets every element's time to when (qmail-send's SIGALRM: retry now). */
void prioq_setall(struct prioq *pq, time_t when);
void prioq_free(struct prioq *pq);

#endif
