#ifndef VPASSWD_H
#define VPASSWD_H

#include <stddef.h>

#include "stralloc.h"

/* A virtual domain's user database, in vpopmail's cdb-backend layout
 * (vpasswd(5)): DOMAINDIR/vpasswd holds one line per user,
 *
 *   user:crypted:pwuid:pwgid:gecos:dir:quota[:clearpw]
 *
 * and DOMAINDIR/vpasswd.cdb maps user to the rest of the line after
 * "user:" (vpopmail's vcdb.c), for readers. pwuid is the legacy auth type
 * (1 POP, 2 APOP); pwgid holds the flag bits below. Writers hold
 * DOMAINDIR/vpasswd.lock (flock) and replace both files by rename, so a
 * crash leaves the old database or the new one. */

/* pwgid flag bits (vpopmail.h) */
#define VPW_NO_PASSWD_CHNG   0x01UL
#define VPW_NO_POP           0x02UL
#define VPW_NO_WEBMAIL       0x04UL
#define VPW_NO_IMAP          0x08UL
#define VPW_BOUNCE_MAIL      0x10UL
#define VPW_NO_RELAY         0x20UL
#define VPW_NO_DIALUP        0x40UL
#define VPW_V_USER0          0x80UL
#define VPW_V_USER1          0x100UL
#define VPW_V_USER2          0x200UL
#define VPW_V_USER3          0x400UL
#define VPW_NO_SMTP          0x800UL
#define VPW_QA_ADMIN         0x1000UL
#define VPW_V_OVERRIDE       0x2000UL
#define VPW_NO_SPAMASSASSIN  0x4000UL
#define VPW_DELETE_SPAM      0x8000UL
#define VPW_SA_ADMIN         0x10000UL
#define VPW_SA_EXPERT        0x20000UL
#define VPW_NO_MAILDROP      0x40000UL

#define VPW_USE_POP  1UL   /* pwuid values */
#define VPW_USE_APOP 2UL

/* A line longer than this (without its newline) is malformed; a vpasswd
 * file larger than VPASSWD_MAXFILE is refused (E2BIG) rather than read. */
#define VPASSWD_MAXLINE 1024
#define VPASSWD_MAXFILE (64UL * 1024 * 1024)

struct vpasswd {
  const char *name;
  const char *passwd;     /* crypted; may be empty */
  unsigned long uid;      /* pwuid: auth type */
  unsigned long flags;    /* pwgid: VPW_* bits */
  const char *gecos;
  const char *dir;        /* absolute */
  const char *quota;      /* "NOQUOTA", "NNNS", "NNNS,MMMC", old "1MB" ... */
  const char *clearpw;    /* null: no eighth field */
};

/* Parses one line (len bytes, a trailing newline allowed). The fields are
 * copied into buf (NUL-terminated) and pw points into buf, so pw stays valid
 * until buf changes. 1 ok, 0 malformed (no NUL bytes, 7 or 8 fields, a
 * nonempty name without control characters, decimal pwuid and pwgid (empty
 * reads as 0, as vpopmail does), an absolute dir, at most VPASSWD_MAXLINE
 * bytes), -1 out of memory. */
int vpasswd_parse(const char *line, size_t len, struct vpasswd *pw, stralloc *buf);

/* Appends pw's line, with its newline, to out. 1 ok, 0 out of memory,
 * -1 (errno EINVAL) if a field holds ':', a newline or a control character
 * (the line would not read back), the name is empty, dir is not absolute,
 * or the line would pass VPASSWD_MAXLINE. */
int vpasswd_fmt(stralloc *out, const struct vpasswd *pw);

/* Looks user up (lowercased) in domaindir/vpasswd.cdb. When the cdb is
 * missing or older than vpasswd (an edit cut short between its two renames,
 * or a hand edit), the vpasswd text is searched instead, without writing.
 * 1 found (pw points into buf), 0 no such user, -1 temporary failure (errno;
 * EPROTO for a corrupt cdb or a malformed entry). */
int vpasswd_lookup(const char *domaindir, const char *user, struct vpasswd *pw, stralloc *buf);

/* Reads the whole of domaindir/vpasswd into text (a missing file is an
 * empty database). 0 ok, -1 errno (E2BIG over VPASSWD_MAXFILE). */
int vpasswd_readfile(const char *domaindir, stralloc *text);

/* Walks the lines of text: *pos starts at 0. Empty lines are skipped.
 * 1 an entry (pw points into buf), 0 the end, -2 a malformed line (*pos
 * is past it, so the walk can go on), -1 out of memory. *lineno, if not
 * null, counts lines (the number of the line just returned). */
int vpasswd_next(const stralloc *text, size_t *pos, unsigned long *lineno, struct vpasswd *pw, stralloc *buf);

/* The name of every user in domaindir/vpasswd, each NUL-terminated, into
 * names (for the commands that edit every user of a domain, one locked
 * edit each). 1 ok; 0 a malformed line, whose number is in *badline
 * (names is then incomplete: an edit of "every user" must not skip one);
 * -1 errno (ENOMEM, or vpasswd_readfile's). */
int vpasswd_names(const char *domaindir, stralloc *names, unsigned long *badline);

/* Edits under domaindir/vpasswd.lock, then rewrites vpasswd and vpasswd.cdb
 * (vpasswd.tmp + fsync, vpasswd.cdb.tmp + fsync, rename vpasswd then the
 * cdb, fsync of domaindir). New files are mode 0640 and, when run as root,
 * owned by domaindir's owner. Results: */
#define VPASSWD_OK        0
#define VPASSWD_EXISTS    1   /* add: the name is taken */
#define VPASSWD_NOUSER    2   /* replace, delete, modify: no such user */
#define VPASSWD_MALFORMED 3   /* a line of vpasswd is malformed: *badline */
#define VPASSWD_TOOBIG    4   /* vpasswd is over VPASSWD_MAXFILE */
#define VPASSWD_BADENTRY  5   /* the new entry cannot be written (see vpasswd_fmt) */
/* ... or -1 with errno for a system error (error_temp decides). */

/* What such a result means to a command, in one place for all of them:
 * 0 for VPASSWD_OK; else the exit code (100 permanent, 111 temporary) and
 * the reason in why (NUL-terminated; addr names the user in "no such
 * user" and "already exists"), or -1 out of memory. Call it right after
 * the edit: a system error's reason is errno's. */
int vpasswd_result(int r, unsigned long badline, const char *addr, stralloc *why);

/* Adds pw (kept in name order, as vpopmail inserts). */
int vpasswd_add(const char *domaindir, const struct vpasswd *pw, unsigned long *badline);
/* Replaces the entry named pw->name. */
int vpasswd_replace(const char *domaindir, const struct vpasswd *pw, unsigned long *badline);
/* Deletes the entry named name. */
int vpasswd_delete(const char *domaindir, const char *name, unsigned long *badline);
/* Read-modify-write under the lock: change() gets the current entry of
 * name and may point its fields at the caller's strings (the name stays).
 * It returns 0 to write the result, anything else to leave the files
 * alone; that value is then returned by vpasswd_modify (use values above
 * 100 so as not to clash with the results above). */
int vpasswd_modify(const char *domaindir, const char *name,
                   int (*change)(struct vpasswd *pw, void *arg), void *arg, unsigned long *badline);
/* Rebuilds vpasswd.cdb from vpasswd under the lock (vmkpasswd), skipping
 * malformed lines: *skipped counts them and *badline is the first. */
int vpasswd_mkcdb(const char *domaindir, unsigned long *skipped, unsigned long *badline);

#endif
