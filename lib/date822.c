#include "date822.h"

#include "fmt.h"

static const char date822_months[12][4] = {
  "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* UTC calendar fields from seconds since 1970, without gmtime_r: glibc's
 * gmtime reads /etc/localtime first (seven system calls in every
 * qmail-queue). Days to civil date after Howard Hinnant's algorithm, valid
 * for years 0 to 9999; times outside that print as 1970, since a year
 * before 0 would not fit DATE822_MAX and neither is a real date. */
static void date822_civil(long long t, unsigned long *y, unsigned *mo, unsigned *d,
                          unsigned *h, unsigned *mi, unsigned *sec)
{
  long long days, era, doe, yoe, doy, mp, yy;
  if (t < -62167219200LL || t > 253402300799LL) t = 0; /* 0000-01-01 .. 9999-12-31 */
  days = t / 86400;
  t %= 86400;
  if (t < 0) { t += 86400; --days; }
  *h = (unsigned)(t / 3600);
  *mi = (unsigned)(t / 60 % 60);
  *sec = (unsigned)(t % 60);
  days += 719468; /* from 1970-03-01 based to 0000-03-01 based */
  era = (days >= 0 ? days : days - 146096) / 146097;
  doe = days - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
  *mo = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
  yy = yoe + era * 400 + (*mo <= 2);
  *y = (unsigned long)yy;
}

size_t date822_fmt(char *s, time_t t)
{
  unsigned long year;
  unsigned mon, day, hour, min, sec;
  size_t n = 0;

  date822_civil((long long)t, &year, &mon, &day, &hour, &min, &sec);
  n += fmt_ulong(s + n, day);
  s[n++] = ' ';
  n += fmt_str(s + n, date822_months[mon - 1]);
  s[n++] = ' ';
  n += fmt_ulong(s + n, year);
  s[n++] = ' ';
  n += fmt_ulong0(s + n, hour, 2);
  s[n++] = ':';
  n += fmt_ulong0(s + n, min, 2);
  s[n++] = ':';
  n += fmt_ulong0(s + n, sec, 2);
  n += fmt_str(s + n, " -0000");
  return n;
}
