#include "delivery.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "quote.h"
#include "strerr.h"

static void delivery_nonl(stralloc *sa, size_t from)
{
  size_t i;
  for (i = from; i < sa->len; ++i)
    if (sa->s[i] == '\n') sa->s[i] = '_';
}

int delivery_dtline(stralloc *sa, const char *local, const char *host)
{
  if (!stralloc_copys(sa, "Delivered-To: ") || !stralloc_cats(sa, local) || !stralloc_append(sa, '@')
      || !stralloc_cats(sa, host))
    return 0;
  delivery_nonl(sa, 0);
  return stralloc_append(sa, '\n');
}

int delivery_rpline(stralloc *sa, const char *sender)
{
  stralloc q = STRALLOC_ZERO;
  int ok = quote_addr(&q, sender, strlen(sender)) && stralloc_copys(sa, "Return-Path: <") && stralloc_cat(sa, &q);
  stralloc_free(&q);
  if (!ok) return 0;
  delivery_nonl(sa, 0);
  return stralloc_cats(sa, ">\n");
}

int delivery_looping(int fd, const char *dtline, size_t len)
{
  char buf[8192];
  off_t off = 0;
  size_t col = 0;  /* bytes of the current line seen so far */
  int same = 1;    /* the current line matches dtline so far */

  for (;;) {
    ssize_t r = pread(fd, buf, sizeof buf, off);
    size_t i;
    if (r == -1) { if (errno == EINTR) continue; return -1; }
    if (r == 0) return 0; /* end of file inside the header */
    off += r;
    for (i = 0; i < (size_t)r; ++i) {
      char c = buf[i];
      if (same) same = col < len && dtline[col] == c;
      ++col;
      if (c != '\n') continue;
      if (col == 1) return 0; /* the blank line: the header is over */
      if (same && col == len) return 1;
      col = 0;
      same = 1;
    }
  }
}

/* s up to the count-th '.' from the right (all of s if it has fewer). */
static size_t delivery_hostlen(const char *s, unsigned count)
{
  size_t i = strlen(s);
  while (count--) {
    size_t j = i;
    while (j && s[j - 1] != '.') --j;
    if (!j) return i; /* no more dots: qmail keeps the previous length */
    i = j - 1;
  }
  return i;
}

int delivery_env(envbuild *e, const struct delivery *d)
{
  static const char *const hostvar[3] = { "HOST2", "HOST3", "HOST4" };
  static const char *const extvar[3] = { "EXT2", "EXT3", "EXT4" };
  stralloc rcpt = STRALLOC_ZERO;
  const char *x;
  unsigned i;
  int ok;

  ok = stralloc_copys(&rcpt, d->local) && stralloc_append(&rcpt, '@') && stralloc_cats(&rcpt, d->host)
       && envbuild_setn(e, "RECIPIENT", rcpt.s, rcpt.len);
  stralloc_free(&rcpt);
  if (!ok) return 0;
  if (!envbuild_set(e, "SENDER", d->sender) || !envbuild_set(e, "NEWSENDER", d->newsender)
      || !envbuild_set(e, "USER", d->user) || !envbuild_set(e, "HOME", d->home)
      || !envbuild_set(e, "HOST", d->host) || !envbuild_set(e, "LOCAL", d->local)
      || !envbuild_set(e, "EXT", d->ext) || !envbuild_set(e, "DTLINE", d->dtline)
      || !envbuild_set(e, "RPLINE", d->rpline) || !envbuild_set(e, "UFLINE", d->ufline))
    return 0;
  /* HOST2 is HOST without its last dot and what follows, and so on; a
   * host with fewer dots keeps what is left (qmail's byte_rchr). */
  for (i = 0; i < 3; ++i)
    if (!envbuild_setn(e, hostvar[i], d->host, delivery_hostlen(d->host, i + 1))) return 0;
  /* EXT2 is what follows the first '-' of EXT (always '-', whatever
   * conf-break says, as in qmail), or empty. */
  x = d->ext;
  for (i = 0; i < 3; ++i) {
    x += strcspn(x, "-");
    if (*x) ++x;
    if (!envbuild_set(e, extvar[i], x)) return 0;
  }
  if (d->deflt) return envbuild_set(e, "DEFAULT", d->deflt);
  return envbuild_unset(e, "DEFAULT");
}

int delivery_program(const char *prog, char *const *envp)
{
  posix_spawnattr_t attr;
  sigset_t set;
  char *argv[4];
  pid_t pid;
  int r, wstat;

  if (lseek(0, 0, SEEK_SET) == -1) strerr_die(111, "Unable to rewind message. (#4.3.0)");
  argv[0] = (char *)"/bin/sh";
  argv[1] = (char *)"-c";
  argv[2] = (char *)prog;
  argv[3] = 0;
  r = posix_spawnattr_init(&attr);
  if (r) strerr_die(111, "Unable to fork: ", error_str(r), ". (#4.3.0)");
  /* SIGPIPE is ignored by the caller, but not in the program. */
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  sigaddset(&set, SIGALRM);
  posix_spawnattr_setsigdefault(&attr, &set);
  sigemptyset(&set);
  posix_spawnattr_setsigmask(&attr, &set);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  r = posix_spawn(&pid, argv[0], 0, &attr, argv, envp);
  posix_spawnattr_destroy(&attr);
  if (r == EAGAIN || r == ENOMEM) strerr_die(111, "Unable to fork: ", error_str(r), ". (#4.3.0)");
  if (r) strerr_die(111, "Unable to run /bin/sh: ", error_str(r), ". (#4.3.0)");
  while (waitpid(pid, &wstat, 0) == -1)
    if (errno != EINTR) strerr_die(111, "Unable to wait for child: ", error_str(errno), ". (#4.3.0)");
  if (!WIFEXITED(wstat)) strerr_die(111, "Aack, child crashed. (#4.3.0)");
  switch (WEXITSTATUS(wstat)) {
    case 0: return 0;
    case 99: return 1;
    case 100:
    case 64: case 65: case 70: case 76: case 77: case 78: case 112: _exit(100);
    default: _exit(111);
  }
}
