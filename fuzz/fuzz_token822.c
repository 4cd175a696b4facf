/* fuzz_token822: RFC 822 address lists (lib/token822) and address quoting
 * (lib/quote). The first byte picks the folding width, the rest is the
 * text. Checked:
 *   - what parses writes back (folded or not) as text that parses again;
 *   - the address walk with qmail-inject's qualification either fails
 *     cleanly or gives a list that writes back and parses again, and
 *     every token it hands out points into memory the caller owns;
 *   - quoting any box name and reading it back gives the name again, and
 *     so does quoting an address whose host needs no quoting. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "quote.h"
#include "stralloc.h"
#include "token822.h"

static struct token822_qualify qual = TOKEN822_QUALIFY_ZERO;
static token822_list ta, ta2, out, addr;
static stralloc buf, buf2, text, tmp;
static const char *input;
static size_t inputlen;

/* Each word must point into the parse buffer or into the qualification
 * names; its bytes are all read here, so the sanitizers see a bad one. */
static void checktokens(const token822_list *tl, const stralloc *b)
{
  size_t i, j;
  unsigned sum = 0;
  for (i = 0; i < tl->len; ++i) {
    const struct token822 *t = tl->t + i;
    if (t->type < TOKEN822_ATOM || t->type > TOKEN822_DOT) abort();
    if (t->type > TOKEN822_COMMENT) continue;
    if (t->len && !t->s) abort();
    if (b && t->s >= b->s && t->s + t->len > b->s + b->len) abort();
    for (j = 0; j < t->len; ++j) sum += (unsigned char)t->s[j];
  }
  (void)sum;
}

static int rewrite(token822_list *a, void *arg)
{
  size_t *count = arg;
  size_t before = a->len;
  if (!token822_qualify(a, &qual)) abort();
  /* qualification adds at most the three names' tokens */
  if (a->len > before + qual.host.len + qual.domain.len + qual.plus.len) abort();
  token822_reverse(a);
  if (!token822_unquote(&tmp, a)) abort();
  token822_reverse(a);
  ++*count;
  return 1;
}

static void roundtrip(const char *s, size_t len)
{
  size_t at = len, i;
  if (!quote(&text, s, len)) abort();
  if (token822_parse(&ta2, text.s, text.len, &buf2) != 1) abort();
  if (!token822_unquote(&tmp, &ta2)) abort();
  if (tmp.len != len || memcmp(tmp.s, s, len)) abort();

  for (i = len; i > 0; --i)
    if (s[i - 1] == '@') { at = i - 1; break; }
  if (at < len && len - at - 1 && quote_need(s + at + 1, len - at - 1)) return;
  if (!quote_addr(&text, s, len)) abort();
  if (token822_parse(&ta2, text.s, text.len, &buf2) != 1) abort();
  if (!token822_unquote(&tmp, &ta2)) abort();
  if (tmp.len != len || memcmp(tmp.s, s, len)) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  size_t linelen, count = 0;
  int r;

  if (!qual.host.t && token822_qualify_init(&qual, "host", "example.com", "plus.example", 0) != 1) abort();
  if (!size) return 0;
  linelen = data[0] & 0x80 ? 0 : data[0];
  input = (const char *)data + 1;
  inputlen = size - 1;

  roundtrip(input, inputlen);

  r = token822_parse(&ta, input, inputlen, &buf);
  if (r == -1) abort();
  if (r == 0) return 0;
  checktokens(&ta, &buf);
  if (!token822_unparse(&text, &ta, linelen)) abort();
  if (!text.len || text.s[text.len - 1] != '\n') abort();
  if (token822_parse(&ta2, text.s, text.len, &buf2) != 1) abort();

  r = token822_addrlist(&out, &addr, &ta, 2, rewrite, &count);
  if (r == -1) abort();
  if (r == 1) {
    checktokens(&out, 0);
    if (!token822_unparse(&text, &out, linelen)) abort();
    if (token822_parse(&ta2, text.s, text.len, &buf2) != 1) abort();
  }
  return 0;
}
