/* fuzz_vpasswd: vpasswd lines, the input walked as a whole file with
 * vpasswd_next. Every entry it gives formats back (vpasswd_fmt) to a line
 * that parses to the same fields; a malformed line never stops the walk.
 * Each line is also given to the name checks: an accepted user or domain
 * name is lowercase and free of '/', ':' and "..". */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "stralloc.h"
#include "vdomain.h"
#include "vpasswd.h"

static int same(const char *a, const char *b)
{
  if (!a || !b) return a == b;
  return !strcmp(a, b);
}

static void check_name(const stralloc *out)
{
  size_t i;
  if (!out->len || out->s[out->len - 1]) abort();
  for (i = 0; i + 1 < out->len; ++i)
    if ((out->s[i] >= 'A' && out->s[i] <= 'Z') || out->s[i] == '/' || out->s[i] == ':') abort();
  if (strstr(out->s, "..")) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  stralloc text = STRALLOC_ZERO, buf = STRALLOC_ZERO, line = STRALLOC_ZERO, buf2 = STRALLOC_ZERO, name = STRALLOC_ZERO;
  struct vpasswd pw, back;
  size_t pos = 0, last;
  unsigned long lineno = 0, prev = 0;
  int r;

  if (!stralloc_copyb(&text, (const char *)data, size)) abort();
  for (;;) {
    last = pos;
    r = vpasswd_next(&text, &pos, &lineno, &pw, &buf);
    if (r == 0) break;
    if (r == -1) abort();
    if (pos <= last || lineno <= prev) abort(); /* always progress */
    prev = lineno;
    if (r == -2) continue;
    line.len = 0;
    r = vpasswd_fmt(&line, &pw);
    if (r == 0) abort();
    if (r == -1) continue; /* e.g. a control character in a field */
    if (vpasswd_parse(line.s, line.len, &back, &buf2) != 1) abort();
    if (!same(pw.name, back.name) || !same(pw.passwd, back.passwd) || pw.uid != back.uid
        || pw.flags != back.flags || !same(pw.gecos, back.gecos) || !same(pw.dir, back.dir)
        || !same(pw.quota, back.quota) || !same(pw.clearpw, back.clearpw)) abort();
  }
  if (pos != text.len) abort();

  /* the name checks, on each line as a C string */
  pos = 0;
  while (pos < size) {
    const char *s = (const char *)data + pos;
    const char *nl = memchr(s, '\n', size - pos);
    size_t len = nl ? (size_t)(nl - s) : size - pos;
    if (!stralloc_copyb(&line, s, len) || !stralloc_0(&line)) abort();
    if (!vdomain_checkuser(&name, line.s)) check_name(&name);
    if (!vdomain_checkdomain(&name, line.s)) check_name(&name);
    {
      stralloc d = STRALLOC_ZERO;
      if (!vdomain_splitaddr(line.s, &name, &d)) { check_name(&name); check_name(&d); }
      stralloc_free(&d);
    }
    pos += len + 1;
  }
  stralloc_free(&text);
  stralloc_free(&buf);
  stralloc_free(&buf2);
  stralloc_free(&line);
  stralloc_free(&name);
  return 0;
}
