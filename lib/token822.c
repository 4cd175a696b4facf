#include "token822.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- the token array ---- */

int token822_ready(token822_list *ta, size_t n)
{
  struct token822 *t;
  size_t want;
  if (ta->t && n <= ta->a) return 1;
  want = n;
  if (want <= SIZE_MAX - 30) want += 30;
  if (want <= SIZE_MAX - want / 8) want += want / 8;
  if (want > SIZE_MAX / sizeof(struct token822)) { errno = ENOMEM; return 0; }
  t = realloc(ta->t, want * sizeof(struct token822));
  if (!t) { errno = ENOMEM; return 0; }
  ta->t = t;
  ta->a = want;
  return 1;
}

int token822_readyplus(token822_list *ta, size_t n)
{
  if (n > SIZE_MAX - ta->len) { errno = ENOMEM; return 0; }
  return token822_ready(ta, ta->len + n);
}

int token822_append(token822_list *ta, const struct token822 *t)
{
  if (!token822_readyplus(ta, 1)) return 0;
  ta->t[ta->len++] = *t;
  return 1;
}

void token822_reverse(token822_list *ta)
{
  size_t i, j;
  if (ta->len < 2) return;
  for (i = 0, j = ta->len - 1; i < j; ++i, --j) {
    struct token822 tmp = ta->t[i];
    ta->t[i] = ta->t[j];
    ta->t[j] = tmp;
  }
}

void token822_free(token822_list *ta)
{
  free(ta->t);
  ta->t = 0;
  ta->len = ta->a = 0;
}

/* ---- parsing ---- */

/* Bytes that end an atom. ')' and ']' do not: an atom holding one is
 * turned into a quoted string instead (token822_parse). */
static int atomok(char c)
{
  switch (c) {
    case ' ': case '\t': case '\r': case '\n':
    case '(': case '[': case '"':
    case '<': case '>': case ';': case ':':
    case '@': case ',': case '.':
      return 0;
  }
  return 1;
}

/* An atom that could not be written back as one is a quoted string. */
static int atombad(const char *s, size_t len)
{
  size_t i;
  for (i = 0; i < len; ++i) {
    unsigned char c = (unsigned char)s[i];
    if (c < 32 || c > 126 || c == ')' || c == ']' || c == '\\') return 1;
  }
  return 0;
}

int token822_parse(token822_list *ta, const char *s, size_t len, stralloc *buf)
{
  size_t i;
  char *cbuf;

  ta->len = 0;
  /* The unescaped words never take more room than the text itself, so buf
   * is sized once and the tokens' pointers into it stay valid. */
  if (!stralloc_ready(buf, len ? len : 1)) return -1;
  buf->len = 0;
  cbuf = buf->s;

  for (i = 0; i < len; ++i) {
    struct token822 t;
    char close;
    unsigned level;

    t.s = 0;
    t.len = 0;
    switch (s[i]) {
      case ' ': case '\t': case '\r': case '\n':
        continue;
      case ')': case ']':
        return 0;
      case '.': t.type = TOKEN822_DOT; break;
      case ',': t.type = TOKEN822_COMMA; break;
      case '@': t.type = TOKEN822_AT; break;
      case '<': t.type = TOKEN822_LEFT; break;
      case '>': t.type = TOKEN822_RIGHT; break;
      case ':': t.type = TOKEN822_COLON; break;
      case ';': t.type = TOKEN822_SEMI; break;
      case '(': case '"': case '[':
        /* Comments nest (the inner parentheses are dropped); quoted
         * strings and literals do not. A backslash takes the next byte
         * as it is. */
        t.type = s[i] == '(' ? TOKEN822_COMMENT : s[i] == '"' ? TOKEN822_QUOTE : TOKEN822_LITERAL;
        close = s[i] == '(' ? ')' : s[i] == '"' ? '"' : ']';
        t.s = cbuf;
        level = 1;
        for (;;) {
          if (++i >= len) return 0;
          if (s[i] == close) { if (!--level) break; continue; }
          if (s[i] == '(' && close == ')') { ++level; continue; }
          if (s[i] == '\\' && ++i >= len) return 0;
          *cbuf++ = s[i];
          ++t.len;
        }
        break;
      default:
        t.type = TOKEN822_ATOM;
        t.s = cbuf;
        for (;;) {
          if (s[i] == '\\' && ++i >= len) break;
          *cbuf++ = s[i];
          ++t.len;
          if (++i >= len || !atomok(s[i])) break;
        }
        --i;
        if (atombad(t.s, t.len)) t.type = TOKEN822_QUOTE;
        break;
    }
    if (!token822_append(ta, &t)) return -1;
  }
  buf->len = (size_t)(cbuf - buf->s);
  return 1;
}

/* ---- writing ---- */

static int isword(int type)
{
  return type == TOKEN822_ATOM || type == TOKEN822_LITERAL || type == TOKEN822_QUOTE || type == TOKEN822_COMMENT;
}

/* Whether a space goes between two tokens (0: there is no previous one). */
static int needspace(int t1, int t2)
{
  if (!t1) return 0;
  if (t1 == TOKEN822_COLON || t1 == TOKEN822_COMMA) return 1;
  if (t2 == TOKEN822_LEFT) return 1;
  return isword(t1) && isword(t2);
}

/* The tentative line break after a comma, and at the end. The previous
 * break is taken back when the line it would have ended, with this part
 * added, still fits in linelen (counting the two bytes of the pending
 * break, as qmail does); so lines are filled greedily. */
struct fold {
  size_t lineb; /* where the current line starts */
  size_t linee; /* where the pending break is */
  int pending;
};

static int fold_break(stralloc *out, struct fold *f, size_t linelen)
{
  size_t pos = out->len;
  if (f->pending && (!linelen || pos - f->lineb <= linelen)) {
    memmove(out->s + f->linee, out->s + f->linee + 2, pos - f->linee - 2);
    out->len -= 2;
  } else if (f->pending) {
    f->lineb = f->linee + 1;
  }
  f->pending = 1;
  f->linee = out->len;
  return stralloc_catb(out, "\n ", 2);
}

int token822_unparse(stralloc *out, const token822_list *ta, size_t linelen)
{
  struct fold f = { 0, 0, 0 };
  int last = 0;
  size_t i, j;

  out->len = 0;
  for (i = 0; i < ta->len; ++i) {
    const struct token822 *t = ta->t + i;
    char c = 0;
    if (needspace(last, t->type) && !stralloc_append(out, ' ')) return 0;
    last = t->type;
    switch (t->type) {
      case TOKEN822_COMMA:
        if (!stralloc_append(out, ',') || !fold_break(out, &f, linelen)) return 0;
        continue;
      case TOKEN822_AT: c = '@'; break;
      case TOKEN822_DOT: c = '.'; break;
      case TOKEN822_LEFT: c = '<'; break;
      case TOKEN822_RIGHT: c = '>'; break;
      case TOKEN822_SEMI: c = ';'; break;
      case TOKEN822_COLON: c = ':'; break;
    }
    if (c) {
      if (!stralloc_append(out, c)) return 0;
      continue;
    }
    if (!isword(t->type)) continue;
    if (t->type == TOKEN822_QUOTE && !stralloc_append(out, '"')) return 0;
    if (t->type == TOKEN822_LITERAL && !stralloc_append(out, '[')) return 0;
    if (t->type == TOKEN822_COMMENT && !stralloc_append(out, '(')) return 0;
    if (t->len > SIZE_MAX / 2 || !stralloc_readyplus(out, t->len * 2)) { errno = ENOMEM; return 0; }
    for (j = 0; j < t->len; ++j) {
      switch (t->s[j]) {
        case '"': case '[': case ']': case '(': case ')':
        case '\\': case '\r': case '\n':
          out->s[out->len++] = '\\';
      }
      out->s[out->len++] = t->s[j];
    }
    if (t->type == TOKEN822_QUOTE && !stralloc_append(out, '"')) return 0;
    if (t->type == TOKEN822_LITERAL && !stralloc_append(out, ']')) return 0;
    if (t->type == TOKEN822_COMMENT && !stralloc_append(out, ')')) return 0;
  }
  if (!fold_break(out, &f, linelen)) return 0;
  --out->len; /* the break's space: the text ends with its newline */
  return 1;
}

int token822_unquote(stralloc *out, const token822_list *ta)
{
  size_t i;
  out->len = 0;
  for (i = 0; i < ta->len; ++i) {
    const struct token822 *t = ta->t + i;
    char c = 0;
    switch (t->type) {
      case TOKEN822_COMMA: c = ','; break;
      case TOKEN822_AT: c = '@'; break;
      case TOKEN822_DOT: c = '.'; break;
      case TOKEN822_LEFT: c = '<'; break;
      case TOKEN822_RIGHT: c = '>'; break;
      case TOKEN822_SEMI: c = ';'; break;
      case TOKEN822_COLON: c = ':'; break;
      case TOKEN822_LITERAL:
        if (!stralloc_append(out, '[') || !stralloc_catb(out, t->s, t->len) || !stralloc_append(out, ']')) return 0;
        continue;
      case TOKEN822_ATOM: case TOKEN822_QUOTE:
        if (!stralloc_catb(out, t->s, t->len)) return 0;
        continue;
      default: /* comments */
        continue;
    }
    if (!stralloc_append(out, c)) return 0;
  }
  return 1;
}

/* ---- address lists, from right to left ---- */

static const struct token822 comma = { TOKEN822_COMMA, 0, 0 };

/* Hands the collected address to fn and moves it to out. */
static int gotaddr(token822_list *out, token822_list *addr, token822_addrfn fn, void *arg)
{
  size_t i;
  int r = fn(addr, arg);
  if (r != 1) return r;
  if (!token822_readyplus(out, addr->len)) return -1;
  for (i = 0; i < addr->len; ++i) out->t[out->len++] = addr->t[i];
  addr->len = 0;
  return 1;
}

int token822_addrlist(token822_list *out, token822_list *addr, const token822_list *ta,
                      size_t start, token822_addrfn fn, void *arg)
{
  size_t i = ta->len;
  int ingroup = 0, wordok = 1, r;

/* The walk takes tokens from the right end (ta->t[i - 1]) into the
 * address being collected or straight into out; out is built backwards
 * and turned around at the end. */
#define LEFT_TYPE (ta->t[i - 1].type)
#define TO_ADDR() do { if (!token822_append(addr, &ta->t[--i])) return -1; } while (0)
#define TO_OUT() do { if (!token822_append(out, &ta->t[--i])) return -1; } while (0)
#define FLUSH() do { if (addr->len && (r = gotaddr(out, addr, fn, arg)) != 1) return r; } while (0)
#define FLUSHCOMMA() do { if (addr->len) { if ((r = gotaddr(out, addr, fn, arg)) != 1) return r; \
                          if (!token822_append(out, &comma)) return -1; } } while (0)

  out->len = 0;
  addr->len = 0;
  if (start > ta->len) start = ta->len;

  while (i > start) {
    switch (LEFT_TYPE) {
      case TOKEN822_SEMI:
        FLUSHCOMMA();
        if (ingroup) return 0;
        ingroup = 1;
        wordok = 1;
        TO_OUT();
        break;
      case TOKEN822_COLON:
        /* The group's name goes out as it is, up to the comma before it. */
        FLUSH();
        if (!ingroup) return 0;
        ingroup = 0;
        while (i > start && LEFT_TYPE != TOKEN822_COMMA) TO_OUT();
        if (i > start) TO_OUT();
        wordok = 1;
        break;
      case TOKEN822_RIGHT:
        FLUSHCOMMA();
        TO_OUT();
        while (i > start && LEFT_TYPE != TOKEN822_LEFT) TO_ADDR();
        /* The address inside <> counts even when it is empty. */
        if ((r = gotaddr(out, addr, fn, arg)) != 1) return r;
        if (i == start) return 0;
        TO_OUT();
        /* The phrase before the '<'. */
        while (i > start && (LEFT_TYPE == TOKEN822_COMMENT || LEFT_TYPE == TOKEN822_ATOM || LEFT_TYPE == TOKEN822_QUOTE
                             || LEFT_TYPE == TOKEN822_AT || LEFT_TYPE == TOKEN822_DOT))
          TO_OUT();
        wordok = 0;
        break;
      case TOKEN822_ATOM: case TOKEN822_QUOTE: case TOKEN822_LITERAL:
        if (!wordok) FLUSHCOMMA();
        wordok = 0;
        TO_ADDR();
        break;
      case TOKEN822_COMMENT:
        /* Lexically a space: it does not end a word. */
        TO_OUT();
        break;
      case TOKEN822_COMMA:
        FLUSH();
        wordok = 1;
        TO_OUT();
        break;
      default:
        wordok = 1;
        TO_ADDR();
        break;
    }
  }
  FLUSH();
  while (i > 0) TO_OUT();
  token822_reverse(out);
  return 1;

#undef LEFT_TYPE
#undef TO_ADDR
#undef TO_OUT
#undef FLUSH
#undef FLUSHCOMMA
}

/* ---- qualifying ---- */

int token822_qualify_init(struct token822_qualify *q, const char *defaulthost, const char *defaultdomain,
                          const char *plusdomain, int *bad)
{
  stralloc sa = STRALLOC_ZERO;
  const char *names[3];
  const char *prefix[3] = { "@", ".", "." };
  token822_list *lists[3];
  stralloc *bufs[3];
  int i, r = 1;

  names[0] = defaulthost; names[1] = defaultdomain; names[2] = plusdomain;
  lists[0] = &q->host; lists[1] = &q->domain; lists[2] = &q->plus;
  bufs[0] = &q->hostbuf; bufs[1] = &q->domainbuf; bufs[2] = &q->plusbuf;
  for (i = 0; i < 3; ++i) {
    if (!stralloc_copys(&sa, prefix[i]) || !stralloc_cats(&sa, names[i])) { r = -1; break; }
    r = token822_parse(lists[i], sa.s, sa.len, bufs[i]);
    if (r != 1) { if (!r && bad) *bad = i; break; }
  }
  stralloc_free(&sa);
  return r;
}

void token822_qualify_free(struct token822_qualify *q)
{
  token822_free(&q->host);
  token822_free(&q->domain);
  token822_free(&q->plus);
  stralloc_free(&q->hostbuf);
  stralloc_free(&q->domainbuf);
  stralloc_free(&q->plusbuf);
}

/* Adds the tokens of what (in forward order) at the end of the reversed
 * address addr. */
static int addrev(token822_list *addr, const token822_list *what)
{
  size_t i, n = what->len;
  if (!token822_readyplus(addr, n)) return 0;
  memmove(addr->t + n, addr->t, addr->len * sizeof(struct token822));
  for (i = 0; i < n; ++i) addr->t[i] = what->t[n - 1 - i];
  addr->len += n;
  return 1;
}

/* Drops addr->t[0], the address's last token. */
static void droplast(token822_list *addr)
{
  --addr->len;
  memmove(addr->t, addr->t + 1, addr->len * sizeof(struct token822));
}

int token822_qualify(token822_list *addr, const struct token822_qualify *q)
{
  size_t i;
  int hasat = 0;

  if (!addr->len) return 1;                                    /* <> */
  if (addr->len >= 2 && addr->t[1].type == TOKEN822_AT && addr->t[0].type == TOKEN822_LITERAL && !addr->t[0].len)
    return 1;                                                  /* box@[] */

  /* A source route: drop everything up to its colon (the whole address
   * when there is none). */
  if (addr->t[addr->len - 1].type == TOKEN822_AT)
    while (addr->len)
      if (addr->t[--addr->len].type == TOKEN822_COLON) break;
  if (!addr->len) return 1;
  if (addr->t[0].type == TOKEN822_DOT) droplast(addr);
  if (!addr->len) return 1;
  if (addr->t[0].type == TOKEN822_AT) droplast(addr);
  if (!addr->len) return 1;

  for (i = 0; i < addr->len; ++i)
    if (addr->t[i].type == TOKEN822_AT) hasat = 1;
  if (!hasat && !addrev(addr, &q->host)) return 0;

  if (addr->t[0].type == TOKEN822_ATOM && addr->t[0].len && addr->t[0].s[addr->t[0].len - 1] == '+') {
    --addr->t[0].len;
    if (!addrev(addr, &q->plus)) return 0;
  }

  /* The host is what follows the last '@': a dot or a literal in it
   * means it is qualified already. */
  for (i = 0; i < addr->len && addr->t[i].type != TOKEN822_AT; ++i)
    if (addr->t[i].type == TOKEN822_DOT || addr->t[i].type == TOKEN822_LITERAL) return 1;
  return addrev(addr, &q->domain);
}
