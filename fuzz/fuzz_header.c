/* fuzz_header: splitting a message into header fields and body
 * (lib/header), line by line as qmail-inject reads it, with lines cut at
 * a width taken from the first byte (as buffer_getline cuts them). Checked:
 *   - every field starts as a field or an mbox line, holds at most max
 *     bytes, continues only with lines starting with a blank, ends with a
 *     newline, and a known field is a valid one;
 *   - the header ends exactly once;
 *   - fields and body put together give the input back (with a newline
 *     added at the end when it lacked one), but for the "MBOX-Line: "
 *     prefixes and the blank line put in front of a body that starts with
 *     a line that is not a field. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "header.h"
#include "stralloc.h"

static stralloc recon, line, want;
static const char *in;
static size_t inlen;
static size_t max, boundary;
static int ends, refused;

static int on_field(void *arg, stralloc *f)
{
  static const char mbox[] = "MBOX-Line: From ";
  size_t i, skip = 0;
  (void)arg;
  if (ends || !f->len || f->len > max || f->s[f->len - 1] != '\n') abort();
  /* An mbox line got the prefix; a field that is called MBOX-Line in the
   * input did not (the input, up to here, is what was put together). */
  if (f->len >= sizeof mbox - 1 && !memcmp(f->s, mbox, sizeof mbox - 1)
      && (recon.len + 11 > inlen || memcmp(in + recon.len, mbox, 11)))
    skip = 11;
  else if (!header_valid(f->s, f->len)) abort();
  if (header_known(f->s, f->len) && !header_valid(f->s, f->len)) abort();
  for (i = 0; i + 1 < f->len; ++i)
    if (f->s[i] == '\n' && f->s[i + 1] != ' ' && f->s[i + 1] != '\t') abort();
  if (!stralloc_catb(&recon, f->s + skip, f->len - skip)) abort();
  return 0;
}

static int on_end(void *arg)
{
  (void)arg;
  if (ends++) abort();
  boundary = recon.len;
  return 0;
}

static int on_body(void *arg, const char *s, size_t len)
{
  (void)arg;
  if (!ends) abort();
  return stralloc_catb(&recon, s, len) ? 0 : -1;
}

static const struct header_split_ops ops = { on_field, on_end, on_body };

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  struct header_split hs = HEADER_SPLIT_ZERO;
  size_t len, pos = 0, width;

  if (!size) return 0;
  width = data[0] ? data[0] : 1000000;
  max = (data[0] & 0x3f) * 7 + 1;
  if (data[0] & 0x40) max = 1000000;
  in = (const char *)data + 1;
  len = inlen = size - 1;
  recon.len = 0;
  ends = 0;
  refused = 0;

  header_split_init(&hs, max);
  while (pos < len) {
    const char *nl = memchr(in + pos, '\n', len - pos);
    size_t k = nl ? (size_t)(nl - in - pos) + 1 : len - pos;
    int partial = 0, r;
    if (k > width) { k = width; partial = 1; }
    if (!stralloc_copyb(&line, in + pos, k)) abort();
    pos += k;
    if (!partial && !nl && !stralloc_append(&line, '\n')) abort();
    r = header_split_line(&hs, line.s, line.len, partial, &ops, 0);
    if (r == -1) abort();
    if (r == -2) { refused = 1; break; }
    if (r != 0 && r != 1) abort();
  }
  if (header_split_eof(&hs, &ops, 0) != 0) abort();
  if (ends != 1) abort();
  header_split_free(&hs);
  if (refused) return 0;

  if (!stralloc_copyb(&want, in, len)) abort();
  if (len && in[len - 1] != '\n' && !stralloc_append(&want, '\n')) abort();
  if (recon.len == want.len && !memcmp(recon.s, want.s, want.len)) return 0;
  /* the blank line put in front of the body */
  if (recon.len != want.len + 1 || boundary >= recon.len || recon.s[boundary] != '\n') abort();
  if (memcmp(recon.s, want.s, boundary) || memcmp(recon.s + boundary + 1, want.s + boundary, want.len - boundary))
    abort();
  return 0;
}
