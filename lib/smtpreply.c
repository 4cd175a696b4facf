/* SMTP replies from a server: a bounded, incremental reader (smtpreply.h). */

#include <errno.h>
#include <string.h>

#include "smtpreply.h"

enum { S_CODE, S_SEP, S_TEXT, S_DONE };

void smtpreply_start(struct smtpreply *r)
{
  r->text.len = 0;
  r->code = 0;
  r->cut = 0;
  r->state = S_CODE;
  r->linecode = 0;
  r->pos = 0;
  r->lines = 0;
  r->linekept = 0;
  r->mixed = 0;
}

/* Keeps one byte of text, if there is room. The last byte of room is kept
 * for the '\n' that ends the line, so the text always ends in one. */
static int keep(struct smtpreply *r, char c)
{
  if (c != '\n') {
    if (r->text.len >= SMTPREPLY_MAX - 1 || r->linekept >= SMTPREPLY_LINEMAX) { r->cut = 1; return 1; }
    ++r->linekept;
    if ((unsigned char)c < 32 && c != '\t') c = '?';
    else if (c == 127) c = '?';
  } else {
    r->linekept = 0;
    if (r->text.len >= SMTPREPLY_MAX) return 1;
  }
  return stralloc_append(&r->text, c);
}

/* The first line's code, if it is one SMTP uses. */
static unsigned goodcode(unsigned c)
{
  unsigned d1 = c / 100, d2 = c / 10 % 10;
  return d1 >= 2 && d1 <= 5 && d2 <= 5 ? c : 0;
}

int smtpreply_feed(struct smtpreply *r, const char *s, size_t n, size_t *used)
{
  size_t i;
  for (i = 0; i < n; ++i) {
    char c = s[i];
    if (c == '\r') continue; /* dropped everywhere, as qmail does */
    switch (r->state) {
      case S_CODE:
        if (c < '0' || c > '9') goto malformed;
        if (!keep(r, c)) goto nomem;
        r->linecode = r->linecode * 10 + (unsigned)(c - '0');
        if (++r->pos == 3) {
          if (!r->lines) r->code = r->linecode; /* the reply's code; checked at the end */
          else if (r->linecode != r->code) r->mixed = 1;
          r->state = S_SEP;
        }
        break;
      case S_SEP:
        if (c == '\n') goto lastline;
        if (c != ' ' && c != '-') goto malformed;
        if (!keep(r, c)) goto nomem;
        r->state = S_TEXT;
        r->pos = c == '-'; /* pos now remembers: continuation line */
        break;
      case S_TEXT:
        if (c != '\n') { if (!keep(r, c)) goto nomem; break; }
        if (!keep(r, '\n')) goto nomem;
        if (r->pos) { r->state = S_CODE; r->pos = 0; r->linecode = 0; ++r->lines; break; }
        goto done;
      default:
        goto done0;
    }
  }
  *used = n;
  return 0;

lastline:
  if (!keep(r, '\n')) goto nomem;
done:
  ++i;
done0:
  *used = i;
  r->state = S_DONE;
  r->code = r->mixed ? 0 : goodcode(r->code);
  return 1;
malformed:
  /* Not a reply line: the dialogue is out of step. Keep what came, end. */
  if (r->state == S_CODE && !keep(r, s[i])) goto nomem;
  if (r->text.len && r->text.s[r->text.len - 1] != '\n' && !keep(r, '\n')) goto nomem;
  ++i;
  *used = i;
  r->state = S_DONE;
  r->code = 0;
  return 1;
nomem:
  *used = i;
  return -1;
}

int smtpreply_get(struct smtpreply *r, buffer *b)
{
  smtpreply_start(r);
  for (;;) {
    size_t used;
    int x;
    ssize_t got = buffer_feed(b);
    if (got == -1) return -1;
    if (got == 0) return 0;
    x = smtpreply_feed(r, buffer_peek(b), (size_t)got, &used);
    buffer_seek(b, used);
    if (x == -1) return -2;
    if (x == 1) return 1;
  }
}

/* ---- EHLO keywords ---- */

static int keyis(const char *s, size_t len, const char *kw)
{
  size_t i, k = strlen(kw);
  if (len < k) return 0;
  for (i = 0; i < k; ++i) {
    char c = s[i];
    if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
    if (c != kw[i]) return 0;
  }
  return len == k || s[k] == ' ' || s[k] == '\t';
}

static void oneline(const char *s, size_t len, struct smtpreply_ehlo *e)
{
  if (keyis(s, len, "PIPELINING")) e->pipelining = 1;
  else if (keyis(s, len, "8BITMIME")) e->eightbitmime = 1;
  else if (keyis(s, len, "SMTPUTF8")) e->smtputf8 = 1;
  else if (keyis(s, len, "ENHANCEDSTATUSCODES")) e->enhancedstatuscodes = 1;
  else if (keyis(s, len, "SIZE")) {
    size_t i = 4;
    unsigned long long v = 0;
    e->size = 1;
    e->sizemax = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t')) ++i;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; ++i) {
      unsigned d = (unsigned)(s[i] - '0');
      if (v > (~0ULL - d) / 10) { v = ~0ULL; break; } /* saturates */
      v = v * 10 + d;
    }
    e->sizemax = v;
  }
}

void smtpreply_ehlo(const char *text, size_t len, struct smtpreply_ehlo *e)
{
  size_t i = 0, first = 1;
  memset(e, 0, sizeof *e);
  while (i < len) {
    const char *nl = memchr(text + i, '\n', len - i);
    size_t end = nl ? (size_t)(nl - text) : len;
    const char *l = text + i;
    size_t ll = end - i;
    /* the first line names the server; the others are "ddd-KEYWORD ..." */
    if (!first && ll > 4 && l[0] >= '0' && l[0] <= '9' && l[1] >= '0' && l[1] <= '9'
        && l[2] >= '0' && l[2] <= '9' && (l[3] == '-' || l[3] == ' '))
      oneline(l + 4, ll - 4, e);
    first = 0;
    i = end + 1;
  }
}
