#ifndef RCPTCHECK_H
#define RCPTCHECK_H

#include "cdb.h"
#include "route.h"
#include "stralloc.h"

/* Would local delivery bounce this recipient with "Sorry, no mailbox here
 * by that name"? qmail-smtpd asks at RCPT time, so that an unknown user
 * gets 550 instead of a bounce later (backscatter).
 *
 * The answer comes from the code delivery itself runs, in the same order:
 * lib/route (locals, virtualdomains, percenthack, envnoathost), then
 * users/cdb as qmail-lspawn reads it (lib/users), then qmail-getpw's rule
 * (lib/getpw) over /etc/passwd, then the .qmail file search of qmail-local
 * (lib/dotqmail) in the home directory found. Only the final step can say
 * "no": an address whose user has no .qmail file for its extension and no
 * matching -default file (the alias user's included), or, in a virtual
 * domain whose .qmail-default runs vdelivermail with "delete" or
 * "bounce-no-mailbox" (lib/vdefault), an address whose extension names no
 * user in the domain directory's vpasswd, as vdelivermail decides it
 * (vdelivermail(8): the extension, else the longest name before one of
 * its '-'). A catch-all, or any other program, says yes.
 *
 * Whenever the check cannot know, it says yes, and delivery decides as
 * before: a file it may not read (qmail-smtpd runs as qmaild), an
 * unreadable users/cdb, an I/O error, an account database other than
 * /etc/passwd in /etc/nsswitch.conf (LDAP, NIS: qmail-getpw would see
 * users that /etc/passwd does not list), a home directory that is
 * missing, writable or being edited, an account with uid 0, a
 * passwd file over RCPTCHECK_PASSWDMAX bytes, a domain directory or
 * vpasswd that qmaild may not read (vpopmail's are the store owner's, mode
 * 0700: the check then accepts, unless the administrator lets qmaild's
 * group read them).
 *
 * Everything is read relative to the current directory (QMAILHOME), and
 * the current directory is the same again when rcptcheck returns. */

#define RCPTCHECK_PASSWDMAX (64UL << 20)

struct rcptcheck {
  struct route route;
  stralloc controls;    /* locals, virtualdomains, percenthack lists */
  stralloc envnoathost;
  int routeok;          /* the route tables were read */
  int passwdstate;      /* 0 not read yet, 1 read, -1 unusable: say yes */
  stralloc passwd;      /* /etc/passwd, read at the first need */
  stralloc addr, nughde, fn, safeext, name, home;
  const char *aliasuser;
  char brk;
  unsigned long patrn;
};

/* Reads the control files routing needs. 1, or -1 (a control file could
 * not be read: errno set; the caller answers with a temporary error). */
int rcptcheck_init(struct rcptcheck *rc, const char *aliasuser, char brk, unsigned long patrn);
/* 1: deliverable, or cannot tell (accept); 0: local delivery would bounce
 * it with 5.1.1. Never fails: trouble means 1. */
int rcptcheck(struct rcptcheck *rc, const char *addr);

/* Frees what rcptcheck_init and rcptcheck allocated. */
void rcptcheck_free(struct rcptcheck *rc);

/* The nsswitch.conf rule, on the file's text: 1 if its "passwd:" line
 * names no source but "files" and "systemd" (whose synthesized and
 * dynamic users have no home directory of their own, so qmail-getpw never
 * delivers to them), or if there is no such line (glibc then reads
 * files); 0 if another source could add users. */
int rcptcheck_nssfiles(const char *text, size_t len);

#endif
