/* except: reverse the exit code of a program.
 *
 *   except program [arg ...]
 *
 * program exits 0: except exits 100. program exits 111: except exits 111.
 * Anything else, a program that does not exist included: except exits 0.
 * So "|except grep -q pattern" in a .qmail file bounces what matches. */

#include <unistd.h>

#include "child.h"
#include "strerr.h"

#define FATAL "except: fatal: "

int main(int argc, char **argv)
{
  enum child_result r;
  int err;

  (void)argc;
  if (!argv[0] || !argv[1]) strerr_die(100, "except: usage: except program [ arg ... ]");

  r = child_run(argv + 1, &err);
  child_temp(r, err, FATAL, argv[1]);
  _exit(r == CHILD_ZERO ? 100 : 0);
}
