/* qmail-newmrh: compile control/morercpthosts into control/morercpthosts.cdb.
 *
 * Each line (lowercased, trailing blanks removed; empty lines and '#'
 * comments skipped) becomes a key with empty data, as qmail-newmrh does.
 * Written to a temporary file, fsynced and renamed into place. */

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auto.h"
#include "cdbmake.h"
#include "commit.h"
#include "control.h"
#include "error.h"
#include "open.h"
#include "stralloc.h"
#include "strerr.h"

#define FATAL "qmail-newmrh: fatal: "

static NORETURN void die_write(void)
{
  strerr_die(111, FATAL, "unable to write to control/morercpthosts.tmp: ", error_str(errno));
}

int main(void)
{
  stralloc hosts = STRALLOC_ZERO;
  struct cdbmake cm;
  size_t i, start;
  int fd;

  umask(033);
  if (chdir(auto_qmail) == -1) strerr_die(111, FATAL, "unable to chdir to ", auto_qmail, ": ", error_str(errno));

  switch (control_readfile(&hosts, "control/morercpthosts", 0)) {
    case 0: errno = ENOENT; /* fall through */
    case -1: strerr_die(111, FATAL, "unable to read control/morercpthosts: ", error_str(errno));
  }

  fd = open_trunc("control/morercpthosts.tmp");
  if (fd == -1) die_write();
  if (cdbmake_start(&cm, fd) == -1) die_write();
  for (start = i = 0; i < hosts.len; ++i) {
    char *s = hosts.s + start;
    size_t j;
    if (hosts.s[i]) continue;
    for (j = 0; j < i - start; ++j)
      if (s[j] >= 'A' && s[j] <= 'Z') s[j] = (char)(s[j] + 32);
    if (cdbmake_add(&cm, s, i - start, "", 0) == -1) die_write();
    start = i + 1;
  }
  if (cdbmake_finish(&cm) == -1) die_write();
  if (commit_fsyncclose(fd) == -1) die_write();
  if (commit_rename("control/morercpthosts.tmp", "control/morercpthosts.cdb") == -1)
    strerr_die(111, FATAL, "unable to move control/morercpthosts.tmp to control/morercpthosts.cdb: ", error_str(errno));
  return 0;
}
