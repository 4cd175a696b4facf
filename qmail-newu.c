/* qmail-newu: compile users/assign into users/cdb.
 *
 * The cdb layout is qmail-newu's, byte for byte, because qmail-lspawn and
 * vpopmail both read users/cdb directly (lib/assign.h has the records).
 * The new cdb is written to users/cdb.tmp, fsynced and renamed over
 * users/cdb, so readers see the old database or the new one, never a
 * partial one. */

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assign.h"
#include "auto.h"
#include "buffer.h"
#include "cdbmake.h"
#include "commit.h"
#include "error.h"
#include "fmt.h"
#include "open.h"
#include "stralloc.h"
#include "strerr.h"

#define FATAL "qmail-newu: fatal: "
#define MAXLINE 65536

static NORETURN void die_nomem(void) { strerr_die(111, FATAL, "out of memory"); }
static NORETURN void die_read(void) { strerr_die(111, FATAL, "unable to read users/assign: ", error_str(errno)); }
static NORETURN void die_write(void) { strerr_die(111, FATAL, "unable to write users/cdb.tmp: ", error_str(errno)); }

int main(void)
{
  stralloc line = STRALLOC_ZERO, key = STRALLOC_ZERO, data = STRALLOC_ZERO, wildchars = STRALLOC_ZERO;
  struct cdbmake cm;
  char inspace[4096];
  char num[FMT_ULONG];
  unsigned long lineno = 0;
  buffer in;
  int fd, fdtemp;

  umask(033);
  if (chdir(auto_qmail) == -1) strerr_die(111, FATAL, "unable to chdir to ", auto_qmail, ": ", error_str(errno));

  fd = open_read("users/assign");
  if (fd == -1) strerr_die(111, FATAL, "unable to open users/assign: ", error_str(errno));
  buffer_init(&in, fd, inspace, sizeof inspace, 0);

  fdtemp = open_trunc("users/cdb.tmp");
  if (fdtemp == -1) strerr_die(111, FATAL, "unable to open users/cdb.tmp: ", error_str(errno));
  if (cdbmake_start(&cm, fdtemp) == -1) die_write();

  for (;;) {
    char wild;
    int r;
    line.len = 0;
    r = buffer_getline(&in, &line, '\n', MAXLINE);
    if (r == -1) die_read();
    ++lineno;
    num[fmt_ulong(num, lineno)] = 0;
    if (line.len && line.s[0] == '.') break;
    if (r == -2) strerr_die(111, FATAL, "bad format in users/assign line ", num, ": line too long");
    /* A file without its final "." line was cut short: refuse it. */
    if (r == 0) strerr_die(111, FATAL, "bad format in users/assign: no \".\" line at the end");
    --line.len; /* the newline */
    switch (assign_parse(line.s, line.len, &key, &data, &wild)) {
      case ASSIGN_END: break;
      case ASSIGN_NOMEM: die_nomem();
      case ASSIGN_BAD: strerr_die(111, FATAL, "bad format in users/assign line ", num);
      case ASSIGN_ENTRY:
        if (wild && !memchr(wildchars.s ? wildchars.s : "", wild, wildchars.len))
          if (!stralloc_append(&wildchars, wild)) die_nomem();
        if (cdbmake_add(&cm, key.s, key.len, data.s, data.len) == -1) die_write();
        break;
    }
  }
  close(fd);

  /* The "" record: the last character of every wildcard prefix. Without
   * it qmail-lspawn defers every delivery. */
  if (cdbmake_add(&cm, "", 0, wildchars.s ? wildchars.s : "", wildchars.len) == -1) die_write();
  if (cdbmake_finish(&cm) == -1) die_write();
  if (commit_fsyncclose(fdtemp) == -1) die_write();
  if (commit_rename("users/cdb.tmp", "users/cdb") == -1)
    strerr_die(111, FATAL, "unable to move users/cdb.tmp to users/cdb: ", error_str(errno));
  return 0;
}
