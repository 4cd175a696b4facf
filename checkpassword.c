/* checkpassword: the checkpassword interface (cr.yp.to/checkpwd/interface.html)
 * for system accounts, as qmail-popup and qmail-smtpd's AUTH run it:
 *
 *   checkpassword program [arg ...]
 *
 * Descriptor 3 carries "user\0password\0timestamp\0" (lib/cpwdata.h). The
 * password is checked against the account's shadow hash (or its passwd
 * field when there is no shadow entry) through crypt(3), so every scheme
 * libcrypt knows works: yescrypt, SHA-512, SHA-256, MD5, bcrypt, DES. On a
 * match it sets USER, HOME and SHELL, changes to the home directory, becomes
 * the user (initgroups, setgid, setuid, verified) and runs program.
 *
 * Exit codes: 1 bad user or password (or an account that may not log in:
 * uid 0, locked, expired), 2 misuse (no program, bad data on descriptor
 * 3), 111 temporary trouble. Nothing about the password is ever written
 * anywhere, and for 1 nothing at all: the reason would tell a guesser
 * which names exist, and a name field sometimes holds a mistyped password.
 *
 * It must run as root (it reads /etc/shadow and changes user), so it is
 * linked dynamically: getpwnam, getspnam and initgroups go through NSS. */

#include <crypt.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <shadow.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "cpwdata.h"
#include "env.h"
#include "error.h"
#include "prot.h"
#include "stralloc.h"
#include "strerr.h"

extern char **environ;

#define FATAL "checkpassword: fatal: "

/* Everything that holds the password or something derived from it, wiped
 * on every way out. */
static char data[CPWDATA_MAX + 1];
static struct crypt_data cd;          /* crypt_r's work space and result */
static stralloc stored = STRALLOC_ZERO; /* the account's hash */

static void wipe(void)
{
  explicit_bzero(data, sizeof data);
  explicit_bzero(&cd, sizeof cd);
  if (stored.s) explicit_bzero(stored.s, stored.a);
}

static NORETURN void die(int code) { wipe(); _exit(code); }
static NORETURN void die_usage(void) { wipe(); strerr_die(2, "usage: checkpassword program [arg ...]"); }
static NORETURN void die_misuse(const char *why) { wipe(); strerr_die(2, FATAL, why); }
static NORETURN void die_temp(const char *what, int e) { wipe(); strerr_die(111, FATAL, what, ": ", error_str(e)); }
static NORETURN void die_nomem(void) { die_temp("unable to continue", ENOMEM); }

/* The errno values getpwnam(3) and getspnam(3) leave for "no such entry"
 * (getpwnam(3) lists them; qmail-getpw.c uses the same set). Anything else
 * is the name service failing: LDAP down, a file unreadable. */
static int notfound(int e)
{
  return e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM;
}

/* Refusing a name that does not exist should take about as long as
 * refusing a wrong password, or the time tells a guesser which names are
 * real. One hash with the library's default (strongest) scheme, which is
 * what passwd(1) writes for new passwords. */
static NORETURN void die_bad(const char *pass)
{
#if defined(CRYPT_GENSALT_IMPLEMENTS_DEFAULT_PREFIX) && CRYPT_GENSALT_IMPLEMENTS_DEFAULT_PREFIX
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (pass && crypt_gensalt_rn(0, 0, 0, 0, salt, sizeof salt)) crypt_r(pass, salt, &cd);
#else
  if (pass) crypt_r(pass, "$6$quailnosuchuser$", &cd);
#endif
  die(1);
}

struct account {
  stralloc name, home, shell;
  uid_t uid;
  gid_t gid;
};

/* The account's passwd entry, copied (initgroups and getspnam may reuse
 * libc's static buffers); its passwd field goes to stored. */
static void lookup(const char *user, const char *pass, struct account *a)
{
  struct passwd *pw;
  errno = 0;
  pw = getpwnam(user);
  if (!pw) {
    if (notfound(errno)) die_bad(pass);
    die_temp("unable to look up the user", errno);
  }
  if (!stralloc_copys(&a->name, pw->pw_name) || !stralloc_0(&a->name)) die_nomem();
  if (!stralloc_copys(&a->home, pw->pw_dir) || !stralloc_0(&a->home)) die_nomem();
  /* An empty shell field means /bin/sh (passwd(5)). */
  if (!stralloc_copys(&a->shell, *pw->pw_shell ? pw->pw_shell : "/bin/sh") || !stralloc_0(&a->shell))
    die_nomem();
  if (!stralloc_copys(&stored, pw->pw_passwd) || !stralloc_0(&stored)) die_nomem();
  a->uid = pw->pw_uid;
  a->gid = pw->pw_gid;
}

/* The hash from the shadow entry, if there is one. */
static void shadow(const struct account *a, const char *pass)
{
  struct spwd *sp;
  errno = 0;
  sp = getspnam(a->name.s);
  if (!sp) {
    if (!notfound(errno)) die_temp("unable to read the shadow entry", errno);
    /* "x" sends the reader to /etc/shadow (passwd(5)). Without root,
     * /etc/shadow cannot be read and every account looks like this: a
     * setup problem the administrator should see, not a wrong password. */
    if (!strcmp(stored.s, "x")) {
      wipe();
      strerr_die(111, FATAL, "no shadow entry for an account whose password is in the shadow file",
                 geteuid() ? " (checkpassword must run as root)" : "");
    }
    return;
  }
  explicit_bzero(stored.s, stored.a);
  if (!stralloc_copys(&stored, sp->sp_pwdp) || !stralloc_0(&stored)) die_nomem();
  explicit_bzero(sp->sp_pwdp, strlen(sp->sp_pwdp)); /* libc's copy */
  /* An expired account (shadow(5): days since 1970; 0 and -1 mean none). */
  if (sp->sp_expire > 0 && (long)(time(0) / 86400) >= sp->sp_expire) die_bad(pass);
  endspent();
}

/* 1 if pass gives stored, 0 if not; 111 when crypt could not work. */
static int verify(const char *pass)
{
  const char *h;
  errno = 0;
  h = crypt_r(pass, stored.s, &cd);
  if (!h || *h == '*') {
    /* The failure tokens "*0" and "*1" (and NULL from older libraries):
     * ENOMEM is the machine's trouble; EINVAL (a scheme this libcrypt does
     * not have, or a damaged hash) will not change by itself. */
    if (errno == ENOMEM) die_nomem();
    return 0;
  }
  return cpwdata_same(h, strlen(h), stored.s, stored.len - 1);
}

/* Becomes the user, for good: groups, group, user, then a check that all
 * of it took and that root cannot come back. */
static void become(const struct account *a)
{
  if (initgroups(a->name.s, a->gid) == -1) die_temp("unable to set the groups", errno);
  if (setgid(a->gid) == -1) die_temp("unable to set the group", errno);
  if (prot_uid(a->uid) == -1) die_temp("unable to set the user", errno);
  if (prot_check(a->uid, a->gid) == -1) die_temp("the user and group did not take", errno);
  if (setuid(0) != -1) { wipe(); strerr_die(111, FATAL, "root can still be regained after setuid"); }
}

int main(int argc, char **argv)
{
  static struct account a = { STRALLOC_ZERO, STRALLOC_ZERO, STRALLOC_ZERO, 0, 0 };
  static envbuild env = ENVBUILD_ZERO;
  struct cpwdata d;
  size_t len;

  if (argc < 2 || !argv[1]) die_usage();
  /* No core file and no ptrace by the user, while the password is in
   * memory. execve resets it for the program. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  switch (cpwdata_read(3, data, &len)) {
    case 0: die_misuse("more than 512 bytes on descriptor 3");
    case -1:
      if (errno == EBADF) die_misuse("descriptor 3 is not open");
      die_temp("unable to read descriptor 3", errno);
  }
  close(3);
  if (!cpwdata_parse(data, len, &d))
    die_misuse("descriptor 3 does not hold user, password and timestamp, each ended by a 0 byte");

  if (!cpwdata_user_ok(d.user, d.ulen)) die(1);
  /* An empty password never matches, whatever the hash; APOP needs the
   * clear password, which system accounts do not have, so an APOP digest
   * is simply a password that does not match. */
  if (!d.plen) die(1);

  lookup(d.user, d.pass, &a);
  if (a.uid == 0) die_bad(d.pass);
  shadow(&a, d.pass);
  if (!cpwdata_hash_ok(stored.s)) die_bad(d.pass);
  if (!verify(d.pass)) die(1);
  wipe();

  if (!envbuild_init(&env, environ)) die_nomem();
  if (!envbuild_set(&env, "USER", a.name.s) || !envbuild_set(&env, "HOME", a.home.s)
      || !envbuild_set(&env, "SHELL", a.shell.s))
    die_nomem();
  if (chdir(a.home.s) == -1) die_temp("unable to change to the home directory", errno);
  become(&a);

  environ = env.v;
  execvp(argv[1], argv + 1);
  strerr_die(111, FATAL, "unable to run ", argv[1], ": ", error_str(errno));
}
