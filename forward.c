/* forward: send the message on to other addresses, from a .qmail file.
 *
 *   |forward address ...
 *
 * The message on descriptor 0 is queued again, with $DTLINE (the
 * Delivered-To line qmail-local made) in front, from the envelope sender
 * $NEWSENDER, to each address. That is what listing the addresses in the
 * .qmail file does, but the addresses can be computed (forward(1)). */

#include <signal.h>

#include "env.h"
#include "fmt.h"
#include "requeue.h"
#include "sig.h"
#include "strerr.h"

#define FATAL "forward: fatal: "

int main(int argc, char **argv)
{
  const char *sender, *dtline, *r;
  unsigned long qp;
  char num[FMT_ULONG];

  (void)argc;
  sig_ignore(SIGPIPE);
  if (!argv[0] || !argv[1]) strerr_die(100, "forward: usage: forward address ...");
  sender = env_get("NEWSENDER");
  if (!sender) strerr_die(100, FATAL, "NEWSENDER not set");
  dtline = env_get("DTLINE");
  if (!dtline) strerr_die(100, FATAL, "DTLINE not set");

  r = requeue(0, dtline, sender, argv + 1, &qp);
  if (*r) strerr_die(*r == 'D' ? 100 : 111, FATAL, r + 1);
  num[fmt_ulong(num, qp)] = 0;
  strerr_die(0, "forward: qp ", num);
}
