/* Tests for lib/error.c.
 * not tested: the wording of strerror() for numbers error_str does not
 * name itself (it comes from the C library). */

#include <errno.h>

#include "check.h"
#include "error.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static void test_temp(void)
{
  static const struct { const char *name; int e; int temp; } cases[] = {
    /* an administrator can fix these: retry */
    { "ENOMEM", ENOMEM, 1 },
    { "ENOSPC", ENOSPC, 1 },
    { "EDQUOT", EDQUOT, 1 },
    { "EIO", EIO, 1 },
    { "ETIMEDOUT", ETIMEDOUT, 1 },
    { "EACCES", EACCES, 1 },
    { "EPERM", EPERM, 1 },
    { "ENOENT", ENOENT, 1 },
    { "EAGAIN", EAGAIN, 1 },
    { "ECONNREFUSED", ECONNREFUSED, 1 },
    { "EROFS", EROFS, 1 },
    { "0", 0, 1 },
    { "unknown 99999", 99999, 1 },   /* when unsure, temporary */
    { "-1", -1, 1 },
    /* the input itself is wrong: bounce */
    { "ENAMETOOLONG", ENAMETOOLONG, 0 },
    { "EFBIG", EFBIG, 0 },
    { "E2BIG", E2BIG, 0 },
    { "ENOEXEC", ENOEXEC, 0 },
    { "EMSGSIZE", EMSGSIZE, 0 },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i)
    check_long(error_temp(cases[i].e), cases[i].temp, "error_temp(%s)", cases[i].name);
}

static void test_str(void)
{
  static const struct { int e; const char *want; } named[] = {
    { 0, "no error" },
    { ENOMEM, "out of memory" },
    { ENOSPC, "out of disk space" },
    { ETIMEDOUT, "timed out" },
    { ENOENT, "file does not exist" },
    { EACCES, "access denied" },
  };
  static const int all[] = {
    0, ENOMEM, ENOSPC, EDQUOT, ETIMEDOUT, EACCES, EPERM, ENOENT, EIO, EEXIST, ECONNREFUSED,
    ECONNRESET, EPIPE, EAGAIN, EINTR, EROFS, ENOTDIR, EISDIR, ENAMETOOLONG, EFBIG, EMSGSIZE,
    ELOOP, EBADF, E2BIG, ENOEXEC, EPROTO, EINVAL, -1, 4095, 99999, -99999, 2147483647,
  };
  size_t i;

  for (i = 0; i < N(named); ++i) check_str(error_str(named[i].e), named[i].want, "error_str(%d)", named[i].e);
  for (i = 0; i < N(all); ++i) {
    const char *s = error_str(all[i]);
    check(s != 0 && *s, "error_str(%d) is a non-empty string", all[i]);
  }
  /* Different errors read differently. */
  check(strcmp(error_str(ENOSPC), error_str(ENOMEM)) != 0, "ENOSPC and ENOMEM differ");
  check(strcmp(error_str(EACCES), error_str(EPERM)) != 0, "EACCES and EPERM differ");
}

int main(void)
{
  test_temp();
  test_str();
  return check_end();
}
