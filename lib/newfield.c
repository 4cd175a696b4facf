#include "newfield.h"

#include <string.h>

#include "date822.h"
#include "fmt.h"

int newfield_date(stralloc *sa, time_t when)
{
  char date[DATE822_MAX];
  return stralloc_cats(sa, "Date: ") && stralloc_catb(sa, date, date822_fmt(date, when)) && stralloc_append(sa, '\n');
}

static const char newfield_months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/* The Message-ID's YYYYMMDDhhmmss, taken from date822_fmt's fixed layout
 * "D Mon YYYY hh:mm:ss -0000" so that the two fields can never disagree
 * about the calendar. */
static size_t newfield_stamp(char *s, time_t when)
{
  char date[DATE822_MAX];
  size_t len = date822_fmt(date, when), i = 0, n = 0, m;
  const char *day, *mon, *year;
  size_t daylen, yearlen;

  day = date;
  while (i < len && date[i] != ' ') ++i;
  daylen = i++;
  mon = date + i;
  i += 4;
  year = date + i;
  while (i < len && date[i] != ' ') ++i;
  yearlen = (size_t)(date + i - year);
  ++i; /* now at hh:mm:ss */

  for (m = 0; m < 12; ++m)
    if (!memcmp(newfield_months + 3 * m, mon, 3)) break;
  memcpy(s + n, year, yearlen);
  n += yearlen;
  n += fmt_ulong0(s + n, m + 1, 2);
  if (daylen == 1) s[n++] = '0';
  memcpy(s + n, day, daylen);
  n += daylen;
  memcpy(s + n, date + i, 2);
  memcpy(s + n + 2, date + i + 3, 2);
  memcpy(s + n + 4, date + i + 6, 2);
  return n + 6;
}

int newfield_msgid(stralloc *sa, time_t when, unsigned long pid, const char *idhost, size_t len)
{
  char stamp[DATE822_MAX];
  return stralloc_cats(sa, "Message-ID: <") && stralloc_catb(sa, stamp, newfield_stamp(stamp, when))
         && stralloc_append(sa, '.') && stralloc_catulong(sa, pid) && stralloc_cats(sa, ".qmail@")
         && stralloc_catb(sa, idhost, len) && stralloc_cats(sa, ">\n");
}
