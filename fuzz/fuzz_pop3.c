/* fuzz_pop3: lib/pop3 on arbitrary bytes.
 *
 * As a command line: the verb's argument lies inside the line, and the
 * numbers pop3_nums accepts are exactly the decimal tokens of the
 * argument. As a message file: the RETR text does not depend on how the
 * file is cut into pieces, has CRLF line ends and dot stuffing, ends in
 * ".\r\n", and undoing both gives the file back (CRLF read as LF, a last
 * line ended); the TOP text is the start of the RETR text. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buffer.h"
#include "fuzz.h"
#include "pop3.h"
#include "stralloc.h"

static void check_command(const char *s, size_t len)
{
  const char *arg;
  size_t arglen, i;
  unsigned long n[2];
  int k;

  (void)pop3_verb(s, len, &arg, &arglen);
  if (arg < s || arg > s + len || arglen > len - (size_t)(arg - s)) abort();
  k = pop3_nums(arg, arglen, 0, 2, n);
  if (k < -1 || k > 2) abort();
  if (k >= 0) {
    /* every byte a digit or a space, and as many digit runs as numbers */
    int runs = 0, indigits = 0;
    for (i = 0; i < arglen; ++i) {
      if (arg[i] == ' ') { indigits = 0; continue; }
      if (arg[i] < '0' || arg[i] > '9') abort();
      if (!indigits) ++runs;
      indigits = 1;
    }
    if (runs != k) abort();
    /* a stricter count refuses */
    if (k > 0 && pop3_nums(arg, arglen, (unsigned)k + 1, 2, n) != -1) abort();
    if (k > 0 && pop3_nums(arg, arglen, 0, (unsigned)k - 1, n) != -1) abort();
  }
}

/* The writer's text for data, fed in pieces of step bytes. */
static void render(stralloc *sa, const char *data, size_t size, int top, unsigned long k, size_t step)
{
  char space[7]; /* small: many flushes */
  struct pop3_msg m;
  buffer b;
  size_t i;
  off_t end;
  int fd = fuzz_memfd((const unsigned char *)"", 0);

  buffer_init(&b, fd, space, sizeof space, 0);
  pop3_msg_start(&m, top, k);
  for (i = 0; i < size && !m.done; i += step)
    if (pop3_msg_put(&m, &b, data + i, size - i < step ? size - i : step) == -1) abort();
  if (pop3_msg_end(&m, &b) == -1 || buffer_flush(&b) == -1) abort();
  end = lseek(fd, 0, SEEK_END);
  if (end < 0 || !stralloc_ready(sa, (size_t)end)) abort();
  if (pread(fd, sa->s, (size_t)end, 0) != end) abort();
  sa->len = (size_t)end;
  close(fd);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  stralloc whole = STRALLOC_ZERO, cut = STRALLOC_ZERO, top = STRALLOC_ZERO, want = STRALLOC_ZERO;
  const char *s = (const char *)data;
  size_t i, step = size ? 1 + data[0] % 13 : 1;
  unsigned long k = size > 1 ? data[1] % 6 : 0;

  check_command(s, size);

  render(&whole, s, size, 0, 0, size ? size : 1);
  render(&cut, s, size, 0, 0, step);
  if (cut.len != whole.len || memcmp(cut.s, whole.s, whole.len)) abort();

  /* The end: ".\r\n", after a CRLF unless the file is empty. */
  if (whole.len < 3 || memcmp(whole.s + whole.len - 3, ".\r\n", 3)) abort();
  if (size && (whole.len < 5 || memcmp(whole.s + whole.len - 5, "\r\n", 2))) abort();
  /* Every LF follows a CR; every line starting with '.' is stuffed. */
  for (i = 0; i < whole.len; ++i) {
    if (whole.s[i] == '\n' && (!i || whole.s[i - 1] != '\r')) abort();
    if ((!i || whole.s[i - 1] == '\n') && whole.s[i] == '.' && i + 3 != whole.len
        && (i + 1 >= whole.len || whole.s[i + 1] != '.'))
      abort();
  }
  /* Undone, it is the file: stuffing removed, CRLF as LF. The file, with
   * its last line ended, CRLF as LF, must match. */
  if (!stralloc_copys(&want, "")) abort();
  for (i = 0; i < size; ++i) {
    if (s[i] == '\n' && want.len && want.s[want.len - 1] == '\r') { want.s[want.len - 1] = '\n'; continue; }
    if (!stralloc_append(&want, s[i])) abort();
  }
  if (want.len && want.s[want.len - 1] != '\n') {
    if (want.s[want.len - 1] == '\r') want.s[want.len - 1] = '\n';
    else if (!stralloc_append(&want, '\n')) abort();
  }
  {
    stralloc got = STRALLOC_ZERO;
    size_t limit = whole.len - 3; /* before the final ".\r\n" */
    int bol = 1;
    for (i = 0; i < limit; ++i) {
      char c = whole.s[i];
      if (bol && c == '.') { bol = 0; ++i; c = whole.s[i]; }
      bol = 0;
      if (c == '\r' && i + 1 < limit && whole.s[i + 1] == '\n') { c = '\n'; ++i; }
      if (c == '\n') bol = 1;
      if (!stralloc_append(&got, c)) abort();
    }
    if (got.len != want.len || (got.len && memcmp(got.s, want.s, got.len))) abort();
    stralloc_free(&got);
  }

  /* TOP: the start of RETR's text, then ".\r\n". */
  render(&top, s, size, 1, k, step);
  if (top.len < 3 || top.len > whole.len || memcmp(top.s + top.len - 3, ".\r\n", 3)) abort();
  if (memcmp(top.s, whole.s, top.len - 3)) abort();
  /* with more lines than the file has, TOP is RETR */
  render(&top, s, size, 1, (unsigned long)size + 1, step);
  if (top.len != whole.len || memcmp(top.s, whole.s, whole.len)) abort();

  stralloc_free(&whole);
  stralloc_free(&cut);
  stralloc_free(&top);
  stralloc_free(&want);
  return 0;
}
