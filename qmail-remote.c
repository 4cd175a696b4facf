/* qmail-remote: deliver one message by SMTP, as qmail-remote does.
 *
 *   qmail-remote host sender recip [recip ...]
 *
 * The message is on descriptor 0 (a file in the queue). The report goes to
 * descriptor 1 in qmail's format, which qmail-rspawn reads: for each
 * recipient "r" (accepted), "h" (refused for good) or "s" (refused for
 * now) and a text, NUL-terminated; then one of "K" (the message was
 * accepted), "Z" (try again later) or "D" (give up) and a text, NUL-
 * terminated. When the message-level answer comes before any recipient
 * was tried, only it is written. The texts are qmail's: lines ending in
 * '\n' (qmail-send logs them with '/' in place of the newlines, and puts
 * them into bounces as they are), with the server's address and what it
 * said ("Remote host said: 550 5.1.1 no such user"). The exit code is 0
 * whatever happened, as in qmail.
 *
 * Where to connect: control/smtproutes (lib/smtproutes.h), else the MX of
 * the recipient's domain; the addresses are tried in order until one
 * accepts the TCP connection. What happens after that is final for this
 * attempt, as in qmail.
 *
 * The SMTP dialogue: greeting, EHLO (HELO if EHLO is refused), MAIL with
 * SIZE and SMTPUTF8 when the server offers them, the RCPTs (pipelined
 * with MAIL when the server offers PIPELINING), DATA, the message framed
 * by lib/dotstuff, QUIT. Success is reported only for a 2xx answer to the
 * final dot. Every read and write has timeoutremote; connect has
 * timeoutconnect. */

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "constmap.h"
#include "control.h"
#include "dns.h"
#include "dotstuff.h"
#include "error.h"
#include "fd.h"
#include "fmt.h"
#include "sig.h"
#include "smtpreply.h"
#include "smtproutes.h"
#include "stralloc.h"
#include "strerr.h" /* NORETURN */
#include "tcpto.h"
#include "timeoutconn.h"

/* ------------------------------------------------------------ the report */

static char outspace[4096];
static buffer outb = { outspace, 0, 0, sizeof outspace, 1, 0 };

/* A report that cannot be written cannot be helped: qmail-rspawn sees no
 * output and defers the message. */
static void out(const char *s) { if (buffer_puts(&outb, s) == -1) _exit(0); }
static void outb_(const char *s, size_t n) { if (buffer_put(&outb, s, n) == -1) _exit(0); }
static void zero(void) { if (buffer_put(&outb, "", 1) == -1) _exit(0); }
static NORETURN void zerodie(void)
{
  zero();
  buffer_flush(&outb);
  _exit(0);
}

static NORETURN void temp_nomem(void) { out("ZOut of memory. (#4.3.0)\n"); zerodie(); }
static NORETURN void temp_oserr(void) { out("ZSystem resources temporarily unavailable. (#4.3.0)\n"); zerodie(); }
static NORETURN void temp_noconn(void)
{
  out("ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n");
  zerodie();
}
static NORETURN void temp_read(void) { out("ZUnable to read message. (#4.3.0)\n"); zerodie(); }
static NORETURN void temp_chdir(void) { out("ZUnable to switch to home directory. (#4.3.0)\n"); zerodie(); }
static NORETURN void temp_control(void) { out("ZUnable to read control files. (#4.3.0)\n"); zerodie(); }
static NORETURN void temp_routes(void)
{
  out("ZUnable to parse the relay in control/smtproutes. (#4.3.5)\n");
  zerodie();
}
static NORETURN void perm_usage(void) { out("DI (qmail-remote) was invoked improperly. (#5.3.5)\n"); zerodie(); }

/* ------------------------------------------------------------ controls */

static stralloc helohost = STRALLOC_ZERO;
static stralloc routes = STRALLOC_ZERO;
static struct constmap maproutes;
static int timeoutconnect = 60;
static int timeoutremote = 1200;

static int readtimeout(const char *fn, int *t)
{
  unsigned long u;
  int r = control_readulong(&u, fn);
  if (r == 1) *t = u > INT_MAX ? INT_MAX : (int)u;
  return r;
}

static void getcontrols(void)
{
  if (control_init() == -1) temp_control();
  if (control_rldef(&helohost, "control/helohost", 1, 0) == -1) temp_control();
  if (!helohost.len) { out("ZNo control/helohost and no control/me. (#4.3.5)\n"); zerodie(); }
  --helohost.len; /* the NUL */
  if (readtimeout("control/timeoutconnect", &timeoutconnect) == -1) temp_control();
  if (readtimeout("control/timeoutremote", &timeoutremote) == -1) temp_control();
  switch (control_readfile(&routes, "control/smtproutes", 0)) {
    case -1: temp_control();
    case 0: if (!stralloc_copys(&routes, "")) temp_nomem();
  }
  if (!constmap_init(&maproutes, routes.s, routes.len, 1)) temp_nomem();
}

/* ------------------------------------------------------------ addresses */

#define MAXADDRS 64
struct target {
  struct sockaddr_storage ss;
  socklen_t len;
};
static struct target addrs[MAXADDRS];
static size_t naddrs;


static NORETURN void dnsfail(int x, const struct dns_list *l, const char *name)
{
  if (x == DNS_TEMP) {
    out("ZDNS lookup for ");
    out(name);
    out(" failed temporarily (");
    out(dns_whytext(l->why));
    out("). (#4.4.3)\n");
    zerodie();
  }
  switch (l->why) {
    case DNS_WHY_NULLMX:
      out("D");
      out(name);
      out(" does not accept mail (null MX). (#5.1.10)\n");
      break;
    case DNS_WHY_NOADDR:
      out("DSorry, I couldn't find a mail exchanger or IP address for ");
      out(name);
      out(". (#5.4.4)\n");
      break;
    default:
      out("DSorry, I couldn't find any host named ");
      out(name);
      out(". (#5.1.2)\n");
  }
  zerodie();
}

/* Is ip one of this machine's addresses? (qmail's ipme: every interface
 * address, and 0.0.0.0 / :: which reach this machine too.) */
static int ipme(const struct dns_ip *ip)
{
  static const unsigned char zero16[16];
  struct ifaddrs *ifa, *p;
  int r = 0;
  if (!memcmp(ip->ip, zero16, ip->family == 4 ? 4 : 16)) return 1;
  if (getifaddrs(&ifa) == -1) temp_oserr();
  for (p = ifa; p && !r; p = p->ifa_next) {
    if (!p->ifa_addr) continue;
    if (ip->family == 4 && p->ifa_addr->sa_family == AF_INET)
      r = !memcmp(&((struct sockaddr_in *)p->ifa_addr)->sin_addr, ip->ip, 4);
    else if (ip->family == 6 && p->ifa_addr->sa_family == AF_INET6)
      r = !memcmp(&((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr, ip->ip, 16);
  }
  freeifaddrs(ifa);
  return r;
}

/* qmail's loop check: if this machine is one of the MX hosts, only the
 * hosts with a better (lower) preference may be tried; if there are none,
 * the mail would come back here forever, since the domain is not local. */
static void bestmxisme(struct dns_list *l)
{
  unsigned long prefme = ~0UL;
  size_t i, j;
  for (i = 0; i < l->len; ++i)
    if (l->ip[i].pref < prefme && ipme(&l->ip[i])) prefme = l->ip[i].pref;
  for (i = j = 0; i < l->len; ++i)
    if (l->ip[i].pref < prefme) l->ip[j++] = l->ip[i];
  l->len = j;
  if (!j) {
    out("DSorry. Although I'm listed as a best-preference MX or A for that host,\n"
        "it isn't in my control/locals file, so I don't treat it as local. (#5.4.6)\n");
    zerodie();
  }
}

/* "Which addresses to try": fills addrs[] for the recipient's host, in
 * the order to try them, or reports and exits. Routes come first
 * (smtproutes), then address literals, then DNS (lib/dns: the MX list,
 * or a relay's own addresses). */
static void findaddrs(const char *host)
{
  size_t len = strlen(host);
  const char *relay = smtproutes_find(&maproutes, host, len);
  struct smtproutes_relay r;

  naddrs = 0;
  if (relay) {
    if (!smtproutes_relay(relay, &r)) temp_routes();
  } else {
    memset(&r, 0, sizeof r);
    r.kind = SMTPROUTES_MX;
    r.port = SMTPROUTES_PORT;
  }
  if (r.kind == SMTPROUTES_MX && smtproutes_literal(host, len, &r.ss, &r.sslen)) {
    /* user@[192.0.2.1]: that address, on the route's port */
    struct smtproutes_relay lit = r;
    lit.kind = SMTPROUTES_IP;
    if (lit.ss.ss_family == AF_INET) ((struct sockaddr_in *)&lit.ss)->sin_port = htons((unsigned short)r.port);
    else ((struct sockaddr_in6 *)&lit.ss)->sin6_port = htons((unsigned short)r.port);
    r = lit;
  }
  if (r.kind == SMTPROUTES_IP) {
    addrs[0].ss = r.ss;
    addrs[0].len = r.sslen;
    naddrs = 1;
    return;
  }
  {
    static struct dns_list l;
    char name[256];
    int x;
    size_t i;
    if (r.kind == SMTPROUTES_NAME) {
      /* a relay: its own addresses, no MX, and no loop check (qmail's) */
      memcpy(name, r.host, r.hostlen);
      name[r.hostlen] = 0;
      x = dns_host(&l, name, 0);
    } else
      x = dns_mx(&l, host, 0);
    if (x != DNS_OK) dnsfail(x, &l, r.kind == SMTPROUTES_NAME ? name : host);
    if (r.kind == SMTPROUTES_MX) bestmxisme(&l);
    for (i = 0; i < l.len && naddrs < MAXADDRS; ++i) {
      struct target *t = &addrs[naddrs];
      memset(t, 0, sizeof *t);
      if (l.ip[i].family == 4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&t->ss;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, l.ip[i].ip, 4);
        sin->sin_port = htons((unsigned short)r.port);
        t->len = sizeof *sin;
      } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&t->ss;
        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, l.ip[i].ip, 16);
        sin6->sin6_port = htons((unsigned short)r.port);
        t->len = sizeof *sin6;
      }
      ++naddrs;
    }
  }
}

/* ------------------------------------------------------------ connecting */

static int smtpfd = -1;
static char partner[INET6_ADDRSTRLEN + 1];
static char smtpfromspace[4096];
static char smtptospace[16384];
static buffer smtpfrom, smtpto;
static struct smtpreply reply = SMTPREPLY_ZERO;
static int flagcritical; /* the final dot went out: a lost answer may mean a duplicate */

static void outhost(void) { out(partner); }

static NORETURN void dropped(void)
{
  out("ZConnected to ");
  outhost();
  out(" but connection died. ");
  if (flagcritical) out("Possible duplicate! ");
  out("(#4.4.2)\n");
  zerodie();
}

static NORETURN void timedout(void)
{
  out("ZConnected to ");
  outhost();
  out(" but the connection timed out. ");
  if (flagcritical) out("Possible duplicate! ");
  out("(#4.4.2)\n");
  zerodie();
}

static NORETURN void ioerr(void)
{
  if (errno == ETIMEDOUT) timedout();
  dropped();
}

static void outsmtptext(void)
{
  if (!reply.text.len) return;
  out("Remote host said: ");
  outb_(reply.text.s, reply.text.len);
  if (reply.cut) out("(the rest of the reply was cut)\n");
  reply.text.len = 0;
}

/* Sends QUIT without waiting for the answer ("waiting for remote side is
 * just too ridiculous", qmail), then reports: prepend, the host, append,
 * ".\n", and what the server said last. */
static NORETURN void quit(const char *prepend, const char *append)
{
  buffer_putsflush(&smtpto, "QUIT\r\n");
  out(prepend);
  outhost();
  out(append);
  out(".\n");
  outsmtptext();
  zerodie();
}

static void put(const char *s, size_t n) { if (buffer_put(&smtpto, s, n) == -1) ioerr(); }
static void puts_(const char *s) { put(s, strlen(s)); }
static void flush(void) { if (buffer_flush(&smtpto) == -1) ioerr(); }

/* A reply's code; 0 for a malformed reply (the caller's protocol error). */
static unsigned smtpcode(void)
{
  switch (smtpreply_get(&reply, &smtpfrom)) {
    case 1: return reply.code;
    case 0: dropped();
    case -2: temp_nomem();
    default: ioerr();
  }
}

static NORETURN void protocol(const char *what)
{
  out("ZConnected to ");
  outhost();
  out(" but ");
  out(what);
  out(". (#4.5.0)\n");
  buffer_putsflush(&smtpto, "QUIT\r\n");
  outsmtptext();
  zerodie();
}

/* A server must not answer before it is asked (RFC 5321 4.3.1; with
 * PIPELINING only the commands we sent). Anything waiting to be read when
 * we are about to send the next command means the dialogue is out of
 * step: each later answer would be taken for the one to another command. */
static void nothingwaiting(void)
{
  struct pollfd p;
  int r;
  if (smtpfrom.p < smtpfrom.n) protocol("it sent a reply before it was asked");
  p.fd = smtpfd;
  p.events = POLLIN;
  do r = poll(&p, 1, 0); while (r == -1 && errno == EINTR);
  if (r == 1 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
    ssize_t got = buffer_feed(&smtpfrom);
    if (got <= 0) dropped();
    reply.text.len = 0;
    protocol("it sent a reply before it was asked");
  }
}

/* ------------------------------------------------------------ the dialogue */

static const char *sender;
static char **recips;
static size_t nrecips;
static struct stat msgst;

static int utf8(const char *s)
{
  for (; *s; ++s) if ((unsigned char)*s >= 0x80) return 1;
  return 0;
}

/* The name the server greets with is the first word after the code. */
static int greetsas(const char *name, size_t k)
{
  const char *s = reply.text.s;
  size_t n = reply.text.len, i;
  if (n < 4 || !k) return 0;
  s += 4;
  n -= 4;
  for (i = 0; i < n && s[i] != ' ' && s[i] != '\n' && s[i] != '\t'; ++i) {}
  if (i != k) return 0;
  for (i = 0; i < k; ++i) {
    char a = s[i], b = name[i];
    if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = (char)(b - 'A' + 'a');
    if (a != b) return 0;
  }
  return 1;
}

static void blast(void)
{
  char in[8192], outbuf[2 * sizeof in];
  struct dotstuff d;
  size_t n;

  /* qmail-send gives us the queue file: read it from its start */
  if (lseek(0, 0, SEEK_SET) == -1 && errno != ESPIPE) temp_read();
  dotstuff_start(&d);
  for (;;) {
    ssize_t r;
    do r = read(0, in, sizeof in); while (r == -1 && errno == EINTR);
    if (r == -1) {
      /* No final dot goes out: the server drops the transaction. */
      close(smtpfd);
      temp_read();
    }
    if (r == 0) break;
    n = dotstuff_feed(&d, in, (size_t)r, outbuf);
    put(outbuf, n);
  }
  n = dotstuff_end(&d, outbuf);
  put(outbuf, n);
  flagcritical = 1;
  flush();
}

static void mailcmd(int wantutf8, const struct smtpreply_ehlo *e)
{
  char num[FMT_ULONG];
  puts_("MAIL FROM:<");
  puts_(sender);
  puts_(">");
  if (e->size && S_ISREG(msgst.st_mode)) {
    puts_(" SIZE=");
    put(num, fmt_ulong(num, (unsigned long)msgst.st_size));
  }
  if (wantutf8) puts_(" SMTPUTF8");
  puts_("\r\n");
}

static void rcptcmd(const char *r)
{
  puts_("RCPT TO:<");
  puts_(r);
  puts_(">\r\n");
}

/* The answer to one RCPT: r, h or s. 1 if accepted. */
static int rcptreport(unsigned code)
{
  if (code >= 200 && code < 300) { out("r"); zero(); return 1; }
  out(code >= 500 ? "h" : "s");
  outhost();
  out(code >= 400 ? " does not like recipient.\n" : " gave a malformed answer to RCPT. (#4.5.0)\n");
  outsmtptext();
  zero();
  return 0;
}

static NORETURN void smtp(void)
{
  struct smtpreply_ehlo e;
  unsigned code;
  size_t i;
  int wantutf8 = 0, anyok = 0;
  char *skip; /* recipients refused before RCPT (SMTPUTF8) */

  code = smtpcode();
  if (code >= 500 && code < 600) quit("DConnected to ", " but greeting failed");
  if (code != 220) quit("ZConnected to ", " but greeting failed");
  /* qmail's loop check asks DNS whether the MX is this machine; a relay
   * that greets with our own name is this machine (or one configured as
   * it), and the mail would come back to us forever. */
  /* our own qmail-smtpd greets with control/me (smtpgreeting's default),
   * whatever helohost says */
  if (greetsas(helohost.s, helohost.len) || (control_me.len && greetsas(control_me.s, strlen(control_me.s))))
    quit("DConnected to ", " but the server greets with my own name: it loops back to myself (#5.4.6)");

  nothingwaiting();
  puts_("EHLO ");
  put(helohost.s, helohost.len);
  puts_("\r\n");
  flush();
  code = smtpcode();
  if (code >= 200 && code < 300) smtpreply_ehlo(reply.text.s, reply.text.len, &e);
  else {
    /* a server without ESMTP; or one that refuses EHLO for now: HELO
     * gets the final word */
    memset(&e, 0, sizeof e);
    nothingwaiting();
    puts_("HELO ");
    put(helohost.s, helohost.len);
    puts_("\r\n");
    flush();
    code = smtpcode();
    if (code >= 500 && code < 600) quit("DConnected to ", " but my name was rejected");
    if (code < 200 || code >= 300) quit("ZConnected to ", " but my name was rejected");
  }

  if (e.size && e.sizemax && S_ISREG(msgst.st_mode) && (unsigned long long)msgst.st_size > e.sizemax) {
    char num[FMT_ULONG];
    buffer_putsflush(&smtpto, "QUIT\r\n");
    out("DConnected to ");
    outhost();
    out(" but the message (");
    outb_(num, fmt_ulong(num, (unsigned long)msgst.st_size));
    out(" bytes) is larger than it accepts (SIZE ");
    outb_(num, fmt_ulong(num, (unsigned long)e.sizemax));
    out("). (#5.3.4)\n");
    zerodie();
  }

  skip = malloc(nrecips ? nrecips : 1);
  if (!skip) temp_nomem();
  memset(skip, 0, nrecips ? nrecips : 1);
  if (utf8(sender)) {
    if (!e.smtputf8) {
      buffer_putsflush(&smtpto, "QUIT\r\n");
      out("DConnected to ");
      outhost();
      out(" but it does not support SMTPUTF8, which the sender address needs. (#5.6.7)\n");
      zerodie();
    }
    wantutf8 = 1;
  }
  for (i = 0; i < nrecips; ++i)
    if (utf8(recips[i])) {
      if (e.smtputf8) wantutf8 = 1;
      else skip[i] = 1;
    }

  nothingwaiting();
  mailcmd(wantutf8, &e);
  if (e.pipelining) {
    for (i = 0; i < nrecips; ++i) if (!skip[i]) rcptcmd(recips[i]);
  }
  flush();
  code = smtpcode();
  if (code >= 500 && code < 600) quit("DConnected to ", " but sender was rejected");
  if (code < 200 || code >= 300) quit("ZConnected to ", " but sender was rejected");

  for (i = 0; i < nrecips; ++i) {
    if (skip[i]) {
      out("h");
      outhost();
      out(" does not support SMTPUTF8, which the recipient address needs. (#5.6.7)\n");
      zero();
      continue;
    }
    if (!e.pipelining) {
      nothingwaiting();
      rcptcmd(recips[i]);
      flush();
    }
    code = smtpcode();
    if (rcptreport(code)) anyok = 1;
  }
  reply.text.len = 0; /* "Giving up" speaks of all the recipients, not the last answer */
  if (!anyok) quit("DGiving up on ", "");

  nothingwaiting();
  puts_("DATA\r\n");
  flush();
  code = smtpcode();
  if (code >= 500 && code < 600) quit("D", " failed on DATA command");
  if (code != 354) quit("Z", " failed on DATA command");

  nothingwaiting();
  blast();
  code = smtpcode();
  flagcritical = 0;
  if (code >= 500 && code < 600) quit("D", " failed after I sent the message");
  if (code < 200 || code >= 300) quit("Z", " failed after I sent the message");
  quit("K", " accepted message");
}

int main(int argc, char **argv)
{
  size_t i;

  sig_ignore(SIGPIPE);
  if (argc < 4) perm_usage();
  if (chdir(auto_qmail) == -1) temp_chdir();
  getcontrols();
  sender = argv[2];
  recips = argv + 3;
  nrecips = (size_t)(argc - 3);
  if (fstat(0, &msgst) == -1) temp_read();

  findaddrs(argv[1]);
  for (i = 0; i < naddrs; ++i) {
    const struct sockaddr_storage *ss = &addrs[i].ss;
    const void *ip = ss->ss_family == AF_INET ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
                                              : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
    int timeout;
    /* a host that timed out recently is skipped while another is left */
    if (tcpto_dead(ss) && i + 1 < naddrs) continue;
    smtpfd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (smtpfd == -1) temp_oserr();
    if (timeoutconn(smtpfd, (const struct sockaddr *)ss, addrs[i].len, (unsigned long)timeoutconnect) == 0) {
      int one = 1;
      tcpto_err(ss, 0);
      if (!inet_ntop(ss->ss_family, ip, partner, sizeof partner)) temp_oserr();
      /* the final write of a message is often small: without this it
       * waits for the delayed ACK of the write before it */
      setsockopt(smtpfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      buffer_init(&smtpfrom, smtpfd, smtpfromspace, sizeof smtpfromspace, timeoutremote);
      buffer_init(&smtpto, smtpfd, smtptospace, sizeof smtptospace, timeoutremote);
      smtp();
    }
    timeout = errno == ETIMEDOUT;
    tcpto_err(ss, timeout);
    close(smtpfd);
  }
  temp_noconn();
}
