#include "vnewpw.h"

#include <errno.h>
#include <string.h>

#include "error.h"
#include "scan.h"
#include "strerr.h"
#include "vcrypt.h"
#include "vuser.h"

int vnewpw_rlen(const char *glued, unsigned long *len)
{
  *len = VCRYPT_RANDOMDEFAULT;
  if (!*glued) return 1;
  return scan_whole_ulong(glued, VCRYPT_RANDOMMAX, len) && *len;
}

void vnewpw(const char *prog, unsigned long rlen, const char *given, const char *ask, const char *again, int tries,
            stralloc *pass, stralloc *hash)
{
  if (rlen) {
    char rnd[VCRYPT_RANDOMMAX + 1];
    if (vcrypt_random_password(rnd, rlen) == -1)
      strerr_die(111, prog, ": fatal: unable to make a random password: ", error_str(errno));
    if (!stralloc_copys(pass, rnd) || !stralloc_0(pass)) strerr_die(111, prog, ": fatal: out of memory");
    explicit_bzero(rnd, sizeof rnd);
  } else if (given) {
    if (!stralloc_copys(pass, given) || !stralloc_0(pass)) strerr_die(111, prog, ": fatal: out of memory");
  } else {
    const char *why = 0;
    int r;
    do r = vuser_askpassword(ask, again, pass, &why); while (r == 0 && --tries > 0);
    if (r == -1)
      strerr_die(100, prog, ": fatal: no password given, and no terminal to ask on (give one as an argument, or use -r): ",
                 error_str(errno));
    if (!r) strerr_die(100, prog, ": fatal: ", why);
  }
  if (pass->len <= 1) strerr_die(100, prog, ": fatal: empty password");
  if (vcrypt_hash(hash, pass->s) == -1) {
    if (errno == EINVAL) strerr_die(100, prog, ": fatal: password too long (over 511 bytes)");
    strerr_die(111, prog, ": fatal: unable to hash the password: ", error_str(errno));
  }
}
