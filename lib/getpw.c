#include "getpw.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "fmt.h"

#define GETPW_USERLEN 32

static int getpw_put(stralloc *sa, const struct getpw_account *a, const char *dash, const char *ext)
{
  char num[FMT_ULONG];
  sa->len = 0;
  return stralloc_cats(sa, a->name) && stralloc_0(sa)
      && stralloc_catb(sa, num, fmt_ulong(num, a->uid)) && stralloc_0(sa)
      && stralloc_catb(sa, num, fmt_ulong(num, a->gid)) && stralloc_0(sa)
      && stralloc_cats(sa, a->home) && stralloc_0(sa)
      && stralloc_cats(sa, dash) && stralloc_0(sa)
      && stralloc_cats(sa, ext) && stralloc_0(sa);
}

int getpw_search(const char *local, char brk, const char *aliasuser, stralloc *nughde,
                 getpw_fn fn, void *ctx)
{
  size_t len = strlen(local), end = len;
  struct getpw_account a;
  int r;

  for (;;) {
    if (end && end < GETPW_USERLEN && (end == len || local[end] == brk)) {
      char username[GETPW_USERLEN];
      struct stat st;
      size_t i;
      for (i = 0; i < end; ++i) {
        char c = local[i];
        username[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
      }
      username[end] = 0;
      r = fn(ctx, username, &a);
      if (r == -1) return -1;
      if (r == 1 && a.uid) {
        if (stat(a.home, &st) == 0) {
          if (st.st_uid == a.uid) {
            const char *ext = end < len ? local + end + 1 : "";
            if (!getpw_put(nughde, &a, end < len ? "-" : "", ext)) return -1;
            return 1;
          }
        } else if (error_temp(errno) && errno != ENOENT && errno != ENOTDIR && errno != EACCES && errno != ELOOP)
          return -1; /* a home that cannot be checked now (NFS, I/O): retry later */
      }
    }
    if (!end) break;
    --end;
  }
  r = fn(ctx, aliasuser, &a);
  if (r != 1) return r;
  if (!getpw_put(nughde, &a, "-", local)) return -1;
  return 1;
}
