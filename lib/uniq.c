#include "uniq.h"

#include <sys/time.h>
#include <unistd.h>

static unsigned long uniq_count;

int uniq_maildir(stralloc *sa, const char *host)
{
  struct timeval tv;

  gettimeofday(&tv, 0);
  if (!stralloc_catulong(sa, (unsigned long)tv.tv_sec)) return 0;
  if (!stralloc_cats(sa, ".M") || !stralloc_catulong(sa, (unsigned long)tv.tv_usec)) return 0;
  if (!stralloc_cats(sa, "P") || !stralloc_catulong(sa, (unsigned long)getpid())) return 0;
  if (!stralloc_cats(sa, "Q") || !stralloc_catulong(sa, ++uniq_count)) return 0;
  if (!stralloc_append(sa, '.')) return 0;
  for (; *host; ++host) {
    if (*host == '/') { if (!stralloc_cats(sa, "\\057")) return 0; }
    else if (*host == ':') { if (!stralloc_cats(sa, "\\072")) return 0; }
    else if (!stralloc_append(sa, *host)) return 0;
  }
  return 1;
}
