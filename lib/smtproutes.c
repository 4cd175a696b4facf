/* control/smtproutes lookups and relays (smtproutes.h). */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "scan.h"
#include "smtproutes.h"

const char *smtproutes_find(const struct constmap *routes, const char *host, size_t len)
{
  size_t i;
  const char *r;
  /* i == 0: the whole host; at each '.': that suffix, dot included;
   * i == len: "" */
  for (i = 0; i <= len; ++i)
    if (i == 0 || i == len || host[i] == '.')
      if ((r = constmap(routes, host + i, len - i))) return r;
  return 0;
}

static void setport(struct sockaddr_storage *ss, unsigned port)
{
  if (ss->ss_family == AF_INET) ((struct sockaddr_in *)ss)->sin_port = htons((unsigned short)port);
  else ((struct sockaddr_in6 *)ss)->sin6_port = htons((unsigned short)port);
}

/* s[0..len) as a bare IPv4 address (v6 = 0) or IPv6 address (v6 = 1). */
static int scanip(const char *s, size_t len, int v6, struct sockaddr_storage *ss, socklen_t *sslen)
{
  char buf[INET6_ADDRSTRLEN + 1];
  if (len == 0 || len >= sizeof buf) return 0;
  memcpy(buf, s, len);
  buf[len] = 0;
  memset(ss, 0, sizeof *ss);
  if (!v6) {
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    if (inet_pton(AF_INET, buf, &sin->sin_addr) != 1) return 0;
    sin->sin_family = AF_INET;
    *sslen = sizeof *sin;
  } else {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1) return 0;
    sin6->sin6_family = AF_INET6;
    *sslen = sizeof *sin6;
  }
  return 1;
}

static int iscase(const char *s, const char *t, size_t n)
{
  size_t i;
  for (i = 0; i < n; ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != t[i]) return 0;
  }
  return 1;
}

int smtproutes_literal(const char *host, size_t len, struct sockaddr_storage *ss, socklen_t *sslen)
{
  if (len < 3 || host[0] != '[' || host[len - 1] != ']') return 0;
  host += 1;
  len -= 2;
  if (len > 5 && iscase(host, "ipv6:", 5)) {
    if (!scanip(host + 5, len - 5, 1, ss, sslen)) return 0;
  } else if (!scanip(host, len, 0, ss, sslen))
    return 0;
  setport(ss, SMTPROUTES_PORT);
  return 1;
}

static int namechar(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
         || c == '_';
}

int smtproutes_relay(const char *relay, struct smtproutes_relay *r)
{
  size_t len = strlen(relay), hlen;
  const char *portp = 0;
  unsigned long port = SMTPROUTES_PORT;

  memset(r, 0, sizeof *r);
  if (relay[0] == '[') {
    const char *end = memchr(relay, ']', len);
    if (!end) return 0;
    hlen = (size_t)(end - relay) + 1;
    if (end[1] == ':') portp = end + 2;
    else if (end[1]) return 0;
  } else {
    const char *colon = memchr(relay, ':', len);
    hlen = colon ? (size_t)(colon - relay) : len;
    if (colon) portp = colon + 1;
  }
  if (portp && (!scan_whole_ulong(portp, 65535, &port) || !port)) return 0;
  r->port = (unsigned)port;

  if (hlen == 0) { r->kind = SMTPROUTES_MX; return 1; }
  if (relay[0] == '[') {
    if (!smtproutes_literal(relay, hlen, &r->ss, &r->sslen)) return 0;
    setport(&r->ss, r->port);
    r->kind = SMTPROUTES_IP;
    return 1;
  }
  if (scanip(relay, hlen, 0, &r->ss, &r->sslen)) {
    setport(&r->ss, r->port);
    r->kind = SMTPROUTES_IP;
    return 1;
  }
  {
    size_t i;
    if (hlen > 255) return 0;
    for (i = 0; i < hlen; ++i)
      if (!namechar(relay[i])) return 0;
  }
  r->kind = SMTPROUTES_NAME;
  r->host = relay;
  r->hostlen = hlen;
  return 1;
}
