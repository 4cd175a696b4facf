#ifndef DOTQMAIL_H
#define DOTQMAIL_H

#include <stddef.h>
#include <sys/types.h>

#include "stralloc.h"

/* .qmail files (dot-qmail(5)): the one parser of their lines, and the
 * lookup of the file that controls an address.
 *
 * A line is read up to its newline, or up to its first NUL byte (qmail
 * reads lines as C strings; what follows a NUL is ignored). Spaces and tabs
 * at its end are dropped. Then its first byte says what it is:
 *
 *   (nothing)  DOTQMAIL_BLANK    allowed anywhere but on the first line
 *   #          DOTQMAIL_COMMENT
 *   |          DOTQMAIL_PROGRAM  arg: the command after the '|', for sh -c
 *   . or /     DOTQMAIL_MAILDIR  if it ends in '/', arg: the whole line
 *              DOTQMAIL_MBOX     otherwise, arg: the whole line
 *   +          DOTQMAIL_LIST     "+list": forward-only from here on, as if
 *                                the file had its execute bit set
 *              DOTQMAIL_IGNORED  any other '+' line (qmail ignores them)
 *   &          DOTQMAIL_FORWARD  arg: the address after the '&'
 *   other      DOTQMAIL_FORWARD  arg: the whole line
 *
 * arg points into the parsed text and is not NUL-terminated. */

enum dotqmail_kind {
  DOTQMAIL_BLANK,
  DOTQMAIL_COMMENT,
  DOTQMAIL_PROGRAM,
  DOTQMAIL_FORWARD,
  DOTQMAIL_MBOX,
  DOTQMAIL_MAILDIR,
  DOTQMAIL_LIST,
  DOTQMAIL_IGNORED
};

struct dotqmail_line {
  enum dotqmail_kind kind;
  const char *arg;
  size_t len;
};

/* Parses one line, s[0..len), without its newline. */
enum dotqmail_kind dotqmail_parse(const char *s, size_t len, struct dotqmail_line *l);

/* The lines of a whole file, in order. The text need not end in a newline
 * (a last line without one is a line). */
struct dotqmail {
  const char *s;
  size_t len;
  size_t pos;
  unsigned long lineno; /* of the line last returned, from 1 */
};

void dotqmail_start(struct dotqmail *d, const char *s, size_t len);
/* 1 and the next line in l, or 0 at the end. */
int dotqmail_next(struct dotqmail *d, struct dotqmail_line *l);

/* The deliveries of a .qmail file, in order, as qmail-local follows them
 * (qmail-local and vdelivermail both): comments, blank lines and ignored
 * '+' lines are skipped, "+list" makes the rest forward-only (as does the
 * file's execute bit: *forwardonly starts as the caller found it). 1 and
 * the next DOTQMAIL_PROGRAM, _MBOX, _MAILDIR or _FORWARD line in l; 0 at
 * the end; -1 when the file is one qmail-local refuses to follow from
 * this line on (a blank first line; a file or program delivery in a
 * forward-only file), with qmail-local's reason (a temporary failure, to
 * end the delivery with) in *why. */
int dotqmail_delivery(struct dotqmail *d, int *forwardonly, struct dotqmail_line *l, const char **why);

/* The extension as it appears in file names: uppercase letters lowercased
 * and dots turned into colons, so that no name made from it has a ".."
 * component. 1, or 0 (ENOMEM). */
int dotqmail_safeext(stralloc *sa, const char *ext);

/* The file found for an address. */
struct dotqmail_file {
  int fd;            /* open for reading, or -1 if no file was found */
  int forwardonly;   /* the file has its owner execute bit set */
  off_t size;
  size_t deflt;      /* if isdefault: ext + deflt is the DEFAULT part */
  int isdefault;     /* a -default file was used */
};

enum dotqmail_find {
  DOTQMAIL_FOUND = 1,
  DOTQMAIL_NONE = 0,
  DOTQMAIL_ETEMP = -1,    /* a name could not be checked: errno, name in fn */
  DOTQMAIL_EWRITABLE = -2 /* the file found has a forbidden mode bit (patrn) */
};

/* Looks in the current directory for the file that controls an address
 * with extension safeext (as made by dotqmail_safeext), as qmail-local
 * does: ".qmail<dash><ext>"; then, from the longest prefix of ext that
 * ends in '-' down to the empty one, ".qmail<dash><prefix>default".
 * Symbolic links are followed. A name that does not exist, or is not a
 * regular file, is skipped; one that cannot be opened for another reason
 * (permission, I/O) stops the search with DOTQMAIL_ETEMP. Each name is
 * opened once, and the file found stays open (fd), so what is read is
 * what was checked. fn holds the last name tried, NUL-terminated. */
enum dotqmail_find dotqmail_find(stralloc *fn, const char *dash, const stralloc *safeext,
                                 unsigned long patrn, struct dotqmail_file *f);

/* The envelope sender for forwarded mail (NEWSENDER): sender itself,
 * unless it is neither "" nor "#@[]" (a bounce) and
 * ".qmail<dash><ext>-owner" exists; then "local-owner@host", or
 * "local-owner-@host-@[]" (VERP) if ".qmail<dash><ext>-owner-default"
 * exists too. out is NUL-terminated (the NUL counted in out->len).
 * 1; 0 (ENOMEM); -1 when a name could not be checked (errno, the name in
 * fn). */
int dotqmail_newsender(stralloc *out, stralloc *fn, const char *dash, const stralloc *safeext,
                       const char *local, const char *host, const char *sender);

#endif
