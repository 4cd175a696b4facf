#include "date822.h"

#include "fmt.h"

static const char date822_months[12][4] = {
  "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

size_t date822_fmt(char *s, time_t t)
{
  struct tm tm;
  size_t n = 0;

  /* A year before 0 would print as a 20-digit unsigned number and overrun
   * DATE822_MAX; such a time is as meaningless as one gmtime refuses. */
  if (!gmtime_r(&t, &tm) || tm.tm_year < -1900) { t = 0; gmtime_r(&t, &tm); }
  n += fmt_ulong(s + n, (unsigned long)tm.tm_mday);
  s[n++] = ' ';
  n += fmt_str(s + n, date822_months[tm.tm_mon]);
  s[n++] = ' ';
  n += fmt_ulong(s + n, (unsigned long)tm.tm_year + 1900);
  s[n++] = ' ';
  n += fmt_ulong0(s + n, (unsigned long)tm.tm_hour, 2);
  s[n++] = ':';
  n += fmt_ulong0(s + n, (unsigned long)tm.tm_min, 2);
  s[n++] = ':';
  n += fmt_ulong0(s + n, (unsigned long)tm.tm_sec, 2);
  n += fmt_str(s + n, " -0000");
  return n;
}
