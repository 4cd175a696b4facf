/* valias: aliases of a virtual domain, as .qmail-ALIAS files in the
 * domain's directory (vpopmail's cdb backend without --enable-valias).
 *
 *   valias [-v] [-s] alias@domain | domain      show (the default)
 *   valias -n domain                            list the alias names
 *   valias -d alias@domain                      delete the alias
 *   valias -i line alias@domain                 add a line to the alias
 *
 * A line is what qmail-local reads in a .qmail file: an address to
 * forward to, "|program", or "/path/Maildir/". Dots in the alias name
 * become ':' in the file name, as qmail-local looks the file up. Edits
 * hold DOMAINDIR/.valias.lock and replace the file by rename, so a
 * delivery reads the old file or the new one. The domain's own
 * .qmail-default is not an alias and cannot be changed here. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* rename only */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "error.h"
#include "lock.h"
#include "sgetopt.h"
#include "stralloc.h"
#include "strerr.h"
#include "vdomain.h"
#include "vuser.h"

#define FATAL "valias: fatal: "
#define USAGE "valias: usage: valias [-v] [-n] [-s] [-d] [-i line] alias@domain|domain"
#define MAXFILE 65536
#define MAXLINE 1000

static NORETURN void die_usage(void) { strerr_die(100, USAGE); }
static NORETURN void die_nomem(void) { strerr_die(111, FATAL, "out of memory"); }
static NORETURN void die_sys(const char *what, const char *fn)
{
  strerr_die(error_temp(errno) ? 111 : 100, FATAL, what, fn, ": ", error_str(errno));
}

static char outspace[4096];
static buffer out;
static void put(const char *s)
{
  if (buffer_puts(&out, s) == -1) strerr_die(111, FATAL, "unable to write output: ", error_str(errno));
}
static void putb(const char *s, size_t n)
{
  if (buffer_put(&out, s, n) == -1) strerr_die(111, FATAL, "unable to write output: ", error_str(errno));
}

static struct vdomain d;
static int dfd = -1;

/* Reads the alias file fn of the domain into text: 1, or 0 if missing. */
static int readalias(const char *fn, stralloc *text)
{
  char buf[4096];
  int fd = openat(dfd, fn, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (!stralloc_copys(text, "")) die_nomem();
  if (fd == -1) {
    if (errno == ENOENT) return 0;
    die_sys("unable to open ", fn);
  }
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r == -1 && errno == EINTR) continue;
    if (r == -1) die_sys("unable to read ", fn);
    if (!r) break;
    if (text->len + (size_t)r > MAXFILE) { errno = EFBIG; die_sys("unable to read ", fn); }
    if (!stralloc_catb(text, buf, (size_t)r)) die_nomem();
  }
  close(fd);
  return 1;
}

/* "alias@domain -> line" for each line. */
static void showalias(const char *alias, const char *domain, const stralloc *text)
{
  size_t i = 0;
  while (i < text->len) {
    const char *nl = memchr(text->s + i, '\n', text->len - i);
    size_t n = nl ? (size_t)(nl - text->s) - i : text->len - i;
    if (n) {
      put(alias); put("@"); put(domain); put(" -> ");
      putb(text->s + i, n);
      put("\n");
    }
    i += n + 1;
  }
}

/* The aliases of the domain, in directory order: to show them, or just
 * their names. */
static void each(const char *domain, int names)
{
  stralloc alias = STRALLOC_ZERO, text = STRALLOC_ZERO;
  struct dirent *de;
  int fd = dup(dfd);
  DIR *dir;
  if (fd == -1 || !(dir = fdopendir(fd))) die_sys("unable to read ", d.dir);
  for (;;) {
    int r;
    errno = 0;
    de = readdir(dir);
    if (!de) {
      if (errno) die_sys("unable to read ", d.dir);
      break;
    }
    /* a '.' after the prefix: not a name qmail-local can look up (our own
     * temporary files among them) */
    if (!strncmp(de->d_name, ".qmail-", 7) && strchr(de->d_name + 7, '.')) continue;
    r = vuser_aliasname(&alias, de->d_name);
    if (r == -1) die_nomem();
    if (!r) continue;
    if (names) {
      put(alias.s);
      put("\n");
    } else if (readalias(de->d_name, &text))
      showalias(alias.s, domain, &text);
  }
  closedir(dir);
}

static int lockfd = -1;
static void lock(void)
{
  lockfd = openat(dfd, ".valias.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lockfd == -1) die_sys("unable to open ", ".valias.lock");
  if (lock_ex(lockfd) == -1) die_sys("unable to lock ", ".valias.lock");
}

/* Replaces the alias file fn with text: .valias.tmp, chown (root), fsync,
 * rename, fsync of the directory. */
static void replace(const char *fn, const stralloc *text)
{
  int fd = openat(dfd, ".valias.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  size_t done = 0;
  if (fd == -1) die_sys("unable to create ", ".valias.tmp");
  while (done < text->len) {
    ssize_t w = write(fd, text->s + done, text->len - done);
    if (w == -1 && errno == EINTR) continue;
    if (w == -1) die_sys("unable to write ", ".valias.tmp");
    done += (size_t)w;
  }
  /* qmail-local runs as the domain's owner and must be able to read it */
  if (geteuid() == 0 && fchown(fd, (uid_t)d.uid, (gid_t)d.gid) == -1) die_sys("unable to chown ", ".valias.tmp");
  if (fsync(fd) == -1) die_sys("unable to write ", ".valias.tmp");
  if (close(fd) == -1) die_sys("unable to write ", ".valias.tmp");
  if (renameat(dfd, ".valias.tmp", dfd, fn) == -1) die_sys("unable to rename .valias.tmp to ", fn);
  if (fsync(dfd) == -1) die_sys("unable to sync ", d.dir);
}

int main(int argc, char **argv)
{
  stralloc alias = STRALLOC_ZERO, domain = STRALLOC_ZERO, dbuf = STRALLOC_ZERO, fn = STRALLOC_ZERO, text = STRALLOC_ZERO;
  struct sgetopt g = SGETOPT_INIT;
  const char *err, *line = 0, *addr;
  int opt, r, action = 's';

  buffer_init(&out, 1, outspace, sizeof outspace, 0);
  while ((opt = sgetopt(&g, argc, argv, "vnsdi:")) != SGETOPT_END) {
    switch (opt) {
      case 'v': put("version: quail\n"); break;
      case 'n': case 's': case 'd': action = opt; break;
      case 'i': action = 'i'; line = g.arg; break;
      default: sgetopt_warn(&g, "valias"); die_usage();
    }
  }
  argv += g.ind;
  argc -= g.ind;
  if (argc != 1) die_usage();
  addr = argv[0];

  if (strchr(addr, '@')) {
    if (action == 'n') strerr_die(100, FATAL, "-n takes a domain, not an address");
    err = vdomain_splitaddr(addr, &alias, &domain);
    if (err) strerr_die(100, FATAL, "bad alias ", addr, ": ", err);
    if (!strcmp(alias.s, "default"))
      strerr_die(100, FATAL, "\"default\" is the domain's own .qmail-default, not an alias");
    if (!vuser_aliasfile(&fn, alias.s)) die_nomem();
  } else {
    if (action == 'd' || action == 'i') strerr_die(100, FATAL, "-d and -i take alias@domain");
    err = vdomain_checkdomain(&domain, addr);
    if (err) strerr_die(100, FATAL, "bad domain ", addr, ": ", err);
  }
  r = vdomain_get(auto_qmail, domain.s, &d, &dbuf);
  if (r == -1) strerr_die(111, FATAL, "unable to look up the domain ", domain.s, ": ", error_str(errno));
  if (!r) strerr_die(100, FATAL, "no such virtual domain: ", domain.s);
  dfd = open(d.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd == -1) die_sys("unable to open ", d.dir);

  switch (action) {
    case 'n': each(domain.s, 1); break;
    case 's':
      if (!alias.len) { each(domain.s, 0); break; }
      if (!readalias(fn.s, &text)) strerr_die(100, FATAL, "no such alias: ", alias.s, "@", domain.s);
      showalias(alias.s, domain.s, &text);
      break;
    case 'd':
      lock();
      if (unlinkat(dfd, fn.s, 0) == -1) {
        if (errno == ENOENT) strerr_die(100, FATAL, "no such alias: ", alias.s, "@", domain.s);
        die_sys("unable to remove ", fn.s);
      }
      if (fsync(dfd) == -1) die_sys("unable to sync ", d.dir);
      break;
    case 'i': {
      size_t i = 0, n = strlen(line);
      if (!n) strerr_die(100, FATAL, "-i: empty line");
      if (n > MAXLINE) strerr_die(100, FATAL, "-i: line too long (over 1000 bytes)");
      for (i = 0; i < n; ++i)
        if (line[i] == '\n' || line[i] == '\r') strerr_die(100, FATAL, "-i: the line may not hold a newline");
      lock();
      readalias(fn.s, &text);
      /* the same line already there */
      for (i = 0; i < text.len;) {
        const char *nl = memchr(text.s + i, '\n', text.len - i);
        size_t k = nl ? (size_t)(nl - text.s) - i : text.len - i;
        if (k == n && !memcmp(text.s + i, line, n))
          strerr_die(100, FATAL, "alias ", alias.s, "@", domain.s, " -> ", line, " already exists");
        i += k + 1;
      }
      if (text.len && text.s[text.len - 1] != '\n' && !stralloc_append(&text, '\n')) die_nomem();
      if (!stralloc_cats(&text, line) || !stralloc_append(&text, '\n')) die_nomem();
      replace(fn.s, &text);
      break;
    }
  }
  if (buffer_flush(&out) == -1) strerr_die(111, FATAL, "unable to write output: ", error_str(errno));
  return 0;
}
