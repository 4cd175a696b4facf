/* bouncesaying: perhaps bounce the message.
 *
 *   |bouncesaying error [program [arg ...]]
 *
 * Without a program, or when program exits 0, print error and exit 100:
 * qmail-local bounces the message with error as the reason. If program
 * exits 111, so does bouncesaying (try again later). Anything else, a
 * program that does not exist included, exits 0: the .qmail file goes on
 * as usual. The program gets the message on descriptor 0. */

#include <unistd.h>

#include "child.h"
#include "strerr.h"

#define FATAL "bouncesaying: fatal: "

int main(int argc, char **argv)
{
  enum child_result r;
  int err;

  (void)argc;
  if (!argv[0] || !argv[1]) strerr_die(100, "bouncesaying: usage: bouncesaying error [ program [ arg ... ] ]");

  if (argv[2]) {
    r = child_run(argv + 2, &err);
    child_temp(r, err, FATAL, argv[2]);
    if (r != CHILD_ZERO) _exit(0);
  }
  strerr_die(100, argv[1]);
}
