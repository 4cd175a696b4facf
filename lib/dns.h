#ifndef DNS_H
#define DNS_H

#include <stddef.h>

/* Where qmail-remote connects: DNS through the C library's resolver
 * (res_query, configured by /etc/resolv.conf), with our own bounded parser
 * of the raw answers, so that recorded answers can be unit-tested and
 * fuzzed.
 *
 * dns_mx(list, domain, flags) gives the ordered addresses to try for mail
 * to a domain (RFC 5321 section 5.1):
 *   - MX records sorted by preference, lowest first, in random order among
 *     equal preferences (the random source is getrandom(), falling back to
 *     the clock and pid when it fails);
 *   - each MX host looked up for AAAA and A (never trusting the additional
 *     section: an answer only speaks for the name asked); within one host
 *     the families alternate, IPv6 first: v6[0], v4[0], v6[1], v4[1], ...,
 *     each family in the order the resolver gave. IPv6 first as RFC 6724
 *     prefers it; alternating (RFC 8305's idea) means that a host whose
 *     IPv6 route is a black hole costs one connect timeout, not one per
 *     AAAA record;
 *   - an address already in the list is not added again;
 *   - no MX records (the name exists, NODATA): the domain's own AAAA and A
 *     addresses, preference 0 (the implicit MX);
 *   - a CNAME is followed, "the resulting name is processed as if it were
 *     the initial name": for the MX query and for each host's address
 *     queries, at most DNS_MAXCNAME links, inside the answer (a recursive
 *     resolver has already chased the chain); a longer chain or a loop is
 *     a temporary failure;
 *   - null MX (RFC 7505: the only MX records point at "."): permanent
 *     failure. "." among other MX records is skipped as unusable;
 *   - at most DNS_MAXRR records of a kind are used from one answer and at
 *     most DNS_MAXADDR addresses are listed (more cost hours of connect
 *     timeouts and help nobody);
 *   - MX hosts without any address are skipped; the result is DNS_OK when
 *     any address was found, even if some host's lookup failed
 *     temporarily (its backups are there to be used).
 *
 * Temporary versus permanent is decided in ONE place, dns_outcome(): a
 * query is NXDOMAIN (no such name) or NODATA (no records of the type) only
 * when the server said so (rcode 3, or rcode 0 with no matching record);
 * SERVFAIL, REFUSED, timeouts, an unreachable network, an unparseable or
 * truncated answer, a CNAME loop, and anything unforeseen are temporary.
 * Then dns_mx is DNS_PERM when the domain does not exist, has a null MX,
 * or neither its MX hosts nor (without MX) the domain itself have any
 * address, and all those answers were definite; DNS_TEMP otherwise.
 *
 * Not reentrant: the answers live in static buffers (64 KiB packets), as
 * qmail-remote does one lookup at a time. */

#define DNS_OK 0
#define DNS_TEMP 1
#define DNS_PERM 2

/* Why a lookup failed (list->why), for texts and logs: dns_whytext(). */
#define DNS_WHY_NONE 0
#define DNS_WHY_NXDOMAIN 1  /* permanent: no such domain */
#define DNS_WHY_NOADDR 2    /* permanent: no address for any MX host / the domain */
#define DNS_WHY_NULLMX 3    /* permanent: RFC 7505 null MX */
#define DNS_WHY_BADNAME 4   /* permanent: not a domain name (empty, label > 63, ...) */
#define DNS_WHY_TEMP 5      /* temporary: SERVFAIL, timeout, no network, bad answer */
#define DNS_WHY_CNAME 6     /* temporary: CNAME chain too long or a loop */

/* Suggested texts for qmail-remote's reports, with the status codes of
 * RFC 3463 / RFC 7505:
 *   NXDOMAIN, BADNAME  "Sorry, I couldn't find any host named D. (#5.1.2)"
 *   NOADDR             "Sorry, I couldn't find a mail exchanger or IP
 *                       address for D. (#5.4.4)"
 *   NULLMX             "D does not accept mail (null MX). (#5.1.10)"
 *   TEMP, CNAME        "DNS lookup for D failed temporarily. (#4.4.3)" */

/* Record types we ask for or follow. */
#define DNS_T_A 1
#define DNS_T_CNAME 5
#define DNS_T_MX 15
#define DNS_T_AAAA 28

#define DNS_NAMEMAX 255   /* a name in wire form, with its final 0 */
#define DNS_TEXTMAX 1021  /* its text form with \DDD escapes, with the NUL */
#define DNS_HOSTSIZE 256  /* the host name kept with an address */
#define DNS_MAXRR 32
#define DNS_MAXADDR 64
#define DNS_MAXCNAME 8
#define DNS_IPFMT 46      /* INET6_ADDRSTRLEN */

/* dns_mx flags */
#define DNS_NOV6 1        /* no AAAA queries */
#define DNS_NOV4 2        /* no A queries */

struct dns_ip {
  unsigned char family;  /* 4 or 6 */
  unsigned char ip[16];  /* 4 bytes used for IPv4, network order */
  unsigned int pref;     /* MX preference; 0 for the implicit MX, hosts, literals */
  /* The MX host (or the implicit MX's name) in text, "" for literals or a
   * name whose text does not fit. */
  char host[DNS_HOSTSIZE];
};

struct dns_list {
  size_t len;
  int why;  /* DNS_WHY_*: the reason when not DNS_OK */
  struct dns_ip ip[DNS_MAXADDR];
};

/* The ordered addresses for mail to domain (text, a trailing dot allowed,
 * \DDD escapes as resolv.h takes them). DNS_OK (l->len >= 1), DNS_TEMP or
 * DNS_PERM; l->why says why. Address literals ("[1.2.3.4]") are not
 * names: the caller tries dns_literal first. */
int dns_mx(struct dns_list *l, const char *domain, int flags);
/* The addresses of one host (an smtproutes relay): AAAA and A, CNAMEs
 * followed, ordered as for one MX host, pref 0. Same results. */
int dns_host(struct dns_list *l, const char *host, int flags);
/* A short text for l->why ("no such domain"). Never null. */
const char *dns_whytext(int why);

/* An address literal "[1.2.3.4]" or "[IPv6:2001:db8::1]" (the tag in any
 * case, RFC 5321 4.1.3), or a plain "1.2.3.4" or "2001:db8::1", of len
 * bytes. 1 and *ip set (pref 0, host ""), or 0 if s is none of these
 * ("[2001:db8::1]" without the tag is refused, as RFC 5321 says). */
int dns_literal(struct dns_ip *ip, const char *s, size_t len);
/* ip in text (no brackets) into out[DNS_IPFMT]; returns its length. */
size_t dns_ipfmt(char *out, const struct dns_ip *ip);

/* ---- the layers below, public for tests and the fuzzer ---- */

/* Domain names in wire form: labels with their length bytes, ending with
 * the 0 of the root; at most DNS_NAMEMAX bytes. */
/* Text to wire: 1, or 0 if s is not a name (empty, an empty label, a
 * label over 63 bytes, over 255 in all, a bad escape). "." is the root. */
int dns_name_fromtext(unsigned char *out, const char *s, size_t len);
/* Wire to text in out[size] (NUL-terminated), with letters, digits, '-'
 * and '_' as they are and every other byte as \DDD, so that the resolver
 * reads it back to the same name; the root is ".". Returns the length,
 * or 0 if it did not fit. */
size_t dns_name_totext(char *out, size_t size, const unsigned char *name);
/* 1 if two wire names are equal, ASCII case ignored. */
int dns_name_equal(const unsigned char *a, const unsigned char *b);

struct dns_rr {
  unsigned int pref;                  /* MX */
  unsigned char ip[16];               /* A (4 bytes), AAAA */
  unsigned char name[DNS_NAMEMAX];    /* MX exchange, wire form */
};

struct dns_answer {
  unsigned int rcode;                 /* the header's RCODE */
  unsigned int cnames;                /* CNAME links followed in the answer */
  int loop;                           /* the chain was longer than DNS_MAXCNAME */
  unsigned char canon[DNS_NAMEMAX];   /* qname, or where its CNAME chain ends */
  size_t n;                           /* records of qtype owned by canon, kept */
  struct dns_rr rr[DNS_MAXRR];
};

/* Parses the answer pkt[0..len) to the query (qname, qtype, class IN).
 * 1 if the packet is well formed (a->rcode set; for rcode 0 and 3 the
 * question matched and the answer section was read), 0 if not: too short,
 * not a response, another opcode, truncated (TC), a question that is not
 * ours, a name that runs off the packet, a compression pointer that does
 * not point backwards or a chain of them, a record whose data does not fit
 * its length or its type (A of 4 bytes, AAAA of 16, MX and CNAME names
 * ending exactly at the end of the data). Only the answer section is read;
 * authority and additional sections are ignored. */
int dns_parse(struct dns_answer *a, const unsigned char *pkt, size_t len, const unsigned char *qname,
              unsigned int qtype);

/* What one query gave. */
#define DNS_FOUND 0     /* records of the type for the (canonical) name */
#define DNS_NODATA 1    /* the name exists without such records */
#define DNS_NXDOMAIN 2  /* the name does not exist */
#define DNS_SOFT 3      /* anything else: try again later */

/* The one place that decides a query's outcome. n and herr are what the
 * transport returned (the answer's length, or -1 with an h_errno value:
 * HOST_NOT_FOUND and NO_DATA are believed, everything else is DNS_SOFT);
 * parsed is dns_parse's result on the answer when n >= 0. */
int dns_outcome(int n, int herr, int parsed, const struct dns_answer *a);

/* The transport: asks for name (text) and type in class IN, writes the
 * answer into buf[size] and returns its length, or returns -1 and sets
 * *herr to an h_errno value. The default calls res_query(); tests install
 * their own recorded answers. dns_transport_set(0) restores the default. */
typedef int (*dns_transport)(const char *name, unsigned int type, unsigned char *buf, size_t size,
                             int *herr);
void dns_transport_set(dns_transport t);

/* One query through the transport, parsed and judged: DNS_FOUND ... */
int dns_query(struct dns_answer *a, const unsigned char *name, unsigned int qtype);

/* A random number below n (n >= 1), from getrandom() or the fallback. */
unsigned long dns_random(unsigned long n);

#endif
