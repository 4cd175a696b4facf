/* Tests for lib/envelope.c.
 * not tested: scanners started with a maxaddr other than ENVELOPE_MAXADDR
 * and 0. */

#include <stdlib.h>

#include "check.h"
#include "envelope.h"
#include "stralloc.h"

#define N(a) (sizeof (a) / sizeof (a)[0])
#define IN(s) s, sizeof s - 1

static const char *status_name(int s)
{
  switch (s) {
    case ENVELOPE_MORE: return "MORE";
    case ENVELOPE_DONE: return "DONE";
    case ENVELOPE_BAD: return "BAD";
    case ENVELOPE_TOOLONG: return "TOOLONG";
  }
  return "?";
}

struct feed_case {
  const char *name;
  const char *in;
  size_t len;
  int status;
  size_t used;
  unsigned long rcpts;
};

/* Feeds c->in whole, then in chunks of chunk bytes (stopping at the first
 * status other than MORE), and checks both against the table. */
static void run_feed(const struct feed_case *c, size_t chunk)
{
  struct envelope_scan s;
  size_t used = 0, total = 0, odd = 0;
  int st = ENVELOPE_MORE;

  envelope_start(&s, ENVELOPE_MAXADDR);
  if (!chunk) {
    st = envelope_feed(&s, c->in, c->len, &used);
    total = used;
  } else {
    while (total < c->len && st == ENVELOPE_MORE) {
      size_t k = c->len - total < chunk ? c->len - total : chunk;
      st = envelope_feed(&s, c->in + total, k, &used);
      /* used never exceeds what was fed, and MORE means all of it */
      if (used > k || (st == ENVELOPE_MORE && used != k)) ++odd;
      total += used;
    }
    check_long(odd, 0, "%s, chunk %zu: feeds that used too much or too little", c->name, chunk);
  }
  if (st != c->status)
    check(0, "%s, chunk %zu: status %s, want %s", c->name, chunk, status_name(st), status_name(c->status));
  else
    check(1, "%s, chunk %zu: status %s", c->name, chunk, status_name(st));
  check_long(total, c->used, "%s, chunk %zu: used", c->name, chunk);
  if (c->status == ENVELOPE_DONE) check_long(s.rcpts, c->rcpts, "%s, chunk %zu: rcpts", c->name, chunk);
}

static void test_feed(void)
{
  static char sender_max[1 + ENVELOPE_MAXADDR + 2], sender_over[1 + ENVELOPE_MAXADDR + 1 + 2];
  static char rcpt_max[4 + ENVELOPE_MAXADDR + 2], rcpt_over[4 + ENVELOPE_MAXADDR + 1 + 2];
  struct feed_case cases[] = {
    { "simple", IN("Fa\0\0"), ENVELOPE_DONE, 4, 0 },
    { "empty sender", IN("F\0\0"), ENVELOPE_DONE, 3, 0 },
    { "two recipients", IN("Fa@b\0Tc@d\0Te@f\0\0"), ENVELOPE_DONE, 16, 2 },
    { "empty recipient", IN("F\0T\0\0"), ENVELOPE_DONE, 5, 1 },
    { "bytes after the end", IN("Fa\0Tb\0\0junk"), ENVELOPE_DONE, 7, 1 },
    { "second envelope after the end", IN("Fa\0\0Fb\0\0"), ENVELOPE_DONE, 4, 0 },
    { "nothing", IN(""), ENVELOPE_MORE, 0, 0 },
    { "F alone", IN("F"), ENVELOPE_MORE, 1, 0 },
    { "unfinished sender", IN("Fabc"), ENVELOPE_MORE, 4, 0 },
    { "no final NUL", IN("Fa\0Tb\0"), ENVELOPE_MORE, 6, 0 },
    { "unfinished recipient", IN("Fa\0Tb"), ENVELOPE_MORE, 5, 0 },
    { "no F", IN("Xa\0"), ENVELOPE_BAD, 1, 0 },
    { "T first", IN("Ta\0\0"), ENVELOPE_BAD, 1, 0 },
    { "NUL first", IN("\0"), ENVELOPE_BAD, 1, 0 },
    { "bad second record", IN("Fa\0Xb\0"), ENVELOPE_BAD, 4, 0 },
    { "second F", IN("Fa\0Fb\0\0"), ENVELOPE_BAD, 4, 0 },
    { "bad third record", IN("Fa\0Tb\0u\0"), ENVELOPE_BAD, 7, 0 },
    { "sender of ENVELOPE_MAXADDR bytes", sender_max, sizeof sender_max, ENVELOPE_DONE, sizeof sender_max, 0 },
    { "sender of ENVELOPE_MAXADDR+1 bytes", sender_over, sizeof sender_over, ENVELOPE_TOOLONG,
      1 + ENVELOPE_MAXADDR + 1, 0 },
    { "recipient of ENVELOPE_MAXADDR bytes", rcpt_max, sizeof rcpt_max, ENVELOPE_DONE, sizeof rcpt_max, 1 },
    { "recipient of ENVELOPE_MAXADDR+1 bytes", rcpt_over, sizeof rcpt_over, ENVELOPE_TOOLONG,
      4 + ENVELOPE_MAXADDR + 1, 0 },
  };
  static const size_t chunks[] = { 0, 1, 2, 3, 7, 100, 5000 };
  size_t i, j;

  /* "F" + 1000 x NUL NUL */
  sender_max[0] = 'F';
  memset(sender_max + 1, 's', ENVELOPE_MAXADDR);
  sender_over[0] = 'F';
  memset(sender_over + 1, 's', ENVELOPE_MAXADDR + 1);
  /* "Fa\0T" + 1000 x NUL NUL */
  memcpy(rcpt_max, "Fa\0T", 4);
  memset(rcpt_max + 4, 'r', ENVELOPE_MAXADDR);
  memcpy(rcpt_over, "Fa\0T", 4);
  memset(rcpt_over + 4, 'r', ENVELOPE_MAXADDR + 1);

  for (i = 0; i < N(cases); ++i)
    for (j = 0; j < N(chunks); ++j) run_feed(&cases[i], chunks[j]);

  /* maxaddr 0: only empty addresses */
  {
    struct envelope_scan s;
    size_t used;
    envelope_start(&s, 0);
    check_long(envelope_feed(&s, "F\0T\0\0", 5, &used), ENVELOPE_DONE, "maxaddr 0, empty addresses");
    envelope_start(&s, 0);
    check_long(envelope_feed(&s, "Fa\0\0", 4, &used), ENVELOPE_TOOLONG, "maxaddr 0, one-byte sender");
    check_long(used, 2, "maxaddr 0, one-byte sender: used");
  }
  /* a long recipient split over many feeds still counts as one address */
  {
    struct envelope_scan s;
    size_t used, k;
    int st = ENVELOPE_MORE;
    envelope_start(&s, 10);
    st = envelope_feed(&s, "Fa\0T", 4, &used);
    for (k = 0; k < 10 && st == ENVELOPE_MORE; ++k) st = envelope_feed(&s, "x", 1, &used);
    check_long(st, ENVELOPE_MORE, "10 bytes in 10 feeds with maxaddr 10");
    st = envelope_feed(&s, "x", 1, &used);
    check_long(st, ENVELOPE_TOOLONG, "the 11th byte is too long");
  }
}

static void test_next(void)
{
  static const char env[] = "u0\0p12\0Fa\0Tb\0\0";
  static const struct { char type; const char *addr; } want[] = {
    { 'u', "0" }, { 'p', "12" }, { 'F', "a" }, { 'T', "b" },
  };
  size_t pos = 0, alen, i, k;
  const char *addr;
  char type;
  int r;

  for (i = 0; i < N(want); ++i) {
    r = envelope_next(env, sizeof env - 1, &pos, &type, &addr, &alen);
    check_long(r, 1, "next record %zu", i);
    if (r != 1) break;
    check_long(type, want[i].type, "next record %zu: type", i);
    check_bytes(addr, alen, want[i].addr, strlen(want[i].addr), "next record %zu: address", i);
  }
  check_long(envelope_next(env, sizeof env - 1, &pos, &type, &addr, &alen), 0, "next: terminating record");
  check_long(pos, sizeof env - 1, "next: pos after the end");
  check_long(envelope_next(env, sizeof env - 1, &pos, &type, &addr, &alen), -1, "next past the end");

  /* empty addresses */
  {
    static const char e2[] = "F\0T\0\0";
    pos = 0;
    check_long(envelope_next(e2, sizeof e2 - 1, &pos, &type, &addr, &alen), 1, "empty sender");
    check_long(alen, 0, "empty sender: length");
    check_long(envelope_next(e2, sizeof e2 - 1, &pos, &type, &addr, &alen), 1, "empty recipient");
    check_long(type, 'T', "empty recipient: type");
    check_long(envelope_next(e2, sizeof e2 - 1, &pos, &type, &addr, &alen), 0, "empty addresses: end");
  }

  /* every truncation of env ends in -1 before the terminating record */
  for (k = 0; k < sizeof env - 1; ++k) {
    char *t = malloc(k ? k : 1);
    memcpy(t, env, k);
    pos = 0;
    while ((r = envelope_next(t, k, &pos, &type, &addr, &alen)) == 1) continue;
    check_long(r, -1, "envelope truncated to %zu bytes", k);
    free(t);
  }
  /* a record without its NUL */
  pos = 0;
  check_long(envelope_next("Fabc", 4, &pos, &type, &addr, &alen), -1, "record without NUL");
  check_long(pos, 0, "record without NUL: pos unchanged");
}

/* The scanner and the iterator agree on complete envelopes. */
static void test_agree(void)
{
  static const struct { const char *in; size_t len; } cases[] = {
    { IN("Fa\0\0") }, { IN("F\0Tx\0Ty\0Tz\0\0") }, { IN("Fsender@example.com\0Trcpt@example.org\0\0") },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    struct envelope_scan s;
    size_t used, pos = 0, alen;
    unsigned long t = 0;
    const char *addr;
    char type;
    int r;
    envelope_start(&s, ENVELOPE_MAXADDR);
    check_long(envelope_feed(&s, cases[i].in, cases[i].len, &used), ENVELOPE_DONE, "agree %zu: DONE", i);
    while ((r = envelope_next(cases[i].in, cases[i].len, &pos, &type, &addr, &alen)) == 1) t += type == 'T';
    check_long(r, 0, "agree %zu: iterator reaches the end", i);
    check_long(pos, used, "agree %zu: same length", i);
    check_long(t, s.rcpts, "agree %zu: same recipient count", i);
  }
}

int main(void)
{
  test_feed();
  test_next();
  test_agree();
  return check_end();
}
