#include "smtpdata.h"

enum { SD_SOL, SD_TEXT, SD_CR, SD_DOT, SD_DOTCR };

void smtpdata_start(struct smtpdata *d, int dots, unsigned long long maxline)
{
  d->state = SD_SOL;
  d->dots = dots;
  d->inheader = 1;
  d->hopmatch = 3;
  d->hpos = 0;
  d->hops = 0;
  d->linelen = 0;
  d->maxline = maxline;
  d->bare = 0;
  d->toolong = 0;
  d->nul = 0;
}

/* A header line starting with "Received:" or "Delivered-To:". */
static void header_byte(struct smtpdata *d, char c)
{
  static const char r[] = "received:", t[] = "delivered-to:";
  char l = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (!d->hopmatch) return;
  if ((d->hopmatch & 1) && (d->hpos >= sizeof r - 1 || l != r[d->hpos])) d->hopmatch &= ~1;
  if ((d->hopmatch & 2) && (d->hpos >= sizeof t - 1 || l != t[d->hpos])) d->hopmatch &= ~2;
  ++d->hpos;
  if (((d->hopmatch & 1) && d->hpos == sizeof r - 1) || ((d->hopmatch & 2) && d->hpos == sizeof t - 1)) {
    ++d->hops;
    d->hopmatch = 0;
  }
}

static void text_byte(struct smtpdata *d, char c)
{
  ++d->linelen;
  if (!c) d->nul = 1;
  if (d->maxline && d->linelen + 2 > d->maxline) d->toolong = 1;
  if (d->inheader) header_byte(d, c);
}

static void line_end(struct smtpdata *d, smtpdata_put put, void *ctx)
{
  if (d->inheader && !d->linelen) d->inheader = 0;
  d->linelen = 0;
  d->hopmatch = 3;
  d->hpos = 0;
  put(ctx, "\n", 1);
}

size_t smtpdata_feed(struct smtpdata *d, const char *s, size_t n, int *end, smtpdata_put put, void *ctx)
{
  size_t i, start = 0; /* s[start..i) is text not passed on yet */

  *end = 0;
  if (d->bare) return 0;
  for (i = 0; i < n; ++i) {
    char c = s[i];
    switch (d->state) {
      case SD_SOL:
        if (d->dots && c == '.') { d->state = SD_DOT; start = i + 1; continue; }
        /* fall through */
      case SD_TEXT:
        if (c == '\r') {
          if (i > start) put(ctx, s + start, i - start);
          d->state = SD_CR;
          continue;
        }
        if (c == '\n') { d->bare = 1; return i + 1; }
        d->state = SD_TEXT;
        text_byte(d, c);
        continue;
      case SD_CR:
        if (c != '\n') { d->bare = 1; return i + 1; }
        line_end(d, put, ctx);
        d->state = SD_SOL;
        start = i + 1;
        continue;
      case SD_DOT:
        if (c == '\r') { d->state = SD_DOTCR; continue; }
        if (c == '\n') { d->bare = 1; return i + 1; }
        /* A stuffed dot: the line goes on without it. */
        d->state = SD_TEXT;
        start = i;
        text_byte(d, c);
        continue;
      case SD_DOTCR:
        if (c != '\n') { d->bare = 1; return i + 1; }
        *end = 1;
        return i + 1;
    }
  }
  if ((d->state == SD_TEXT || d->state == SD_SOL) && n > start) put(ctx, s + start, n - start);
  return n;
}

void smtpdata_finish(struct smtpdata *d)
{
  if (d->state == SD_CR) d->bare = 1;
}
