#ifndef VDEFAULT_H
#define VDEFAULT_H

#include <stddef.h>

#include "stralloc.h"

/* A virtual domain's .qmail-default, as vadddomain writes it:
 *
 *   | QMAILHOME/bin/vdelivermail '' delete
 *
 * vdelivermail's second argument says what happens to mail for a name
 * that is not a user of the domain (vpopmail 5.6, vdelivermail(8)). Both
 * vdelivermail and qmail-smtpd's recipient check (lib/rcptcheck) read it
 * here, so that they agree on which addresses bounce. */

enum vdefault_kind {
  VDEFAULT_DELETE,   /* "delete": the message is thrown away */
  VDEFAULT_BOUNCE,   /* "bounce-no-mailbox": bounced (5.1.1) */
  VDEFAULT_PATH,     /* "/dir": a Maildir, or a user directory (catch-all) */
  VDEFAULT_FORWARD,  /* anything else: an address ("&addr" too; catch-all) */
  VDEFAULT_INVALID   /* empty, or holding a newline or NUL */
};

/* Classifies an instruction s[0..len). For PATH and FORWARD, *arg and
 * *arglen give the path or the address (without a leading '&'). */
enum vdefault_kind vdefault_instruction(const char *s, size_t len, const char **arg, size_t *arglen);

/* The text of a .qmail-default file: 1 if it is one program line that
 * runs vdelivermail (any directory) with exactly two arguments, besides
 * comment lines; then *kind is what its second argument says, and instr
 * holds that argument (unquoted, not NUL-terminated). 0 for anything
 * else, including every line this parser cannot be sure of: shell
 * variables, escapes, redirections, other commands, more lines. Quoting
 * is understood as sh does for '...' and for "..." without $, `, \ or
 * a newline inside. */
int vdefault_parse(const char *text, size_t len, enum vdefault_kind *kind, stralloc *instr);

/* The names tried for an address with extension ext[0..len) (vpopmail's
 * --enable-qmail-ext, extended): first the whole, then each prefix that
 * ends before a '-', from the longest down. Returns the length of the
 * next shorter name after ext[0..len), or 0 when there is none. */
size_t vdefault_shorter(const char *ext, size_t len);

#endif
