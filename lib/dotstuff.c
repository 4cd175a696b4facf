/* Framing a stored message for SMTP DATA (dotstuff.h). */

#include "dotstuff.h"

void dotstuff_start(struct dotstuff *d)
{
  d->linestart = 1;
  d->cr = 0;
}

size_t dotstuff_feed(struct dotstuff *d, const char *in, size_t n, char *out)
{
  size_t i, o = 0;
  for (i = 0; i < n; ++i) {
    char c = in[i];
    if (c == '\n') {
      /* the LF of a CR LF: its line end went out with the CR */
      if (!d->cr) { out[o++] = '\r'; out[o++] = '\n'; }
      d->cr = 0;
      d->linestart = 1;
    } else if (c == '\r') {
      out[o++] = '\r';
      out[o++] = '\n';
      d->cr = 1;
      d->linestart = 1;
    } else {
      if (d->linestart && c == '.') out[o++] = '.';
      out[o++] = c;
      d->cr = 0;
      d->linestart = 0;
    }
  }
  return o;
}

size_t dotstuff_end(struct dotstuff *d, char *out)
{
  size_t o = 0;
  if (!d->linestart) { out[o++] = '\r'; out[o++] = '\n'; }
  out[o++] = '.';
  out[o++] = '\r';
  out[o++] = '\n';
  d->linestart = 1;
  d->cr = 0;
  return o;
}
