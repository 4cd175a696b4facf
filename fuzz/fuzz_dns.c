/* fuzz_dns: the DNS answer parser on arbitrary bytes, as an answer to
 * "example.com" for each type we ask (the corpus holds real answers to
 * that question, which the fuzzer mutates), and dns_mx/dns_host with the
 * queries answered by length-prefixed pieces of the input. Checks: the parser keeps its bounds, every
 * name it returns is a well-formed name that goes to text and back
 * unchanged, dns_outcome agrees with the header, and dns_mx's list is
 * bounded, sorted by preference and free of duplicates. */
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "fuzz.h"

static const unsigned char *in;
static size_t inlen;

/* The next query's answer is the next piece of the input: two bytes of
 * length (big-endian), then that many bytes (or what is left). When the
 * input is used up, the answer is "no such name". */
static int answer(const char *name, unsigned int type, unsigned char *buf, size_t size, int *herr)
{
  size_t n;
  (void)name;
  (void)type;
  if (inlen < 2) { *herr = 1; /* HOST_NOT_FOUND */ return -1; }
  n = (size_t)in[0] << 8 | in[1];
  in += 2;
  inlen -= 2;
  if (n > inlen) n = inlen;
  if (n > size) n = size;
  memcpy(buf, in, n);
  in += n;
  inlen -= n;
  return (int)n;
}

/* name is a well-formed wire name: checks it and its text round trip. */
static void checkname(const unsigned char *name)
{
  static char text[DNS_TEXTMAX];
  static unsigned char back[DNS_NAMEMAX];
  size_t i = 0;
  while (name[i]) {
    if (name[i] > 63) abort();
    i += (size_t)name[i] + 1;
    if (i >= DNS_NAMEMAX) abort();
  }
  if (!dns_name_totext(text, sizeof text, name)) abort();
  if (!dns_name_fromtext(back, text, strlen(text))) abort();
  if (!dns_name_equal(name, back)) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  static const unsigned types[] = { DNS_T_MX, DNS_T_A, DNS_T_AAAA, DNS_T_CNAME };
  static struct dns_answer a;
  static struct dns_list l;
  unsigned char q[DNS_NAMEMAX];
  size_t t, i;

  if (!dns_name_fromtext(q, "example.com", 11)) abort();
  for (t = 0; t < sizeof types / sizeof types[0]; ++t) {
    int r = dns_parse(&a, data, size, q, types[t]);
    int o = dns_outcome((int)size, 0, r, &a);
    if (r != 0 && r != 1) abort();
    if (a.n > DNS_MAXRR || a.cnames > DNS_MAXCNAME) abort();
    if (!r && o != DNS_SOFT) abort();
    if (r) {
      if (size < 12 || (data[3] & 0x0f) != a.rcode) abort();
      if (o == DNS_FOUND && (a.rcode != 0 || !a.n)) abort();
      if (o == DNS_NXDOMAIN && a.rcode != 3) abort();
      checkname(a.canon);
      for (i = 0; i < a.n; ++i)
        if (types[t] == DNS_T_MX || types[t] == DNS_T_CNAME) checkname(a.rr[i].name);
    }
  }

  /* The whole lookup, each query answered by the next piece of the input. */
  dns_transport_set(answer);
  for (t = 0; t < 2; ++t) {
    int r;
    in = data;
    inlen = size;
    r = t ? dns_host(&l, "example.com", 0) : dns_mx(&l, "example.com", 0);
    if (r != DNS_OK && r != DNS_TEMP && r != DNS_PERM) abort();
    if (l.len > DNS_MAXADDR) abort();
    if ((r == DNS_OK) != (l.len > 0)) abort();
    for (i = 0; i < l.len; ++i) {
      size_t k;
      if (l.ip[i].family != 4 && l.ip[i].family != 6) abort();
      if (i && l.ip[i].pref < l.ip[i - 1].pref) abort();
      if (!memchr(l.ip[i].host, 0, sizeof l.ip[i].host)) abort();
      for (k = 0; k < i; ++k)
        if (l.ip[k].family == l.ip[i].family && !memcmp(l.ip[k].ip, l.ip[i].ip, 16)) abort();
    }
  }
  dns_transport_set(0);
  return 0;
}
