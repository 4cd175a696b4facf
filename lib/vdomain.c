#include "vdomain.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cdb.h"
#include "users.h"

/* ---- names ---- */

static const char *lower(stralloc *out, const char *in)
{
  size_t i;
  if (!stralloc_copys(out, in) || !stralloc_0(out)) return "out of memory";
  for (i = 0; i + 1 < out->len; ++i)
    if (out->s[i] >= 'A' && out->s[i] <= 'Z') out->s[i] = (char)(out->s[i] + 32);
  return 0;
}

const char *vdomain_checkuser(stralloc *out, const char *user)
{
  static const char *const reserved[] = { "vpasswd", "vpasswd.cdb", "vpasswd.lock", "vpasswd.tmp", "vpasswd.cdb.tmp" };
  const char *err = lower(out, user);
  size_t i, len;

  if (err) return err;
  len = out->len - 1;
  if (!len) return "empty user name";
  if (len > VDOMAIN_MAXUSER) return "user name too long (over 64 characters)";
  for (i = 0; i < len; ++i) {
    char c = out->s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return "user name may hold only letters, digits, '.', '_' and '-'";
  }
  if (out->s[0] == '.' || out->s[0] == '-') return "user name may not start with '.' or '-'";
  if (strstr(out->s, "..")) return "user name may not contain \"..\"";
  for (i = 0; i < sizeof reserved / sizeof reserved[0]; ++i)
    if (!strcmp(out->s, reserved[i])) return "user name is reserved (a file of the domain directory)";
  return 0;
}

const char *vdomain_checkdomain(stralloc *out, const char *domain)
{
  const char *err = lower(out, domain);
  size_t i, len, label = 0;

  if (err) return err;
  len = out->len - 1;
  if (!len) return "empty domain name";
  if (len > VDOMAIN_MAXDOMAIN) return "domain name too long (over 96 characters)";
  for (i = 0; i <= len; ++i) {
    char c = out->s[i];
    if (c == '.' || i == len) {
      if (i == label) return "domain name has an empty label (a leading, trailing or double dot)";
      if (out->s[label] == '-' || out->s[i - 1] == '-') return "domain name label may not start or end with '-'";
      label = i + 1;
    } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return "domain name may hold only letters, digits, '-' and dots";
  }
  return 0;
}

const char *vdomain_splitaddr(const char *addr, stralloc *user, stralloc *domain)
{
  const char *at = strrchr(addr, '@');
  const char *err;
  stralloc u = STRALLOC_ZERO;

  if (!at) at = strrchr(addr, '%');
  if (!at) return "address has no domain (want user@domain)";
  if (!stralloc_copyb(&u, addr, (size_t)(at - addr)) || !stralloc_0(&u)) { stralloc_free(&u); return "out of memory"; }
  err = vdomain_checkuser(user, u.s);
  stralloc_free(&u);
  if (err) return err;
  return vdomain_checkdomain(domain, at + 1);
}

/* ---- users/cdb ---- */

int vdomain_get(const char *qmailhome, const char *domain, struct vdomain *d, stralloc *buf)
{
  stralloc fn = STRALLOC_ZERO, key = STRALLOC_ZERO;
  struct users_entry e;
  struct cdb c;
  int fd, r = -1, err;
  size_t i;

  if (!stralloc_copys(&fn, qmailhome) || !stralloc_cats(&fn, "/users/cdb") || !stralloc_0(&fn)) goto done;
  if (!stralloc_copys(&key, "!") || !stralloc_cats(&key, domain) || !stralloc_append(&key, '-')) goto done;
  for (i = 0; i < key.len; ++i)
    if (key.s[i] >= 'A' && key.s[i] <= 'Z') key.s[i] = (char)(key.s[i] + 32);

  do fd = open(fn.s, O_RDONLY | O_CLOEXEC); while (fd == -1 && errno == EINTR);
  if (fd == -1) {
    if (errno == ENOENT) r = 0; /* no users/cdb: no virtual domains (vget_assign) */
    goto done;
  }
  if (cdb_init(&c, fd) == -1) { err = errno; close(fd); errno = err; goto done; }
  close(fd);
  r = cdb_find(&c, key.s, key.len);
  if (r == 1) {
    const char *data = cdb_get(&c, cdb_datapos(&c), cdb_datalen(&c));
    r = -1;
    if (!data) errno = EPROTO;
    else if (stralloc_copyb(buf, data, cdb_datalen(&c)) && stralloc_0(buf)) {
      if (!users_split(buf, &e) || !*e.user || e.home[0] != '/') errno = EPROTO;
      else {
        d->real = e.user;
        d->uid = e.uid;
        d->gid = e.gid;
        d->dir = e.home;
        r = 1;
      }
    }
  }
  cdb_free(&c);
done:
  err = errno;
  stralloc_free(&fn);
  stralloc_free(&key);
  errno = err;
  return r;
}

int vdomain_dirof(stralloc *out, const char *base, const char *domain)
{
  return stralloc_copys(out, base) && stralloc_cats(out, "/domains/") && stralloc_cats(out, domain) && stralloc_0(out);
}
