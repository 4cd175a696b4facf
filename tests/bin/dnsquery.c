/* dnsquery: lib/dns from the command line, for the DNS e2e test.
 *   dnsquery mx DOMAIN [v4|v6]     dns_mx
 *   dnsquery host NAME [v4|v6]     dns_host
 *   dnsquery literal TEXT          dns_literal
 * Prints "OK" and then one line per address, "pref host ip", or
 * "TEMP why text" / "PERM why text"; exits 0 (OK), 111 (TEMP), 100 (PERM
 * or a bad literal), 2 on usage errors. */
#include <stdio.h>
#include <string.h>

#include "dns.h"

static struct dns_list l;

int main(int argc, char **argv)
{
  int flags = 0, r;
  size_t i;

  if (argc < 3) { fputs("usage: dnsquery mx|host|literal NAME [v4|v6]\n", stderr); return 2; }
  if (argc > 3) flags = !strcmp(argv[3], "v4") ? DNS_NOV6 : !strcmp(argv[3], "v6") ? DNS_NOV4 : 0;
  if (!strcmp(argv[1], "literal")) {
    l.len = 0;
    r = dns_literal(&l.ip[0], argv[2], strlen(argv[2])) ? DNS_OK : DNS_PERM;
    if (r == DNS_OK) l.len = 1;
    l.why = r == DNS_OK ? DNS_WHY_NONE : DNS_WHY_BADNAME;
  } else if (!strcmp(argv[1], "mx"))
    r = dns_mx(&l, argv[2], flags);
  else if (!strcmp(argv[1], "host"))
    r = dns_host(&l, argv[2], flags);
  else { fputs("dnsquery: unknown mode\n", stderr); return 2; }
  if (r != DNS_OK) {
    printf("%s %d %s\n", r == DNS_TEMP ? "TEMP" : "PERM", l.why, dns_whytext(l.why));
    return r == DNS_TEMP ? 111 : 100;
  }
  puts("OK");
  for (i = 0; i < l.len; ++i) {
    char ip[DNS_IPFMT];
    dns_ipfmt(ip, &l.ip[i]);
    printf("%u %s %s\n", l.ip[i].pref, l.ip[i].host[0] ? l.ip[i].host : "-", ip);
  }
  return 0;
}
