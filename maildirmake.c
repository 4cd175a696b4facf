/* maildirmake: create a Maildir (dir, dir/tmp, dir/new, dir/cur), mode 0700.
 * Refuses to touch a directory that already exists, as qmail's does. */

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "strerr.h"

#define FATAL "maildirmake: fatal: "

static void mk(const char *dir, const char *sub)
{
  if (mkdir(sub, 0700) == -1)
    strerr_die(111, FATAL, "unable to mkdir ", dir, "/", sub, ": ", error_str(errno));
}

int main(int argc, char **argv)
{
  const char *dir;

  if (argc != 2 || !argv[1][0]) strerr_die(100, "maildirmake: usage: maildirmake name");
  dir = argv[1];
  umask(077);
  if (mkdir(dir, 0700) == -1) strerr_die(111, FATAL, "unable to mkdir ", dir, ": ", error_str(errno));
  if (chdir(dir) == -1) strerr_die(111, FATAL, "unable to chdir to ", dir, ": ", error_str(errno));
  mk(dir, "tmp");
  mk(dir, "new");
  mk(dir, "cur");
  return 0;
}
