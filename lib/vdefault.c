#include "vdefault.h"

#include <string.h>

#include "dotqmail.h"

enum vdefault_kind vdefault_instruction(const char *s, size_t len, const char **arg, size_t *arglen)
{
  *arg = s;
  *arglen = len;
  if (!len || memchr(s, '\n', len) || memchr(s, 0, len)) return VDEFAULT_INVALID;
  if (len == 6 && !memcmp(s, "delete", 6)) return VDEFAULT_DELETE;
  if (len == 17 && !memcmp(s, "bounce-no-mailbox", 17)) return VDEFAULT_BOUNCE;
  if (s[0] == '/') return VDEFAULT_PATH;
  if (s[0] == '&') {
    ++*arg;
    --*arglen;
    if (!*arglen) return VDEFAULT_INVALID;
  }
  return VDEFAULT_FORWARD;
}

/* Bytes that mean nothing to sh outside quotes. */
static int plain(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.'
         || c == '/' || c == '@' || c == '%' || c == '+' || c == ',' || c == ':' || c == '-';
}

/* Splits a command line into at most 3 words as sh would, or says it
 * cannot be sure. Words go into w[] with their lengths, unquoted, in
 * buf. Returns the number of words, or -1. */
static int words(const char *s, size_t len, stralloc *buf, size_t start[4], size_t wlen[4])
{
  size_t i = 0;
  int n = 0;

  buf->len = 0;
  for (;;) {
    while (i < len && (s[i] == ' ' || s[i] == '\t')) ++i;
    if (i == len) return n;
    if (n == 3) return -1;
    start[n] = buf->len;
    /* '=' before any quote or '/' in the first word would be a variable
     * assignment: plain() allows '=' nowhere, so that cannot happen. */
    while (i < len && s[i] != ' ' && s[i] != '\t') {
      char c = s[i];
      if (c == '\'') {
        const char *q = memchr(s + i + 1, '\'', len - i - 1);
        if (!q) return -1;
        if (!stralloc_catb(buf, s + i + 1, (size_t)(q - (s + i + 1)))) return -1;
        i = (size_t)(q - s) + 1;
      } else if (c == '"') {
        size_t j = i + 1;
        while (j < len && s[j] != '"') {
          if (s[j] == '$' || s[j] == '`' || s[j] == '\\' || s[j] == '\n') return -1;
          ++j;
        }
        if (j == len) return -1;
        if (!stralloc_catb(buf, s + i + 1, j - i - 1)) return -1;
        i = j + 1;
      } else if (plain(c)) {
        if (!stralloc_append(buf, c)) return -1;
        ++i;
      } else
        return -1;
    }
    /* A word that starts with '~' or holds glob characters never gets
     * here: plain() has neither. */
    wlen[n] = buf->len - start[n];
    ++n;
  }
}

int vdefault_parse(const char *text, size_t len, enum vdefault_kind *kind, stralloc *instr)
{
  struct dotqmail d;
  struct dotqmail_line l;
  const char *prog = 0;
  size_t proglen = 0;
  size_t start[4], wlen[4];
  stralloc buf = STRALLOC_ZERO;
  const char *base, *arg;
  size_t baselen, arglen;
  int n, ok = 0;

  dotqmail_start(&d, text, len);
  while (dotqmail_next(&d, &l)) {
    switch (l.kind) {
      case DOTQMAIL_COMMENT: break;
      case DOTQMAIL_BLANK:
        /* qmail-local refuses a blank first line (temporarily). */
        if (d.lineno == 1) return 0;
        break;
      case DOTQMAIL_PROGRAM:
        if (prog) return 0;
        prog = l.arg;
        proglen = l.len;
        break;
      default: return 0;
    }
  }
  if (!prog) return 0;
  /* qmail-local runs the line with sh -c up to its first NUL. */
  if (memchr(prog, 0, proglen)) return 0;
  n = words(prog, proglen, &buf, start, wlen);
  if (n != 3) goto out;
  base = buf.s + start[0];
  baselen = wlen[0];
  {
    size_t i = baselen;
    while (i && base[i - 1] != '/') --i;
    base += i;
    baselen -= i;
  }
  if (baselen != 12 || memcmp(base, "vdelivermail", 12)) goto out;
  *kind = vdefault_instruction(buf.s + start[2], wlen[2], &arg, &arglen);
  if (!stralloc_copyb(instr, buf.s + start[2], wlen[2])) goto out;
  ok = 1;
out:
  stralloc_free(&buf);
  return ok;
}

size_t vdefault_shorter(const char *ext, size_t len)
{
  while (len) {
    --len;
    if (ext[len] == '-') return len;
  }
  return 0;
}
