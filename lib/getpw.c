#include "getpw.h"

#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "fmt.h"

#define GETPW_USERLEN 32

static int getpw_put(stralloc *sa, const struct passwd *pw, const char *dash, const char *ext)
{
  char num[FMT_ULONG];
  sa->len = 0;
  return stralloc_cats(sa, pw->pw_name) && stralloc_0(sa)
      && stralloc_catb(sa, num, fmt_ulong(num, (unsigned long)pw->pw_uid)) && stralloc_0(sa)
      && stralloc_catb(sa, num, fmt_ulong(num, (unsigned long)pw->pw_gid)) && stralloc_0(sa)
      && stralloc_cats(sa, pw->pw_dir) && stralloc_0(sa)
      && stralloc_cats(sa, dash) && stralloc_0(sa)
      && stralloc_cats(sa, ext) && stralloc_0(sa);
}

int getpw_lookup(const char *local, char brk, const char *aliasuser, stralloc *nughde)
{
  size_t len = strlen(local), end = len;
  struct passwd *pw;

  for (;;) {
    if (end < GETPW_USERLEN && (end == len || local[end] == brk)) {
      char username[GETPW_USERLEN];
      struct stat st;
      size_t i;
      for (i = 0; i < end; ++i) {
        char c = local[i];
        username[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
      }
      username[end] = 0;
      errno = 0;
      pw = end ? getpwnam(username) : 0;
      if (!pw && errno && errno != ENOENT && errno != ESRCH && errno != EBADF && errno != EPERM) return -1;
      if (pw && pw->pw_uid) {
        if (stat(pw->pw_dir, &st) == 0) {
          if (st.st_uid == pw->pw_uid) {
            const char *ext = end < len ? local + end + 1 : "";
            if (!getpw_put(nughde, pw, end < len ? "-" : "", ext)) return -1;
            return 1;
          }
        } else if (error_temp(errno) && errno != ENOENT && errno != ENOTDIR && errno != EACCES && errno != ELOOP)
          return -1; /* a home that cannot be checked now (NFS, I/O): retry later */
      }
    }
    if (!end) break;
    --end;
  }
  pw = getpwnam(aliasuser);
  if (!pw) return 0;
  if (!getpw_put(nughde, pw, "-", local)) return -1;
  return 1;
}
