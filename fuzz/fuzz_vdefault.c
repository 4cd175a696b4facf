/* fuzz_vdefault: a .qmail-default file. When the parser says it runs
 * vdelivermail, the instruction it found holds no NUL or newline, is no
 * longer than the file, and classifies the same way again (blanks may be
 * in it: sh keeps quoted ones); the names tried for a
 * user-ext address get strictly shorter, each ending before a '-'. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "stralloc.h"
#include "vdefault.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  const char *s = (const char *)data;
  stralloc instr = STRALLOC_ZERO;
  enum vdefault_kind k;
  int r = vdefault_parse(s, size, &k, &instr);

  if (r != 0 && r != 1) abort();
  if (r == 1) {
    const char *arg;
    size_t arglen;
    if (instr.len > size) abort();
    if (instr.len && (memchr(instr.s, '\n', instr.len) || memchr(instr.s, 0, instr.len))) abort();
    if (vdefault_instruction(instr.s, instr.len, &arg, &arglen) != k) abort();
    if (k == VDEFAULT_PATH || k == VDEFAULT_FORWARD)
      if (arg < instr.s || arg + arglen != instr.s + instr.len || !arglen) abort();
    if (k == VDEFAULT_PATH && instr.s[0] != '/') abort();
    if (k == VDEFAULT_INVALID && instr.len && !(instr.len == 1 && instr.s[0] == '&')) abort();
  }
  {
    size_t len = size, next;
    while ((next = vdefault_shorter(s, len))) {
      if (next >= len || s[next] != '-') abort();
      len = next;
    }
  }
  stralloc_free(&instr);
  return 0;
}
