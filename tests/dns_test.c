/* Tests for lib/dns.c: names, the packet parser on recorded answers (byte
 * arrays, some built by the small builder below), dns_outcome, and dns_mx
 * and dns_host through a fake transport that answers from a table.
 * not tested: res_query itself (no resolver here; the netns e2e test does
 * that), getrandom failing (the fallback seed). */

#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "dns.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

/* ---- names ---- */

static void test_names(void)
{
  static const struct { const char *in; int ok; const char *wire; size_t wlen; const char *text; } cases[] = {
    { "example.com", 1, "\7example\3com", 13, "example.com" },
    { "example.com.", 1, "\7example\3com", 13, "example.com" },
    { "Ex-A_1.COM", 1, "\6Ex-A_1\3COM", 12, "Ex-A_1.COM" },
    { ".", 1, "", 1, "." },
    { "a", 1, "\1a", 3, "a" },
    { "a\\.b.c", 1, "\3a.b\1c", 7, "a\\046b.c" },
    { "a\\032b", 1, "\3a b", 5, "a\\032b" },
    { "\\065", 1, "\1A", 3, "A" },
    { "", 0, 0, 0, 0 },
    { "..", 0, 0, 0, 0 },
    { ".a", 0, 0, 0, 0 },
    { "a..b", 0, 0, 0, 0 },
    { "a.b..", 0, 0, 0, 0 },
    { "a\\", 0, 0, 0, 0 },
    { "a\\25", 0, 0, 0, 0 },
    { "a\\256", 0, 0, 0, 0 },
    { "a\\2x5", 0, 0, 0, 0 },
    /* 63 is the longest label */
    { "123456789012345678901234567890123456789012345678901234567890123.x", 1, 0, 67, 0 },
    { "1234567890123456789012345678901234567890123456789012345678901234.x", 0, 0, 0, 0 },
  };
  unsigned char w[DNS_NAMEMAX], w2[DNS_NAMEMAX];
  char text[DNS_TEXTMAX];
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    int r = dns_name_fromtext(w, cases[i].in, strlen(cases[i].in));
    check_long(r, cases[i].ok, "fromtext %zu (%s)", i, cases[i].in);
    if (!r || !cases[i].ok) continue;
    if (cases[i].wire) check_bytes((char *)w, strlen((char *)w) + 1, cases[i].wire, cases[i].wlen, "fromtext %zu: wire", i);
    if (cases[i].text) {
      check_long(dns_name_totext(text, sizeof text, w), strlen(cases[i].text), "totext %zu: length", i);
      check_str(text, cases[i].text, "totext %zu", i);
      check_long(dns_name_fromtext(w2, text, strlen(text)), 1, "totext %zu reads back", i);
      check(dns_name_equal(w, w2), "totext %zu reads back to the same name", i);
    }
  }

  /* total length: 255 bytes of wire at most (127 labels "a." = 254 + root would be 255) */
  {
    char s[400];
    size_t k, len = 0;
    for (k = 0; k < 127; ++k) { s[len++] = 'a'; s[len++] = '.'; }
    check_long(dns_name_fromtext(w, s, len), 1, "127 one-byte labels (255 bytes of wire)");
    s[len++] = 'b';
    check_long(dns_name_fromtext(w, s, len), 0, "128 one-byte labels (257 bytes)");
  }
  check_long(dns_name_totext(text, 4, (const unsigned char *)"\4abcd"), 0, "totext that does not fit");
  check_long(dns_name_totext(text, 5, (const unsigned char *)"\4abcd"), 4, "totext that just fits");
  check(dns_name_equal((const unsigned char *)"\3ABC\3com", (const unsigned char *)"\3abc\3COM"), "equal ignores case");
  check(!dns_name_equal((const unsigned char *)"\3abc\3com", (const unsigned char *)"\3abd\3com"), "different names");
  check(!dns_name_equal((const unsigned char *)"\3abc", (const unsigned char *)"\3abc\3com"), "a prefix is different");
  check(!dns_name_equal((const unsigned char *)"\3a\1b", (const unsigned char *)"\1a\1b"), "labels matter");
}

/* ---- a builder of answers ---- */

struct pkt { unsigned char b[4096]; size_t len; };

static void put(struct pkt *p, const void *s, size_t n) { memcpy(p->b + p->len, s, n); p->len += n; }
static void put16(struct pkt *p, unsigned v) { p->b[p->len++] = (unsigned char)(v >> 8); p->b[p->len++] = (unsigned char)v; }
static void putname(struct pkt *p, const char *text)
{
  unsigned char w[DNS_NAMEMAX];
  if (!strcmp(text, "@")) { put16(p, 0xc00c); return; } /* the question's name */
  if (!dns_name_fromtext(w, text, strlen(text))) { printf("bad name %s in a test\n", text); exit(1); }
  put(p, w, strlen((char *)w) + 1);
}

/* An answer to (qname, qtype) with rcode and records given as strings
 * "owner TYPE data": owner "@" is a pointer to the question, TYPE is A,
 * AAAA, MX (data "pref name"), CNAME, TXT (data as is) or CH-A (class CH). */
static void build(struct pkt *p, unsigned flags3, const char *qname, unsigned qtype, const char *const *rrs, size_t n)
{
  size_t i;
  p->len = 0;
  put(p, "\x12\x34\x81", 3);
  p->b[p->len++] = (unsigned char)flags3; /* RA, rcode */
  put16(p, 1);
  put16(p, (unsigned)n);
  put16(p, 0);
  put16(p, 0);
  putname(p, qname);
  put16(p, qtype);
  put16(p, 1);
  for (i = 0; i < n; ++i) {
    char owner[300], type[16], data[300];
    size_t rdpos;
    if (sscanf(rrs[i], "%299s %15s %299[^\n]", owner, type, data) != 3) { printf("bad rr %s\n", rrs[i]); exit(1); }
    putname(p, owner);
    put16(p, !strcmp(type, "A") || !strcmp(type, "CH-A") ? 1 : !strcmp(type, "AAAA") ? 28 : !strcmp(type, "MX") ? 15
             : !strcmp(type, "CNAME") ? 5 : 16);
    put16(p, !strcmp(type, "CH-A") ? 3 : 1);
    put(p, "\0\0\1\0", 4); /* ttl */
    rdpos = p->len;
    put16(p, 0);
    if (!strcmp(type, "A") || !strcmp(type, "CH-A")) { inet_pton(AF_INET, data, p->b + p->len); p->len += 4; }
    else if (!strcmp(type, "AAAA")) { inet_pton(AF_INET6, data, p->b + p->len); p->len += 16; }
    else if (!strcmp(type, "MX")) {
      char name[300];
      unsigned pref;
      sscanf(data, "%u %299s", &pref, name);
      put16(p, pref);
      putname(p, name);
    } else if (!strcmp(type, "CNAME")) putname(p, data);
    else { p->b[p->len++] = (unsigned char)strlen(data); put(p, data, strlen(data)); }
    p->b[rdpos] = (unsigned char)((p->len - rdpos - 2) >> 8);
    p->b[rdpos + 1] = (unsigned char)(p->len - rdpos - 2);
  }
}

static int parse(struct dns_answer *a, const unsigned char *pkt, size_t len, const char *qname, unsigned qtype)
{
  unsigned char w[DNS_NAMEMAX];
  dns_name_fromtext(w, qname, strlen(qname));
  return dns_parse(a, pkt, len, w, qtype);
}

static const char *canon(const struct dns_answer *a)
{
  static char t[DNS_TEXTMAX];
  dns_name_totext(t, sizeof t, a->canon);
  return t;
}

static const char *rrname(const struct dns_answer *a, size_t i)
{
  static char t[DNS_TEXTMAX];
  dns_name_totext(t, sizeof t, a->rr[i].name);
  return t;
}

/* ---- the parser on recorded answers ---- */

/* "dig example.com MX" as a server sends it: the MX names compressed
 * against the question (offset 12) and against the first MX's data. */
static const unsigned char mx_example[] = {
  0xab, 0xcd, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
  7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 15, 0, 1,         /* 12: question */
  0xc0, 12, 0, 15, 0, 1, 0, 0, 0x0e, 0x10, 0, 8, 0, 10, 3, 'm', 'x', '1', 0xc0, 12, /* 29: MX 10 mx1.@ */
  0xc0, 12, 0, 15, 0, 1, 0, 0, 0x0e, 0x10, 0, 8, 0, 20, 3, 'm', 'x', '2', 0xc0, 47, /* 49: MX 20 mx2.(mx1's "example.com" pointer) */
};

static void test_parse_recorded(void)
{
  static struct dns_answer a;
  size_t k;

  check_long(parse(&a, mx_example, sizeof mx_example, "example.com", DNS_T_MX), 1, "recorded MX: parses");
  check_long(a.rcode, 0, "recorded MX: rcode");
  check_long(a.n, 2, "recorded MX: records");
  check_long(a.rr[0].pref, 10, "recorded MX: first pref");
  check_str(rrname(&a, 0), "mx1.example.com", "recorded MX: first name (pointer to the question)");
  check_long(a.rr[1].pref, 20, "recorded MX: second pref");
  check_str(rrname(&a, 1), "mx2.example.com", "recorded MX: second name (pointer into the first's data)");
  check_str(canon(&a), "example.com", "recorded MX: canonical name");
  check_long(dns_outcome((int)sizeof mx_example, 0, 1, &a), DNS_FOUND, "recorded MX: outcome");
  check_long(parse(&a, mx_example, sizeof mx_example, "EXAMPLE.Com.", DNS_T_MX), 1, "recorded MX: question in other case");
  check_long(parse(&a, mx_example, sizeof mx_example, "example.org", DNS_T_MX), 0, "recorded MX: not our question");
  check_long(parse(&a, mx_example, sizeof mx_example, "example.com", DNS_T_A), 0, "recorded MX: wrong qtype");
  /* Every proper prefix is malformed: no length is trusted. */
  for (k = 0; k < sizeof mx_example; ++k)
    if (parse(&a, mx_example, k, "example.com", DNS_T_MX) != 0) break;
  check_long(k, sizeof mx_example, "recorded MX: every truncation refused (first accepted prefix)");
  /* Extra bytes after the answer section (authority, additional) are not read. */
  {
    unsigned char big[sizeof mx_example + 5];
    memcpy(big, mx_example, sizeof mx_example);
    memset(big + sizeof mx_example, 0xff, 5);
    check_long(parse(&a, big, sizeof big, "example.com", DNS_T_MX), 1, "recorded MX: trailing bytes ignored");
    check_long(a.n, 2, "recorded MX: trailing bytes: records");
  }
  /* Header flags */
  {
    unsigned char b[sizeof mx_example];
    memcpy(b, mx_example, sizeof b);
    b[2] = 0x01; /* a query, not a response */
    check_long(parse(&a, b, sizeof b, "example.com", DNS_T_MX), 0, "QR clear refused");
    b[2] = 0x83; /* TC */
    check_long(parse(&a, b, sizeof b, "example.com", DNS_T_MX), 0, "TC refused");
    b[2] = 0x89; /* opcode 1 */
    check_long(parse(&a, b, sizeof b, "example.com", DNS_T_MX), 0, "opcode 1 refused");
    b[2] = 0x81;
    b[5] = 2; /* qdcount 2 */
    check_long(parse(&a, b, sizeof b, "example.com", DNS_T_MX), 0, "two questions refused");
    b[5] = 1;
    b[7] = 3; /* ancount 3, but only two records */
    check_long(parse(&a, b, sizeof b, "example.com", DNS_T_MX), 0, "ancount past the end refused");
    b[7] = 1; /* one record read, the rest ignored */
    check_long(parse(&a, b, sizeof b, "example.com", DNS_T_MX), 1, "ancount 1 reads one");
    check_long(a.n, 1, "ancount 1: records");
    b[7] = 2;
    b[40] = 9; /* first MX rdlength 9: the name ends before the data does */
    check_long(parse(&a, b, sizeof b, "example.com", DNS_T_MX), 0, "MX rdlength longer than its name refused");
    b[40] = 7;
    check_long(parse(&a, b, sizeof b, "example.com", DNS_T_MX), 0, "MX rdlength shorter than its name refused");
    b[40] = 8;
    b[48] = 48; /* a pointer to itself */
    check_long(parse(&a, b, sizeof b, "example.com", DNS_T_MX), 0, "pointer to itself refused");
    b[48] = 60; /* a pointer forwards */
    check_long(parse(&a, b, sizeof b, "example.com", DNS_T_MX), 0, "pointer forwards refused");
    b[48] = 12;
    b[47] = 0x40; /* extended label type */
    check_long(parse(&a, b, sizeof b, "example.com", DNS_T_MX), 0, "label type 0x40 refused");
  }
}

/* Compression loops and long names, as literal packets. */
static void test_parse_loops(void)
{
  static struct dns_answer a;
  /* The answer's owner is "a" + a pointer back to itself: a.a.a... until
   * the 255-byte bound stops it. */
  static const unsigned char loop1[] = {
    0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
    1, 'x', 0, 0, 1, 0, 1,
    1, 'a', 0xc0, 19, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4,
  };
  /* A chain of pointers, each to the one before, kept in a TXT record's
   * data; the A record's owner is the last one: at most 64 jumps. */
  unsigned char chain[400];
  size_t k, len = 0, n;

  check_long(parse(&a, loop1, sizeof loop1, "x", DNS_T_A), 0, "label and pointer loop refused");
  for (n = 10; n <= 100; n += 90) {
    memcpy(chain, "\0\0\x81\x80\0\1\0\2\0\0\0\0\1x\0\0\1\0\1", 19);
    len = 19;
    memcpy(chain + len, "\xc0\x0c\0\x10\0\1\0\0\0\0", 10); len += 10;
    chain[len++] = (unsigned char)(2 * n >> 8);
    chain[len++] = (unsigned char)(2 * n);
    chain[len] = 0xc0; chain[len + 1] = 12; len += 2; /* the first pointer: to "x" */
    for (k = 1; k < n; ++k) { chain[len] = (unsigned char)(0xc0 | (len - 2) >> 8); chain[len + 1] = (unsigned char)(len - 2); len += 2; }
    /* the A record, owned by the last pointer */
    chain[len] = (unsigned char)(0xc0 | (len - 2) >> 8); chain[len + 1] = (unsigned char)(len - 2); len += 2;
    memcpy(chain + len, "\0\1\0\1\0\0\0\0\0\4\1\2\3\4", 14); len += 14;
    check_long(parse(&a, chain, len, "x", DNS_T_A), n == 10, "chain of %zu pointers", n + 1);
    if (n == 10) check_long(a.n, 1, "chain of 11 pointers: the A record");
  }

  {
    /* An MX whose name is a pointer forwards, to a valid name in the next
     * record's data: refused (pointers only go back, RFC 1035 4.1.4 "a
     * prior occurrence"), which is what ends every loop. */
    static const unsigned char s[] = { 0, 0, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0, 1, 'x', 0, 0, 15, 0, 1,
      0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 0, 0, 4, 0, 10, 0xc0, 47,
      0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 0, 0, 3, 1, 'y', 0 };
    unsigned char b[sizeof s];
    check_long(parse(&a, s, sizeof s, "x", DNS_T_MX), 0, "pointer forwards to a valid name refused");
    memcpy(b, s, sizeof b);
    b[34] = 12; /* the same pointing back at the question */
    check_long(parse(&a, b, sizeof b, "x", DNS_T_MX), 1, "pointer backwards: parses");
    check_str(rrname(&a, 0), "x", "pointer backwards: the name");
  }
  {
    static const unsigned char s[] = { 0, 0, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0, 1, 'x', 0, 0, 1, 0, 1,
      0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 0, 0, 6, 0xc0, 12, 0xc0, 31, 0xc0, 33, /* TXT holding pointers 31,33,35 */
      0xc0, 35, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4 };
    check_long(parse(&a, s, sizeof s, "x", DNS_T_A), 1, "four pointers in a row");
    check_long(a.n, 1, "four pointers: the A record");
    check(a.n == 1 && !memcmp(a.rr[0].ip, "\1\2\3\4", 4), "four pointers: the address");
  }
}

static void test_parse_built(void)
{
  static struct dns_answer a;
  static struct pkt p;

  {
    static const char *const rrs[] = { "www.example.com CNAME a.example.net", "a.example.net CNAME b.example.org",
                                       "b.example.org A 192.0.2.7", "b.example.org A 192.0.2.8",
                                       "other.example A 192.0.2.99", "b.example.org CH-A 192.0.2.98",
                                       "b.example.org TXT hello" };
    build(&p, 0x80, "www.example.com", DNS_T_A, rrs, N(rrs));
    check_long(parse(&a, p.b, p.len, "www.example.com", DNS_T_A), 1, "CNAME chain: parses");
    check_long(a.cnames, 2, "CNAME chain: links");
    check_str(canon(&a), "b.example.org", "CNAME chain: canonical name");
    check_long(a.n, 2, "CNAME chain: records of the end (other owners, classes, types ignored)");
    check(!memcmp(a.rr[0].ip, "\xc0\x00\x02\x07", 4) && !memcmp(a.rr[1].ip, "\xc0\x00\x02\x08", 4), "CNAME chain: addresses");
    check_long(dns_outcome((int)p.len, 0, 1, &a), DNS_FOUND, "CNAME chain: outcome");
  }
  {
    /* the chain out of order in the packet */
    static const char *const rrs[] = { "b.example A 192.0.2.1", "a.example CNAME b.example", "@ CNAME a.example" };
    build(&p, 0x80, "q.example", DNS_T_A, rrs, N(rrs));
    check_long(parse(&a, p.b, p.len, "q.example", DNS_T_A), 1, "CNAME chain out of order: parses");
    check_str(canon(&a), "b.example", "CNAME chain out of order: canonical name");
    check_long(a.n, 1, "CNAME chain out of order: records");
  }
  {
    static const char *const rrs[] = { "@ CNAME b.example", "b.example CNAME q.example" };
    build(&p, 0x80, "q.example", DNS_T_MX, rrs, N(rrs));
    check_long(parse(&a, p.b, p.len, "q.example", DNS_T_MX), 1, "CNAME loop: parses");
    check_long(a.loop, 1, "CNAME loop: seen");
    check_long(dns_outcome((int)p.len, 0, 1, &a), DNS_SOFT, "CNAME loop: temporary");
  }
  {
    /* 8 links are allowed, 9 are not */
    static const char *const r8[] = { "@ CNAME c1.x", "c1.x CNAME c2.x", "c2.x CNAME c3.x", "c3.x CNAME c4.x",
                                      "c4.x CNAME c5.x", "c5.x CNAME c6.x", "c6.x CNAME c7.x", "c7.x CNAME c8.x",
                                      "c8.x A 192.0.2.1", "c8.x CNAME c9.x", "c9.x A 192.0.2.2" };
    build(&p, 0x80, "q.x", DNS_T_A, r8, 9);
    check_long(parse(&a, p.b, p.len, "q.x", DNS_T_A), 1, "8 CNAMEs: parses");
    check_long(dns_outcome((int)p.len, 0, 1, &a), DNS_FOUND, "8 CNAMEs: found");
    check_str(canon(&a), "c8.x", "8 CNAMEs: canonical name");
    build(&p, 0x80, "q.x", DNS_T_A, r8, N(r8));
    check_long(parse(&a, p.b, p.len, "q.x", DNS_T_A), 1, "9 CNAMEs: parses");
    check_long(dns_outcome((int)p.len, 0, 1, &a), DNS_SOFT, "9 CNAMEs: temporary");
  }
  {
    static const char *const rrs[] = { "@ CNAME target.example" };
    build(&p, 0x80, "q.example", DNS_T_MX, rrs, N(rrs));
    check_long(parse(&a, p.b, p.len, "q.example", DNS_T_MX), 1, "CNAME without data: parses");
    check_long(dns_outcome((int)p.len, 0, 1, &a), DNS_NODATA, "CNAME without data: NODATA");
    check_str(canon(&a), "target.example", "CNAME without data: for the target");
  }
  {
    build(&p, 0x83, "nx.example", DNS_T_MX, 0, 0);
    check_long(parse(&a, p.b, p.len, "nx.example", DNS_T_MX), 1, "NXDOMAIN: parses");
    check_long(a.rcode, 3, "NXDOMAIN: rcode");
    check_long(dns_outcome((int)p.len, 0, 1, &a), DNS_NXDOMAIN, "NXDOMAIN rcode: outcome");
    build(&p, 0x82, "sf.example", DNS_T_MX, 0, 0);
    check_long(parse(&a, p.b, p.len, "sf.example", DNS_T_MX), 1, "SERVFAIL: parses");
    check_long(a.rcode, 2, "SERVFAIL: rcode");
    check_long(dns_outcome((int)p.len, 0, 1, &a), DNS_SOFT, "SERVFAIL rcode: temporary");
    /* A SERVFAIL with no question at all still counts as SERVFAIL. */
    check_long(parse(&a, (const unsigned char *)"\0\0\x81\x82\0\0\0\0\0\0\0\0", 12, "sf.example", DNS_T_MX), 1,
               "SERVFAIL without a question: parses");
    check_long(dns_outcome(12, 0, 1, &a), DNS_SOFT, "SERVFAIL without a question: temporary");
    build(&p, 0x85, "r.example", DNS_T_MX, 0, 0);
    parse(&a, p.b, p.len, "r.example", DNS_T_MX);
    check_long(dns_outcome((int)p.len, 0, 1, &a), DNS_SOFT, "REFUSED rcode: temporary");
    build(&p, 0x80, "e.example", DNS_T_MX, 0, 0);
    parse(&a, p.b, p.len, "e.example", DNS_T_MX);
    check_long(dns_outcome((int)p.len, 0, 1, &a), DNS_NODATA, "NOERROR without answers: NODATA");
  }
  {
    static const char *const rrs[] = { "@ AAAA 2001:db8::1" };
    build(&p, 0x80, "q.example", DNS_T_A, rrs, 1);
    check_long(parse(&a, p.b, p.len, "q.example", DNS_T_A), 1, "AAAA in an A answer: ignored");
    check_long(a.n, 0, "AAAA in an A answer: no A");
    p.b[p.len - 25] = 1; /* the type becomes A: an A of 16 bytes */
    check_long(parse(&a, p.b, p.len, "q.example", DNS_T_A), 0, "A of 16 bytes refused");
  }
  {
    static const char *const rrs[] = { "@ A 192.0.2.1" };
    build(&p, 0x80, "q.example", DNS_T_A, rrs, 1);
    p.b[p.len - 5] = 5; /* rdlength 5 with 4 bytes left */
    check_long(parse(&a, p.b, p.len, "q.example", DNS_T_A), 0, "A rdlength past the end refused");
    p.b[p.len - 5] = 3;
    check_long(parse(&a, p.b, p.len - 1, "q.example", DNS_T_A), 0, "A of 3 bytes refused");
  }
  {
    /* more than DNS_MAXRR records: the first DNS_MAXRR are kept */
    const char *rrs[40];
    static char bufs[40][40];
    size_t i;
    for (i = 0; i < 40; ++i) { snprintf(bufs[i], sizeof bufs[i], "@ A 192.0.2.%zu", i + 1); rrs[i] = bufs[i]; }
    build(&p, 0x80, "many.example", DNS_T_A, rrs, 40);
    check_long(parse(&a, p.b, p.len, "many.example", DNS_T_A), 1, "40 A records: parses");
    check_long(a.n, DNS_MAXRR, "40 A records: DNS_MAXRR kept");
    check_long(a.rr[DNS_MAXRR - 1].ip[3], DNS_MAXRR, "40 A records: in order");
  }
}

static void test_outcome(void)
{
  static struct dns_answer a;
  static const struct { int n, herr, parsed; unsigned rcode; size_t rrs; int loop; int want; } cases[] = {
    { -1, HOST_NOT_FOUND, 0, 0, 0, 0, DNS_NXDOMAIN },
    { -1, NO_DATA, 0, 0, 0, 0, DNS_NODATA },
    { -1, TRY_AGAIN, 0, 0, 0, 0, DNS_SOFT },
    { -1, NO_RECOVERY, 0, 0, 0, 0, DNS_SOFT },
    { -1, NETDB_INTERNAL, 0, 0, 0, 0, DNS_SOFT },
    { -1, 0, 0, 0, 0, 0, DNS_SOFT },
    { -1, 12345, 0, 0, 0, 0, DNS_SOFT },
    { 100, 0, 0, 0, 0, 0, DNS_SOFT },     /* unparseable */
    { 100, 0, 1, 0, 1, 0, DNS_FOUND },
    { 100, 0, 1, 0, 0, 0, DNS_NODATA },
    { 100, 0, 1, 3, 0, 0, DNS_NXDOMAIN },
    { 100, 0, 1, 1, 0, 0, DNS_SOFT },     /* FORMERR */
    { 100, 0, 1, 2, 0, 0, DNS_SOFT },     /* SERVFAIL */
    { 100, 0, 1, 4, 0, 0, DNS_SOFT },     /* NOTIMP */
    { 100, 0, 1, 5, 0, 0, DNS_SOFT },     /* REFUSED */
    { 100, 0, 1, 9, 0, 0, DNS_SOFT },
    { 100, 0, 1, 0, 1, 1, DNS_SOFT },     /* CNAME loop */
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    memset(&a, 0, sizeof a);
    a.rcode = cases[i].rcode;
    a.n = cases[i].rrs;
    a.loop = cases[i].loop;
    check_long(dns_outcome(cases[i].n, cases[i].herr, cases[i].parsed, &a), cases[i].want, "outcome case %zu", i);
  }
}

/* ---- dns_mx through a fake transport ---- */

struct fake { char name[64]; unsigned type; int herr; struct pkt p; };
static struct fake fakes[80];
static size_t nfakes, nqueries, nunexpected;

static void fake_reset(void) { nfakes = nqueries = nunexpected = 0; }

/* Registers the answer to (name, type): records as for build(), or an
 * h_errno when herr is not 0. rcode3 is the header's 4th byte. */
static void fake(const char *name, unsigned type, int herr, unsigned rcode3, const char *const *rrs, size_t n)
{
  struct fake *f = &fakes[nfakes++];
  snprintf(f->name, sizeof f->name, "%s", name);
  f->type = type;
  f->herr = herr;
  if (!herr) build(&f->p, rcode3, name, type, rrs, n);
}

#define FAKE(name, type, ...) do { static const char *const r_[] = { __VA_ARGS__ }; \
  fake(name, type, 0, 0x80, r_, N(r_)); } while (0)

static int fake_transport(const char *name, unsigned int type, unsigned char *buf, size_t size, int *herr)
{
  size_t i;
  ++nqueries;
  for (i = 0; i < nfakes; ++i) {
    if (fakes[i].type != type || strcasecmp(fakes[i].name, name)) continue;
    if (fakes[i].herr) { *herr = fakes[i].herr; return -1; }
    if (fakes[i].p.len > size) return -1;
    memcpy(buf, fakes[i].p.b, fakes[i].p.len);
    return (int)fakes[i].p.len;
  }
  ++nunexpected;
  printf("# unexpected query %s type %u\n", name, type);
  *herr = TRY_AGAIN;
  return -1;
}

/* The list as "pref host ip, ..." */
static const char *show(const struct dns_list *l)
{
  static char out[8192];
  size_t i, o = 0;
  out[0] = 0;
  for (i = 0; i < l->len && o < sizeof out - 400; ++i) {
    char ip[DNS_IPFMT];
    dns_ipfmt(ip, &l->ip[i]);
    o += (size_t)snprintf(out + o, sizeof out - o, "%s%u %s %s", i ? ", " : "", l->ip[i].pref, l->ip[i].host, ip);
  }
  return out;
}

static void test_mx(void)
{
  static struct dns_list l;
  int r;

  dns_transport_set(fake_transport);

  fake_reset();
  FAKE("example.com", DNS_T_MX, "@ MX 20 b.example.com", "@ MX 10 a.example.com", "@ MX 30 c.example.net");
  FAKE("a.example.com", DNS_T_AAAA, "@ AAAA 2001:db8::a1", "@ AAAA 2001:db8::a2");
  FAKE("a.example.com", DNS_T_A, "@ A 192.0.2.1");
  fake("b.example.com", DNS_T_AAAA, NO_DATA, 0, 0, 0);
  FAKE("b.example.com", DNS_T_A, "@ A 192.0.2.2", "@ A 192.0.2.3");
  FAKE("c.example.net", DNS_T_AAAA, "@ AAAA 2001:db8::c");
  fake("c.example.net", DNS_T_A, NO_DATA, 0, 0, 0);
  r = dns_mx(&l, "example.com", 0);
  check_long(r, DNS_OK, "preferences: result");
  check_str(show(&l), "10 a.example.com 2001:db8::a1, 10 a.example.com 192.0.2.1, 10 a.example.com 2001:db8::a2, "
                      "20 b.example.com 192.0.2.2, 20 b.example.com 192.0.2.3, 30 c.example.net 2001:db8::c",
            "preferences: sorted, families alternating IPv6 first");
  check_long(l.why, DNS_WHY_NONE, "preferences: why");
  r = dns_mx(&l, "example.com", DNS_NOV6);
  check_str(show(&l), "10 a.example.com 192.0.2.1, 20 b.example.com 192.0.2.2, 20 b.example.com 192.0.2.3",
            "DNS_NOV6: IPv4 only");
  r = dns_mx(&l, "example.com", DNS_NOV4);
  check_str(show(&l), "10 a.example.com 2001:db8::a1, 10 a.example.com 2001:db8::a2, 30 c.example.net 2001:db8::c",
            "DNS_NOV4: IPv6 only");
  check_long(nunexpected, 0, "preferences: no unexpected queries");

  /* equal preferences: both orders happen */
  fake_reset();
  FAKE("eq.example", DNS_T_MX, "@ MX 10 one.eq.example", "@ MX 10 two.eq.example", "@ MX 5 zero.eq.example");
  FAKE("zero.eq.example", DNS_T_A, "@ A 192.0.2.10");
  FAKE("one.eq.example", DNS_T_A, "@ A 192.0.2.11");
  FAKE("two.eq.example", DNS_T_A, "@ A 192.0.2.12");
  {
    unsigned i, first1 = 0, first2 = 0, bad = 0;
    for (i = 0; i < 200; ++i) {
      r = dns_mx(&l, "eq.example", DNS_NOV6);
      if (r != DNS_OK || l.len != 3 || l.ip[0].ip[3] != 10) { ++bad; continue; }
      if (l.ip[1].ip[3] == 11 && l.ip[2].ip[3] == 12) ++first1;
      else if (l.ip[1].ip[3] == 12 && l.ip[2].ip[3] == 11) ++first2;
      else ++bad;
    }
    check_long(bad, 0, "equal preferences: the lower one always first, the two others after");
    check(first1 > 0 && first2 > 0, "equal preferences: both orders in 200 runs (%u and %u)", first1, first2);
    check(first1 > 50 && first2 > 50, "equal preferences: roughly even (%u and %u)", first1, first2);
  }
  {
    unsigned long i, seen[5] = { 0 }, bad = 0;
    for (i = 0; i < 1000; ++i) { unsigned long x = dns_random(5); if (x < 5) ++seen[x]; else ++bad; }
    check(!bad && seen[0] && seen[1] && seen[2] && seen[3] && seen[4], "dns_random(5) covers 0..4 only");
    check_long(dns_random(1), 0, "dns_random(1)");
  }

  /* the implicit MX, through NO_DATA and through an empty NOERROR answer */
  fake_reset();
  fake("plain.example", DNS_T_MX, NO_DATA, 0, 0, 0);
  FAKE("plain.example", DNS_T_AAAA, "@ AAAA 2001:db8::1");
  FAKE("plain.example", DNS_T_A, "@ A 192.0.2.1");
  fake("empty.example", DNS_T_MX, 0, 0x80, 0, 0);
  fake("empty.example", DNS_T_AAAA, 0, 0x80, 0, 0);
  FAKE("empty.example", DNS_T_A, "@ A 192.0.2.5");
  check_long(dns_mx(&l, "plain.example", 0), DNS_OK, "implicit MX: result");
  check_str(show(&l), "0 plain.example 2001:db8::1, 0 plain.example 192.0.2.1", "implicit MX: the domain's addresses");
  check_long(dns_mx(&l, "empty.example.", 0), DNS_OK, "implicit MX (empty answer): result");
  check_str(show(&l), "0 empty.example 192.0.2.5", "implicit MX (empty answer): addresses");

  /* permanent and temporary failures */
  fake_reset();
  fake("nx.example", DNS_T_MX, HOST_NOT_FOUND, 0, 0, 0);
  fake("nx2.example", DNS_T_MX, 0, 0x83, 0, 0);
  fake("sf.example", DNS_T_MX, TRY_AGAIN, 0, 0, 0);
  fake("sf2.example", DNS_T_MX, 0, 0x82, 0, 0);
  fake("nr.example", DNS_T_MX, NO_RECOVERY, 0, 0, 0);
  FAKE("null.example", DNS_T_MX, "@ MX 0 .");
  FAKE("null2.example", DNS_T_MX, "@ MX 0 .", "@ MX 10 mx.null2.example");
  FAKE("mx.null2.example", DNS_T_A, "@ A 192.0.2.20");
  fake("mx.null2.example", DNS_T_AAAA, NO_DATA, 0, 0, 0);
  fake("noaddr.example", DNS_T_MX, NO_DATA, 0, 0, 0);
  fake("noaddr.example", DNS_T_AAAA, NO_DATA, 0, 0, 0);
  fake("noaddr.example", DNS_T_A, NO_DATA, 0, 0, 0);
  FAKE("deadmx.example", DNS_T_MX, "@ MX 10 gone1.example", "@ MX 20 gone2.example");
  fake("gone1.example", DNS_T_AAAA, HOST_NOT_FOUND, 0, 0, 0);
  fake("gone1.example", DNS_T_A, HOST_NOT_FOUND, 0, 0, 0);
  fake("gone2.example", DNS_T_AAAA, NO_DATA, 0, 0, 0);
  fake("gone2.example", DNS_T_A, NO_DATA, 0, 0, 0);
  FAKE("softmx.example", DNS_T_MX, "@ MX 10 gone1.example", "@ MX 20 soft.example");
  fake("soft.example", DNS_T_AAAA, NO_DATA, 0, 0, 0);
  fake("soft.example", DNS_T_A, TRY_AGAIN, 0, 0, 0);
  FAKE("partial.example", DNS_T_MX, "@ MX 10 soft.example", "@ MX 20 ok.example");
  fake("ok.example", DNS_T_AAAA, TRY_AGAIN, 0, 0, 0);
  FAKE("ok.example", DNS_T_A, "@ A 192.0.2.30");
  FAKE("dup.example", DNS_T_MX, "@ MX 10 ok.example", "@ MX 20 ok2.example");
  fake("ok2.example", DNS_T_AAAA, NO_DATA, 0, 0, 0);
  FAKE("ok2.example", DNS_T_A, "@ A 192.0.2.30", "@ A 192.0.2.31");
  {
    static const struct { const char *domain; int r, why; const char *list; } cases[] = {
      { "nx.example", DNS_PERM, DNS_WHY_NXDOMAIN, "" },
      { "nx2.example", DNS_PERM, DNS_WHY_NXDOMAIN, "" },
      { "sf.example", DNS_TEMP, DNS_WHY_TEMP, "" },
      { "sf2.example", DNS_TEMP, DNS_WHY_TEMP, "" },
      { "nr.example", DNS_TEMP, DNS_WHY_TEMP, "" },
      { "null.example", DNS_PERM, DNS_WHY_NULLMX, "" },
      { "null2.example", DNS_OK, DNS_WHY_NONE, "10 mx.null2.example 192.0.2.20" },
      { "noaddr.example", DNS_PERM, DNS_WHY_NOADDR, "" },
      { "deadmx.example", DNS_PERM, DNS_WHY_NOADDR, "" },
      { "softmx.example", DNS_TEMP, DNS_WHY_TEMP, "" },
      { "partial.example", DNS_OK, DNS_WHY_NONE, "20 ok.example 192.0.2.30" },
      { "dup.example", DNS_OK, DNS_WHY_NONE, "10 ok.example 192.0.2.30, 20 ok2.example 192.0.2.31" },
      { "unknown.example", DNS_TEMP, DNS_WHY_TEMP, "" },  /* the fake says TRY_AGAIN */
      { "", DNS_PERM, DNS_WHY_BADNAME, "" },
      { ".", DNS_PERM, DNS_WHY_BADNAME, "" },
      { "a..example", DNS_PERM, DNS_WHY_BADNAME, "" },
      { "1234567890123456789012345678901234567890123456789012345678901234.example", DNS_PERM, DNS_WHY_BADNAME, "" },
    };
    size_t i;
    for (i = 0; i < N(cases); ++i) {
      size_t before = nqueries;
      r = dns_mx(&l, cases[i].domain, 0);
      check_long(r, cases[i].r, "failures %zu (%s): result", i, cases[i].domain);
      check_long(l.why, cases[i].why, "failures %zu (%s): why", i, cases[i].domain);
      check_str(show(&l), cases[i].list, "failures %zu (%s): list", i, cases[i].domain);
      if (cases[i].why == DNS_WHY_BADNAME) check_long(nqueries, before, "failures %zu: no query for a bad name", i);
    }
  }

  /* CNAMEs: for the domain (the MX belongs to the target), with the
   * implicit MX of the target, for an MX host, and a loop. */
  fake_reset();
  FAKE("alias.example", DNS_T_MX, "@ CNAME real.example", "real.example MX 10 mx.real.example");
  FAKE("mx.real.example", DNS_T_A, "@ CNAME host.real.example", "host.real.example A 192.0.2.40");
  FAKE("mx.real.example", DNS_T_AAAA, "@ CNAME host.real.example");
  FAKE("alias2.example", DNS_T_MX, "@ CNAME real2.example");
  FAKE("real2.example", DNS_T_A, "@ A 192.0.2.41");
  fake("real2.example", DNS_T_AAAA, NO_DATA, 0, 0, 0);
  FAKE("loop.example", DNS_T_MX, "@ CNAME loop2.example", "loop2.example CNAME loop.example");
  FAKE("hostloop.example", DNS_T_MX, "@ MX 1 hl.example");
  FAKE("hl.example", DNS_T_A, "@ CNAME hl.example");
  FAKE("hl.example", DNS_T_AAAA, "@ CNAME hl.example");
  check_long(dns_mx(&l, "alias.example", 0), DNS_OK, "CNAME for the domain: result");
  check_str(show(&l), "10 mx.real.example 192.0.2.40", "CNAME for the domain and the MX host");
  check_long(dns_mx(&l, "alias2.example", 0), DNS_OK, "CNAME, implicit MX: result");
  check_str(show(&l), "0 real2.example 192.0.2.41", "CNAME, implicit MX: the target's addresses");
  check_long(dns_mx(&l, "loop.example", 0), DNS_TEMP, "CNAME loop: temporary");
  check_long(l.why, DNS_WHY_CNAME, "CNAME loop: why");
  check_long(dns_mx(&l, "hostloop.example", 0), DNS_TEMP, "CNAME loop of the MX host: temporary");
  check_long(l.why, DNS_WHY_CNAME, "CNAME loop of the MX host: why");
  check_long(nunexpected, 0, "CNAMEs: no unexpected queries");

  /* at most DNS_MAXADDR addresses */
  fake_reset();
  {
    static char bufs[20][64], names[20][32];
    static const char *mxs[20];
    size_t i;
    for (i = 0; i < 20; ++i) {
      const char *rr[4];
      static char a[4][40];
      size_t k;
      snprintf(names[i], sizeof names[i], "h%zu.big.example", i);
      snprintf(bufs[i], sizeof bufs[i], "@ MX %zu %s", i, names[i]);
      mxs[i] = bufs[i];
      for (k = 0; k < 4; ++k) { snprintf(a[k], sizeof a[k], "@ A 10.0.%zu.%zu", i, k); rr[k] = a[k]; }
      fake(names[i], DNS_T_A, 0, 0x80, rr, 4);
    }
    fake("big.example", DNS_T_MX, 0, 0x80, mxs, 20);
    check_long(dns_mx(&l, "big.example", DNS_NOV6), DNS_OK, "80 addresses: result");
    check_long(l.len, DNS_MAXADDR, "80 addresses: DNS_MAXADDR kept");
    check_long(l.ip[DNS_MAXADDR - 1].pref, DNS_MAXADDR / 4 - 1, "80 addresses: the best ones");
    check_long(nqueries, 1 + DNS_MAXADDR / 4, "80 addresses: no queries once full");
  }

  /* dns_host */
  fake_reset();
  FAKE("relay.example", DNS_T_A, "@ A 192.0.2.50");
  FAKE("relay.example", DNS_T_AAAA, "@ AAAA 2001:db8::50");
  fake("norelay.example", DNS_T_A, HOST_NOT_FOUND, 0, 0, 0);
  fake("norelay.example", DNS_T_AAAA, HOST_NOT_FOUND, 0, 0, 0);
  check_long(dns_host(&l, "relay.example", 0), DNS_OK, "dns_host: result");
  check_str(show(&l), "0 relay.example 2001:db8::50, 0 relay.example 192.0.2.50", "dns_host: addresses");
  check_long(dns_host(&l, "norelay.example", 0), DNS_PERM, "dns_host NXDOMAIN: permanent");
  check_long(l.why, DNS_WHY_NOADDR, "dns_host NXDOMAIN: why");
  check_long(dns_host(&l, "x..y", 0), DNS_PERM, "dns_host bad name");
  check_long(l.why, DNS_WHY_BADNAME, "dns_host bad name: why");

  dns_transport_set(0);
}

static void test_literal(void)
{
  static const struct { const char *in; int ok; int family; const char *text; } cases[] = {
    { "[192.0.2.1]", 1, 4, "192.0.2.1" },
    { "192.0.2.1", 1, 4, "192.0.2.1" },
    { "[IPv6:2001:db8::1]", 1, 6, "2001:db8::1" },
    { "[ipv6:2001:DB8::1]", 1, 6, "2001:db8::1" },
    { "[IPV6:::ffff:192.0.2.1]", 1, 6, "::ffff:192.0.2.1" },
    { "2001:db8::1", 1, 6, "2001:db8::1" },
    { "::1", 1, 6, "::1" },
    { "[2001:db8::1]", 0, 0, 0 },       /* the tag is required */
    { "[IPv6:192.0.2.1]", 0, 0, 0 },
    { "[IPv4:192.0.2.1]", 0, 0, 0 },
    { "[192.0.2.256]", 0, 0, 0 },
    { "[192.0.2]", 0, 0, 0 },
    { "[192.0.2.1", 0, 0, 0 },
    { "192.0.2.1]", 0, 0, 0 },
    { "[]", 0, 0, 0 },
    { "", 0, 0, 0 },
    { "[ 192.0.2.1]", 0, 0, 0 },
    { "example.com", 0, 0, 0 },
    { "[IPv6:2001:db8::1::2]", 0, 0, 0 },
    { "[IPv6:]", 0, 0, 0 },
    { "[IPv6:2001:0db8:0000:0000:0000:0000:0000:0001:0000000000000000000000000000000000000000]", 0, 0, 0 },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    struct dns_ip ip;
    char text[DNS_IPFMT];
    int r = dns_literal(&ip, cases[i].in, strlen(cases[i].in));
    check_long(r, cases[i].ok, "literal %zu (%s)", i, cases[i].in);
    if (!r || !cases[i].ok) continue;
    check_long(ip.family, cases[i].family, "literal %zu: family", i);
    check_long(dns_ipfmt(text, &ip), strlen(cases[i].text), "literal %zu: text length", i);
    check_str(text, cases[i].text, "literal %zu: text", i);
    check_long(ip.pref, 0, "literal %zu: pref", i);
  }
  check_long(dns_literal(0 ? 0 : &(struct dns_ip){ 0 }, "[1.2.3.4]\0x", 11), 0, "literal with a NUL");
  check_long(dns_literal(&(struct dns_ip){ 0 }, "1.2.3.4", 7), 1, "literal by length");
  check_long(dns_literal(&(struct dns_ip){ 0 }, "1.2.3.45", 7), 1, "literal by length (shorter than the string)");
  check_str(dns_whytext(DNS_WHY_NULLMX), "the domain accepts no mail (null MX)", "whytext");
  check(dns_whytext(99) != 0, "whytext of an unknown value");
}

int main(void)
{
  test_names();
  test_parse_recorded();
  test_parse_loops();
  test_parse_built();
  test_outcome();
  test_mx();
  test_literal();
  return check_end();
}
