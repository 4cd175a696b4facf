#include "smtpcmd.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

/* Every function here reads s[0..len) only: a command line may hold NULs
 * (qmail-smtpd passes them on as bytes) and is not NUL-terminated. */

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* 1 if s[0..len) is the ASCII word w, ignoring case. */
static int word_is(const char *s, size_t len, const char *w)
{
  size_t i;
  for (i = 0; i < len; ++i)
    if (!w[i] || lower((unsigned char)s[i]) != lower((unsigned char)w[i])) return 0;
  return !w[len];
}

/* A byte no address, name or log line may hold: C0 controls and DEL. */
static int is_ctl(unsigned char c) { return c < 32 || c == 127; }

static const struct { const char *name; enum smtpcmd_verb verb; } verbs[] = {
  { "HELO", SMTPCMD_HELO }, { "EHLO", SMTPCMD_EHLO }, { "MAIL", SMTPCMD_MAIL },
  { "RCPT", SMTPCMD_RCPT }, { "DATA", SMTPCMD_DATA }, { "BDAT", SMTPCMD_BDAT },
  { "RSET", SMTPCMD_RSET }, { "VRFY", SMTPCMD_VRFY }, { "EXPN", SMTPCMD_EXPN },
  { "NOOP", SMTPCMD_NOOP }, { "QUIT", SMTPCMD_QUIT }, { "HELP", SMTPCMD_HELP },
  { "AUTH", SMTPCMD_AUTH }, { "STARTTLS", SMTPCMD_STARTTLS },
};

enum smtpcmd_verb smtpcmd_verb(const char *line, size_t len, const char **arg, size_t *arglen)
{
  size_t i, n;
  const char *sp = len ? memchr(line, ' ', len) : 0;

  n = sp ? (size_t)(sp - line) : len;
  *arg = sp ? sp + 1 : line + len;
  *arglen = sp ? len - n - 1 : 0;
  for (i = 0; i < sizeof verbs / sizeof verbs[0]; ++i)
    if (word_is(line, n, verbs[i].name)) return verbs[i].verb;
  return SMTPCMD_UNKNOWN;
}

/* The length of the valid UTF-8 sequence at s[0..len), or 0 when it is not
 * one: truncated, a stray continuation byte, an overlong form, a surrogate,
 * past U+10FFFF (RFC 3629 section 4), or a C1 control U+0080..U+009F, which
 * some terminals obey as escapes and no address or host name needs. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
  unsigned char c = s[0];
  size_t n, i;
  unsigned long cp;

  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; }
  else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; }
  else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; }
  else return 0; /* continuation byte, C0/C1 (always overlong), F5..FF */
  if (len < n) return 0;
  for (i = 1; i < n; ++i) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (n == 2 && cp < 0xa0) return 0;           /* C1 control */
  if (n == 3 && cp < 0x800) return 0;          /* overlong */
  if (n == 3 && cp >= 0xd800 && cp <= 0xdfff) return 0; /* surrogate */
  if (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) return 0;
  return n;
}

/* 1 if s[0..len) has no control byte and its 8-bit bytes are valid UTF-8;
 * *eight says whether there was an 8-bit byte. */
static int text_ok(const char *s, size_t len, int *eight)
{
  size_t i = 0;
  *eight = 0;
  while (i < len) {
    unsigned char c = (unsigned char)s[i];
    size_t n;
    if (is_ctl(c)) return 0;
    n = utf8_seq((const unsigned char *)s + i, len - i);
    if (!n) return 0;
    if (n > 1) *eight = 1;
    i += n;
  }
  return 1;
}

/* Copies the address at arg[*pos..len) into addr, as qmail's addrparse
 * does: quotes stripped, backslash escapes resolved, ending at an unquoted
 * terminator (">" inside brackets, " " or the end of the line without).
 * Unlike qmail, it is an error when the terminator is missing, a quote is
 * left open, a backslash ends the line, or an unquoted '<' (or, without
 * brackets, '>'; inside brackets, a space) appears: qmail would have
 * guessed, and its guesses differ from the client's intent. */
static enum smtpcmd_result copy_addr(const char *arg, size_t len, size_t *pos, int bracket,
                                     stralloc *addr)
{
  size_t i = *pos;
  int quoted = 0;

  /* A source route "@a,@b:" is dropped (RFC 5321 section 4.1.2 says to
   * accept and ignore it); it must end in ':' and hold no quoting. */
  if (i < len && arg[i] == '@') {
    while (i < len && arg[i] != ':') {
      char c = arg[i];
      if (c == '>' || c == '<' || c == ' ' || c == '"' || c == '\\') return SMTPCMD_ESYNTAX;
      ++i;
    }
    if (i == len) return SMTPCMD_ESYNTAX;
    ++i;
    if (i == len || arg[i] == (bracket ? '>' : ' ')) return SMTPCMD_ESYNTAX; /* route to nothing */
  }

  for (; i < len; ++i) {
    char c = arg[i];
    if (c == '\\') {
      if (++i == len) return SMTPCMD_ESYNTAX;
      c = arg[i];
    } else if (c == '"') {
      quoted = !quoted;
      continue;
    } else if (!quoted) {
      if (bracket && c == '>') break;
      if (!bracket && c == ' ') break;
      if (c == '<' || c == '>' || c == ' ') return SMTPCMD_ESYNTAX;
    }
    /* Past the limit only the syntax is still checked: the answer will be
     * ETOOLONG, and the copy stays bounded whatever len is. */
    if (addr->len <= SMTPCMD_ADDRMAX && !stralloc_append(addr, c)) return SMTPCMD_ENOMEM;
  }
  if (quoted) return SMTPCMD_ESYNTAX;
  if (bracket) {
    if (i == len) return SMTPCMD_ESYNTAX; /* no '>' */
    ++i;
  }
  *pos = i;
  return SMTPCMD_OK;
}

/* RFC 3461 xtext: "+XX" hex escapes and the printable bytes but '+' '='. */
static int xtext_ok(const char *s, size_t len)
{
  size_t i;
  if (!len) return 0;
  for (i = 0; i < len; ++i) {
    unsigned char c = (unsigned char)s[i];
    if (c == '+') {
      size_t k;
      if (len - i < 3) return 0;
      for (k = 1; k <= 2; ++k) {
        unsigned char h = (unsigned char)s[i + k];
        if (!((h >= '0' && h <= '9') || (h >= 'A' && h <= 'F'))) return 0;
      }
      i += 2;
    } else if (c < 33 || c > 126 || c == '=')
      return 0;
  }
  return 1;
}

/* One parameter keyword[=value]. seen remembers which were given, so a
 * duplicate is refused: two SIZEs or BODYs leave the client's intent
 * unclear, and RFC 5321 section 4.1.2 gives no rule for them. */
static enum smtpcmd_result param(const char *kw, size_t kwlen, const char *val, size_t vlen,
                                 int hasval, int ismail, unsigned *seen, struct smtpcmd_params *p)
{
  unsigned bit;
  unsigned long long n = 0;
  size_t i;

  if (!ismail) return SMTPCMD_EPARAM; /* RCPT knows no parameter (no DSN) */
  if (word_is(kw, kwlen, "SIZE")) bit = 1;
  else if (word_is(kw, kwlen, "BODY")) bit = 2;
  else if (word_is(kw, kwlen, "SMTPUTF8")) bit = 4;
  else if (word_is(kw, kwlen, "AUTH")) bit = 8;
  else return SMTPCMD_EPARAM; /* RET, ENVID, NOTIFY, ORCPT, anything else */
  if (*seen & bit) return SMTPCMD_EPARAMVALUE;
  *seen |= bit;

  switch (bit) {
  case 1: /* RFC 1870: SIZE=1*20DIGIT; a larger number saturates */
    if (!hasval || !vlen) return SMTPCMD_EPARAMVALUE;
    for (i = 0; i < vlen; ++i) {
      unsigned d = (unsigned char)val[i] - '0';
      if (d > 9) return SMTPCMD_EPARAMVALUE;
      if (n > (ULLONG_MAX - d) / 10) n = ULLONG_MAX;
      else n = n * 10 + d;
    }
    p->size = n;
    p->hassize = 1;
    return SMTPCMD_OK;
  case 2:
    if (!hasval) return SMTPCMD_EPARAMVALUE;
    if (word_is(val, vlen, "7BIT")) p->body = 7;
    else if (word_is(val, vlen, "8BITMIME")) p->body = 8;
    else if (word_is(val, vlen, "BINARYMIME")) return SMTPCMD_EPARAM; /* not advertised (no CHUNKING promise) */
    else return SMTPCMD_EPARAMVALUE;
    return SMTPCMD_OK;
  case 4: /* RFC 6531: SMTPUTF8 takes no value */
    if (hasval) return SMTPCMD_EPARAMVALUE;
    p->smtputf8 = 1;
    return SMTPCMD_OK;
  default: /* RFC 4954 section 5: AUTH=<> or AUTH=xtext; accepted, ignored */
    if (!hasval) return SMTPCMD_EPARAMVALUE;
    if (!(vlen == 2 && val[0] == '<' && val[1] == '>') && !xtext_ok(val, vlen)) return SMTPCMD_EPARAMVALUE;
    p->hasauth = 1;
    return SMTPCMD_OK;
  }
}

/* The parameters at arg[pos..len), after the address: each is preceded by
 * one or more spaces; trailing spaces are allowed. */
static enum smtpcmd_result params(const char *arg, size_t len, size_t pos, int ismail,
                                  struct smtpcmd_params *p)
{
  unsigned seen = 0;

  for (;;) {
    size_t kw, kwlen, val = 0, vlen = 0, i;
    int hasval = 0;
    enum smtpcmd_result r;

    while (pos < len && arg[pos] == ' ') ++pos;
    if (pos == len) return SMTPCMD_OK;
    kw = pos;
    while (pos < len && arg[pos] != ' ' && arg[pos] != '=') ++pos;
    kwlen = pos - kw;
    if (pos < len && arg[pos] == '=') {
      hasval = 1;
      val = ++pos;
      while (pos < len && arg[pos] != ' ') ++pos;
      vlen = pos - val;
    }
    /* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"). A malformed
     * keyword is not one we know: EPARAM. */
    if (!kwlen) return SMTPCMD_EPARAM;
    for (i = 0; i < kwlen; ++i) {
      unsigned char c = (unsigned char)arg[kw + i];
      int alnum = (c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'z');
      if (!alnum && (i == 0 || c != '-')) return SMTPCMD_EPARAM;
    }
    /* esmtp-value = 1*(%d33-60 / %d62-126): no '=', no controls. */
    for (i = 0; i < vlen; ++i) {
      unsigned char c = (unsigned char)arg[val + i];
      if (c < 33 || c > 126 || c == '=') return SMTPCMD_EPARAMVALUE;
    }
    r = param(arg + kw, kwlen, arg + val, vlen, hasval, ismail, &seen, p);
    if (r != SMTPCMD_OK) return r;
  }
}

enum smtpcmd_result smtpcmd_path(const char *arg, size_t len, int ismail, int utf8,
                                 stralloc *addr, struct smtpcmd_params *p)
{
  struct smtpcmd_params dummy;
  const char *prefix = ismail ? "FROM:" : "TO:";
  size_t plen = ismail ? 5 : 3, pos, start;
  int bracket, eight;
  enum smtpcmd_result r;

  if (!p) p = &dummy;
  memset(p, 0, sizeof *p);
  addr->len = 0;
  if (len < plen || !word_is(arg, plen, prefix)) return SMTPCMD_ESYNTAX;
  pos = plen;
  while (pos < len && arg[pos] == ' ') ++pos;
  if (pos == len) return SMTPCMD_ESYNTAX;
  start = pos;
  bracket = arg[pos] == '<';
  if (bracket) ++pos;
  r = copy_addr(arg, len, &pos, bracket, addr);
  if (r != SMTPCMD_OK) return r;
  /* Only "<>" is the null path: an address that unquotes to nothing
   * ('<"">', "<@a:>") is not a way to spell it. */
  if (!addr->len) {
    if (!ismail || !bracket || pos - start != 2) return SMTPCMD_ESYNTAX;
  }
  if (pos < len && arg[pos] != ' ') return SMTPCMD_ESYNTAX; /* "<a@b>x" */
  if (addr->len > SMTPCMD_ADDRMAX) return SMTPCMD_ETOOLONG;
  if (!text_ok(addr->s, addr->len, &eight)) return SMTPCMD_EADDR;
  r = params(arg, len, pos, ismail, p);
  if (r != SMTPCMD_OK) return r;
  /* MAIL decides by its own SMTPUTF8 only: the caller's utf8 is for the
   * RCPTs that follow it. */
  if (eight && !(ismail ? p->smtputf8 : utf8)) return SMTPCMD_EUTF8;
  if (!stralloc_0(addr)) return SMTPCMD_ENOMEM;
  --addr->len;
  return SMTPCMD_OK;
}

int smtpcmd_heloname(const char *arg, size_t len)
{
  int eight;
  while (len && arg[0] == ' ') { ++arg; --len; }
  while (len && arg[len - 1] == ' ') --len;
  if (!len || len > 255) return 0;
  return text_ok(arg, len, &eight);
}

int smtpcmd_bdat(const char *arg, size_t len, unsigned long long *size, int *last)
{
  unsigned long long n = 0, max = SIZE_MAX / 2;
  size_t i = 0, w;

  while (len && arg[len - 1] == ' ') --len; /* trailing spaces, as elsewhere */
  for (; i < len && arg[i] >= '0' && arg[i] <= '9'; ++i) {
    unsigned d = (unsigned char)arg[i] - '0';
    if (n > (max - d) / 10) return 0;
    n = n * 10 + d;
  }
  if (!i) return 0;
  if (i == len) { *size = n; *last = 0; return 1; }
  if (arg[i] != ' ') return 0;
  while (i < len && arg[i] == ' ') ++i;
  w = i;
  if (!word_is(arg + w, len - w, "LAST")) return 0;
  *size = n;
  *last = 1;
  return 1;
}

int smtpcmd_auth(const char *arg, size_t len, const char **mech, size_t *mechlen,
                 const char **resp, size_t *resplen)
{
  size_t i, n;

  while (len && arg[len - 1] == ' ') --len;
  /* RFC 4422 sasl-mech: 1*20 of upper-case letters, digits, '-', '_';
   * clients send lower case too, and the caller compares ignoring case. */
  for (n = 0; n < len && arg[n] != ' '; ++n) {
    unsigned char c = (unsigned char)arg[n];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return 0;
  }
  if (!n || n > 20) return 0;
  *mech = arg;
  *mechlen = n;
  *resp = 0;
  *resplen = 0;
  if (n == len) return 1;
  /* arg[n] is the one space before the initial response, which is one
   * word of printable bytes; base64_decode judges it further. */
  ++n;
  if (n == len) return 0;
  for (i = n; i < len; ++i) {
    unsigned char c = (unsigned char)arg[i];
    if (c < 33 || c > 126) return 0;
  }
  if (len - n == 1 && arg[n] == '=') { *resp = ""; return 1; }
  *resp = arg + n;
  *resplen = len - n;
  return 1;
}
