#include "dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* ---- names ---- */

static unsigned char lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c; }

/* The length of a wire name, with its final 0 (names here are always
 * well formed: they come from dns_name_fromtext or expand). */
static size_t name_len(const unsigned char *n)
{
  size_t i = 0;
  while (n[i]) i += (size_t)n[i] + 1;
  return i + 1;
}

int dns_name_equal(const unsigned char *a, const unsigned char *b)
{
  size_t i, la = name_len(a);
  if (la != name_len(b)) return 0;
  /* Length bytes are below 64, so lower() leaves them alone and a byte
   * compare of the whole name compares the structure too. */
  for (i = 0; i < la; ++i)
    if (lower(a[i]) != lower(b[i])) return 0;
  return 1;
}

int dns_name_fromtext(unsigned char *out, const char *s, size_t len)
{
  size_t i = 0, o = 0, lab = 0; /* lab: where the current label's length byte is */

  if (len == 1 && s[0] == '.') { out[0] = 0; return 1; }
  if (!len) return 0;
  out[0] = 0;
  o = 1;
  for (;;) {
    unsigned c;
    if (i == len || s[i] == '.') {
      if (o - lab - 1 == 0) return 0; /* an empty label */
      out[lab] = (unsigned char)(o - lab - 1);
      if (i == len || i + 1 == len) break; /* "a.b" or "a.b." */
      ++i;
      if (o + 1 > DNS_NAMEMAX - 1) return 0;
      lab = o;
      out[o++] = 0;
      continue;
    }
    c = (unsigned char)s[i++];
    if (c == '\\') {
      if (i == len) return 0;
      if (s[i] >= '0' && s[i] <= '9') {
        unsigned k;
        if (len - i < 3) return 0;
        c = 0;
        for (k = 0; k < 3; ++k) {
          if (s[i + k] < '0' || s[i + k] > '9') return 0;
          c = c * 10 + (unsigned)(s[i + k] - '0');
        }
        if (c > 255) return 0;
        i += 3;
      } else
        c = (unsigned char)s[i++];
    }
    if (o - lab - 1 >= 63) return 0;
    if (o + 1 > DNS_NAMEMAX - 1) return 0; /* room for the root's 0 */
    out[o++] = (unsigned char)c;
  }
  out[o++] = 0;
  return 1;
}

size_t dns_name_totext(char *out, size_t size, const unsigned char *name)
{
  size_t i = 0, o = 0;

  if (!size) return 0;
  if (!name[0]) {
    if (size < 2) return 0;
    out[0] = '.'; out[1] = 0;
    return 1;
  }
  while (name[i]) {
    size_t k, n = name[i++];
    if (o && o + 1 < size) out[o++] = '.';
    else if (o) return 0;
    for (k = 0; k < n; ++k, ++i) {
      unsigned char c = name[i];
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
        if (o + 1 >= size) return 0;
        out[o++] = (char)c;
      } else {
        if (o + 4 >= size) return 0;
        out[o++] = '\\';
        out[o++] = (char)('0' + c / 100);
        out[o++] = (char)('0' + c / 10 % 10);
        out[o++] = (char)('0' + c % 10);
      }
    }
  }
  out[o] = 0;
  return o;
}

/* ---- the packet parser ---- */

#define HEADER 12
#define MAXJUMPS 64

static unsigned get16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }

/* Expands the (possibly compressed) name at pkt[pos] into out (wire form).
 * *next is where the name ends in the packet. 1, or 0 if malformed: it
 * runs off the packet, is over 255 bytes, uses the reserved label types,
 * or has a pointer that does not point strictly backwards. Pointers only
 * going back, labels only going forward and the 255-byte bound together
 * end every loop; MAXJUMPS bounds the work on a chain of pointers. */
static int expand(const unsigned char *pkt, size_t len, size_t pos, unsigned char *out, size_t *next)
{
  size_t p = pos, o = 0, end = 0;
  unsigned jumps = 0;

  for (;;) {
    unsigned c;
    if (p >= len) return 0;
    c = pkt[p];
    if (c >= 0xc0) {
      size_t t;
      if (len - p < 2) return 0;
      t = (size_t)(c & 0x3f) << 8 | pkt[p + 1];
      if (t >= p) return 0;
      if (++jumps > MAXJUMPS) return 0;
      if (!end) end = p + 2;
      p = t;
      continue;
    }
    if (c >= 0x40) return 0; /* 0x40 and 0x80: extended and reserved label types */
    if (!c) break;
    if (len - p - 1 < c) return 0;
    if (o + 1 + c + 1 > DNS_NAMEMAX) return 0;
    memcpy(out + o, pkt + p, 1 + (size_t)c);
    o += 1 + (size_t)c;
    p += 1 + (size_t)c;
  }
  out[o] = 0;
  *next = end ? end : p + 1;
  return 1;
}

/* One resource record of the answer section, read and checked. */
struct rec {
  unsigned char owner[DNS_NAMEMAX];
  unsigned type, class;
  size_t rdata, rdlen;
};

/* Reads the record at *pos; 1 and *pos past it, or 0 if malformed. The
 * data of the types we use must fit the type exactly. */
static int next_rec(const unsigned char *pkt, size_t len, size_t *pos, struct rec *r, unsigned char *target)
{
  size_t p, end;

  if (!expand(pkt, len, *pos, r->owner, &p)) return 0;
  if (len - p < 10) return 0;
  r->type = get16(pkt + p);
  r->class = get16(pkt + p + 2);
  r->rdlen = get16(pkt + p + 8);
  r->rdata = p + 10;
  if (len - r->rdata < r->rdlen) return 0;
  end = r->rdata + r->rdlen;
  if (r->class == C_IN) {
    size_t q;
    switch (r->type) {
      case DNS_T_A: if (r->rdlen != 4) return 0; break;
      case DNS_T_AAAA: if (r->rdlen != 16) return 0; break;
      case DNS_T_MX:
        if (r->rdlen < 3) return 0;
        if (!expand(pkt, len, r->rdata + 2, target, &q) || q != end) return 0;
        break;
      case DNS_T_CNAME:
        if (!expand(pkt, len, r->rdata, target, &q) || q != end) return 0;
        break;
      default: break;
    }
  }
  *pos = end;
  return 1;
}

int dns_parse(struct dns_answer *a, const unsigned char *pkt, size_t len, const unsigned char *qname,
              unsigned int qtype)
{
  static struct rec r;
  static unsigned char qn[DNS_NAMEMAX], target[DNS_NAMEMAX];
  size_t pos, ans, i;
  unsigned ancount;

  a->rcode = 0;
  a->cnames = 0;
  a->loop = 0;
  a->n = 0;
  memcpy(a->canon, qname, name_len(qname));
  if (len < HEADER) return 0;
  if (!(pkt[2] & 0x80)) return 0;           /* QR: not a response */
  if ((pkt[2] >> 3 & 0x0f) != 0) return 0;  /* OPCODE: not a QUERY */
  if (pkt[2] & 0x02) return 0;              /* TC: the resolver should have used TCP */
  a->rcode = pkt[3] & 0x0f;
  /* Other rcodes make the outcome temporary whatever follows. */
  if (a->rcode != 0 && a->rcode != 3) return 1;
  if (get16(pkt + 4) != 1) return 0;
  ancount = get16(pkt + 6);
  if (!expand(pkt, len, HEADER, qn, &pos)) return 0;
  if (len - pos < 4) return 0;
  if (!dns_name_equal(qn, qname) || get16(pkt + pos) != qtype || get16(pkt + pos + 2) != C_IN) return 0;
  ans = pos + 4;

  /* Every record is checked once, so that later passes cannot fail. */
  for (pos = ans, i = 0; i < ancount; ++i)
    if (!next_rec(pkt, len, &pos, &r, target)) return 0;

  /* The CNAME chain from qname, one pass per link. */
  for (;;) {
    int found = 0;
    for (pos = ans, i = 0; i < ancount && !found; ++i) {
      next_rec(pkt, len, &pos, &r, target);
      if (r.class == C_IN && r.type == DNS_T_CNAME && qtype != DNS_T_CNAME && dns_name_equal(r.owner, a->canon))
        found = 1;
    }
    if (!found) break;
    if (a->cnames == DNS_MAXCNAME) { a->loop = 1; return 1; }
    ++a->cnames;
    memcpy(a->canon, target, name_len(target));
  }

  for (pos = ans, i = 0; i < ancount && a->n < DNS_MAXRR; ++i) {
    struct dns_rr *rr = &a->rr[a->n];
    next_rec(pkt, len, &pos, &r, target);
    if (r.class != C_IN || r.type != qtype || !dns_name_equal(r.owner, a->canon)) continue;
    memset(rr, 0, sizeof *rr);
    switch (qtype) {
      case DNS_T_A: memcpy(rr->ip, pkt + r.rdata, 4); break;
      case DNS_T_AAAA: memcpy(rr->ip, pkt + r.rdata, 16); break;
      case DNS_T_MX:
        rr->pref = get16(pkt + r.rdata);
        memcpy(rr->name, target, name_len(target));
        break;
      case DNS_T_CNAME: memcpy(rr->name, target, name_len(target)); break;
      default: break;
    }
    ++a->n;
  }
  return 1;
}

/* ---- the outcome of one query: the one place for temporary vs permanent ---- */

int dns_outcome(int n, int herr, int parsed, const struct dns_answer *a)
{
  if (n < 0) {
    /* glibc's res_query turns rcode 3 into HOST_NOT_FOUND and rcode 0
     * without answers into NO_DATA; TRY_AGAIN (SERVFAIL, timeouts, no
     * server reachable), NO_RECOVERY (FORMERR, REFUSED, NOTIMP: a
     * resolver problem someone can fix) and anything else: retry. */
    if (herr == HOST_NOT_FOUND) return DNS_NXDOMAIN;
    if (herr == NO_DATA) return DNS_NODATA;
    return DNS_SOFT;
  }
  if (!parsed) return DNS_SOFT;
  if (a->rcode == 3) return DNS_NXDOMAIN;
  if (a->rcode != 0) return DNS_SOFT;
  if (a->loop) return DNS_SOFT;
  return a->n ? DNS_FOUND : DNS_NODATA;
}

/* ---- the transport ---- */

static int resquery(const char *name, unsigned int type, unsigned char *buf, size_t size, int *herr)
{
  int n;
  /* res_query, not res_search: the name is complete and the search list
   * must not turn a missing domain into one of ours. res_query reads
   * /etc/resolv.conf on first use, falls back to TCP on truncation, and
   * in glibc 2.34 and later lives in libc itself (-lresolv stays for
   * older ones). */
  if (size > 65536) size = 65536;
  n = res_query(name, C_IN, (int)type, buf, (int)size);
  if (n < 0) *herr = h_errno;
  return n;
}

static dns_transport transport = resquery;

void dns_transport_set(dns_transport t) { transport = t ? t : resquery; }

static unsigned char packet[65536];

int dns_query(struct dns_answer *a, const unsigned char *name, unsigned int qtype)
{
  static char text[DNS_TEXTMAX];
  int herr = NETDB_INTERNAL, n, parsed = 0;

  a->rcode = 0; a->cnames = 0; a->loop = 0; a->n = 0;
  memcpy(a->canon, name, name_len(name));
  if (!dns_name_totext(text, sizeof text, name)) return DNS_SOFT; /* cannot happen: DNS_TEXTMAX fits any name */
  n = transport(text, qtype, packet, sizeof packet, &herr);
  /* An answer longer than the buffer was cut: not to be trusted. */
  if (n >= 0 && (size_t)n > sizeof packet) return DNS_SOFT;
  if (n >= 0) parsed = dns_parse(a, packet, (size_t)n, name, qtype);
  return dns_outcome(n, herr, parsed, a);
}

/* ---- random numbers ---- */

static uint64_t rstate;
static int rseeded;

unsigned long dns_random(unsigned long n)
{
  uint64_t z;

  if (!rseeded) {
    if (getrandom(&rstate, sizeof rstate, GRND_NONBLOCK) != (ssize_t)sizeof rstate) {
      /* No getrandom (old kernel) or no entropy yet at boot: the order
       * among equal MX preferences only spreads load, so the clock and
       * pid are enough. */
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      rstate = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32;
    }
    rseeded = 1;
  }
  /* splitmix64 */
  z = (rstate += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  z ^= z >> 31;
  return n ? (unsigned long)(z % n) : 0; /* the bias is below 2^-32 for our n */
}

/* ---- address lists ---- */

static void add(struct dns_list *l, int family, const unsigned char *ip, unsigned pref, const char *host)
{
  size_t i, n = family == 6 ? 16 : 4;
  struct dns_ip *d;

  if (l->len >= DNS_MAXADDR) return;
  for (i = 0; i < l->len; ++i)
    if (l->ip[i].family == family && !memcmp(l->ip[i].ip, ip, n)) return;
  d = &l->ip[l->len++];
  memset(d, 0, sizeof *d);
  d->family = (unsigned char)family;
  memcpy(d->ip, ip, n);
  d->pref = pref;
  if (strlen(host) < sizeof d->host) memcpy(d->host, host, strlen(host) + 1);
}

static struct dns_answer a4, a6, amx;

/* Adds the addresses of host (wire) with pref. 1 if any were found, 0 if
 * none and every answer was definite, -1 if none and a query failed
 * temporarily (*why says how). */
static int host_addrs(struct dns_list *l, const unsigned char *host, unsigned pref, int flags, int *why)
{
  static char text[DNS_TEXTMAX];
  int r4 = DNS_NODATA, r6 = DNS_NODATA;
  size_t i4 = 0, i6 = 0;

  a4.n = a6.n = 0;
  if (!(flags & DNS_NOV6)) r6 = dns_query(&a6, host, DNS_T_AAAA);
  if (!(flags & DNS_NOV4)) r4 = dns_query(&a4, host, DNS_T_A);
  if (r6 != DNS_FOUND) a6.n = 0;
  if (r4 != DNS_FOUND) a4.n = 0;
  if (!dns_name_totext(text, sizeof text, host)) text[0] = 0;
  while (i6 < a6.n || i4 < a4.n) {
    if (i6 < a6.n) add(l, 6, a6.rr[i6++].ip, pref, text);
    if (i4 < a4.n) add(l, 4, a4.rr[i4++].ip, pref, text);
  }
  /* Found, even when every address was already listed (from another MX). */
  if (a4.n || a6.n) return 1;
  if (r4 == DNS_SOFT || r6 == DNS_SOFT) {
    *why = (a4.loop || a6.loop) ? DNS_WHY_CNAME : DNS_WHY_TEMP;
    return -1;
  }
  return 0;
}

static int result(struct dns_list *l, int r, int why)
{
  l->why = r == DNS_OK ? DNS_WHY_NONE : why;
  return r;
}

int dns_host(struct dns_list *l, const char *host, int flags)
{
  static unsigned char name[DNS_NAMEMAX];
  int why = DNS_WHY_NOADDR, r;

  l->len = 0;
  if (!dns_name_fromtext(name, host, strlen(host)) || !name[0]) return result(l, DNS_PERM, DNS_WHY_BADNAME);
  r = host_addrs(l, name, 0, flags, &why);
  if (r > 0) return result(l, DNS_OK, 0);
  if (r < 0) return result(l, DNS_TEMP, why);
  return result(l, DNS_PERM, DNS_WHY_NOADDR);
}

int dns_mx(struct dns_list *l, const char *domain, int flags)
{
  static unsigned char name[DNS_NAMEMAX];
  static struct dns_rr mx[DNS_MAXRR];
  size_t i, n = 0;
  int r, soft = 0, why = DNS_WHY_TEMP;

  l->len = 0;
  if (!dns_name_fromtext(name, domain, strlen(domain)) || !name[0]) return result(l, DNS_PERM, DNS_WHY_BADNAME);
  r = dns_query(&amx, name, DNS_T_MX);
  if (r == DNS_SOFT) return result(l, DNS_TEMP, amx.loop ? DNS_WHY_CNAME : DNS_WHY_TEMP);
  if (r == DNS_NXDOMAIN) return result(l, DNS_PERM, DNS_WHY_NXDOMAIN);
  if (r == DNS_NODATA) {
    /* The implicit MX, for the name at the end of any CNAME chain. */
    memcpy(name, amx.canon, name_len(amx.canon));
    r = host_addrs(l, name, 0, flags, &why);
    if (r > 0) return result(l, DNS_OK, 0);
    if (r < 0) return result(l, DNS_TEMP, why);
    return result(l, DNS_PERM, DNS_WHY_NOADDR);
  }

  for (i = 0; i < amx.n; ++i)
    if (amx.rr[i].name[0]) mx[n++] = amx.rr[i]; /* "." is nobody */
  if (!n) return result(l, DNS_PERM, DNS_WHY_NULLMX);
  /* Shuffle, then a stable sort by preference: random among equals. */
  for (i = n - 1; i > 0; --i) {
    size_t j = (size_t)dns_random((unsigned long)i + 1);
    struct dns_rr t = mx[i];
    mx[i] = mx[j];
    mx[j] = t;
  }
  for (i = 1; i < n; ++i) {
    struct dns_rr t = mx[i];
    size_t j = i;
    while (j > 0 && mx[j - 1].pref > t.pref) { mx[j] = mx[j - 1]; --j; }
    mx[j] = t;
  }
  for (i = 0; i < n && l->len < DNS_MAXADDR; ++i) {
    int w = DNS_WHY_TEMP;
    if (host_addrs(l, mx[i].name, mx[i].pref, flags, &w) < 0) { soft = 1; why = w; }
  }
  if (l->len) return result(l, DNS_OK, 0);
  if (soft) return result(l, DNS_TEMP, why);
  return result(l, DNS_PERM, DNS_WHY_NOADDR);
}

const char *dns_whytext(int why)
{
  switch (why) {
    case DNS_WHY_NONE: return "no error";
    case DNS_WHY_NXDOMAIN: return "no such domain";
    case DNS_WHY_NOADDR: return "no address for the mail exchangers or the domain";
    case DNS_WHY_NULLMX: return "the domain accepts no mail (null MX)";
    case DNS_WHY_BADNAME: return "not a valid domain name";
    case DNS_WHY_TEMP: return "DNS lookup failed temporarily";
    case DNS_WHY_CNAME: return "CNAME chain too long or a loop";
    default: return "unknown DNS error";
  }
}

/* ---- literals ---- */

int dns_literal(struct dns_ip *ip, const char *s, size_t len)
{
  char buf[64];
  int v6 = 0;

  if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
    s++;
    len -= 2;
    if (len >= 5 && (s[0] == 'I' || s[0] == 'i') && (s[1] == 'P' || s[1] == 'p') && (s[2] == 'V' || s[2] == 'v')
        && s[3] == '6' && s[4] == ':') {
      s += 5;
      len -= 5;
      v6 = 1;
    } else if (memchr(s, ':', len))
      return 0; /* an IPv6 address needs the tag; other tags are unknown */
  } else
    v6 = memchr(s, ':', len) != 0;
  if (len >= sizeof buf || memchr(s, 0, len)) return 0;
  memcpy(buf, s, len);
  buf[len] = 0;
  memset(ip, 0, sizeof *ip);
  if (v6) {
    if (inet_pton(AF_INET6, buf, ip->ip) != 1) return 0;
    ip->family = 6;
  } else {
    if (inet_pton(AF_INET, buf, ip->ip) != 1) return 0;
    ip->family = 4;
  }
  return 1;
}

size_t dns_ipfmt(char *out, const struct dns_ip *ip)
{
  if (!inet_ntop(ip->family == 6 ? AF_INET6 : AF_INET, ip->ip, out, DNS_IPFMT)) { out[0] = 0; return 0; }
  return strlen(out);
}
