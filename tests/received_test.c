/* Tests for lib/received.c: the exact bytes of qmail's Received line.
 * not tested: running out of memory. */

#include <stdlib.h>

#include "check.h"
#include "received.h"
#include "stralloc.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static void test_lines(void)
{
  static const struct {
    const char *proto, *local, *ip, *host, *info, *helo;
    long when;
    const char *want;
  } cases[] = {
    /* qmail's own example (received.c) */
    { "SMTP", "silverton.berkeley.edu", "192.48.96.5", "relay1.uu.net", "7", "uunet.uu.net", 812090814,
      "Received: from relay1.uu.net (HELO uunet.uu.net) (7@192.48.96.5)\n"
      "  by silverton.berkeley.edu with SMTP; 26 Sep 1995 04:46:54 -0000\n" },
    /* QMTP passes no HELO */
    { "QMTP", "mx.example", "192.0.2.1", "client.example", 0, 0, 0,
      "Received: from client.example (192.0.2.1)\n  by mx.example with QMTP; 1 Jan 1970 00:00:00 -0000\n" },
    /* HELO equal to the host name, ignoring ASCII case: not shown */
    { "SMTP", "mx", "192.0.2.1", "Client.Example", 0, "cLIENT.eXAMPLE", 0,
      "Received: from Client.Example (192.0.2.1)\n  by mx with SMTP; 1 Jan 1970 00:00:00 -0000\n" },
    /* HELO differing only in a trailing dot: shown */
    { "SMTP", "mx", "192.0.2.1", "c.example", 0, "c.example.", 0,
      "Received: from c.example (HELO c.example.) (192.0.2.1)\n  by mx with SMTP; 1 Jan 1970 00:00:00 -0000\n" },
    /* no host name: "unknown", and a HELO of "unknown" is then not shown */
    { "SMTP", "mx", "192.0.2.1", 0, 0, "UNKNOWN", 0,
      "Received: from unknown (192.0.2.1)\n  by mx with SMTP; 1 Jan 1970 00:00:00 -0000\n" },
    { "SMTP", "mx", "192.0.2.1", "", 0, "x", 0,
      "Received: from unknown (HELO x) (192.0.2.1)\n  by mx with SMTP; 1 Jan 1970 00:00:00 -0000\n" },
    /* an empty HELO differs from the host name */
    { "SMTP", "mx", "192.0.2.1", "h", 0, "", 0,
      "Received: from h (HELO ) (192.0.2.1)\n  by mx with SMTP; 1 Jan 1970 00:00:00 -0000\n" },
    /* the client controls HELO, TCPREMOTEINFO and (through DNS) the host:
     * anything outside letters, digits and .@%+/=:- becomes '?' */
    { "SMTP", "mx", "192.0.2.1", "a b\n(c)", "x\r\ny", "evil\nReceived: [x]_~", 0,
      "Received: from a?b??c? (HELO evil?Received:??x??" "?) (x??y@192.0.2.1)\n"
      "  by mx with SMTP; 1 Jan 1970 00:00:00 -0000\n" },
    { "SMTP", "mx", "192.0.2.1", "ok.@%+/=:-AZaz09", 0, 0, 0,
      "Received: from ok.@%+/=:-AZaz09 (192.0.2.1)\n  by mx with SMTP; 1 Jan 1970 00:00:00 -0000\n" },
    { "SMTP", "mx", "192.0.2.1", "\x80\xff", 0, 0, 0,
      "Received: from ?? (192.0.2.1)\n  by mx with SMTP; 1 Jan 1970 00:00:00 -0000\n" },
    /* IPv6 addresses keep their colons; local and ip are made safe too */
    { "QMQP", "mx example", "2001:db8::1", "h", "", 0, 0,
      "Received: from h (@2001:db8::1)\n  by mx?example with QMQP; 1 Jan 1970 00:00:00 -0000\n" },
    /* missing ip and local: "unknown" */
    { "QMTP", 0, 0, 0, 0, 0, 0,
      "Received: from unknown (unknown)\n  by unknown with QMTP; 1 Jan 1970 00:00:00 -0000\n" },
    /* a date with a two-digit day */
    { "QMTP", "mx", "192.0.2.1", "h", 0, 0, 1795312380,
      "Received: from h (192.0.2.1)\n  by mx with QMTP; 22 Nov 2026 01:53:00 -0000\n" },
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    stralloc sa = STRALLOC_ZERO;
    int r;
    r = received(&sa, cases[i].proto, cases[i].local, cases[i].ip, cases[i].host, cases[i].info,
                 cases[i].helo, (time_t)cases[i].when);
    check_long(r, 1, "case %zu returns 1", i);
    check_bytes(sa.s, sa.len, cases[i].want, strlen(cases[i].want), "case %zu bytes", i);
    stralloc_free(&sa);
  }

  /* it appends */
  {
    stralloc sa = STRALLOC_ZERO;
    static const char want[] = "X\nReceived: from h (1.2.3.4)\n  by l with QMTP; 1 Jan 1970 00:00:00 -0000\n";
    stralloc_copys(&sa, "X\n");
    received(&sa, "QMTP", "l", "1.2.3.4", "h", 0, 0, 0);
    check_bytes(sa.s, sa.len, want, sizeof want - 1, "appends to what is there");
    stralloc_free(&sa);
  }
}

int main(void)
{
  test_lines();
  return check_end();
}
