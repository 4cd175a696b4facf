/* Tests for lib/uniq.c.
 * not tested: uniqueness across processes (the pid field gives it) and
 * across hosts (the host field gives it). */

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "scan.h"
#include "stralloc.h"
#include "uniq.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

struct uniq_parts { unsigned long sec, usec, pid, count; const char *host; size_t hostlen; };

/* Splits "<sec>.M<usec>P<pid>Q<count>.<host>"; 1 if it has that shape. */
static int parse(const char *s, size_t len, struct uniq_parts *p)
{
  size_t i = 0, k;
  char buf[256];
  if (len >= sizeof buf) return 0;
  memcpy(buf, s, len);
  buf[len] = 0;
  if (!(k = scan_ulong(buf, &p->sec))) return 0;
  i += k;
  if (buf[i++] != '.' || buf[i++] != 'M') return 0;
  if (!(k = scan_ulong(buf + i, &p->usec))) return 0;
  i += k;
  if (buf[i++] != 'P') return 0;
  if (!(k = scan_ulong(buf + i, &p->pid))) return 0;
  i += k;
  if (buf[i++] != 'Q') return 0;
  if (!(k = scan_ulong(buf + i, &p->count))) return 0;
  i += k;
  if (buf[i++] != '.') return 0;
  p->host = s + i;
  p->hostlen = len - i;
  return 1;
}

static void test_format(void)
{
  stralloc a = STRALLOC_ZERO, b = STRALLOC_ZERO;
  struct uniq_parts pa, pb;
  time_t before = time(0), after;

  check_long(uniq_maildir(&a, "host.example"), 1, "uniq_maildir");
  check_long(uniq_maildir(&b, "host.example"), 1, "uniq_maildir again");
  after = time(0);
  check_long(parse(a.s, a.len, &pa), 1, "shape <sec>.M<usec>P<pid>Q<count>.<host>: %.*s", (int)a.len, a.s);
  check_long(parse(b.s, b.len, &pb), 1, "second name has the shape too");
  /* time() may read a coarser clock than gettimeofday: allow it a second */
  check(pa.sec >= (unsigned long)before && pa.sec <= (unsigned long)after + 1, "seconds are now");
  check(pa.usec < 1000000, "microseconds below a million");
  check_long(pa.pid, getpid(), "pid field");
  check_bytes(pa.host, pa.hostlen, "host.example", 12, "host field");
  check_long(pb.count, pa.count + 1, "count goes up by one");
  check(a.len != b.len || memcmp(a.s, b.s, a.len), "two calls give different names");

  /* a thousand in a row are all different (the count alone sees to it) */
  {
    stralloc all = STRALLOC_ZERO;
    unsigned long first = 0, bad = 0, k;
    for (k = 0; k < 1000; ++k) {
      struct uniq_parts p;
      all.len = 0;
      uniq_maildir(&all, "h");
      if (!parse(all.s, all.len, &p)) { ++bad; continue; }
      if (!k) first = p.count;
      else if (p.count != first + k) ++bad;
    }
    check_long(bad, 0, "1000 names with consecutive counts");
    stralloc_free(&all);
  }
  /* it appends */
  stralloc_copys(&a, "new/");
  uniq_maildir(&a, "h");
  check(stralloc_starts(&a, "new/") && parse(a.s + 4, a.len - 4, &pa), "uniq_maildir appends");
  stralloc_free(&a);
  stralloc_free(&b);
}

static void test_host(void)
{
  static const struct { const char *host; const char *want; } cases[] = {
    { "a/b:c", "a\\057b\\072c" },
    { "plain.example", "plain.example" },
    { "", "" },
    { "//", "\\057\\057" },
    { "::1", "\\072\\0721" },
    { "back\\slash", "back\\slash" },
  };
  stralloc sa = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    struct uniq_parts p;
    sa.len = 0;
    check_long(uniq_maildir(&sa, cases[i].host), 1, "uniq_maildir host \"%s\"", cases[i].host);
    if (!parse(sa.s, sa.len, &p)) { check(0, "host \"%s\": shape", cases[i].host); continue; }
    check_bytes(p.host, p.hostlen, cases[i].want, strlen(cases[i].want), "host \"%s\" escaped", cases[i].host);
  }
  stralloc_free(&sa);
}

int main(void)
{
  test_format();
  test_host();
  return check_end();
}
