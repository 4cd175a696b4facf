/* qmail-inject: preprocess a message and queue it (qmail-inject(8)).
 *
 * The message comes on descriptor 0. Its header is read whole, its
 * address fields rewritten (qmail-header(5): lib/token822), and the
 * fields qmail adds (Date, Message-ID, From, Cc) are put in front of it;
 * then the queue program is started (lib/qq) and the body is copied to it
 * as it arrives, never held in memory. The envelope follows: the sender
 * (-f, Return-Path, or the user) and the recipients (the arguments, the
 * header, or both).
 *
 * Everything read is bounded: a header field (with its continuation
 * lines) is at most FIELD_MAX bytes, the header at most HEADER_MAX (as
 * read, and as queued), an
 * address at most ADDR_MAX (qmail-queue's own limit), and a message goes
 * to at most RCPT_MAX recipients. Beyond them qmail-inject refuses the
 * message (exit 100) instead of queueing something else than was meant.
 *
 * This program starts once per message on the local mail path, so it
 * makes few system calls: each control file is read once, and only if no
 * environment variable overrides it; control/me only if one of them is
 * missing; the date is formatted without /etc/localtime. */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "control.h"
#include "env.h"
#include "error.h"
#include "fmt.h"
#include "header.h"
#include "newfield.h"
#include "qq.h"
#include "quote.h"
#include "sgetopt.h"
#include "sig.h"
#include "stralloc.h"
#include "strerr.h"
#include "token822.h"

#define FATAL "qmail-inject: fatal: "
#define LINELEN 80         /* rewritten address lists are folded at 80 columns, as qmail does */
#define FIELD_MAX 65536    /* one header field, continuation lines included */
#define HEADER_MAX 1048576 /* the header as it is queued */
#define ADDR_MAX 1000      /* qmail-queue refuses longer envelope addresses */
#define RCPT_MAX 10000     /* envelope recipients of one message */

static struct qq qq;
static int qqopen;

/* A message that has gone half-way into the queue program must not be
 * committed: qq_fail makes qq_close kill it before it can. */
static void qq_abort(void)
{
  if (!qqopen) return;
  qqopen = 0;
  qq_fail(&qq);
  qq_close(&qq);
}

/* Every fatal error goes through here, so that nothing half-written is
 * ever committed. */
#define die(code, ...) (qq_abort(), strerr_die((code), FATAL, __VA_ARGS__))

static NORETURN void die_nomem(void) { die(111, "out of memory"); }
static NORETURN void die_read(void)
{
  if (errno == ENOMEM) die_nomem();
  die(111, "read error: ", error_str(errno));
}
static NORETURN void die_write(void) { die(111, "unable to write output: ", error_str(errno)); }
static NORETURN void die_usage(void)
{
  strerr_die(100, "qmail-inject: usage: qmail-inject [ -nNaAhH ] [ -fsender ] [ recip ... ]");
}
static NORETURN void die_fieldlong(void) { die(100, "header field too long (more than 65536 bytes)"); }
static NORETURN void die_headerlong(void) { die(100, "header too long (more than 1048576 bytes)"); }
static NORETURN void die_norcpt(void) { die(100, "no recipients"); }
static NORETURN void die_manyrcpt(void) { die(100, "too many recipients (more than 10000)"); }

/* Text from the message for a diagnostic: NUL-terminated, without a final
 * newline, a NUL inside shown as '?'. */
static const char *shown(const char *s, size_t len)
{
  static stralloc sa = STRALLOC_ZERO;
  size_t i;
  if (len && s[len - 1] == '\n') --len;
  if (!stralloc_copyb(&sa, s, len) || !stralloc_0(&sa)) die_nomem();
  for (i = 0; i < len; ++i)
    if (!sa.s[i]) sa.s[i] = '?';
  return sa.s;
}

static NORETURN void die_invalid(const stralloc *h) { die(100, "invalid header field: ", shown(h->s, h->len)); }
static NORETURN void die_parse(const char *s, size_t len) { die(100, "unable to parse this line:\n", shown(s, len)); }
static NORETURN void die_parseaddr(const char *s) { die(100, "unable to parse address: ", s); }
static NORETURN void die_addrlong(const stralloc *a)
{
  die(100, "address too long (more than 1000 bytes): ", shown(a->s, 60), "...");
}
static NORETURN void die_addrnul(const stralloc *a) { die(100, "NUL byte in address: ", shown(a->s, a->len)); }

/* ---- settings: environment and control files ---- */

static int flagnamecomment, flagdeletesender, flagdeletefrom, flagdeletemessid, flaghackrecip, flaghackmess;
static const char *mailhost, *mailrhost, *mailuser, *mailruser, *fullname;
static int mailusertokentype;
static time_t starttime;
static unsigned long mypid;

static stralloc defaultdomain = STRALLOC_ZERO, defaulthost = STRALLOC_ZERO, plusdomain = STRALLOC_ZERO,
                idhost = STRALLOC_ZERO;
static struct token822_qualify qual = TOKEN822_QUALIFY_ZERO;

static void getenvironment(void)
{
  const char *x = env_get("QMAILINJECT");
  if (x)
    for (; *x; ++x)
      switch (*x) {
        case 'c': flagnamecomment = 1; break;
        case 's': flagdeletesender = 1; break;
        case 'f': flagdeletefrom = 1; break;
        case 'i': flagdeletemessid = 1; break;
        case 'r': flaghackrecip = 1; break;
        case 'm': flaghackmess = 1; break;
      }

  mailhost = env_get("QMAILHOST");
  if (!mailhost) mailhost = env_get("MAILHOST");
  mailrhost = env_get("QMAILSHOST");
  if (!mailrhost) mailrhost = mailhost;

  mailuser = env_get("QMAILUSER");
  if (!mailuser) mailuser = env_get("MAILUSER");
  if (!mailuser) mailuser = env_get("USER");
  if (!mailuser) mailuser = env_get("LOGNAME");
  if (!mailuser) mailuser = "anonymous";
  mailusertokentype = quote_need(mailuser, strlen(mailuser)) ? TOKEN822_QUOTE : TOKEN822_ATOM;
  mailruser = env_get("QMAILSUSER");
  if (!mailruser) mailruser = mailuser;

  fullname = env_get("QMAILNAME");
  if (!fullname) fullname = env_get("MAILNAME");
  if (!fullname) fullname = env_get("NAME");
}

/* $QMAILMFTFILE names the mailing lists (one address a line) whose
 * messages get a Mail-Followup-To field. Read before the chdir, so that a
 * relative name means what the caller meant. */
static stralloc mft = STRALLOC_ZERO;
static int flagmft;

static void getmft(void)
{
  const char *fn = env_get("QMAILMFTFILE");
  int r;
  if (!fn) return;
  r = control_readfile(&mft, fn, 0);
  if (r == -1) {
    if (errno == ENOMEM) die_nomem();
    die(111, "unable to read $QMAILMFTFILE ", fn, ": ", error_str(errno));
  }
  flagmft = r == 1;
}

static int haveme;

/* One control value: the environment's override if set (then the file is
 * not even opened), else the file, else control/me, else the literal name
 * qmail uses. */
static void getcontrol(stralloc *sa, const char *envname, const char *fn, const char *literal)
{
  const char *x = env_get(envname);
  int r;
  if (x) {
    if (!stralloc_copys(sa, x) || !stralloc_0(sa)) die_nomem();
    return;
  }
  r = control_readline(sa, fn);
  if (r == -1) {
    if (errno == ENOMEM) die_nomem();
    die(111, "unable to read ", fn, ": ", error_str(errno));
  }
  if (r == 1) {
    if (!stralloc_0(sa)) die_nomem();
    return;
  }
  if (!haveme) {
    r = control_init();
    if (r == -1) die(111, "unable to read control/me: ", error_str(errno));
    haveme = r == 1 ? 1 : -1;
  }
  if (haveme == 1) {
    if (!stralloc_copy(sa, &control_me)) die_nomem(); /* already NUL-terminated */
  } else if (!stralloc_copys(sa, literal) || !stralloc_0(sa))
    die_nomem();
}

static void getcontrols(void)
{
  int bad = 0, r;
  const char *names[3] = { "defaulthost", "defaultdomain", "plusdomain" };

  if (chdir(auto_qmail) == -1) die(111, "unable to switch to ", auto_qmail, ": ", error_str(errno));
  getcontrol(&defaultdomain, "QMAILDEFAULTDOMAIN", "control/defaultdomain", "defaultdomain");
  getcontrol(&defaulthost, "QMAILDEFAULTHOST", "control/defaulthost", "defaulthost");
  getcontrol(&plusdomain, "QMAILPLUSDOMAIN", "control/plusdomain", "plusdomain");
  getcontrol(&idhost, "QMAILIDHOST", "control/idhost", "idhost");
  --idhost.len; /* used as bytes, not as a C string */

  r = token822_qualify_init(&qual, defaulthost.s, defaultdomain.s, plusdomain.s, &bad);
  if (r == -1) die_nomem();
  if (!r) die(111, "unable to parse the ", names[bad], " name (control file or environment)");
}

/* ---- address lists ---- */

/* Addresses one after another, each NUL-terminated. */
struct alist {
  stralloc sa;
  size_t n;
};

static struct alist rcpts;  /* from the arguments */
static struct alist hr;     /* To, Cc, Bcc, Apparently-To */
static struct alist hrr;    /* Resent-To, Resent-Cc, Resent-Bcc */
static struct alist tocc;   /* To, Cc: for Mail-Followup-To */

static void alist_add(struct alist *l, const stralloc *a)
{
  if (!stralloc_cat(&l->sa, a) || !stralloc_0(&l->sa)) die_nomem();
  ++l->n;
}

/* An envelope recipient: the empty address (<>) goes nowhere and is left
 * out of the envelope. */
static void alist_addrcpt(struct alist *l, const stralloc *a)
{
  if (a->len) alist_add(l, a);
}

/* Every address qmail-inject rewrites must be one qmail-queue could take:
 * at most ADDR_MAX bytes and no NUL (which would cut it short). */
static void checkaddr(const stralloc *a)
{
  if (a->len > ADDR_MAX) die_addrlong(a);
  if (a->len && memchr(a->s, 0, a->len)) die_addrnul(a);
}

/* ---- the envelope sender ---- */

static stralloc sender = STRALLOC_ZERO;
static int flagsender;

static void setreturn(const stralloc *a)
{
  if (flagsender) return;
  if (!stralloc_copy(&sender, a)) die_nomem();
  if (flaghackrecip && !stralloc_cats(&sender, "-@[]")) die_nomem();
  flagsender = 1;
}

/* ---- rewriting address fields ---- */

enum rw { RW_SENDER, RW_RETURN, RW_TOCC, RW_HR, RW_HRR };

struct rwctx {
  enum rw how;
  size_t total; /* bytes of addresses so far in this field */
};

static stralloc unq = STRALLOC_ZERO;

/* token822_addrlist's callback: qualify the address (handed over in
 * reverse), then note it where it belongs. */
static int rewrite(token822_list *addr, void *arg)
{
  struct rwctx *c = arg;
  if (!token822_qualify(addr, &qual)) return -1;
  token822_reverse(addr);
  if (!token822_unquote(&unq, addr)) return -1;
  token822_reverse(addr);
  checkaddr(&unq);
  c->total += unq.len;
  if (c->total > HEADER_MAX) die_headerlong();
  switch (c->how) {
    case RW_SENDER: break;
    case RW_RETURN: setreturn(&unq); break;
    case RW_TOCC: alist_addrcpt(&hr, &unq); alist_add(&tocc, &unq); break;
    case RW_HR: alist_addrcpt(&hr, &unq); break;
    case RW_HRR: alist_addrcpt(&hrr, &unq); break;
  }
  return 1;
}

static token822_list hfin, hfrewrite, hfaddr;
static stralloc hfbuf = STRALLOC_ZERO;

/* Rewrites the address list in field (name, colon, list) in place.
 * Returns 1, or 0 if it does not parse. */
static int rewritefield(stralloc *field, enum rw how)
{
  struct rwctx c;
  int r;
  c.how = how;
  c.total = 0;
  r = token822_parse(&hfin, field->s, field->len, &hfbuf);
  if (r == -1) die_nomem();
  if (!r) return 0;
  r = token822_addrlist(&hfrewrite, &hfaddr, &hfin, 2, rewrite, &c);
  if (r == -1) die_nomem();
  if (!r) return 0;
  if (!token822_unparse(field, &hfrewrite, LINELEN)) die_nomem();
  return 1;
}

/* ---- the header ---- */

static int seen[HEADER_NUM];
static stralloc saved = STRALLOC_ZERO; /* the header fields kept, rewritten */

/* A list as it was, to take back what a field that turned out not to
 * parse had added. */
struct mark {
  size_t len, n;
};
static struct mark mark(const struct alist *l)
{
  struct mark m;
  m.len = l->sa.len;
  m.n = l->n;
  return m;
}
static void unmark(struct alist *l, struct mark m)
{
  l->sa.len = m.len;
  l->n = m.n;
}

static int dofield(void *arg, stralloc *h)
{
  int type = header_known(h->s, h->len);
  int mayfail = 0, rw = 1;
  enum rw how = RW_SENDER;
  (void)arg;

  if (flagdeletefrom && type == HEADER_FROM) return 0;
  if (flagdeletemessid && type == HEADER_MESSAGEID) return 0;
  if (flagdeletesender && type == HEADER_RETURNPATH) return 0;
  if (type) seen[type] = 1;
  else if (!header_valid(h->s, h->len)) die_invalid(h);

  switch (type) {
    case HEADER_TO: case HEADER_CC:
      how = RW_TOCC; mayfail = 1; break;
    case HEADER_BCC: case HEADER_APPARENTLYTO:
      how = RW_HR; mayfail = 1; break;
    case HEADER_R_TO: case HEADER_R_CC: case HEADER_R_BCC:
      how = RW_HRR; mayfail = 1; break;
    case HEADER_RETURNPATH:
      how = RW_RETURN; break;
    case HEADER_SENDER: case HEADER_FROM: case HEADER_REPLYTO:
    case HEADER_RETURNRECEIPTTO: case HEADER_ERRORSTO:
    case HEADER_R_SENDER: case HEADER_R_FROM: case HEADER_R_REPLYTO:
      how = RW_SENDER; break;
    default:
      rw = 0;
  }

  if (rw) {
    /* A recipient field that does not parse is kept as it is and adds no
     * recipient (notqmail); any other address field must parse. */
    struct mark mhr = mark(&hr), mhrr = mark(&hrr), mtocc = mark(&tocc);
    if (!rewritefield(h, how)) { /* h is unchanged then */
      if (!mayfail) die_parse(h->s, h->len);
      unmark(&hr, mhr);
      unmark(&hrr, mhrr);
      unmark(&tocc, mtocc);
    }
  }

  switch (type) {
    case HEADER_BCC: case HEADER_R_BCC: case HEADER_RETURNPATH: case HEADER_CONTENTLENGTH:
      return 0;
  }
  if (h->len > HEADER_MAX - saved.len) die_headerlong();
  if (!stralloc_cat(&saved, h)) die_nomem();
  return 0;
}

/* ---- writing the message ---- */

static int flagqueue = 1;
static char outspace[8192];
static buffer out; /* descriptor 1, for -n */

static void put(const char *s, size_t len)
{
  if (!len) return; /* s may be null then (an empty stralloc) */
  if (flagqueue) qq_put(&qq, s, len);
  else if (buffer_put(&out, s, len) == -1) die_write();
}

static int dobody(void *arg, const char *s, size_t len)
{
  (void)arg;
  put(s, len);
  return 0;
}

/* A made-up address field ("From: ..." or "Return-Path: ..."), built from
 * tokens as qmail builds it, written, read back and rewritten like one
 * from the message. */
static void makefield(stralloc *sa, const token822_list *tl, enum rw how)
{
  if (!token822_unparse(sa, tl, LINELEN)) die_nomem();
  if (!rewritefield(sa, how)) die_parse(sa->s, sa->len);
}

static void tokb(token822_list *tl, int type, const char *s, size_t len)
{
  struct token822 t;
  t.type = type;
  t.s = s;
  t.len = len;
  if (!token822_append(tl, &t)) die_nomem();
}
static void tok(token822_list *tl, int type, const char *s) { tokb(tl, type, s, s ? strlen(s) : 0); }

static stralloc defaultfrom = STRALLOC_ZERO;

static void defaultfrommake(void)
{
  token822_list tl = TOKEN822_LIST_ZERO;
  int named = fullname && !flagnamecomment;
  tok(&tl, TOKEN822_ATOM, "From");
  tok(&tl, TOKEN822_COLON, 0);
  if (named) {
    tok(&tl, TOKEN822_QUOTE, fullname);
    tok(&tl, TOKEN822_LEFT, 0);
  }
  tok(&tl, mailusertokentype, mailuser);
  if (mailhost) {
    tok(&tl, TOKEN822_AT, 0);
    tok(&tl, TOKEN822_ATOM, mailhost);
  }
  if (named) tok(&tl, TOKEN822_RIGHT, 0);
  if (fullname && flagnamecomment) tok(&tl, TOKEN822_COMMENT, fullname);
  makefield(&defaultfrom, &tl, RW_SENDER);
  token822_free(&tl);
}

/* The envelope sender when neither -f nor Return-Path gave one: the user
 * ($QMAILSUSER) at the host ($QMAILSHOST), with the VERP suffixes. */
static void defaultreturnpath(void)
{
  token822_list tl = TOKEN822_LIST_ZERO;
  stralloc user = STRALLOC_ZERO, field = STRALLOC_ZERO;
  if (!stralloc_copys(&user, mailruser)) die_nomem();
  if (flaghackmess)
    if (!stralloc_append(&user, '-') || !stralloc_catulong(&user, (unsigned long)starttime)
        || !stralloc_append(&user, '.') || !stralloc_catulong(&user, mypid))
      die_nomem();
  if (flaghackrecip && !stralloc_append(&user, '-')) die_nomem();
  tok(&tl, TOKEN822_ATOM, "Return-Path");
  tok(&tl, TOKEN822_COLON, 0);
  tokb(&tl, TOKEN822_QUOTE, user.s, user.len);
  if (mailrhost) {
    tok(&tl, TOKEN822_AT, 0);
    tok(&tl, TOKEN822_ATOM, mailrhost);
  }
  makefield(&field, &tl, RW_RETURN);
  token822_free(&tl);
  stralloc_free(&user);
  stralloc_free(&field);
}

/* Mail-Followup-To, when $QMAILMFTFILE lists one of the To and Cc
 * addresses (in any case) and the message has none: all of them. */
static int mftlisted(const char *a, size_t len)
{
  size_t pos = 0;
  while (pos < mft.len) {
    const char *m = mft.s + pos;
    size_t mlen = strlen(m), i;
    pos += mlen + 1;
    if (mlen != len) continue;
    for (i = 0; i < len; ++i) {
      unsigned char x = (unsigned char)a[i], y = (unsigned char)m[i];
      if (x >= 'A' && x <= 'Z') x += 32;
      if (y >= 'A' && y <= 'Z') y += 32;
      if (x != y) break;
    }
    if (i == len) return 1;
  }
  return 0;
}

static void mftmake(stralloc *top)
{
  stralloc q = STRALLOC_ZERO;
  size_t pos, end, start;
  int listed = 0;

  if (!flagmft || seen[HEADER_MAILFOLLOWUPTO]) return;
  for (pos = 0; pos < tocc.sa.len; pos += strlen(tocc.sa.s + pos) + 1)
    if (mftlisted(tocc.sa.s + pos, strlen(tocc.sa.s + pos))) listed = 1;
  if (!listed) return;

  /* qmail writes the list from its last address to its first. Fields
   * were read top-down and each field's addresses right to left, so this
   * gives the later fields first, each in its own order. */
  if (!stralloc_cats(top, "Mail-Followup-To: ")) die_nomem();
  for (end = tocc.sa.len; end > 0; end = start) {
    start = end - 1; /* the entry's NUL */
    while (start > 0 && tocc.sa.s[start - 1]) --start;
    if (!quote_addr(&q, tocc.sa.s + start, end - 1 - start) || !stralloc_cat(top, &q)) die_nomem();
    if (start && !stralloc_cats(top, ",\n  ")) die_nomem();
  }
  if (!stralloc_append(top, '\n')) die_nomem();
  stralloc_free(&q);
}

static int flagrh;     /* recipients from the header too */
static int flagresent;

static const struct alist *headerrcpts(void)
{
  if (!flagrh) return 0;
  return flagresent ? &hrr : &hr;
}

/* Before anything goes to the queue: a message that qmail-queue would
 * refuse, or that goes nowhere, is refused here with a reason. */
static void checkenvelope(void)
{
  const struct alist *h = headerrcpts();
  size_t n = rcpts.n + (h ? h->n : 0);
  if (!n) die_norcpt();
  if (n > RCPT_MAX) die_manyrcpt();
  checkaddr(&sender);
}

static int finishheader(void *arg)
{
  stralloc top = STRALLOC_ZERO, q = STRALLOC_ZERO;
  (void)arg;

  flagresent = seen[HEADER_R_SENDER] || seen[HEADER_R_FROM] || seen[HEADER_R_REPLYTO] || seen[HEADER_R_TO]
               || seen[HEADER_R_CC] || seen[HEADER_R_BCC] || seen[HEADER_R_DATE] || seen[HEADER_R_MESSAGEID];
  if (!flagsender) defaultreturnpath();

  if (!flagqueue) {
    if (!quote_addr(&q, sender.s, sender.len)) die_nomem();
    if (!stralloc_cats(&top, "Return-Path: <") || !stralloc_cat(&top, &q) || !stralloc_cats(&top, ">\n"))
      die_nomem();
  }

  if (flagresent) {
    if (!seen[HEADER_R_DATE])
      if (!stralloc_cats(&top, "Resent-") || !newfield_date(&top, starttime)) die_nomem();
    if (!seen[HEADER_R_MESSAGEID])
      if (!stralloc_cats(&top, "Resent-") || !newfield_msgid(&top, starttime, mypid, idhost.s, idhost.len))
        die_nomem();
    if (!seen[HEADER_R_FROM]) {
      defaultfrommake();
      if (!stralloc_cats(&top, "Resent-") || !stralloc_cat(&top, &defaultfrom)) die_nomem();
    }
    if (!seen[HEADER_R_TO] && !seen[HEADER_R_CC])
      if (!stralloc_cats(&top, "Resent-Cc: recipient list not shown: ;\n")) die_nomem();
  } else {
    if (!seen[HEADER_DATE] && !newfield_date(&top, starttime)) die_nomem();
    if (!seen[HEADER_MESSAGEID] && !newfield_msgid(&top, starttime, mypid, idhost.s, idhost.len)) die_nomem();
    if (!seen[HEADER_FROM]) {
      defaultfrommake();
      if (!stralloc_cat(&top, &defaultfrom)) die_nomem();
    }
    if (!seen[HEADER_TO] && !seen[HEADER_CC])
      if (!stralloc_cats(&top, "Cc: recipient list not shown: ;\n")) die_nomem();
    mftmake(&top);
  }
  if (top.len > HEADER_MAX - saved.len) die_headerlong();

  if (flagqueue) {
    checkenvelope();
    if (qq_open(&qq) == -1) die(111, "unable to run qmail-queue: ", error_str(errno));
    qqopen = 1;
  }
  put(top.s, top.len);
  put(saved.s, saved.len);
  stralloc_free(&top);
  stralloc_free(&q);
  return 0;
}

static const struct header_split_ops ops = { dofield, finishheader, dobody };

/* ---- reading the message ---- */

static char inspace[65536];
static buffer in;

/* The body, as it comes, ending with a newline as every line does. */
static void copybody(char last)
{
  for (;;) {
    ssize_t r = buffer_feed(&in);
    if (r == -1) die_read();
    if (!r) break;
    put(buffer_peek(&in), (size_t)r);
    last = buffer_peek(&in)[r - 1];
    buffer_seek(&in, (size_t)r);
  }
  if (last != '\n') put("\n", 1);
}

static void domessage(void)
{
  struct header_split hs = HEADER_SPLIT_ZERO;
  stralloc line = STRALLOC_ZERO;
  size_t inheader = 0;
  int r, eof = 0;

  header_split_init(&hs, FIELD_MAX);
  while (!eof) {
    line.len = 0;
    r = buffer_getline(&in, &line, '\n', FIELD_MAX);
    if (r == -1) die_read();
    if (r == 0) {
      eof = 1;
      if (!line.len) break;
      if (!stralloc_append(&line, '\n')) die_nomem(); /* the last line lacked its newline */
    }
    r = header_split_line(&hs, line.s, line.len, r == -2, &ops, 0);
    if (r == -1) die_nomem();
    if (r == -2) die_fieldlong();
    /* The header as read is bounded too, not only as kept: fields that
     * are dropped (Bcc, Content-Length) still add recipients. */
    if (r == 1 && (inheader += line.len) > HEADER_MAX) die_headerlong();
    if (r == 0) { /* the header has ended: the rest is body */
      copybody(line.s[line.len - 1]);
      break;
    }
  }
  if (header_split_eof(&hs, &ops, 0) == -1) die_nomem();
  header_split_free(&hs);
  stralloc_free(&line);
}

/* ---- the envelope ---- */

static void putlist(const struct alist *l)
{
  size_t pos;
  if (!l) return;
  for (pos = 0; pos < l->sa.len; pos += strlen(l->sa.s + pos) + 1) qq_to(&qq, l->sa.s + pos);
}

static NORETURN void finish(void)
{
  const char *err;
  if (!flagqueue) {
    if (buffer_flush(&out) == -1) die_write();
    _exit(0);
  }
  if (!stralloc_0(&sender)) die_nomem();
  qq_from(&qq, sender.s);
  putlist(&rcpts);
  putlist(headerrcpts());
  qqopen = 0;
  err = qq_close(&qq);
  if (*err) strerr_die(*err == 'D' ? 100 : 111, FATAL, err + 1);
  _exit(0);
}

/* ---- the command line ---- */

static stralloc arg = STRALLOC_ZERO;
static token822_list argtok;

/* An address given as an argument (or -f): quoted where it needs to be,
 * parsed as one address and qualified. */
static int parsearg(stralloc *result, const char *s)
{
  if (!quote_addr(&arg, s, strlen(s))) die_nomem();
  switch (token822_parse(&argtok, arg.s, arg.len, &hfbuf)) {
    case -1: die_nomem();
    case 0: return 0;
  }
  token822_reverse(&argtok);
  if (!token822_qualify(&argtok, &qual)) die_nomem();
  token822_reverse(&argtok);
  if (!token822_unquote(result, &argtok)) die_nomem();
  return 1;
}

static void dorecip(const char *s)
{
  if (!parsearg(&unq, s)) die_parseaddr(s);
  checkaddr(&unq);
  alist_addrcpt(&rcpts, &unq);
  if (rcpts.n > RCPT_MAX) die_manyrcpt();
}

/* -f: the envelope sender, as given (qualified). "<>" is the empty
 * sender and "<addr>" is addr, as every sendmail takes them. */
static void dosender(const char *s)
{
  stralloc bare = STRALLOC_ZERO;
  size_t len = strlen(s);
  if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
    if (!stralloc_copyb(&bare, s + 1, len - 2) || !stralloc_0(&bare)) die_nomem();
    s = bare.s;
  }
  if (!parsearg(&sender, s)) die_parse(arg.s, arg.len);
  flagsender = 1;
  stralloc_free(&bare);
}

enum { RECIP_DEFAULT, RECIP_ARGS, RECIP_HEADER, RECIP_AH };

int main(int argc, char **argv)
{
  struct sgetopt g = SGETOPT_INIT;
  int strategy = RECIP_DEFAULT;
  int opt;

  sig_ignore(SIGPIPE);
  buffer_init(&in, 0, inspace, sizeof inspace, 0);
  buffer_init(&out, 1, outspace, sizeof outspace, 0);
  starttime = time(0);
  mypid = (unsigned long)getpid();

  getenvironment();
  getmft();
  getcontrols();

  while ((opt = sgetopt(&g, argc, argv, "aAhHnNf:")) != SGETOPT_END)
    switch (opt) {
      case 'a': strategy = RECIP_ARGS; break;
      case 'A': strategy = RECIP_DEFAULT; break;
      case 'h': strategy = RECIP_HEADER; break;
      case 'H': strategy = RECIP_AH; break;
      case 'n': flagqueue = 0; break;
      case 'N': flagqueue = 1; break;
      case 'f': dosender(g.arg); break;
      default:
        sgetopt_warn(&g, "qmail-inject");
        die_usage();
    }
  argv += g.ind;

  if (strategy == RECIP_DEFAULT) strategy = *argv ? RECIP_ARGS : RECIP_HEADER;
  if (strategy != RECIP_HEADER)
    for (; *argv; ++argv) dorecip(*argv);
  flagrh = strategy != RECIP_ARGS;

  domessage();
  finish();
}
