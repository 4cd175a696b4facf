/* Tests for lib/quote.c.
 * not tested: running out of memory. */

#include "check.h"
#include "quote.h"
#include "stralloc.h"

#define N(a) (sizeof (a) / sizeof (a)[0])
#define IN(s) s, sizeof s - 1

static void test_need(void)
{
  static const struct { const char *s; size_t len; int want; } cases[] = {
    { IN(""), 1 },
    { IN("joe"), 0 },
    { IN("joe.smith"), 0 },
    { IN("a+b=c_d-e!#$%&'*/?^`{|}~"), 0 },
    { IN("joe smith"), 1 },
    { IN(".joe"), 1 },
    { IN("joe."), 1 },
    { IN("jo..e"), 1 },
    { IN("."), 1 },
    { IN("a\"b"), 1 },
    { IN("a\\b"), 1 },
    { IN("a(b"), 1 }, { IN("a)b"), 1 }, { IN("a<b"), 1 }, { IN("a>b"), 1 }, { IN("a@b"), 1 },
    { IN("a,b"), 1 }, { IN("a;b"), 1 }, { IN("a:b"), 1 }, { IN("a[b"), 1 }, { IN("a]b"), 1 },
    { IN("a\tb"), 1 },
    { IN("a\x7f"), 1 },
    { IN("j\xc3\xb6rg"), 1 },       /* 8-bit: quoted, not encoded */
    { IN("a\0b"), 1 },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) check_long(quote_need(cases[i].s, cases[i].len), cases[i].want, "quote_need case %zu", i);
}

static void test_quote(void)
{
  static const struct { const char *s; size_t len; const char *want; size_t wlen; } cases[] = {
    { IN("joe"), IN("joe") },
    { IN("joe smith"), IN("\"joe smith\"") },
    { IN(""), IN("\"\"") },
    { IN("a\"b\\c"), IN("\"a\\\"b\\\\c\"") },
    { IN("cr\rlf\n"), IN("\"cr\\\rlf\\\n\"") },
    { IN("a\0b"), IN("\"a\0b\"") },
    { IN(".x"), IN("\".x\"") },
  };
  stralloc out = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    out.len = 0;
    check_long(quote(&out, cases[i].s, cases[i].len), 1, "quote case %zu: succeeds", i);
    check_bytes(out.s, out.len, cases[i].want, cases[i].wlen, "quote case %zu", i);
  }
  stralloc_free(&out);
}

static void test_addr(void)
{
  static const struct { const char *s; size_t len; const char *want; size_t wlen; } cases[] = {
    { IN(""), IN("") },                                       /* <> stays empty */
    { IN("joe@example.com"), IN("joe@example.com") },
    { IN("joe smith@example.com"), IN("\"joe smith\"@example.com") },
    { IN("a@b@c"), IN("\"a@b\"@c") },                         /* the last '@' counts */
    { IN("nohost"), IN("nohost") },
    { IN("no host"), IN("\"no host\"") },
    { IN("@example.com"), IN("\"\"@example.com") },
    { IN("x@"), IN("x@") },
    { IN("x@host with space"), IN("x@host with space") },     /* the host is left alone */
    { IN("list-@example.com-@[]"), IN("\"list-@example.com-\"@[]") },
  };
  stralloc out = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    check_long(quote_addr(&out, cases[i].s, cases[i].len), 1, "quote_addr case %zu: succeeds", i);
    check_bytes(out.s, out.len, cases[i].want, cases[i].wlen, "quote_addr case %zu", i);
  }
  stralloc_free(&out);
}

int main(void)
{
  test_need();
  test_quote();
  test_addr();
  return check_end();
}
