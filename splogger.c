/* splogger: make entries in syslog.
 *
 *   splogger [tag [fac]]
 *
 * Each line of input becomes one syslog message, tagged tag (default
 * "splogger"), with facility fac (a number, default 2: LOG_MAIL) and a
 * "seconds.microseconds" timestamp in front. A line starting "alert:" is
 * logged at LOG_ALERT, "warning:" at LOG_WARNING, anything else at
 * LOG_INFO. Unprintable bytes become '?', blank lines are not logged, and
 * a line longer than 799 bytes is folded into several messages that
 * share its timestamp and priority, the later ones marked with '+' after
 * the timestamp (splogger(8)). */

#include <errno.h>
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#include "buffer.h"
#include "error.h"
#include "fmt.h"
#include "scan.h"
#include "strerr.h"

#define FATAL "splogger: fatal: "

/* qmail's buffer: 799 bytes of text and the NUL syslog(3) needs. syslog
 * truncates long lines, or worse. */
static char line[800];
static size_t linelen;
static int flagcont; /* this line has already been partly logged */
static int priority;  /* ... at this priority */
static char stamp[FMT_ULONG + 1 + 6 + 1];

static void stamp_make(void)
{
  struct timeval tv;
  size_t n;
  gettimeofday(&tv, 0);
  n = fmt_ulong(stamp, (unsigned long)tv.tv_sec);
  stamp[n++] = '.';
  n += fmt_ulong0(stamp + n, (unsigned long)tv.tv_usec, 6);
  stamp[n] = 0;
}

static int starts(const char *s, const char *prefix)
{
  while (*prefix)
    if (*s++ != *prefix++) return 0;
  return 1;
}

static void flush(void)
{
  if (!linelen) return;
  line[linelen] = 0;
  if (flagcont)
    syslog(priority, "%s+%s", stamp, line);
  else {
    stamp_make();
    priority = LOG_INFO;
    if (starts(line, "warning:")) priority = LOG_WARNING;
    if (starts(line, "alert:")) priority = LOG_ALERT;
    syslog(priority, "%s %s", stamp, line);
    flagcont = 1;
  }
  linelen = 0;
}

int main(int argc, char **argv)
{
  const char *tag = "splogger";
  unsigned long fac = 2;
  char inspace[4096];
  buffer in;

  (void)argc;
  if (argv[0] && argv[1]) {
    tag = argv[1];
    /* LOG_NFACILITIES is 24. qmail took garbage as 0 (kern); we say so. */
    if (argv[2] && !scan_whole_ulong(argv[2], 23, &fac))
      strerr_die(100, "splogger: usage: splogger [ tag [ fac ] ] (fac is a number from 0 to 23)");
  }
  openlog(tag, 0, (int)(fac << 3));

  buffer_init(&in, 0, inspace, sizeof inspace, 0);
  for (;;) {
    ssize_t n = buffer_feed(&in);
    const char *x;
    ssize_t i;
    if (n < 0) {
      flush();
      strerr_die(111, FATAL, "unable to read input: ", error_str(errno));
    }
    if (n == 0) break;
    x = buffer_peek(&in);
    for (i = 0; i < n; ++i) {
      unsigned char c = (unsigned char)x[i];
      if (c == '\n') { flush(); flagcont = 0; continue; }
      if (linelen == sizeof line - 1) flush();
      line[linelen++] = c < 32 || c > 126 ? '?' : (char)c;
    }
    buffer_seek(&in, (size_t)n);
  }
  /* A last line without its newline is still a message (qmail dropped it). */
  flush();
  _exit(0);
}
