/* Tests for lib/header.c.
 * not tested: running out of memory. */

#include "check.h"
#include "header.h"
#include "stralloc.h"

#define N(a) (sizeof (a) / sizeof (a)[0])
#define IN(s) s, sizeof s - 1

static void test_known(void)
{
  static const struct { const char *s; size_t len; int want; } cases[] = {
    { IN("To: x"), HEADER_TO },
    { IN("to:"), HEADER_TO },
    { IN("TO \t: x"), HEADER_TO },
    { IN("tO:x"), HEADER_TO },
    { IN("Tox: y"), 0 },
    { IN("T o: y"), 0 },
    { IN("To"), 0 },
    { IN("To "), 0 },
    { IN(""), 0 },
    { IN("Message-ID: <a@b>"), HEADER_MESSAGEID },
    { IN("message-id:"), HEADER_MESSAGEID },
    { IN("MESSAGE-ID:"), HEADER_MESSAGEID },
    { IN("Message_ID:"), 0 },                  /* the dash must be a dash */
    { IN("Message-IDs:"), 0 },
    { IN("Sender:"), HEADER_SENDER },
    { IN("From:"), HEADER_FROM },
    { IN("From x@y"), 0 },                     /* an mbox line is no field */
    { IN("Reply-To:"), HEADER_REPLYTO },
    { IN("Cc:"), HEADER_CC },
    { IN("Bcc:"), HEADER_BCC },
    { IN("Date:"), HEADER_DATE },
    { IN("Subject:"), HEADER_SUBJECT },
    { IN("Resent-Sender:"), HEADER_R_SENDER },
    { IN("Resent-From:"), HEADER_R_FROM },
    { IN("Resent-Reply-To:"), HEADER_R_REPLYTO },
    { IN("Resent-To:"), HEADER_R_TO },
    { IN("Resent-Cc:"), HEADER_R_CC },
    { IN("Resent-Bcc:"), HEADER_R_BCC },
    { IN("Resent-Date:"), HEADER_R_DATE },
    { IN("Resent-Message-ID:"), HEADER_R_MESSAGEID },
    { IN("Return-Receipt-To:"), HEADER_RETURNRECEIPTTO },
    { IN("Errors-To:"), HEADER_ERRORSTO },
    { IN("Apparently-To:"), HEADER_APPARENTLYTO },
    { IN("Received:"), HEADER_RECEIVED },
    { IN("Return-Path:"), HEADER_RETURNPATH },
    { IN("Delivered-To:"), HEADER_DELIVEREDTO },
    { IN("Content-Length:"), HEADER_CONTENTLENGTH },
    { IN("Content-Type:"), HEADER_CONTENTTYPE },
    { IN("Content-Transfer-Encoding:"), HEADER_CONTENTTRANSFERENCODING },
    { IN("Notice-Requested-Upon-Delivery-To:"), HEADER_NOTICEREQUESTEDUPONDELIVERYTO },
    { IN("Mail-Followup-To:"), HEADER_MAILFOLLOWUPTO },
    { IN("X-Mailer:"), 0 },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i)
    check_long(header_known(cases[i].s, cases[i].len), cases[i].want, "header_known case %zu", i);
  check_str(header_name(HEADER_MESSAGEID), "message-id", "header_name");
  check_str(header_name(0), "unknown-header", "header_name(0)");
  check_str(header_name(99), "unknown-header", "header_name out of range");
}

static void test_valid(void)
{
  static const struct { const char *s; size_t len; int want; } cases[] = {
    { IN("Subject: x"), 1 },
    { IN("X-Foo:"), 1 },
    { IN("X  \t:"), 1 },
    { IN("!#$%&'*+-/=?^_`{|}~.,;<>@[]()\"\\:"), 1 },
    { IN(": x"), 0 },
    { IN(" X: y"), 0 },
    { IN("X Y: z"), 0 },
    { IN("X\x01: z"), 0 },
    { IN("X\x7f: z"), 0 },
    { IN("X\x80: z"), 0 },
    { IN("X\0: z"), 0 },
    { IN("no colon"), 0 },
    { IN(""), 0 },
    { IN("\n"), 0 },
    { IN("a:b:c"), 1 },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i)
    check_long(header_valid(cases[i].s, cases[i].len), cases[i].want, "header_valid case %zu", i);
}

/* The split, as a log: F[field] for fields, E for the end of the header,
 * B[text] for body text, X<n> for a line refused with n. */
static stralloc logsa = STRALLOC_ZERO;

static void note(const char *tag, const char *s, size_t len)
{
  stralloc_cats(&logsa, tag);
  stralloc_append(&logsa, '[');
  stralloc_catb(&logsa, s, len);
  stralloc_append(&logsa, ']');
}
static int on_field(void *arg, stralloc *f) { (void)arg; note("F", f->s, f->len); return 0; }
static int on_end(void *arg) { (void)arg; stralloc_cats(&logsa, "E"); return 0; }
static int on_body(void *arg, const char *s, size_t len) { (void)arg; note("B", s, len); return 0; }
static int on_fail(void *arg, stralloc *f) { (void)arg; (void)f; return -1; }

static const struct header_split_ops ops = { on_field, on_end, on_body };

/* Feeds in line by line (adding the last line's newline, as callers do). */
static const char *split(const char *in, size_t len, size_t max)
{
  struct header_split hs = HEADER_SPLIT_ZERO;
  size_t pos = 0;
  logsa.len = 0;
  header_split_init(&hs, max);
  while (pos < len) {
    const char *nl = memchr(in + pos, '\n', len - pos);
    size_t k = nl ? (size_t)(nl - in - pos) + 1 : len - pos;
    stralloc line = STRALLOC_ZERO;
    int r;
    stralloc_copyb(&line, in + pos, k);
    if (!nl) stralloc_append(&line, '\n');
    r = header_split_line(&hs, line.s, line.len, 0, &ops, 0);
    if (r < 0) {
      stralloc_cats(&logsa, r == -2 ? "X2" : "X1");
      stralloc_free(&line);
      break;
    }
    stralloc_free(&line);
    pos += k;
  }
  header_split_eof(&hs, &ops, 0);
  header_split_free(&hs);
  stralloc_0(&logsa);
  return logsa.s;
}

static void test_split(void)
{
  static const struct { const char *in; size_t len; size_t max; const char *want; } cases[] = {
    { IN("A: 1\nB: 2\n\nbody\n"), 1000, "F[A: 1\n]F[B: 2\n]EB[\n]B[body\n]" },
    { IN("A: 1\n 2\n\tx\nB: y\n"), 1000, "F[A: 1\n 2\n\tx\n]F[B: y\n]E" },     /* continuations; no body */
    { IN("From x@y Mon\nA: 1\n\nb"), 1000, "F[MBOX-Line: From x@y Mon\n]F[A: 1\n]EB[\n]B[b\n]" },
    { IN("A: 1\nFrom x\n"), 1000, "F[A: 1\n]F[MBOX-Line: From x\n]E" },        /* anywhere in the header */
    { IN("A: 1\nnot a field\nmore\n"), 1000, "F[A: 1\n]EB[\n]B[not a field\n]B[more\n]" },
    { IN(" x\n"), 1000, "EB[\n]B[ x\n]" },                                      /* nothing to continue */
    { IN(""), 1000, "E" },
    { IN("\n"), 1000, "EB[\n]" },
    { IN("\nA: 1\n"), 1000, "EB[\n]B[A: 1\n]" },
    { IN("\r\n"), 1000, "EB[\n]B[\r\n]" },                                      /* CRLF is not blank */
    { IN("A: 1\r\n\r\n"), 1000, "F[A: 1\r\n]EB[\n]B[\r\n]" },
    { IN("A: 1"), 1000, "F[A: 1\n]E" },
    { IN("From \n"), 1000, "F[MBOX-Line: From \n]E" },
    { IN("from x\n"), 1000, "EB[\n]B[from x\n]" },
    { IN("A: 12345\n"), 9, "F[A: 12345\n]E" },                                 /* exactly max */
    { IN("A: 123456\n"), 9, "X2E" },
    { IN("A: 1\n 234\n"), 10, "F[A: 1\n 234\n]E" },                       /* continued up to max */
    { IN("A: 1\n 2345\n"), 10, "X2F[A: 1\n]E" },
    { IN("From x\n"), 18, "F[MBOX-Line: From x\n]E" },                  /* the prefix counts */
    { IN("From x\n"), 17, "X2E" },
    { IN("A: 1\n\nB: 2\n\n"), 1000, "F[A: 1\n]EB[\n]B[B: 2\n]B[\n]" },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) check_str(split(cases[i].in, cases[i].len, cases[i].max), cases[i].want, "split case %zu", i);
}

static void test_partial(void)
{
  struct header_split hs = HEADER_SPLIT_ZERO;
  static const struct header_split_ops failing = { on_fail, on_end, on_body };

  /* A cut line that would be a field, or continue one, is refused... */
  header_split_init(&hs, 100);
  logsa.len = 0;
  check_long(header_split_line(&hs, "A: 1\n", 5, 0, &ops, 0), 1, "partial: a field");
  check_long(header_split_line(&hs, " cont", 5, 1, &ops, 0), -2, "partial: a cut continuation is refused");
  check_long(header_split_line(&hs, "B: long", 7, 1, &ops, 0), -2, "partial: a cut field is refused");
  /* ...one that is body text ends the header. */
  check_long(header_split_line(&hs, "text", 4, 1, &ops, 0), 0, "partial: cut body text ends the header");
  check_long(header_split_line(&hs, "more\n", 5, 0, &ops, 0), 0, "partial: the rest is body");
  check_long(header_split_eof(&hs, &ops, 0), 0, "partial: eof after the header");
  stralloc_0(&logsa);
  check_str(logsa.s, "F[A: 1\n]EB[\n]B[text]B[more\n]", "partial: log");

  /* A callback's failure is passed on. */
  header_split_init(&hs, 100);
  check_long(header_split_line(&hs, "A: 1\n", 5, 0, &failing, 0), 1, "failing: a field");
  check_long(header_split_line(&hs, "B: 2\n", 5, 0, &failing, 0), -1, "failing: the callback's -1");
  header_split_free(&hs);
}

int main(void)
{
  test_known();
  test_valid();
  test_split();
  test_partial();
  stralloc_free(&logsa);
  return check_end();
}
