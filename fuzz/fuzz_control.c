/* fuzz_control: a control file's contents, read as a list
 * (control_readfile_fd) and as one line (control_readline_fd). Each list
 * item is NUL-terminated, holds no newline, does not start with '#' and has
 * no trailing blank; the same holds for the line as a C string, which is
 * how control_rldef's callers see it. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "fuzz.h"
#include "stralloc.h"

static int blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r';
}

/* Checks the C string s[0..len): no newline, no trailing blank. */
static void check_item(const char *s, size_t len)
{
  if (memchr(s, '\n', len)) abort();
  if (len && blank(s[len - 1])) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  stralloc sa = STRALLOC_ZERO;
  int fd = fuzz_memfd(data, size);
  size_t i, len;
  int r;

  r = control_readfile_fd(&sa, fd);
  if (r == 1) {
    if (sa.len && sa.s[sa.len - 1]) abort(); /* the last item is NUL-terminated */
    for (i = 0; i < sa.len; i += len + 1) {
      len = strlen(sa.s + i);
      if (!len || sa.s[i] == '#') abort();
      check_item(sa.s + i, len);
    }
  } else if (r != -1)
    abort();

  if (lseek(fd, 0, SEEK_SET) == -1) abort();
  r = control_readline_fd(&sa, fd);
  if (r == 1) {
    if (!stralloc_0(&sa)) abort();
    check_item(sa.s, strlen(sa.s));
  } else if (r != -1)
    abort();

  stralloc_free(&sa);
  close(fd);
  return 0;
}
