#ifndef SMTPCMD_H
#define SMTPCMD_H

#include <stddef.h>

#include "stralloc.h"

/* SMTP commands as qmail-smtpd reads them (RFC 5321, with qmail's
 * leniency kept where existing clients depend on it). The one parser of
 * command lines and of MAIL/RCPT paths and parameters.
 *
 * A command line is given without its CRLF (or LF). The verb is
 * case-insensitive and ends at the first space (or the end of the line);
 * the argument is what follows that one space, unchanged (so "MAIL
 * FROM:<a>" gives the argument "FROM:<a>"). */

enum smtpcmd_verb {
  SMTPCMD_UNKNOWN = 0,
  SMTPCMD_HELO, SMTPCMD_EHLO, SMTPCMD_MAIL, SMTPCMD_RCPT, SMTPCMD_DATA,
  SMTPCMD_BDAT, SMTPCMD_RSET, SMTPCMD_VRFY, SMTPCMD_EXPN, SMTPCMD_NOOP,
  SMTPCMD_QUIT, SMTPCMD_HELP, SMTPCMD_AUTH, SMTPCMD_STARTTLS
};

/* The verb of line[0..len); *arg and *arglen: the argument (possibly
 * empty; it points at line + len when there is no space). A verb not in
 * the list, or one followed by anything but a space ("QUIT\r", "DATA\t"),
 * is SMTPCMD_UNKNOWN; the argument is set all the same. */
enum smtpcmd_verb smtpcmd_verb(const char *line, size_t len, const char **arg, size_t *arglen);

/* What MAIL and RCPT parameters said (RFC 1870, 6152, 6531, 4954). */
struct smtpcmd_params {
  int hassize;              /* SIZE=n was given */
  unsigned long long size;  /* its value (saturated at ULLONG_MAX) */
  int body;                 /* 0 none, 7 BODY=7BIT, 8 BODY=8BITMIME */
  int smtputf8;             /* SMTPUTF8 was given */
  int hasauth;              /* AUTH=<...> was given (accepted, ignored) */
};

enum smtpcmd_result {
  SMTPCMD_OK = 0,
  SMTPCMD_ENOMEM,       /* out of memory: 421/451 temporary */
  SMTPCMD_ESYNTAX,      /* no "FROM:"/"TO:", unbalanced <>, bad quoting: 501 5.5.4 */
  SMTPCMD_EADDR,        /* a byte that no address may hold (NUL, CR, LF, other
                           controls, DEL), or invalid UTF-8: 553 5.1.3 / 5.1.7 */
  SMTPCMD_EUTF8,        /* 8-bit bytes in the address and no SMTPUTF8 on MAIL: 553 5.6.7 */
  SMTPCMD_ETOOLONG,     /* address over SMTPCMD_ADDRMAX bytes: 553 5.1.3 */
  SMTPCMD_EPARAM,       /* a parameter not allowed here (unknown, or one we do not
                           advertise such as RET/ENVID/NOTIFY/ORCPT/BODY=BINARYMIME): 555 5.5.4 */
  SMTPCMD_EPARAMVALUE   /* a known parameter with a bad value (SIZE=x, BODY=foo): 501 5.5.4 */
};

#define SMTPCMD_ADDRMAX 1000   /* what qmail-queue accepts */

/* Parses the argument of MAIL (ismail=1: "FROM:...") or RCPT (ismail=0:
 * "TO:..."). utf8 says whether 8-bit addresses are allowed on RCPT (the
 * MAIL of this transaction carried SMTPUTF8). For MAIL itself utf8 is
 * ignored: only MAIL's own SMTPUTF8 parameter allows 8-bit bytes. The
 * address goes into addr in qmail's internal form:
 *  - "FROM:" / "TO:" are case-insensitive and must start the argument (no
 *    space before them or before the colon); spaces after the colon are
 *    skipped (qmail accepts them, and so do many clients);
 *  - with angle brackets, the path is what they enclose; a source route
 *    "@a,@b:" before the mailbox is dropped (it must end in ':' and lead
 *    to a mailbox); a quoted local part is unquoted ("a b"@x gives a b@x)
 *    and backslash escapes are resolved, inside quotes or not, as qmail's
 *    addrparse does; parameters follow the '>' after one or more spaces;
 *  - without brackets (qmail accepts "MAIL FROM:a@b"), the address runs to
 *    the first unquoted space and parameters follow;
 *  - unlike qmail, which guesses, these are ESYNTAX: a missing '>', an
 *    open quote, a backslash at the end, an unquoted '<' inside the path
 *    ("<<a@b>>"), an unquoted '>' without brackets, an unquoted space
 *    inside brackets, and anything but a space right after the '>'
 *    ("<a@b>x");
 *  - "<>" is the empty address, for MAIL only (for RCPT it is ESYNTAX).
 *    Nothing else may yield an empty address ('<"">', "<@a:>" are
 *    ESYNTAX). A mailbox without a domain ("<postmaster>", "<joe>") is
 *    syntactically fine for both; what to accept is the caller's policy;
 *  - the unquoted address must hold no control byte (C0, DEL) and its
 *    8-bit bytes must be valid UTF-8 (no overlong forms, surrogates,
 *    truncated sequences, nor C1 controls U+0080..U+009F), else EADDR,
 *    with SMTPUTF8 or without; valid UTF-8 without SMTPUTF8 is EUTF8;
 *  - parameters are keyword[=value], separated by spaces, keywords
 *    case-insensitive; trailing spaces are allowed. MAIL knows SIZE (digits
 *    only, saturating), BODY (7BIT, 8BITMIME; BINARYMIME is EPARAM, as we
 *    do not advertise it), SMTPUTF8 (no value), AUTH (<> or xtext). RCPT
 *    knows none. A known keyword given twice is EPARAMVALUE; a malformed
 *    keyword is EPARAM.
 * When several things are wrong, the first of ESYNTAX, ETOOLONG, EADDR,
 * then the parameters' errors, then EUTF8 is returned. p may be null; it
 * is zeroed first. On SMTPCMD_OK addr->s is NUL-terminated and addr->len
 * counts the bytes before the NUL; on failure addr holds junk. */
enum smtpcmd_result smtpcmd_path(const char *arg, size_t len, int ismail, int utf8,
                                 stralloc *addr, struct smtpcmd_params *p);

/* The argument of HELO/EHLO: 1 if it is acceptable as a name to record
 * (non-empty after trimming spaces at both ends, then at most 255 bytes,
 * no control bytes (C0, DEL), 8-bit bytes only as valid UTF-8 without C1
 * controls), else 0. qmail records anything; we refuse only what cannot
 * be logged safely. */
int smtpcmd_heloname(const char *arg, size_t len);

/* The argument of BDAT: "size" or "size LAST". 1 and *size / *last set,
 * or 0 (syntax error, or a size over SIZE_MAX/2). The size is decimal
 * digits only (no sign, no leading space); LAST is case-insensitive after
 * one or more spaces; trailing spaces are ignored. */
int smtpcmd_bdat(const char *arg, size_t len, unsigned long long *size, int *last);

/* The argument of AUTH: mechanism name and optional initial response.
 * 1 and *mech, *mechlen, *resp, *resplen set (resp null when absent; "="
 * is an empty initial response, given as resp="" resplen=0), or 0 on
 * syntax error. The mechanism is 1 to 20 letters (either case), digits,
 * '-' or '_' (RFC 4422); the response is one word of printable ASCII after
 * one space, judged further by base64_decode. Trailing spaces are ignored;
 * "AUTH" alone, a second space or a third field is a syntax error. */
int smtpcmd_auth(const char *arg, size_t len, const char **mech, size_t *mechlen,
                 const char **resp, size_t *resplen);

#endif
