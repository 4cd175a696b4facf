/* fuzz_dotqmail: a whole .qmail file, line by line. Every line has one
 * kind, its argument lies inside the line, holds no NUL or newline, never
 * ends in a blank, and agrees with the line's first byte; the lines
 * together cover the whole input. Also the extension's file-name form:
 * same length, no dot, no uppercase letter. */
#include <stdlib.h>
#include <string.h>

#include "dotqmail.h"
#include "fuzz.h"
#include "stralloc.h"

static void check_line(const char *line, size_t linelen, const struct dotqmail_line *l)
{
  size_t cut = linelen, i;
  const char *nul = memchr(line, 0, linelen);
  if (nul) cut = (size_t)(nul - line);

  if (l->arg < line || l->len > linelen || l->arg + l->len > line + cut) abort();
  if (memchr(l->arg, 0, l->len) || memchr(l->arg, '\n', l->len)) abort();
  if (l->len && (l->arg[l->len - 1] == ' ' || l->arg[l->len - 1] == '\t')) abort();
  /* what follows the argument, up to the cut, is blanks only */
  for (i = (size_t)(l->arg - line) + l->len; i < cut; ++i)
    if (line[i] != ' ' && line[i] != '\t') abort();

  switch (l->kind) {
    case DOTQMAIL_BLANK:
      if (l->len) abort();
      for (i = 0; i < cut; ++i)
        if (line[i] != ' ' && line[i] != '\t') abort();
      break;
    case DOTQMAIL_COMMENT:
      if (l->arg != line || line[0] != '#') abort();
      break;
    case DOTQMAIL_PROGRAM:
      if (l->arg != line + 1 || line[0] != '|') abort();
      break;
    case DOTQMAIL_MBOX:
    case DOTQMAIL_MAILDIR:
      if (l->arg != line || !l->len || (line[0] != '.' && line[0] != '/')) abort();
      if ((l->arg[l->len - 1] == '/') != (l->kind == DOTQMAIL_MAILDIR)) abort();
      break;
    case DOTQMAIL_LIST:
      if (l->arg != line + 1 || line[0] != '+' || l->len != 4 || memcmp(l->arg, "list", 4)) abort();
      break;
    case DOTQMAIL_IGNORED:
      if (l->arg != line + 1 || line[0] != '+') abort();
      if (l->len == 4 && !memcmp(l->arg, "list", 4)) abort();
      break;
    case DOTQMAIL_FORWARD:
      if (line[0] == '&') { if (l->arg != line + 1) abort(); }
      else if (l->arg != line || !l->len || strchr("#|./+", line[0])) abort();
      break;
    default:
      abort();
  }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  const char *s = (const char *)data;
  struct dotqmail d;
  struct dotqmail_line l;
  stralloc sa = STRALLOC_ZERO;
  unsigned long lines = 0;
  size_t covered = 0, i;

  dotqmail_start(&d, s, size);
  for (;;) {
    size_t start = d.pos, linelen;
    const char *nl;
    if (!dotqmail_next(&d, &l)) break;
    if (start != covered || d.lineno != ++lines) abort();
    nl = memchr(s + start, '\n', size - start);
    linelen = nl ? (size_t)(nl - (s + start)) : size - start;
    if (d.pos != start + linelen + (nl != 0)) abort();
    check_line(s + start, linelen, &l);
    covered = d.pos;
  }
  if (covered != size || dotqmail_next(&d, &l)) abort();

  /* the extension: the input up to its first NUL */
  {
    size_t n = strnlen(s, size);
    char *ext = malloc(n + 1);
    if (!ext) abort();
    memcpy(ext, s, n);
    ext[n] = 0;
    if (!dotqmail_safeext(&sa, ext) || sa.len != n) abort();
    for (i = 0; i < n; ++i) {
      char c = sa.s[i];
      if (c == '.' || (c >= 'A' && c <= 'Z')) abort();
      if (ext[i] == '.' ? c != ':' : ext[i] >= 'A' && ext[i] <= 'Z' ? c != ext[i] + 32 : c != ext[i]) abort();
    }
    free(ext);
  }
  stralloc_free(&sa);
  return 0;
}
