/* Tests for lib/smtpcmd.c.
 * not tested: running out of memory while copying an address. */

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "smtpcmd.h"
#include "stralloc.h"

#define N(a) (sizeof (a) / sizeof (a)[0])
#define IN(s) s, sizeof s - 1

/* s[0..len) with C escapes, so that a case's name stays on one line. */
static const char *show(const char *s, size_t len)
{
  static char buf[200];
  size_t i, n = 0;
  for (i = 0; i < len && n + 5 < sizeof buf; ++i) {
    unsigned char c = (unsigned char)s[i];
    if (c < 32 || c > 126 || c == '\\') n += (size_t)snprintf(buf + n, sizeof buf - n, "\\x%02x", c);
    else buf[n++] = (char)c;
  }
  buf[n] = 0;
  return buf;
}

static void test_verb(void)
{
  static const struct {
    const char *in; size_t len; enum smtpcmd_verb want; const char *arg; size_t arglen;
  } cases[] = {
    { IN("HELO host"), SMTPCMD_HELO, IN("host") },
    { IN("ehlo host"), SMTPCMD_EHLO, IN("host") },
    { IN("MAIL FROM:<a@b>"), SMTPCMD_MAIL, IN("FROM:<a@b>") },
    { IN("mail FROM:<a@b>"), SMTPCMD_MAIL, IN("FROM:<a@b>") },
    { IN("MaIl FROM:<a@b>"), SMTPCMD_MAIL, IN("FROM:<a@b>") },
    { IN("RCPT TO:<a@b>"), SMTPCMD_RCPT, IN("TO:<a@b>") },
    { IN("DATA"), SMTPCMD_DATA, IN("") },
    { IN("data"), SMTPCMD_DATA, IN("") },
    { IN("BDAT 10 LAST"), SMTPCMD_BDAT, IN("10 LAST") },
    { IN("RSET"), SMTPCMD_RSET, IN("") },
    { IN("VRFY joe"), SMTPCMD_VRFY, IN("joe") },
    { IN("EXPN list"), SMTPCMD_EXPN, IN("list") },
    { IN("NOOP"), SMTPCMD_NOOP, IN("") },
    { IN("NOOP anything at all"), SMTPCMD_NOOP, IN("anything at all") },
    { IN("QUIT"), SMTPCMD_QUIT, IN("") },
    { IN("HELP"), SMTPCMD_HELP, IN("") },
    { IN("AUTH PLAIN"), SMTPCMD_AUTH, IN("PLAIN") },
    { IN("STARTTLS"), SMTPCMD_STARTTLS, IN("") },
    { IN("starttls"), SMTPCMD_STARTTLS, IN("") },
    /* one space ends the verb; the rest of the line is the argument as is */
    { IN("QUIT "), SMTPCMD_QUIT, IN("") },
    { IN("QUIT  "), SMTPCMD_QUIT, IN(" ") },
    { IN("MAIL  FROM:<a>"), SMTPCMD_MAIL, IN(" FROM:<a>") },
    { IN("MAIL FROM:<a> "), SMTPCMD_MAIL, IN("FROM:<a> ") },
    { IN("HELO a\0b"), SMTPCMD_HELO, IN("a\0b") },
    /* unknown */
    { IN(""), SMTPCMD_UNKNOWN, IN("") },
    { IN(" "), SMTPCMD_UNKNOWN, IN("") },
    { IN(" QUIT"), SMTPCMD_UNKNOWN, IN("QUIT") },
    { IN("QUITX"), SMTPCMD_UNKNOWN, IN("") },
    { IN("QUI"), SMTPCMD_UNKNOWN, IN("") },
    { IN("Q"), SMTPCMD_UNKNOWN, IN("") },
    { IN("QUIT\r"), SMTPCMD_UNKNOWN, IN("") },
    { IN("QUIT\t"), SMTPCMD_UNKNOWN, IN("") },
    { IN("DATA\0"), SMTPCMD_UNKNOWN, IN("") },
    { IN("STARTTL"), SMTPCMD_UNKNOWN, IN("") },
    { IN("STARTTLSS"), SMTPCMD_UNKNOWN, IN("") },
    { IN("TURN"), SMTPCMD_UNKNOWN, IN("") },
    { IN("XYZZY plugh"), SMTPCMD_UNKNOWN, IN("plugh") },
    { IN("MAIL:FROM:<a>"), SMTPCMD_UNKNOWN, IN("") },
    { IN("\xcd" "AIL x"), SMTPCMD_UNKNOWN, IN("x") }, /* 'M' | 0x80 is not 'M' */
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    const char *arg = 0;
    size_t arglen = 777;
    enum smtpcmd_verb v = smtpcmd_verb(cases[i].in, cases[i].len, &arg, &arglen);
    check_long(v, cases[i].want, "verb case %zu (%s): verb", i, show(cases[i].in, cases[i].len));
    check_bytes(arg, arglen, cases[i].arg, cases[i].arglen, "verb case %zu: argument", i);
    check(arg >= cases[i].in && arg + arglen == cases[i].in + cases[i].len, "verb case %zu: argument ends the line", i);
  }
  {
    const char *arg = 0;
    size_t arglen = 777;
    check_long(smtpcmd_verb(0, 0, &arg, &arglen), SMTPCMD_UNKNOWN, "verb of a null empty line");
    check_long(arglen, 0, "verb of a null empty line: argument length");
  }
}

#define OK SMTPCMD_OK
#define SYN SMTPCMD_ESYNTAX
#define ADDR SMTPCMD_EADDR
#define UTF8 SMTPCMD_EUTF8
#define LONG SMTPCMD_ETOOLONG
#define PARAM SMTPCMD_EPARAM
#define PVAL SMTPCMD_EPARAMVALUE

struct pathcase {
  const char *in; size_t len;
  int ismail, utf8;
  enum smtpcmd_result want;
  const char *addr; size_t addrlen;
};

static void run_paths(const char *name, const struct pathcase *cases, size_t n)
{
  stralloc addr = STRALLOC_ZERO;
  size_t i;

  for (i = 0; i < n; ++i) {
    struct smtpcmd_params p;
    enum smtpcmd_result r;
    stralloc_copys(&addr, "junk");
    memset(&p, 0x55, sizeof p);
    r = smtpcmd_path(cases[i].in, cases[i].len, cases[i].ismail, cases[i].utf8, &addr, &p);
    check_long(r, cases[i].want, "%s case %zu (%s %.60s utf8=%d): result", name, i,
               cases[i].ismail ? "MAIL" : "RCPT", show(cases[i].in, cases[i].len), cases[i].utf8);
    if (r == OK && cases[i].want == OK) {
      check_bytes(addr.s, addr.len, cases[i].addr, cases[i].addrlen, "%s case %zu: address", name, i);
      check(addr.s[addr.len] == 0, "%s case %zu: address is NUL-terminated", name, i);
    }
  }
  stralloc_free(&addr);
}

static void test_path(void)
{
  static const struct pathcase cases[] = {
    /* brackets */
    { IN("FROM:<a@b.example>"), 1, 0, OK, IN("a@b.example") },
    { IN("TO:<a@b.example>"), 0, 0, OK, IN("a@b.example") },
    { IN("from:<a@b.example>"), 1, 0, OK, IN("a@b.example") },
    { IN("To:<a@b.example>"), 0, 0, OK, IN("a@b.example") },
    { IN("FROM:<A.B-c+d@Sub.B.Example>"), 1, 0, OK, IN("A.B-c+d@Sub.B.Example") },
    { IN("TO:<a@[192.0.2.1]>"), 0, 0, OK, IN("a@[192.0.2.1]") },
    /* spaces after the colon and after the path */
    { IN("FROM: <a@b>"), 1, 0, OK, IN("a@b") },
    { IN("FROM:   <a@b>"), 1, 0, OK, IN("a@b") },
    { IN("TO: <a@b>"), 0, 0, OK, IN("a@b") },
    { IN("FROM:<a@b> "), 1, 0, OK, IN("a@b") },
    { IN("FROM:<a@b>   "), 1, 0, OK, IN("a@b") },
    /* no brackets, as qmail accepts */
    { IN("FROM:a@b"), 1, 0, OK, IN("a@b") },
    { IN("TO:a@b"), 0, 0, OK, IN("a@b") },
    { IN("FROM: a@b"), 1, 0, OK, IN("a@b") },
    { IN("FROM:a@b "), 1, 0, OK, IN("a@b") },
    { IN("FROM:a@b SIZE=10"), 1, 0, OK, IN("a@b") },
    { IN("FROM:\"a b\"@c"), 1, 0, OK, IN("a b@c") },
    { IN("FROM:@r:a@b"), 1, 0, OK, IN("a@b") },
    { IN("FROM:a<b@c"), 1, 0, SYN, 0, 0 },
    { IN("FROM:a@b>"), 1, 0, SYN, 0, 0 },
    { IN("FROM:a\\>b@c"), 1, 0, OK, IN("a>b@c") },
    /* source routes */
    { IN("FROM:<@a:x@y>"), 1, 0, OK, IN("x@y") },
    { IN("TO:<@a,@b:x@y>"), 0, 0, OK, IN("x@y") },
    { IN("TO:<@a.example,@b.example:x@y.example>"), 0, 0, OK, IN("x@y.example") },
    { IN("TO:<@a>"), 0, 0, SYN, 0, 0 },
    { IN("TO:<@a:>"), 0, 0, SYN, 0, 0 },
    { IN("FROM:<@a:>"), 1, 0, SYN, 0, 0 },
    { IN("TO:<@a"), 0, 0, SYN, 0, 0 },
    { IN("TO:<@a b:x@y>"), 0, 0, SYN, 0, 0 },
    { IN("TO:<@a\"b\":x@y>"), 0, 0, SYN, 0, 0 },
    { IN("TO:@a"), 0, 0, SYN, 0, 0 },
    { IN("TO:@a: x"), 0, 0, SYN, 0, 0 },
    /* quoting and backslashes, as qmail's addrparse */
    { IN("TO:<\"a b\"@c>"), 0, 0, OK, IN("a b@c") },
    { IN("TO:<\"a>b\"@c>"), 0, 0, OK, IN("a>b@c") },
    { IN("TO:<\"a<b\"@c>"), 0, 0, OK, IN("a<b@c") },
    { IN("TO:<a\\>b@c>"), 0, 0, OK, IN("a>b@c") },
    { IN("TO:<a\\\\b@c>"), 0, 0, OK, IN("a\\b@c") },
    { IN("TO:<\"a\\\"b\"@c>"), 0, 0, OK, IN("a\"b@c") },
    { IN("TO:<\"a\\\\\"@c>"), 0, 0, OK, IN("a\\@c") },
    { IN("TO:<a\"b\"c@d>"), 0, 0, OK, IN("abc@d") },
    { IN("TO:<\"a\"@\"b\">"), 0, 0, OK, IN("a@b") },
    { IN("TO:<\"a b@c>"), 0, 0, SYN, 0, 0 },          /* open quote eats the '>' */
    { IN("TO:<a@c\\>"), 0, 0, SYN, 0, 0 },            /* escaped '>' is no end */
    { IN("TO:<a@c\\"), 0, 0, SYN, 0, 0 },
    { IN("TO:a@c\\"), 0, 0, SYN, 0, 0 },
    { IN("TO:<\"\">"), 0, 0, SYN, 0, 0 },
    { IN("FROM:<\"\">"), 1, 0, SYN, 0, 0 },           /* only <> is the null path */
    { IN("FROM:\"\""), 1, 0, SYN, 0, 0 },
    { IN("TO:<a\\ b@c>"), 0, 0, OK, IN("a b@c") },
    { IN("TO:<a b@c>"), 0, 0, SYN, 0, 0 },            /* unquoted space inside brackets */
    /* the null path and postmaster */
    { IN("FROM:<>"), 1, 0, OK, IN("") },
    { IN("FROM: <>"), 1, 0, OK, IN("") },
    { IN("FROM:<> SIZE=100"), 1, 0, OK, IN("") },
    { IN("TO:<>"), 0, 0, SYN, 0, 0 },
    { IN("TO:<postmaster>"), 0, 0, OK, IN("postmaster") },
    { IN("TO:<Postmaster>"), 0, 0, OK, IN("Postmaster") },
    { IN("TO:<joe>"), 0, 0, OK, IN("joe") },
    { IN("FROM:<joe>"), 1, 0, OK, IN("joe") },
    /* FROM:/TO: */
    { IN("FROM:<a@b>"), 0, 0, SYN, 0, 0 },
    { IN("TO:<a@b>"), 1, 0, SYN, 0, 0 },
    { IN(""), 1, 0, SYN, 0, 0 },
    { IN(""), 0, 0, SYN, 0, 0 },
    { IN("FROM"), 1, 0, SYN, 0, 0 },
    { IN("FROM:"), 1, 0, SYN, 0, 0 },
    { IN("FROM: "), 1, 0, SYN, 0, 0 },
    { IN("TO:"), 0, 0, SYN, 0, 0 },
    { IN("FROM <a@b>"), 1, 0, SYN, 0, 0 },
    { IN("FROM :<a@b>"), 1, 0, SYN, 0, 0 },
    { IN(" FROM:<a@b>"), 1, 0, SYN, 0, 0 },
    { IN("<a@b>"), 1, 0, SYN, 0, 0 },
    { IN("FRO:<a@b>"), 1, 0, SYN, 0, 0 },
    { IN("T:<a@b>"), 0, 0, SYN, 0, 0 },
    /* unbalanced, nested, trailing garbage */
    { IN("FROM:<a@b"), 1, 0, SYN, 0, 0 },
    { IN("FROM:<"), 1, 0, SYN, 0, 0 },
    { IN("TO:<a@b SIZE=1"), 0, 0, SYN, 0, 0 },
    { IN("TO:<<a@b>>"), 0, 0, SYN, 0, 0 },
    { IN("TO:<a<b@c>"), 0, 0, SYN, 0, 0 },
    { IN("TO:<a@b>>"), 0, 0, SYN, 0, 0 },
    { IN("TO:<a@b>x"), 0, 0, SYN, 0, 0 },
    { IN("TO:<a@b><c@d>"), 0, 0, SYN, 0, 0 },
    { IN("FROM:<>x"), 1, 0, SYN, 0, 0 },
    { IN("TO:a@b c@d"), 0, 0, PARAM, 0, 0 },         /* the second word is a parameter */
    { IN("FROM:Joe <a@b>"), 1, 0, PARAM, 0, 0 },  /* "<a@b>" is no keyword */
    { IN("TO:>a@b"), 0, 0, SYN, 0, 0 },
  };
  run_paths("path", cases, N(cases));
}

static void test_params(void)
{
  static const struct pathcase cases[] = {
    { IN("FROM:<a@b> SIZE=0"), 1, 0, OK, IN("a@b") },
    { IN("FROM:<a@b> SIZE=12345"), 1, 0, OK, IN("a@b") },
    { IN("FROM:<a@b> size=12345"), 1, 0, OK, IN("a@b") },
    { IN("FROM:<a@b>   SIZE=1   BODY=8BITMIME  "), 1, 0, OK, IN("a@b") },
    { IN("FROM:<a@b> SIZE=99999999999999999999999999999"), 1, 0, OK, IN("a@b") },
    { IN("FROM:<a@b> SIZE=abc"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> SIZE=12a"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> SIZE=-1"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> SIZE=+1"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> SIZE="), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> SIZE"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> SIZE=1=2"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> SIZE=1 SIZE=1"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> SIZE=1 size=2"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> BODY=7BIT"), 1, 0, OK, IN("a@b") },
    { IN("FROM:<a@b> BODY=8BITMIME"), 1, 0, OK, IN("a@b") },
    { IN("FROM:<a@b> body=8bitmime"), 1, 0, OK, IN("a@b") },
    { IN("FROM:<a@b> BODY=BINARYMIME"), 1, 0, PARAM, 0, 0 },
    { IN("FROM:<a@b> BODY=foo"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> BODY="), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> BODY"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> BODY=7BIT BODY=8BITMIME"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> SMTPUTF8"), 1, 0, OK, IN("a@b") },
    { IN("FROM:<a@b> smtputf8"), 1, 0, OK, IN("a@b") },
    { IN("FROM:<a@b> SMTPUTF8=yes"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> SMTPUTF8="), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> SMTPUTF8 SMTPUTF8"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> AUTH=<>"), 1, 0, OK, IN("a@b") },
    { IN("FROM:<a@b> AUTH=x"), 1, 0, OK, IN("a@b") },
    { IN("FROM:<a@b> AUTH=joe+40example.com"), 1, 0, OK, IN("a@b") },
    { IN("FROM:<a@b> AUTH=a+4"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> AUTH=a+4g"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> AUTH=<"), 1, 0, OK, IN("a@b") },   /* '<' is an xtext character */
    { IN("FROM:<a@b> AUTH="), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> AUTH"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> AUTH=<> AUTH=<>"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> RET=FULL"), 1, 0, PARAM, 0, 0 },
    { IN("FROM:<a@b> ENVID=x"), 1, 0, PARAM, 0, 0 },
    { IN("TO:<a@b> NOTIFY=NEVER"), 0, 0, PARAM, 0, 0 },
    { IN("TO:<a@b> ORCPT=rfc822;a@b"), 0, 0, PARAM, 0, 0 },
    { IN("TO:<a@b> SIZE=1"), 0, 0, PARAM, 0, 0 },       /* RCPT knows none */
    { IN("TO:<a@b> SMTPUTF8"), 0, 0, PARAM, 0, 0 },
    { IN("FROM:<a@b> XFOO"), 1, 0, PARAM, 0, 0 },
    { IN("FROM:<a@b> X-FOO=bar"), 1, 0, PARAM, 0, 0 },
    { IN("FROM:<a@b> =x"), 1, 0, PARAM, 0, 0 },
    { IN("FROM:<a@b> -X"), 1, 0, PARAM, 0, 0 },
    { IN("FROM:<a@b> SI_ZE=1"), 1, 0, PARAM, 0, 0 },
    { IN("FROM:<a@b> SIZE=1\x01"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> SIZE=1\0"), 1, 0, PVAL, 0, 0 },
    { IN("FROM:<a@b> SIZE\0=1"), 1, 0, PARAM, 0, 0 },
    { IN("FROM:<a@b>\tSIZE=1"), 1, 0, SYN, 0, 0 },      /* only spaces separate */
    { IN("FROM:<a@b> SIZE=1\tBODY=7BIT"), 1, 0, PVAL, 0, 0 },
    /* the first bad parameter decides */
    { IN("FROM:<a@b> XFOO SIZE=x"), 1, 0, PARAM, 0, 0 },
    { IN("FROM:<a@b> SIZE=x XFOO"), 1, 0, PVAL, 0, 0 },
  };
  struct {
    const char *in; size_t len; int hassize; unsigned long long size; int body, smtputf8, hasauth;
  } vals[] = {
    { IN("FROM:<a@b>"), 0, 0, 0, 0, 0 },
    { IN("FROM:<a@b> SIZE=0"), 1, 0, 0, 0, 0 },
    { IN("FROM:<a@b> SIZE=000"), 1, 0, 0, 0, 0 },
    { IN("FROM:<a@b> SIZE=12345"), 1, 12345, 0, 0, 0 },
    { IN("FROM:<a@b> SIZE=18446744073709551615"), 1, ULLONG_MAX, 0, 0, 0 },
    { IN("FROM:<a@b> SIZE=18446744073709551616"), 1, ULLONG_MAX, 0, 0, 0 },
    { IN("FROM:<a@b> SIZE=99999999999999999999999999999"), 1, ULLONG_MAX, 0, 0, 0 },
    { IN("FROM:<a@b> BODY=7BIT"), 0, 0, 7, 0, 0 },
    { IN("FROM:<a@b> BODY=8bitmime"), 0, 0, 8, 0, 0 },
    { IN("FROM:<a@b> SMTPUTF8"), 0, 0, 0, 1, 0 },
    { IN("FROM:<a@b> AUTH=<>"), 0, 0, 0, 0, 1 },
    { IN("FROM:<> SIZE=5 BODY=8BITMIME SMTPUTF8 AUTH=a+2Bb"), 1, 5, 8, 1, 1 },
    { IN("FROM:a@b BODY=7BIT SIZE=1"), 1, 1, 7, 0, 0 },
  };
  size_t i;
  stralloc addr = STRALLOC_ZERO;

  run_paths("param", cases, N(cases));
  for (i = 0; i < N(vals); ++i) {
    struct smtpcmd_params p;
    memset(&p, 0x55, sizeof p);
    check_long(smtpcmd_path(vals[i].in, vals[i].len, 1, 0, &addr, &p), OK, "params %zu (%s): result", i, vals[i].in);
    check_long(p.hassize, vals[i].hassize, "params %zu: hassize", i);
    check(p.size == vals[i].size, "params %zu: size %llu, want %llu", i, p.size, vals[i].size);
    check_long(p.body, vals[i].body, "params %zu: body", i);
    check_long(p.smtputf8, vals[i].smtputf8, "params %zu: smtputf8", i);
    check_long(p.hasauth, vals[i].hasauth, "params %zu: hasauth", i);
  }
  /* a null p is allowed */
  check_long(smtpcmd_path(IN("FROM:<a@b> SIZE=1"), 1, 0, &addr, 0), OK, "null params");
  check_bytes(addr.s, addr.len, "a@b", 3, "null params: address");
  stralloc_free(&addr);
}

static void test_bytes(void)
{
  static const struct pathcase cases[] = {
    /* 8-bit: needs SMTPUTF8 on this MAIL, or utf8 for RCPT */
    { IN("FROM:<j\xc3\xb6rg@b>"), 1, 0, UTF8, 0, 0 },
    { IN("FROM:<j\xc3\xb6rg@b>"), 1, 1, UTF8, 0, 0 },       /* utf8 is for RCPT only */
    { IN("FROM:<j\xc3\xb6rg@b> SMTPUTF8"), 1, 0, OK, IN("j\xc3\xb6rg@b") },
    { IN("FROM:<a@b> SMTPUTF8"), 1, 0, OK, IN("a@b") },
    { IN("TO:<j\xc3\xb6rg@b>"), 0, 0, UTF8, 0, 0 },
    { IN("TO:<j\xc3\xb6rg@b>"), 0, 1, OK, IN("j\xc3\xb6rg@b") },
    { IN("TO:<\xe2\x82\xac@\xe4\xbe\x8b.example>"), 0, 1, OK, IN("\xe2\x82\xac@\xe4\xbe\x8b.example") },
    { IN("TO:<\xf0\x9f\x98\x80@b>"), 0, 1, OK, IN("\xf0\x9f\x98\x80@b") },
    { IN("TO:<\xf4\x8f\xbf\xbf@b>"), 0, 1, OK, IN("\xf4\x8f\xbf\xbf@b") },  /* U+10FFFF */
    { IN("TO:<\xc2\xa0@b>"), 0, 1, OK, IN("\xc2\xa0@b") },                  /* U+00A0 */
    { IN("TO:<\xef\xbf\xbd@b>"), 0, 1, OK, IN("\xef\xbf\xbd@b") },          /* U+FFFD */
    { IN("TO:<\xed\x9f\xbf@b>"), 0, 1, OK, IN("\xed\x9f\xbf@b") },          /* U+D7FF */
    { IN("TO:<\xee\x80\x80@b>"), 0, 1, OK, IN("\xee\x80\x80@b") },          /* U+E000 */
    { IN("TO:\"\xc3\xb6 x\"@b"), 0, 1, OK, IN("\xc3\xb6 x@b") },
    /* invalid UTF-8 is EADDR with SMTPUTF8 or without */
    { IN("TO:<\xc0\xaf@b>"), 0, 1, ADDR, 0, 0 },        /* overlong '/' */
    { IN("TO:<\xc1\xbf@b>"), 0, 1, ADDR, 0, 0 },
    { IN("TO:<\xe0\x80\xaf@b>"), 0, 1, ADDR, 0, 0 },    /* overlong, 3 bytes */
    { IN("TO:<\xe0\x9f\xbf@b>"), 0, 1, ADDR, 0, 0 },
    { IN("TO:<\xf0\x80\x80\xaf@b>"), 0, 1, ADDR, 0, 0 },/* overlong, 4 bytes */
    { IN("TO:<\xf0\x8f\xbf\xbf@b>"), 0, 1, ADDR, 0, 0 },
    { IN("TO:<\xc0\x80@b>"), 0, 1, ADDR, 0, 0 },        /* modified-UTF-8 NUL */
    { IN("TO:<\xed\xa0\x80@b>"), 0, 1, ADDR, 0, 0 },    /* surrogate U+D800 */
    { IN("TO:<\xed\xbf\xbf@b>"), 0, 1, ADDR, 0, 0 },    /* surrogate U+DFFF */
    { IN("TO:<\xf4\x90\x80\x80@b>"), 0, 1, ADDR, 0, 0 },/* U+110000 */
    { IN("TO:<\xf5\x80\x80\x80@b>"), 0, 1, ADDR, 0, 0 },
    { IN("TO:<\xff@b>"), 0, 1, ADDR, 0, 0 },
    { IN("TO:<\xfe@b>"), 0, 1, ADDR, 0, 0 },
    { IN("TO:<\x80@b>"), 0, 1, ADDR, 0, 0 },            /* stray continuation */
    { IN("TO:<a\xbf@b>"), 0, 1, ADDR, 0, 0 },
    { IN("TO:<\xc3@b>"), 0, 1, ADDR, 0, 0 },            /* truncated */
    { IN("TO:<\xe2\x82@b>"), 0, 1, ADDR, 0, 0 },
    { IN("TO:<\xf0\x9f\x98@b>"), 0, 1, ADDR, 0, 0 },
    { IN("TO:<a@b\xc3>"), 0, 1, ADDR, 0, 0 },           /* truncated at the end */
    { IN("TO:a@b\xe2\x82"), 0, 1, ADDR, 0, 0 },
    { IN("TO:<\xc2\x80@b>"), 0, 1, ADDR, 0, 0 },        /* C1 control U+0080 */
    { IN("TO:<\xc2\x9b@b>"), 0, 1, ADDR, 0, 0 },        /* C1 CSI */
    { IN("TO:<\xc3\xb6@b>"), 0, 0, UTF8, 0, 0 },
    { IN("TO:<\xc0\xaf@b>"), 0, 0, ADDR, 0, 0 },
    { IN("FROM:<\xc0\xaf@b>"), 1, 0, ADDR, 0, 0 },
    { IN("FROM:<\xed\xa0\x80@b> SMTPUTF8"), 1, 0, ADDR, 0, 0 },
    /* control bytes, quoted, escaped or bare */
    { IN("TO:<a\0b@c>"), 0, 0, ADDR, 0, 0 },
    { IN("TO:<a\rb@c>"), 0, 0, ADDR, 0, 0 },
    { IN("TO:<a\nb@c>"), 0, 0, ADDR, 0, 0 },
    { IN("TO:<a\tb@c>"), 0, 0, ADDR, 0, 0 },
    { IN("TO:<a\x7f@c>"), 0, 0, ADDR, 0, 0 },
    { IN("TO:<a\x1b[31m@c>"), 0, 0, ADDR, 0, 0 },
    { IN("TO:<a@c\r\n>"), 0, 1, ADDR, 0, 0 },
    { IN("TO:<\"a\0b\"@c>"), 0, 0, ADDR, 0, 0 },
    { IN("TO:<\"a\rb\"@c>"), 0, 0, ADDR, 0, 0 },
    { IN("TO:<a\\\nb@c>"), 0, 0, ADDR, 0, 0 },
    { IN("TO:<a\\\0b@c>"), 0, 0, ADDR, 0, 0 },
    { IN("TO:a\0b@c"), 0, 0, ADDR, 0, 0 },
    { IN("TO:a@c\r"), 0, 0, ADDR, 0, 0 },
    { IN("FROM:<a@c\0>"), 1, 0, ADDR, 0, 0 },
    { IN("FROM:<\0>"), 1, 0, ADDR, 0, 0 },
  };
  run_paths("bytes", cases, N(cases));
}

static void test_length(void)
{
  static const struct { size_t local; int bracket; enum smtpcmd_result want; } cases[] = {
    { 998, 1, OK }, /* local part + "@b" = 1000 */
    { 997, 1, OK },
    { 999, 1, LONG },
    { 998, 0, OK },
    { 999, 0, LONG },
    { 5000, 1, LONG },
    { 100000, 1, LONG },
  };
  stralloc in = STRALLOC_ZERO, addr = STRALLOC_ZERO;
  size_t i, k;

  for (i = 0; i < N(cases); ++i) {
    enum smtpcmd_result r;
    stralloc_copys(&in, cases[i].bracket ? "TO:<" : "TO:");
    for (k = 0; k < cases[i].local; ++k) stralloc_append(&in, 'x');
    stralloc_cats(&in, cases[i].bracket ? "@b>" : "@b");
    r = smtpcmd_path(in.s, in.len, 0, 0, &addr, 0);
    check_long(r, cases[i].want, "length %zu+2 (bracket %d)", cases[i].local, cases[i].bracket);
    if (r == OK) check_long(addr.len, cases[i].local + 2, "length %zu+2: address length", cases[i].local);
    if (r == LONG) check(addr.len <= SMTPCMD_ADDRMAX + 1, "length %zu+2: the copy stayed bounded", cases[i].local);
  }
  /* the limit counts the unquoted address, not the line */
  stralloc_copys(&in, "TO:<\"");
  for (k = 0; k < 998; ++k) stralloc_append(&in, 'x');
  stralloc_cats(&in, "\"@b> ");
  check_long(smtpcmd_path(in.s, in.len, 0, 0, &addr, 0), OK, "quoted 998+2 is 1000 bytes");
  stralloc_copys(&in, "TO:<");
  for (k = 0; k < 500; ++k) stralloc_cats(&in, "\\x");
  stralloc_cats(&in, "@b>");
  check_long(smtpcmd_path(in.s, in.len, 0, 0, &addr, 0), OK, "500 escapes are 502 bytes");
  /* a syntax error past the limit is still a syntax error */
  stralloc_copys(&in, "TO:<");
  for (k = 0; k < 2000; ++k) stralloc_append(&in, 'x');
  check_long(smtpcmd_path(in.s, in.len, 0, 0, &addr, 0), SYN, "2000 bytes and no '>'");
  stralloc_free(&in);
  stralloc_free(&addr);
}

static void test_heloname(void)
{
  static const struct { const char *in; size_t len; int want; } cases[] = {
    { IN("mail.example.com"), 1 },
    { IN("[192.0.2.1]"), 1 },
    { IN("  mail.example.com  "), 1 },
    { IN("two words"), 1 },
    { IN("x"), 1 },
    { IN("h\xc3\xb6st.example"), 1 },
    { IN(""), 0 },
    { IN(" "), 0 },
    { IN("    "), 0 },
    { IN("a\0b"), 0 },
    { IN("a\rb"), 0 },
    { IN("a\nb"), 0 },
    { IN("a\tb"), 0 },
    { IN("a\x7f"), 0 },
    { IN("\x1b[2J"), 0 },
    { IN("h\xc3st"), 0 },
    { IN("h\xc2\x9bst"), 0 },
    { IN("h\xc0\xafst"), 0 },
    { IN("\t"), 0 },
  };
  size_t i;
  stralloc s = STRALLOC_ZERO;

  for (i = 0; i < N(cases); ++i)
    check_long(smtpcmd_heloname(cases[i].in, cases[i].len), cases[i].want, "heloname case %zu (%s)", i, show(cases[i].in, cases[i].len));
  /* 255 bytes is the limit, after trimming */
  for (i = 0; i < 255; ++i) stralloc_append(&s, 'h');
  check_long(smtpcmd_heloname(s.s, s.len), 1, "heloname of 255 bytes");
  stralloc_cats(&s, "   ");
  check_long(smtpcmd_heloname(s.s, s.len), 1, "heloname of 255 bytes and trailing spaces");
  s.len = 255;
  stralloc_append(&s, 'h');
  check_long(smtpcmd_heloname(s.s, s.len), 0, "heloname of 256 bytes");
  stralloc_free(&s);
}

static void test_bdat(void)
{
  static const struct { const char *in; size_t len; int r; unsigned long long size; int last; } cases[] = {
    { IN("0"), 1, 0, 0 },
    { IN("10"), 1, 10, 0 },
    { IN("10 LAST"), 1, 10, 1 },
    { IN("10 last"), 1, 10, 1 },
    { IN("10 LaSt"), 1, 10, 1 },
    { IN("0 LAST"), 1, 0, 1 },
    { IN("007"), 1, 7, 0 },
    { IN("10  LAST"), 1, 10, 1 },
    { IN("10 "), 1, 10, 0 },
    { IN("10 LAST "), 1, 10, 1 },
    { IN("1048576"), 1, 1048576, 0 },
    { IN(""), 0, 0, 0 },
    { IN(" "), 0, 0, 0 },
    { IN("LAST"), 0, 0, 0 },
    { IN(" 10"), 0, 0, 0 },
    { IN("-1"), 0, 0, 0 },
    { IN("+1"), 0, 0, 0 },
    { IN("1x"), 0, 0, 0 },
    { IN("10LAST"), 0, 0, 0 },
    { IN("10 LAS"), 0, 0, 0 },
    { IN("10 LASTX"), 0, 0, 0 },
    { IN("10 LAST x"), 0, 0, 0 },
    { IN("10 20"), 0, 0, 0 },
    { IN("10\tLAST"), 0, 0, 0 },
    { IN("10\0"), 0, 0, 0 },
    { IN("99999999999999999999999999"), 0, 0, 0 },
    { IN("18446744073709551616"), 0, 0, 0 },
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    unsigned long long size = 777;
    int last = 777, r = smtpcmd_bdat(cases[i].in, cases[i].len, &size, &last);
    check_long(r, cases[i].r, "bdat case %zu (%s): result", i, show(cases[i].in, cases[i].len));
    if (r == 1 && cases[i].r == 1) {
      check(size == cases[i].size, "bdat case %zu: size %llu, want %llu", i, size, cases[i].size);
      check_long(last, cases[i].last, "bdat case %zu: last", i);
    }
  }
  /* SIZE_MAX/2 is the largest size */
  {
    char buf[64];
    unsigned long long size = 0;
    int last = 1;
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)(SIZE_MAX / 2));
    check_long(smtpcmd_bdat(buf, strlen(buf), &size, &last), 1, "bdat SIZE_MAX/2");
    check(size == SIZE_MAX / 2 && last == 0, "bdat SIZE_MAX/2: value");
    snprintf(buf, sizeof buf, "%llu LAST", (unsigned long long)(SIZE_MAX / 2) + 1);
    check_long(smtpcmd_bdat(buf, strlen(buf), &size, &last), 0, "bdat SIZE_MAX/2 + 1");
  }
}

static void test_auth(void)
{
  static const struct {
    const char *in; size_t len; int r; const char *mech; size_t mlen; const char *resp; size_t rlen;
  } cases[] = {
    { IN("PLAIN"), 1, IN("PLAIN"), 0, 0 },
    { IN("plain"), 1, IN("plain"), 0, 0 },
    { IN("LOGIN"), 1, IN("LOGIN"), 0, 0 },
    { IN("CRAM-MD5"), 1, IN("CRAM-MD5"), 0, 0 },
    { IN("SCRAM-SHA-256"), 1, IN("SCRAM-SHA-256"), 0, 0 },
    { IN("X_Y"), 1, IN("X_Y"), 0, 0 },
    { IN("ABCDEFGHIJKLMNOPQRST"), 1, IN("ABCDEFGHIJKLMNOPQRST"), 0, 0 },
    { IN("PLAIN "), 1, IN("PLAIN"), 0, 0 },
    { IN("PLAIN AGpvZQBzZWNyZXQ="), 1, IN("PLAIN"), IN("AGpvZQBzZWNyZXQ=") },
    { IN("PLAIN AGpvZQBzZWNyZXQ=  "), 1, IN("PLAIN"), IN("AGpvZQBzZWNyZXQ=") },
    { IN("PLAIN ="), 1, IN("PLAIN"), IN("") },
    { IN("PLAIN =="), 1, IN("PLAIN"), IN("==") },       /* base64_decode refuses it */
    { IN("PLAIN !!!"), 1, IN("PLAIN"), IN("!!!") },
    { IN(""), 0, 0, 0, 0, 0 },
    { IN(" "), 0, 0, 0, 0, 0 },
    { IN(" PLAIN"), 0, 0, 0, 0, 0 },
    { IN("ABCDEFGHIJKLMNOPQRSTU"), 0, 0, 0, 0, 0 },    /* 21 characters */
    { IN("PL@IN"), 0, 0, 0, 0, 0 },
    { IN("PLAIN\tx"), 0, 0, 0, 0, 0 },
    { IN("PLAIN\0"), 0, 0, 0, 0, 0 },
    { IN("PLAIN  x"), 0, 0, 0, 0, 0 },
    { IN("PLAIN x y"), 0, 0, 0, 0, 0 },
    { IN("PLAIN = x"), 0, 0, 0, 0, 0 },
    { IN("PLAIN x\r"), 0, 0, 0, 0, 0 },
    { IN("PLAIN x\x7f"), 0, 0, 0, 0, 0 },
    { IN("PLAIN \xc3\xb6"), 0, 0, 0, 0, 0 },
    { IN("PL\xc3\xb6IN"), 0, 0, 0, 0, 0 },
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    const char *mech = 0, *resp = "junk";
    size_t mlen = 777, rlen = 777;
    int r = smtpcmd_auth(cases[i].in, cases[i].len, &mech, &mlen, &resp, &rlen);
    check_long(r, cases[i].r, "auth case %zu (%s): result", i, show(cases[i].in, cases[i].len));
    if (r == 1 && cases[i].r == 1) {
      check_bytes(mech, mlen, cases[i].mech, cases[i].mlen, "auth case %zu: mechanism", i);
      check_bytes(resp, rlen, cases[i].resp, cases[i].rlen, "auth case %zu: response", i);
    }
  }
}

int main(void)
{
  test_verb();
  test_path();
  test_params();
  test_bytes();
  test_length();
  test_heloname();
  test_bdat();
  test_auth();
  return check_end();
}
