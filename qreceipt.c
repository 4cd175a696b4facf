/* qreceipt: answer delivery-notice requests.
 *
 *   |qreceipt youraddress
 *
 * When youraddress is one of the addresses in a
 * Notice-Requested-Upon-Delivery-To field of the message's header,
 * qreceipt sends a success notice to the envelope sender ($SENDER), from
 * the empty sender, as qmail's qreceipt does. Only the header is read
 * (lib/header splits it into fields as qmail does). */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "buffer.h"
#include "env.h"
#include "error.h"
#include "header.h"
#include "qq.h"
#include "quote.h"
#include "sig.h"
#include "stralloc.h"
#include "strerr.h"
#include "token822.h"

#define FATAL "qreceipt: fatal: "
/* qmail has no limit. A header field longer than this (continuation
 * lines included) ends the reading: qreceipt acts on the fields before
 * it. A real Notice-Requested-Upon-Delivery-To field is far shorter. */
#define MAXFIELD 65536

static NORETURN void die_usage(void) { strerr_die(100, "qreceipt: usage: qreceipt deliveryaddress"); }
static NORETURN void die_nomem(void) { strerr_die(111, FATAL, "out of memory"); }
static NORETURN void die_read(void)
{
  if (errno == ENOMEM) die_nomem();
  strerr_die(111, FATAL, "unable to read message: ", error_str(errno));
}

static const char *target;
static int flagreceipt;

static stralloc messageid = STRALLOC_ZERO;
static stralloc notice = STRALLOC_ZERO;
static stralloc tokbuf = STRALLOC_ZERO;
static token822_list tokens = TOKEN822_LIST_ZERO;
static token822_list addr = TOKEN822_LIST_ZERO;
static token822_list rewritten = TOKEN822_LIST_ZERO;

static NORETURN void die_parse(stralloc *field)
{
  if (!stralloc_0(field)) die_nomem();
  strerr_die(100, FATAL, "unable to parse this: ", field->s);
}

/* token822_addrlist hands each address over last token first. */
static int rwnotice(token822_list *a, void *arg)
{
  int ok;
  (void)arg;
  token822_reverse(a);
  ok = token822_unquote(&notice, a);
  token822_reverse(a);
  if (!ok) return -1;
  if (notice.len == strlen(target) && (!notice.len || !memcmp(notice.s, target, notice.len))) flagreceipt = 1;
  return 1;
}

static void donotice(stralloc *field)
{
  switch (token822_parse(&tokens, field->s, field->len, &tokbuf)) {
    case -1: die_nomem();
    case 0: die_parse(field);
  }
  /* The first two tokens are the field's name and its colon. */
  switch (token822_addrlist(&rewritten, &addr, &tokens, 2, rwnotice, 0)) {
    case 1: break;
    case 0: die_parse(field);
    default: die_nomem();
  }
}

static int dofield(void *arg, stralloc *field)
{
  (void)arg;
  switch (header_known(field->s, field->len)) {
    case HEADER_MESSAGEID:
      if (!stralloc_copy(&messageid, field)) die_nomem();
      break;
    case HEADER_NOTICEREQUESTEDUPONDELIVERYTO:
      donotice(field);
      break;
  }
  return 0;
}

static int doend(void *arg) { (void)arg; return 0; }
static int dobody(void *arg, const char *s, size_t len) { (void)arg; (void)s; (void)len; return 0; }

static const struct header_split_ops ops = { dofield, doend, dobody };

static void sendnotice(const char *returnpath)
{
  stralloc quoted = STRALLOC_ZERO;
  struct qq qq;
  const char *qqx;

  if (!quote_addr(&quoted, returnpath, strlen(returnpath)) || !stralloc_0(&quoted)) die_nomem();
  if (qq_open(&qq) == -1) strerr_die(111, FATAL, "unable to fork: ", error_str(errno));
  qq_puts(&qq, "From: DELIVERY NOTICE SYSTEM <");
  qq_puts(&qq, quoted.s);
  qq_puts(&qq, ">\nTo: <");
  qq_puts(&qq, quoted.s);
  qq_puts(&qq, ">\nSubject: success notice\n\n"
               "Hi! This is the qreceipt program. Your message was delivered to the\n"
               "following address: ");
  qq_puts(&qq, target);
  qq_puts(&qq, ". Thanks for asking.\n");
  if (messageid.len) {
    qq_puts(&qq, "Your ");
    qq_put(&qq, messageid.s, messageid.len);
  }
  qq_from(&qq, "");
  qq_to(&qq, returnpath);
  qqx = qq_close(&qq);
  if (*qqx == 'D') strerr_die(100, FATAL, "permanent qmail-queue error: ", qqx + 1);
  if (*qqx) strerr_die(111, FATAL, "temporary qmail-queue error: ", qqx + 1);
}

int main(int argc, char **argv)
{
  struct header_split hs = HEADER_SPLIT_ZERO;
  stralloc line = STRALLOC_ZERO;
  const char *returnpath;
  char inspace[8192];
  buffer in;
  int toolong = 0;

  (void)argc;
  sig_ignore(SIGPIPE);
  if (!argv[0] || !(target = argv[1])) die_usage();
  if (!(returnpath = env_get("SENDER"))) strerr_die(100, FATAL, "SENDER not set");

  /* Only the header: the notice does not depend on the body. */
  buffer_init(&in, 0, inspace, sizeof inspace, 0);
  header_split_init(&hs, MAXFIELD);
  for (;;) {
    int r, h;
    line.len = 0;
    r = buffer_getline(&in, &line, '\n', MAXFIELD);
    if (r == -1) die_read();
    if (r == 0) {
      if (!line.len) break;
      if (!stralloc_append(&line, '\n')) die_nomem(); /* the last line lacked its newline */
    }
    h = header_split_line(&hs, line.s, line.len, r == -2, &ops, 0);
    if (h == -1) die_nomem();
    if (h == -2) { toolong = 1; break; }
    if (h == 0 || r == 0) break;
  }
  /* The last field, unless it was the one too long to read. */
  if (!toolong && header_split_eof(&hs, &ops, 0) == -1) die_nomem();

  if (!flagreceipt) _exit(0);
  /* Never answer a bounce, and never let a sender break the header. */
  if (!*returnpath || !strcmp(returnpath, "#@[]")) _exit(0);
  if (strpbrk(returnpath, "\r\n")) _exit(0);
  sendnotice(returnpath);
  _exit(0);
}
