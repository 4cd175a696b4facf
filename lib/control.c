#include "control.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "buffer.h"
#include "open.h"
#include "scan.h"

stralloc control_me = STRALLOC_ZERO;
static int control_haveme;

static void control_strip(stralloc *sa)
{
  while (sa->len) {
    char c = sa->s[sa->len - 1];
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') break;
    --sa->len;
  }
}

/* Opens fn: fd, or -1 with *absent set when it does not exist. */
static int control_open(const char *fn, int *absent)
{
  int fd = open_read(fn);
  *absent = fd == -1 && errno == ENOENT;
  return fd;
}

/* Reads one line into sa (cleared first): 1 line, 0 end of file, -1 error. */
static int control_getline(buffer *b, stralloc *sa)
{
  int r;
  sa->len = 0;
  r = buffer_getline(b, sa, '\n', CONTROL_MAXLINE);
  if (r == -2) { errno = E2BIG; return -1; }
  if (r == 0 && !sa->len) return 0;
  if (r < 0) return r;
  /* A NUL would cut the line short where it is used as a C string, or split
   * a list item in two, and so slip past the '#' and trailing blank rules. */
  if (memchr(sa->s, 0, sa->len)) { errno = EINVAL; return -1; }
  return 1; /* a line, or the last line without a newline */
}

int control_readline_fd(stralloc *sa, int fd)
{
  char buf[1024];
  buffer b;
  buffer_init(&b, fd, buf, sizeof buf, 0);
  if (control_getline(&b, sa) == -1) return -1;
  control_strip(sa);
  return 1;
}

int control_readline(stralloc *sa, const char *fn)
{
  int fd, absent, r;
  fd = control_open(fn, &absent);
  if (fd == -1) return absent ? 0 : -1;
  r = control_readline_fd(sa, fd);
  close(fd);
  return r;
}

int control_init(void)
{
  int r = control_readline(&control_me, "control/me");
  if (r == 1) {
    if (!stralloc_0(&control_me)) return -1;
    control_haveme = 1;
  }
  return r;
}

int control_rldef(stralloc *sa, const char *fn, int flagme, const char *def)
{
  int r = control_readline(sa, fn);
  if (r == 1) return stralloc_0(sa) ? 1 : -1;
  if (r == -1) return -1;
  if (flagme && control_haveme) return stralloc_copy(sa, &control_me) ? 0 : -1;
  if (def) return stralloc_copys(sa, def) && stralloc_0(sa) ? 0 : -1;
  sa->len = 0;
  return 0;
}

int control_readulong(unsigned long *u, const char *fn)
{
  stralloc line = STRALLOC_ZERO;
  int r = control_readline(&line, fn);
  if (r == 1) {
    if (!stralloc_0(&line)) r = -1;
    else if (!scan_whole_ulong(line.s, (unsigned long)-1, u)) { errno = EINVAL; r = -1; }
  }
  stralloc_free(&line);
  return r;
}

int control_readfile(stralloc *sa, const char *fn, int flagme)
{
  int fd, absent, r;

  sa->len = 0;
  fd = control_open(fn, &absent);
  if (fd == -1) {
    if (!absent) return -1;
    if (flagme && control_haveme) return stralloc_copy(sa, &control_me) ? 0 : -1;
    return 0;
  }
  r = control_readfile_fd(sa, fd);
  close(fd);
  return r;
}

int control_readfile_fd(stralloc *sa, int fd)
{
  stralloc line = STRALLOC_ZERO;
  char buf[4096];
  buffer b;
  int r;

  sa->len = 0;
  buffer_init(&b, fd, buf, sizeof buf, 0);
  for (;;) {
    r = control_getline(&b, &line);
    if (r <= 0) break;
    control_strip(&line);
    if (!line.len || line.s[0] == '#') continue;
    if (!stralloc_cat(sa, &line) || !stralloc_0(sa)) { r = -1; break; }
  }
  stralloc_free(&line);
  return r == -1 ? -1 : 1;
}
