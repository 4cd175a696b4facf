#include "pop3.h"

#include <string.h>

#include "scan.h"

static const struct { const char *name; enum pop3_verb verb; } verbs[] = {
  { "user", POP3_USER }, { "pass", POP3_PASS }, { "apop", POP3_APOP }, { "quit", POP3_QUIT },
  { "noop", POP3_NOOP }, { "capa", POP3_CAPA }, { "stat", POP3_STAT }, { "list", POP3_LIST },
  { "uidl", POP3_UIDL }, { "retr", POP3_RETR }, { "top", POP3_TOP },   { "dele", POP3_DELE },
  { "rset", POP3_RSET }, { "last", POP3_LAST },
};

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

enum pop3_verb pop3_verb(const char *line, size_t len, const char **arg, size_t *arglen)
{
  const char *sp = memchr(line, ' ', len);
  size_t vlen = sp ? (size_t)(sp - line) : len;
  size_t i, j;

  *arg = sp ? sp + 1 : line + len;
  *arglen = sp ? len - vlen - 1 : 0;
  for (i = 0; i < sizeof verbs / sizeof verbs[0]; ++i) {
    const char *name = verbs[i].name;
    if (strlen(name) != vlen) continue;
    for (j = 0; j < vlen; ++j)
      if (lower((unsigned char)line[j]) != name[j]) break;
    if (j == vlen) return verbs[i].verb;
  }
  return POP3_UNKNOWN;
}

int pop3_nums(const char *arg, size_t len, unsigned min, unsigned max, unsigned long num[2])
{
  size_t i = 0;
  unsigned count = 0;

  if (max > 2) max = 2;
  for (;;) {
    size_t k;
    unsigned long u;
    while (i < len && arg[i] == ' ') ++i;
    if (i == len) break;
    /* Extra spaces are skipped ("RETR  1"), as qmail does. */
    if (count == max) return -1;
    k = scan_ulongn(arg + i, len - i, &u);
    if (!k) return -1;              /* not a digit, or too large */
    i += k;
    if (i < len && arg[i] != ' ') return -1;  /* "1x", "1\t" */
    num[count++] = u;
  }
  return count < min ? -1 : (int)count;
}

void pop3_msg_start(struct pop3_msg *m, int top, unsigned long k)
{
  m->top = top;
  m->left = k;
  m->bol = 1;
  m->cr = 0;
  m->inbody = 0;
  m->linelen = 0;
  m->done = 0;
}

/* The end of a line has been written: the blank line ends the header,
 * and for TOP each body line counts. */
static void pop3_msg_eol(struct pop3_msg *m, int blank)
{
  m->bol = 1;
  m->cr = 0;
  m->linelen = 0;
  if (!m->inbody) {
    if (!blank) return;
    m->inbody = 1;
    if (m->top && !m->left) m->done = 1;
    return;
  }
  if (m->top && !--m->left) m->done = 1;
}

int pop3_msg_put(struct pop3_msg *m, buffer *out, const char *x, size_t n)
{
  while (n && !m->done) {
    const char *lf = memchr(x, '\n', n);
    size_t k = lf ? (size_t)(lf - x) : n;

    if (k) {
      /* Dot stuffing: a line of the text may not begin with the '.' that
       * ends it. */
      if (m->bol && x[0] == '.' && buffer_put(out, ".", 1) == -1) return -1;
      if (buffer_put(out, x, k) == -1) return -1;
      m->bol = 0;
      m->cr = x[k - 1] == '\r';
      m->linelen = m->linelen + k > 2 ? 2 : m->linelen + k;
      x += k;
      n -= k;
    }
    if (lf) {
      /* A blank line: nothing, or only the CR of a CRLF file. */
      int blank = m->linelen == 0 || (m->linelen == 1 && m->cr);
      if (buffer_put(out, m->cr ? "\n" : "\r\n", m->cr ? 1 : 2) == -1) return -1;
      pop3_msg_eol(m, blank);
      ++x;
      --n;
    }
  }
  return 0;
}

int pop3_msg_end(struct pop3_msg *m, buffer *out)
{
  if (!m->bol && !m->done) {
    if (buffer_put(out, m->cr ? "\n" : "\r\n", m->cr ? 1 : 2) == -1) return -1;
    pop3_msg_eol(m, 0);
  }
  return buffer_put(out, ".\r\n", 3);
}
