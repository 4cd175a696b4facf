/* fuzz_smtproutes: lib/smtproutes on arbitrary control/smtproutes text
 * and host names. The input is a host name, a NUL, then the file. Checked:
 * a route found is the value of one of the file's lines; every value
 * parses as a relay or is refused without harm, and a relay's port is in
 * 1..65535, a name lies inside the value and holds only name bytes, an
 * address has a known family; the host as an address literal likewise. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "constmap.h"
#include "control.h"
#include "fuzz.h"
#include "smtproutes.h"
#include "stralloc.h"
#include <unistd.h>

static void relay(const char *v)
{
  struct smtproutes_relay r;
  size_t i;
  if (!smtproutes_relay(v, &r)) return;
  if (r.port < 1 || r.port > 65535) abort();
  switch (r.kind) {
    case SMTPROUTES_MX: break;
    case SMTPROUTES_NAME:
      if (r.host != v || r.hostlen == 0 || r.hostlen > 255 || r.hostlen > strlen(v)) abort();
      for (i = 0; i < r.hostlen; ++i)
        if (r.host[i] == ':' || r.host[i] == '[' || r.host[i] == ' ') abort();
      break;
    case SMTPROUTES_IP:
      if (r.ss.ss_family == AF_INET ? r.sslen != sizeof(struct sockaddr_in)
          : r.ss.ss_family == AF_INET6 ? r.sslen != sizeof(struct sockaddr_in6) : 1)
        abort();
      break;
    default: abort();
  }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  const char *s = (const char *)data, *nul = memchr(s, 0, size), *found;
  stralloc file = STRALLOC_ZERO;
  struct constmap m;
  struct sockaddr_storage ss;
  socklen_t sslen;
  size_t hlen = nul ? (size_t)(nul - s) : size, i, start;
  int fd;

  fd = fuzz_memfd(nul ? data + hlen + 1 : data + size, nul ? size - hlen - 1 : 0);
  if (control_readfile_fd(&file, fd) != 1) { close(fd); stralloc_free(&file); return 0; }
  close(fd);
  if (!constmap_init(&m, file.s, file.len, 1)) abort();
  found = smtproutes_find(&m, s, hlen);
  if (found && (found < file.s || found >= file.s + file.len)) abort();
  for (start = i = 0; i < file.len; ++i)
    if (!file.s[i]) {
      const char *colon = memchr(file.s + start, ':', i - start);
      if (colon) relay(colon + 1);
      start = i + 1;
    }
  if (smtproutes_literal(s, hlen, &ss, &sslen) && ss.ss_family != AF_INET && ss.ss_family != AF_INET6) abort();
  constmap_free(&m);
  stralloc_free(&file);
  return 0;
}
