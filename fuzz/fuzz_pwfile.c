/* fuzz_pwfile: passwd(5) and group(5) lines, each line of the input (with
 * its newline) parsed both ways. An entry's fields lie inside the line, its
 * name is one whole field, and its numbers fit a uid_t. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pwfile.h"

static void check_field(const char *line, size_t len, const char *f, size_t flen)
{
  if (!f || f < line || (size_t)(f - line) > len || flen > len - (size_t)(f - line)) abort();
  if (memchr(f, ':', flen) || memchr(f, '\n', flen)) abort();
}

static void check(const char *line, size_t len, const struct pwfile_entry *e, int passwd)
{
  check_field(line, len, e->name, e->namelen);
  /* The name is the first field, and not NIS or a comment. */
  if (e->name != line || !e->namelen || memchr("+-#", e->name[0], 3)) abort();
  if (e->id > UINT_MAX) abort();
  if (passwd) {
    check_field(line, len, e->home, e->homelen);
    if (e->gid > UINT_MAX) abort();
  }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  const char *s = (const char *)data;

  while (size) {
    const char *nl = memchr(s, '\n', size);
    size_t len = nl ? (size_t)(nl - s) + 1 : size;
    struct pwfile_entry e;

    memset(&e, 0, sizeof e);
    if (pwfile_parse_passwd(s, len, &e)) check(s, len, &e, 1);
    memset(&e, 0, sizeof e);
    if (pwfile_parse_group(s, len, &e)) check(s, len, &e, 0);
    s += len;
    size -= len;
  }
  return 0;
}
