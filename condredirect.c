/* condredirect: perhaps redirect the message to another address.
 *
 *   |condredirect newaddress program [arg ...]
 *
 * program runs with the message on descriptor 0. If it exits 0, the
 * message is queued again for newaddress (with $DTLINE in front, from
 * $SENDER, as qmail's condredirect does) and condredirect exits 99, so
 * qmail-local ignores the rest of the .qmail file. If it exits 111, so
 * does condredirect (try again later). Anything else, a program that does
 * not exist included, exits 0: the .qmail file goes on as usual. */

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "child.h"
#include "env.h"
#include "error.h"
#include "fmt.h"
#include "requeue.h"
#include "sig.h"
#include "strerr.h"

#define FATAL "condredirect: fatal: "

static NORETURN void die_usage(void)
{
  strerr_die(100, "condredirect: usage: condredirect newaddress program [ arg ... ]");
}

int main(int argc, char **argv)
{
  char *rcpt[2];
  const char *sender, *dtline, *qqx;
  enum child_result r;
  unsigned long qp;
  char num[FMT_ULONG];
  int err;

  (void)argc;
  if (!argv[0] || !argv[1] || !argv[2]) die_usage();

  r = child_run(argv + 2, &err);
  child_temp(r, err, FATAL, argv[2]);
  if (r != CHILD_ZERO) _exit(0);

  if (lseek(0, 0, SEEK_SET) == -1) strerr_die(111, FATAL, "unable to rewind: ", error_str(errno));
  sig_ignore(SIGPIPE);
  sender = env_get("SENDER");
  if (!sender) strerr_die(100, FATAL, "SENDER not set");
  dtline = env_get("DTLINE");
  if (!dtline) strerr_die(100, FATAL, "DTLINE not set");

  rcpt[0] = argv[1];
  rcpt[1] = 0;
  qqx = requeue(0, dtline, sender, rcpt, &qp);
  if (*qqx) strerr_die(*qqx == 'D' ? 100 : 111, FATAL, qqx + 1);
  num[fmt_ulong(num, qp)] = 0;
  strerr_die(99, "condredirect: qp ", num);
}
