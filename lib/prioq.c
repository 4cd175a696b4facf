#include "prioq.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int prioq_insert(struct prioq *pq, time_t when, void *item)
{
  size_t i;
  if (pq->len == pq->a) {
    size_t a = pq->a ? pq->a * 2 : 64;
    struct prioq_elt *p;
    if (a > SIZE_MAX / sizeof *p) { errno = ENOMEM; return 0; }
    p = realloc(pq->p, a * sizeof *p);
    if (!p) { errno = ENOMEM; return 0; }
    pq->p = p;
    pq->a = a;
  }
  i = pq->len++;
  while (i) {
    size_t parent = (i - 1) / 2;
    if (pq->p[parent].when <= when) break;
    pq->p[i] = pq->p[parent];
    i = parent;
  }
  pq->p[i].when = when;
  pq->p[i].item = item;
  return 1;
}

const struct prioq_elt *prioq_min(const struct prioq *pq)
{
  return pq->len ? &pq->p[0] : 0;
}

void prioq_delmin(struct prioq *pq)
{
  struct prioq_elt last;
  size_t i = 0;
  if (!pq->len) return;
  last = pq->p[--pq->len];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= pq->len) break;
    if (c + 1 < pq->len && pq->p[c + 1].when < pq->p[c].when) ++c;
    if (last.when <= pq->p[c].when) break;
    pq->p[i] = pq->p[c];
    i = c;
  }
  if (pq->len) pq->p[i] = last;
}

void prioq_setall(struct prioq *pq, time_t when)
{
  size_t i;
  for (i = 0; i < pq->len; ++i) pq->p[i].when = when; /* still a heap */
}

void prioq_free(struct prioq *pq)
{
  free(pq->p);
  pq->p = 0;
  pq->len = 0;
  pq->a = 0;
}
