/* qmail-smtpd: receive mail over SMTP (RFC 5321), run under tcpserver.
 *
 *   qmail-smtpd [hostname checkpassword subprogram [args...]]
 *
 * The connection is descriptors 0 and 1; the log goes to descriptor 2, one
 * line per transaction and per rejection. qmail's interfaces are kept
 * (control files, RELAYCLIENT, DATABYTES, QMAILQUEUE, reply texts, the
 * Received line); on top: SIZE, ENHANCEDSTATUSCODES, SMTPUTF8, CHUNKING,
 * AUTH through a checkpassword program, recipient checks at RCPT, and
 * bounds on everything a client controls. A message is accepted only
 * once qmail-queue has made it durable.
 *
 * Replies are buffered and written when the program is about to wait for
 * input, so a pipelining client gets its answers in one packet. */

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auto.h"
#include "base64.h"
#include "buffer.h"
#include "checkpw.h"
#include "control.h"
#include "constmap.h"
#include "env.h"
#include "fmt.h"
#include "ids.h"
#include "qq.h"
#include "rcptcheck.h"
#include "rcpthosts.h"
#include "received.h"
#include "scan.h"
#include "sig.h"
#include "smtpcmd.h"
#include "smtpdata.h"
#include "stralloc.h"
#include "strerr.h"

#define CMDMAX 512          /* RFC 5321 4.5.3.1.4, with the CRLF */
#define AUTHLINEMAX 12288   /* RFC 4954 4: an AUTH line may be this long */
#define MAXHOPS 100
#define AUTHFAILMAX 5

/* ---- output ---- */

static char outspace[4096];
static char inspace[8192];
static buffer out, in;
static unsigned long pid;

static volatile sig_atomic_t esmtp; /* the client said EHLO (read by sessionalarm) */

static void flush(void) { buffer_flush(&out); }

/* Enhanced status codes (RFC 2034) go to clients that said EHLO. A
 * client that did not (a HELO-era client, a person with telnet) gets
 * qmail's replies byte for byte: "250 ok", "553 sorry, ...". Replies are
 * written with their code; this is the one place that drops it. */
static void put(const char *s)
{
  if (!esmtp && s[0] >= '2' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'
      && s[3] == ' ' && s[4] >= '2' && s[4] <= '5' && s[5] == '.') {
    const char *sp = strchr(s + 4, ' ');
    buffer_put(&out, s, 4);
    s = sp ? sp + 1 : s + strlen(s);
  }
  buffer_puts(&out, s);
}
static void putb(const char *s, size_t n) { buffer_put(&out, s, n); }

static void logline(const char *const *v, unsigned n);
#define LOG(...) logline(STRERR_V(__VA_ARGS__), STRERR_N(__VA_ARGS__))

/* Ends the session with a last reply: exit 0 for a QUIT, 1 for the rest,
 * as qmail does (tcpserver logs the status). */
static NORETURN void quitwith(const char *reply, int code)
{
  put(reply);
  flush();
  _exit(code);
}
static NORETURN void quit(const char *reply) { quitwith(reply, 1); }
static NORETURN void die_nomem(void) { quit("421 4.3.0 out of memory (#4.3.0)\r\n"); }
static NORETURN void die_control(void)
{
  LOG("fatal ", "unable to read controls");
  quit("421 4.3.0 unable to read controls (#4.3.0)\r\n");
}
static NORETURN void die_read(void)
{
  if (errno == ETIMEDOUT) quit("451 4.4.2 timeout (#4.4.2)\r\n");
  _exit(1);
}
static void sessionalarm(int sig)
{
  static const char msg[] = "421 4.4.2 session time limit exceeded, closing connection (#4.4.2)\r\n";
  static const char old[] = "421 session time limit exceeded, closing connection (#4.4.2)\r\n";
  (void)sig;
  /* Only async-signal-safe calls here: the reply is written directly,
   * with or without its enhanced code as put() would. */
  if (esmtp) {
    if (write(1, msg, sizeof msg - 1) < 0) {}
  } else if (write(1, old, sizeof old - 1) < 0) {}
  _exit(1);
}

/* ---- the connection's facts and settings ---- */

static const char *remoteip, *remotehost, *remoteinfo, *localhost, *relayclient;
static stralloc greeting, liphost, me;
static stralloc badmailfrom, badrcptto, badhelo;
static struct constmap mapbmf, maprcptto, maphelo;
static int flagbmf, flagbrt, flagbhelo;
static unsigned long databytes, timeout = 1200, maxrcpt = 1000, timeoutsession = 3600;
static unsigned long maxbad = 20, maxline = 1000;
static int flagrcptcheck = 1, flagrequirehelo;
static struct rcpthosts rh;
static int rhstate;          /* rcpthosts_init's answer */
static struct rcptcheck rc;
static int rcstate;          /* 0 not read yet, 1 read, -1 unreadable */

/* AUTH: offered (1), required (2), or not (0). */
static int authmode;
static char **checkpwargv;
static const char *authhost;

static int env_flag(const char *name, int def)
{
  const char *s = env_get(name);
  if (!s) return def;
  return strcmp(s, "0") != 0;
}

static void readulong(const char *fn, unsigned long *u)
{
  if (control_readulong(u, fn) == -1) die_control();
}

static void readmap(const char *fn, stralloc *sa, struct constmap *map, int *flag)
{
  int r = control_readfile(sa, fn, 0);
  if (r == -1) die_control();
  *flag = r;
  if (r && !constmap_init(map, sa->s, sa->len, 0)) die_nomem();
}

/* qmail-queue is started ahead of DATA: after the reply to HELO or EHLO,
 * and at a transaction's first accepted recipient if none runs then, each
 * time once the replies have gone out. Its start (an exec, a queue file
 * taken from the pool) then overlaps the client's round trips instead of
 * delaying the reply to the message, which reaches the disk that much
 * sooner. One that runs unused stays for the next transaction (RSET, a
 * second EHLO), takes its time stamps only when the message comes, and
 * queues nothing if the session ends without one: it sees the end of its
 * input before an envelope. A queue program named by QMAILQUEUE (a
 * filter, perhaps costly to start) is started at DATA, as by qmail. */
static struct qq qq;
static int qqopen;   /* qq is running */
static int qqearly;  /* the built-in qmail-queue: start it ahead */
static int qqwanted; /* start it as soon as the replies are out */

static void qq_start(void)
{
  qqwanted = 0;
  if (qqopen) return;
  qq.pid = 0; /* the log's qp when it cannot start */
  if (qq_open(&qq) == 0) qqopen = 1;
}

/* A message broke off half-way: qmail-queue must not commit it. */
static void qq_abort(void)
{
  if (!qqopen) return;
  qq_fail(&qq);
  qq_close(&qq);
  qqopen = 0;
}

static void setup(void)
{
  const char *x;
  unsigned long u;

  if (chdir(auto_qmail) == -1) die_control();
  if (control_init() == -1) die_control();
  if (!control_me.len) die_control();
  if (control_rldef(&greeting, "control/smtpgreeting", 1, 0) == -1) die_control();
  if (control_rldef(&liphost, "control/localiphost", 1, 0) == -1) die_control();
  if (!stralloc_copys(&me, control_me.s) || !stralloc_0(&me)) die_nomem();
  readulong("control/timeoutsmtpd", &timeout);
  readulong("control/databytes", &databytes);
  readulong("control/maxrcpt", &maxrcpt);
  readulong("control/timeoutsession", &timeoutsession);
  readulong("control/maxbadcommands", &maxbad);
  readulong("control/maxlinelength", &maxline);
  u = 1;
  readulong("control/rcptcheck", &u);
  flagrcptcheck = u != 0;
  u = 0;
  readulong("control/requirehelo", &u);
  flagrequirehelo = u != 0;
  readmap("control/badmailfrom", &badmailfrom, &mapbmf, &flagbmf);
  readmap("control/badrcptto", &badrcptto, &maprcptto, &flagbrt);
  readmap("control/badhelo", &badhelo, &maphelo, &flagbhelo);
  rhstate = rcpthosts_init(&rh);
  if (rhstate == -1) die_control();

  /* As with a control file, garbage is not a silent default. */
  x = env_get("DATABYTES");
  if (x) {
    if (!scan_whole_ulong(x, (unsigned long)-1, &u)) die_control();
    databytes = u;
  }
  flagrcptcheck = env_flag("RCPTCHECK", flagrcptcheck);
  flagrequirehelo = env_flag("REQUIREHELO", flagrequirehelo);
  if (!timeout) timeout = 1200;
  /* poll() takes milliseconds in an int. */
  if (timeout > 1000000) timeout = 1000000;

  remoteip = env_get("TCPREMOTEIP");
  if (!remoteip) remoteip = "unknown";
  localhost = env_get("TCPLOCALHOST");
  if (!localhost) localhost = env_get("TCPLOCALIP");
  if (!localhost) localhost = "unknown";
  remotehost = env_get("TCPREMOTEHOST");
  if (!remotehost) remotehost = "unknown";
  remoteinfo = env_get("TCPREMOTEINFO");
  relayclient = env_get("RELAYCLIENT");
  x = env_get("QMAILQUEUE"); /* as lib/qq chooses */
  qqearly = !x || !*x;
}

static void setup_auth(int argc, char **argv)
{
  const char *s = env_get("SMTPAUTH");
  authmode = 0;
  if (argc < 4 || !*argv[1] || !*argv[2]) return; /* nothing to check passwords with */
  if (!s || !strcmp(s, "-")) return;              /* not on a plain connection */
  authmode = strcmp(s, "!") ? 1 : 2;
  authhost = argv[1];
  checkpwargv = argv + 2;
}

/* ---- the log ---- */

/* Client-controlled text goes to the log with every byte outside
 * printable ASCII, and the backslash, written as \xNN: one line stays one
 * line and nothing is lost. */
static stralloc logbuf;
static void logsafe(stralloc *sa, const char *s, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; ++i) {
    unsigned char c = (unsigned char)s[i];
    if (c > 32 && c < 127 && c != '\\') {
      if (!stralloc_append(sa, (char)c)) return;
    } else {
      char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
      if (!stralloc_catb(sa, e, 4)) return;
    }
  }
}

static void logline(const char *const *v, unsigned n)
{
  char num[FMT_ULONG];
  unsigned i;
  logbuf.len = 0;
  if (!stralloc_copys(&logbuf, "qmail-smtpd: pid ")) return;
  if (!stralloc_catb(&logbuf, num, fmt_ulong(num, pid))) return;
  if (!stralloc_cats(&logbuf, " ")) return;
  for (i = 0; i < n; ++i)
    if (v[i] && !stralloc_cats(&logbuf, v[i])) return;
  if (!stralloc_append(&logbuf, '\n')) return;
  if (write(2, logbuf.s, logbuf.len) < 0) {}
}

/* ---- the session's state ---- */

static stralloc helo;         /* the name given, NUL-terminated */
static int seenhelo;
static int seenmail, flagbarf, mailutf8;
static stralloc mailfrom;     /* NUL-terminated */
static stralloc rcptto;       /* the recipients, each NUL-terminated */
static unsigned long nrcpt;
static stralloc authuser;     /* NUL-terminated once authenticated */
static int authed;
static unsigned long authfailures, badcommands;
static stralloc addr, tmp, line;
static stralloc logrcpt;      /* the accepted recipients, for the log */

static void reset_transaction(void)
{
  seenmail = flagbarf = mailutf8 = 0;
  rcptto.len = 0;
  logrcpt.len = 0;
  nrcpt = 0;
}

static const char *sanitized(stralloc *sa, const char *s, size_t n)
{
  sa->len = 0;
  logsafe(sa, s, n);
  if (!stralloc_0(sa)) return "?";
  return sa->s;
}

static stralloc lhelo, lfrom, lto;
static const char *loghelo(void) { return seenhelo ? sanitized(&lhelo, helo.s, helo.len ? helo.len - 1 : 0) : "-"; }

static void log_reject(const char *code, const char *to, size_t tolen)
{
  LOG("reject ip=", remoteip, " helo=", loghelo(), " auth=", authed ? sanitized(&tmp, authuser.s, authuser.len - 1) : "-",
      seenmail ? " from=<" : " from=-", seenmail ? sanitized(&lfrom, mailfrom.s, mailfrom.len - 1) : 0,
      seenmail ? ">" : 0, to ? " to=<" : " to=-", to ? sanitized(&lto, to, tolen) : 0, to ? ">" : 0,
      " code=", code);
}

/* A reply that refuses something: written, logged. */
static void refuse(const char *reply, const char *to, size_t tolen)
{
  char code[160];
  size_t n = strlen(reply);
  put(reply);
  /* The log gets the code and the enhanced code, without CRLF. */
  if (n > 2) n -= 2;
  if (n > sizeof code - 1) n = sizeof code - 1;
  memcpy(code, reply, n);
  code[n] = 0;
  log_reject(code, to, tolen);
}

static void badcommand(const char *reply)
{
  refuse(reply, 0, 0);
  if (++badcommands >= maxbad && maxbad)
    quit("421 4.7.0 too many bad commands, closing connection (#4.7.0)\r\n");
}

/* ---- reading the client ---- */

/* Waits for input only after the replies so far have gone out. */
static ssize_t feed(void)
{
  ssize_t r;
  if (in.p < in.n) return (ssize_t)(in.n - in.p);
  flush();
  if (qqwanted) qq_start();
  r = buffer_feed(&in);
  if (r == -1) die_read();
  return r;
}

/* One line without its LF (and a CR before it) into sa: 1, or 0 when it
 * was longer than max (the rest is discarded). End of file ends the
 * session. */
static int getline_bounded(stralloc *sa, size_t max)
{
  int toolong = 0;
  sa->len = 0;
  for (;;) {
    ssize_t n = feed();
    const char *p, *nl;
    size_t take;
    if (n == 0) _exit(1);
    p = buffer_peek(&in);
    nl = memchr(p, '\n', (size_t)n);
    take = nl ? (size_t)(nl - p) : (size_t)n;
    if (!toolong) {
      if (sa->len + take > max) toolong = 1;
      else if (!stralloc_catb(sa, p, take)) die_nomem();
    }
    buffer_seek(&in, nl ? take + 1 : take);
    if (nl) break;
  }
  if (toolong) return 0;
  if (sa->len && sa->s[sa->len - 1] == '\r') --sa->len;
  return 1;
}

/* ---- addresses ---- */

static const char *lastat(const char *s, size_t n)
{
  while (n--)
    if (s[n] == '@') return s + n;
  return 0;
}

/* qmail replaces a literal of one of this host's addresses by
 * control/localiphost, so that user@[192.0.2.1] is local mail. */
static int ipme(const char *lit, size_t n)
{
  char buf[64];
  unsigned char want[16];
  int family = AF_INET, found = 0;
  struct ifaddrs *ifa, *i;

  if (n >= 5 && !strncasecmp(lit, "IPv6:", 5)) { family = AF_INET6; lit += 5; n -= 5; }
  if (n >= sizeof buf) return 0;
  memcpy(buf, lit, n);
  buf[n] = 0;
  if (inet_pton(family, buf, want) != 1) return 0;
  if (getifaddrs(&ifa) == -1) return 0;
  for (i = ifa; i && !found; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != family) continue;
    if (family == AF_INET)
      found = !memcmp(&((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, want, 4);
    else
      found = !memcmp(&((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, want, 16);
  }
  freeifaddrs(ifa);
  return found;
}

static void localiphost(stralloc *a)
{
  const char *at, *s = a->s;
  size_t n = a->len;
  at = lastat(s, n);
  if (!at || n - (size_t)(at - s) < 4 || at[1] != '[' || s[n - 1] != ']') return;
  if (!ipme(at + 2, n - (size_t)(at - s) - 3)) return;
  a->len = (size_t)(at - s) + 1;
  if (!stralloc_catb(a, liphost.s, liphost.len - 1) || !stralloc_0(a)) die_nomem();
  --a->len;
}

/* badmailfrom/badrcptto: the address, or "@domain". */
static int inmap(struct constmap *map, int flag, const char *a, size_t n)
{
  const char *at;
  if (!flag) return 0;
  if (constmap(map, a, n)) return 1;
  at = lastat(a, n);
  return at && constmap(map, at, n - (size_t)(at - a));
}

static void reply_path_error(enum smtpcmd_result r, int ismail)
{
  switch (r) {
    case SMTPCMD_ENOMEM: die_nomem();
    case SMTPCMD_EUTF8: badcommand("553 5.6.7 SMTPUTF8 required for this address (#5.6.7)\r\n"); break;
    case SMTPCMD_EADDR:
    case SMTPCMD_ETOOLONG:
      badcommand(ismail ? "553 5.1.7 bad sender address syntax (#5.1.7)\r\n"
                        : "553 5.1.3 bad recipient address syntax (#5.1.3)\r\n");
      break;
    case SMTPCMD_EPARAM: badcommand("555 5.5.4 unsupported parameter (#5.5.4)\r\n"); break;
    default: badcommand("501 5.5.4 syntax error (#5.5.4)\r\n"); break;
  }
}

/* ---- commands ---- */

static void smtp_greet(const char *code)
{
  put(code);
  putb(greeting.s, greeting.len - 1);
}

static int helo_refused(const char *arg, size_t len)
{
  size_t i;
  if (!flagbhelo) return 0;
  if (constmap(&maphelo, arg, len)) return 1;
  for (i = 0; i < len; ++i)
    if (arg[i] == '.' && constmap(&maphelo, arg + i, len - i)) return 1;
  return 0;
}

static int do_helo(const char *arg, size_t len)
{
  while (len && arg[len - 1] == ' ') --len;
  if (!smtpcmd_heloname(arg, len)) {
    badcommand("501 5.5.4 syntax error in HELO (#5.5.4)\r\n");
    return 0;
  }
  if (helo_refused(arg, len)) {
    if (!stralloc_copyb(&helo, arg, len) || !stralloc_0(&helo)) die_nomem();
    seenhelo = 1;
    refuse("553 5.7.1 sorry, your HELO is in my badhelo list (#5.7.1)\r\n", 0, 0);
    seenhelo = 0;
    return 0;
  }
  if (!stralloc_copyb(&helo, arg, len) || !stralloc_0(&helo)) die_nomem();
  seenhelo = 1;
  reset_transaction();
  if (qqearly) qqwanted = 1;
  return 1;
}

static void smtp_helo(const char *arg, size_t len)
{
  esmtp = 0;
  if (!do_helo(arg, len)) return;
  put("250 ");
  putb(me.s, me.len - 1);
  put("\r\n");
}

static void smtp_ehlo(const char *arg, size_t len)
{
  char num[FMT_ULONG];
  esmtp = 1;
  if (!do_helo(arg, len)) return;
  put("250-");
  putb(me.s, me.len - 1);
  put("\r\n250-PIPELINING\r\n250-8BITMIME\r\n");
  if (databytes) {
    put("250-SIZE ");
    putb(num, fmt_ulong(num, databytes));
    put("\r\n");
  } else
    put("250-SIZE\r\n");
  put("250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n");
  if (authmode && !authed) put("250-AUTH PLAIN LOGIN\r\n");
  put("250 HELP\r\n");
}

static void smtp_mail(const char *arg, size_t len)
{
  struct smtpcmd_params p;
  enum smtpcmd_result r;

  if (flagrequirehelo && !seenhelo) { badcommand("503 5.5.1 send HELO or EHLO first (#5.5.1)\r\n"); return; }
  if (authmode == 2 && !authed) { refuse("530 5.7.0 authentication required (#5.7.0)\r\n", 0, 0); return; }
  if (seenmail) { badcommand("503 5.5.1 nested MAIL command (#5.5.1)\r\n"); return; }
  r = smtpcmd_path(arg, len, 1, 0, &addr, &p);
  if (r != SMTPCMD_OK) { reply_path_error(r, 1); return; }
  if (p.hassize && databytes && p.size > databytes) {
    refuse("552 5.3.4 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n", 0, 0);
    return;
  }
  localiphost(&addr);
  flagbarf = inmap(&mapbmf, flagbmf, addr.s, addr.len);
  if (!stralloc_copyb(&mailfrom, addr.s, addr.len) || !stralloc_0(&mailfrom)) die_nomem();
  mailutf8 = p.smtputf8;
  seenmail = 1;
  rcptto.len = 0;
  logrcpt.len = 0;
  nrcpt = 0;
  put("250 2.1.0 ok\r\n");
}

/* The routing tables (locals, virtualdomains, percenthack, envnoathost),
 * read at the first recipient that needs them. */
static int routing_ready(void)
{
  if (!rcstate) rcstate = rcptcheck_init(&rc, auto_users[IDS_ALIAS], auto_break, auto_patrn) == 1 ? 1 : -1;
  return rcstate == 1;
}

static int is_postmaster(const char *a, size_t n)
{
  const char *at = memchr(a, '@', n);
  size_t l = at ? (size_t)(at - a) : n;
  return l == 10 && !strncasecmp(a, "postmaster", 10);
}

static void smtp_rcpt(const char *arg, size_t len)
{
  struct smtpcmd_params p;
  enum smtpcmd_result r;

  if (!seenmail) { badcommand("503 5.5.1 MAIL first (#5.5.1)\r\n"); return; }
  r = smtpcmd_path(arg, len, 0, mailutf8, &addr, &p);
  if (r != SMTPCMD_OK) { reply_path_error(r, 0); return; }
  localiphost(&addr);
  if (nrcpt >= maxrcpt) { refuse("452 4.5.3 too many recipients (#4.5.3)\r\n", addr.s, addr.len); return; }
  if (flagbarf) {
    refuse("553 5.7.1 sorry, your envelope sender is in my badmailfrom list (#5.7.1)\r\n", addr.s, addr.len);
    return;
  }
  if (inmap(&maprcptto, flagbrt, addr.s, addr.len)) {
    refuse("553 5.7.1 sorry, that address is in my badrcptto list (#5.7.1)\r\n", addr.s, addr.len);
    return;
  }
  if (relayclient) {
    if (!stralloc_cats(&addr, relayclient) || !stralloc_0(&addr)) die_nomem();
    --addr.len;
  } else if (!authed) {
    int ok = rhstate ? rcpthosts_allowed(&rh, addr.s, addr.len) : 1;
    /* qmail-send turns user%host@domain into user@host when domain is in
     * control/percenthack: then host is where the mail goes, and host is
     * what must be ours. (qmail 1.03 checked only domain: an open relay
     * for anyone who listed an rcpthosts domain in percenthack.) */
    if (ok == 1 && rhstate) {
      if (!routing_ready()) ok = -1;
      else switch (route_percenthack(&rc.route, addr.s, &tmp)) {
        case -1: die_nomem();
        case 1: ok = rcpthosts_allowed(&rh, tmp.s, tmp.len);
      }
    }
    switch (ok) {
      case -1:
        refuse("451 4.3.0 unable to read controls (#4.3.0)\r\n", addr.s, addr.len);
        return;
      case 0:
        refuse("553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n", addr.s, addr.len);
        return;
    }
  }
  if (flagrcptcheck && !is_postmaster(addr.s, addr.len)) {
    if (routing_ready() && !rcptcheck(&rc, addr.s)) {
      refuse("550 5.1.1 sorry, no mailbox here by that name (#5.1.1)\r\n", addr.s, addr.len);
      return;
    }
  }
  if (!stralloc_catb(&rcptto, addr.s, addr.len + 1)) die_nomem();
  if (logrcpt.len && !stralloc_append(&logrcpt, ',')) die_nomem();
  if (!stralloc_append(&logrcpt, '<')) die_nomem();
  logsafe(&logrcpt, addr.s, addr.len);
  if (!stralloc_append(&logrcpt, '>')) die_nomem();
  ++nrcpt;
  put("250 2.1.5 ok\r\n");
  if (qqearly && !qqopen) qqwanted = 1;
}

/* ---- the message ---- */

/* lib/smtpdata reads the message (DATA or BDAT) and decides where it
 * ends; here its bytes are counted against databytes and queued. */
struct msg {
  struct qq qq;
  struct smtpdata d;
  unsigned long long bytes; /* as stored */
  int toobig;
};
static struct msg m;

static void msg_put(void *ctx, const char *s, size_t n)
{
  (void)ctx;
  if (!qqopen || m.toobig) return;
  m.bytes += n;
  if (databytes && m.bytes > databytes) { m.toobig = 1; return; }
  qq_put(&qq, s, n);
}

static const char *protocol(void)
{
  if (mailutf8) return authed ? "UTF8SMTPA" : "UTF8SMTP";
  if (authed) return "ESMTPA";
  return esmtp ? "ESMTP" : "SMTP";
}

static int msg_start(int dots)
{
  memset(&m, 0, sizeof m);
  smtpdata_start(&m.d, dots, maxline);
  qq_start(); /* unless it runs already */
  if (!qqopen) return 0;
  tmp.len = 0;
  if (!received(&tmp, protocol(), localhost, remoteip, remotehost,
                authed ? authuser.s : remoteinfo, seenhelo ? helo.s : 0, time(0)))
    die_nomem();
  qq_put(&qq, tmp.s, tmp.len);
  return 1;
}

/* The enhanced code inside qmail's "(#x.y.z)", or def. */
static void qq_reply(const char *code, const char *def, const char *text)
{
  const char *h = strstr(text, "(#");
  char ec[16];
  size_t n = 0;
  if (h && (h[2] == code[0]) && h[3] == '.') {
    const char *e = strchr(h + 2, ')');
    if (e && (size_t)(e - h - 2) < sizeof ec) { n = (size_t)(e - h - 2); memcpy(ec, h + 2, n); }
  }
  put(code);
  put(" ");
  if (esmtp) {
    if (n) putb(ec, n);
    else put(def);
    put(" ");
  }
  /* The text is a line; anything odd in it is already sanitized by lib/qq. */
  put(text);
  put("\r\n");
}

static void log_tx(const char *result)
{
  char num[FMT_ULONG], qp[FMT_ULONG];
  num[fmt_ulong(num, (unsigned long)m.bytes)] = 0;
  qp[fmt_ulong(qp, qq_qp(&qq))] = 0;
  if (!stralloc_0(&logrcpt)) die_nomem();
  LOG("tx ip=", remoteip, " helo=", loghelo(), " auth=", authed ? sanitized(&tmp, authuser.s, authuser.len - 1) : "-",
      " from=<", sanitized(&lfrom, mailfrom.s, mailfrom.len - 1), "> to=", logrcpt.s,
      " size=", num, " result=", result, " qp=", qp);
  --logrcpt.len;
}

/* Ends the message: the verdict, the envelope, qmail-queue's answer. */
static void msg_finish(void)
{
  const char *err;
  char num[FMT_ULONG];
  const char *why = 0;

  if (!qqopen) {
    put("451 4.3.0 qq temporary problem (#4.3.0)\r\n");
    log_tx("451 4.3.0");
    reset_transaction();
    return;
  }
  if (m.d.hops >= MAXHOPS) why = "554 5.4.6 too many hops, this message is looping (#5.4.6)\r\n";
  else if (m.toobig) why = "552 5.3.4 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n";
  else if (m.d.toolong) why = "554 5.6.0 sorry, a line of the message is too long (#5.6.0)\r\n";
  else if (m.d.nul) why = "554 5.6.0 sorry, the message contains a NUL byte (#5.6.0)\r\n";
  else if (m.d.bare) why = "451 4.5.2 See https://cr.yp.to/docs/smtplf.html. (#4.5.2)\r\n";
  if (why) {
    char code[10];
    qq_abort();
    put(why);
    memcpy(code, why, 9);
    code[9] = 0;
    log_tx(code);
    reset_transaction();
    return;
  }
  qq_from(&qq, mailfrom.s);
  {
    size_t i = 0;
    while (i < rcptto.len) {
      qq_to(&qq, rcptto.s + i);
      i += strlen(rcptto.s + i) + 1;
    }
  }
  err = qq_close(&qq);
  qqopen = 0;
  if (!*err) {
    put("250 2.0.0 ok ");
    putb(num, fmt_ulong(num, (unsigned long)time(0)));
    put(" qp ");
    putb(num, fmt_ulong(num, qq_qp(&qq)));
    put("\r\n");
    log_tx("250");
  } else if (*err == 'D') {
    qq_reply("554", "5.3.0", err + 1);
    log_tx("554");
  } else {
    qq_reply("451", "4.3.0", err + 1);
    log_tx("451");
  }
  reset_transaction();
}

static void smtp_data(const char *arg, size_t len)
{
  int end = 0;
  (void)arg;
  if (len) { badcommand("501 5.5.4 syntax error (#5.5.4)\r\n"); return; }
  if (!seenmail) { badcommand("503 5.5.1 MAIL first (#5.5.1)\r\n"); return; }
  if (!nrcpt) { badcommand("503 5.5.1 RCPT first (#5.5.1)\r\n"); return; }
  if (!msg_start(1)) {
    put("451 4.3.0 qq temporary problem (#4.3.0)\r\n");
    log_tx("451 4.3.0");
    reset_transaction();
    return;
  }
  put("354 go ahead\r\n");
  while (!end) {
    ssize_t n = feed();
    size_t used;
    if (n == 0) { qq_abort(); _exit(1); }
    used = smtpdata_feed(&m.d, buffer_peek(&in), (size_t)n, &end, msg_put, 0);
    buffer_seek(&in, used);
    if (m.d.bare) {
      /* qmail's answer, and the end of the connection: whatever follows
       * might be a second message hidden in this one. */
      qq_abort();
      log_tx("451 4.5.2");
      quit("451 4.5.2 See https://cr.yp.to/docs/smtplf.html. (#4.5.2)\r\n");
    }
  }
  msg_finish();
}

/* CHUNKING (RFC 3030). The chunk is always read whole, so the client and
 * this server never disagree on where the next command starts. */
static int bdatmode;         /* 1 while a BDAT transaction is under way */
static int bdatfailed;       /* the transaction cannot succeed: say so at LAST */

static void bdat_discard(unsigned long long size)
{
  while (size) {
    ssize_t n = feed();
    size_t k;
    if (n == 0) _exit(1);
    k = (size_t)n < size ? (size_t)n : (size_t)size;
    buffer_seek(&in, k);
    size -= k;
  }
}

static void smtp_bdat(const char *arg, size_t len)
{
  unsigned long long size, chunk;
  int last;
  char num[FMT_ULONG];

  if (!smtpcmd_bdat(arg, len, &size, &last)) {
    /* Without a size the chunk cannot be skipped: the session cannot go on. */
    refuse("501 5.5.4 syntax error (#5.5.4)\r\n", 0, 0);
    quit("421 4.5.0 cannot find the end of the chunk, closing connection (#4.5.0)\r\n");
  }
  if (!bdatmode) {
    const char *why = 0;
    if (!seenmail) why = "503 5.5.1 MAIL first (#5.5.1)\r\n";
    else if (!nrcpt) why = "503 5.5.1 RCPT first (#5.5.1)\r\n";
    if (why) {
      bdat_discard(size);
      badcommand(why);
      return;
    }
    bdatmode = 1;
    bdatfailed = 0;
    if (!msg_start(0)) bdatfailed = 1;
  }
  chunk = size;
  while (size) {
    ssize_t n = feed();
    size_t k, used;
    int end;
    if (n == 0) { qq_abort(); _exit(1); }
    k = (size_t)n < size ? (size_t)n : (size_t)size;
    /* After a bare CR or LF the rest is read and dropped. */
    used = smtpdata_feed(&m.d, buffer_peek(&in), k, &end, msg_put, 0);
    if (m.d.bare) used = k;
    buffer_seek(&in, used);
    size -= used;
  }
  if (!last) {
    put("250 2.0.0 ");
    putb(num, fmt_ulong(num, (unsigned long)chunk));
    put(" octets received\r\n");
    return;
  }
  bdatmode = 0;
  smtpdata_finish(&m.d); /* a message ending in a bare CR */
  if (bdatfailed) {
    put("451 4.3.0 qq temporary problem (#4.3.0)\r\n");
    log_tx("451 4.3.0");
    reset_transaction();
    return;
  }
  msg_finish();
}

/* ---- AUTH ---- */

static stralloc authin, authdec, authpass;

/* 1 decoded, 0 cancelled or malformed (the reply is written). */
static int auth_decode(const char *s, size_t n, stralloc *outsa)
{
  outsa->len = 0;
  if (n == 1 && s[0] == '*') { put("501 5.0.0 auth exchange cancelled (#5.0.0)\r\n"); return 0; }
  switch (base64_decode(outsa, s, n)) {
    case -1: die_nomem();
    case 0: badcommand("501 5.5.2 malformed auth input (#5.5.2)\r\n"); return 0;
  }
  return 1;
}

static int auth_prompt(const char *challenge, stralloc *outsa)
{
  put("334 ");
  put(challenge);
  put("\r\n");
  int r;
  authin.len = 0;
  if (!getline_bounded(&authin, AUTHLINEMAX)) {
    badcommand("500 5.5.2 line too long (#5.5.2)\r\n");
    return 0;
  }
  r = auth_decode(authin.s, authin.len, outsa);
  /* The encoded credentials are as secret as the decoded ones. */
  if (authin.len) explicit_bzero(authin.s, authin.len);
  return r;
}

static void auth_fail(const char *user, size_t ulen)
{
  ++authfailures;
  LOG("auth ip=", remoteip, " user=", sanitized(&tmp, user, ulen), " failed");
  /* Slow down guessing: 1, 2, 4, 8 s after each failure, then hang up. */
  flush();
  sleep(authfailures >= 4 ? 8 : 1U << (authfailures - 1));
  if (authfailures >= AUTHFAILMAX) quit("421 4.7.0 too many authentication failures (#4.7.0)\r\n");
  put("535 5.7.8 authentication failed (#5.7.8)\r\n");
}

static void auth_check(const char *user, size_t ulen, const char *pass, size_t plen)
{
  char num[FMT_ULONG];
  stralloc ts = STRALLOC_ZERO;
  int r;

  if (!ulen || memchr(user, 0, ulen) || memchr(pass, 0, plen)) r = 1;
  else {
    if (!stralloc_copys(&ts, "<") || !stralloc_catb(&ts, num, fmt_ulong(num, pid))
        || !stralloc_append(&ts, '.') || !stralloc_catb(&ts, num, fmt_ulong(num, (unsigned long)time(0)))
        || !stralloc_append(&ts, '@') || !stralloc_cats(&ts, authhost) || !stralloc_cats(&ts, ">")
        || !stralloc_0(&ts))
      die_nomem();
    r = checkpw_run(checkpwargv, user, ulen, pass, plen, ts.s, (unsigned int)timeout);
    stralloc_free(&ts);
  }
  if (r == 0) {
    if (!stralloc_copyb(&authuser, user, ulen) || !stralloc_0(&authuser)) die_nomem();
    authed = 1;
    LOG("auth ip=", remoteip, " user=", sanitized(&tmp, user, ulen), " ok");
    put("235 2.7.0 ok, go ahead (#2.0.0)\r\n");
    return;
  }
  if (r == -1 || r == 111) {
    LOG("auth ip=", remoteip, " user=", sanitized(&tmp, user, ulen), " temporary failure");
    put("454 4.7.0 temporary authentication failure (#4.7.0)\r\n");
    return;
  }
  auth_fail(user, ulen);
}

static void smtp_auth(const char *arg, size_t len)
{
  const char *mech, *resp;
  size_t mechlen, resplen;

  if (!authmode) { badcommand("502 5.5.1 unimplemented (#5.5.1)\r\n"); return; }
  if (authed) { badcommand("503 5.5.1 you're already authenticated (#5.5.1)\r\n"); return; }
  if (seenmail) { badcommand("503 5.5.1 no auth during mail transaction (#5.5.1)\r\n"); return; }
  if (!smtpcmd_auth(arg, len, &mech, &mechlen, &resp, &resplen)) {
    badcommand("501 5.5.4 syntax error (#5.5.4)\r\n");
    return;
  }
  if (mechlen == 5 && !strncasecmp(mech, "PLAIN", 5)) {
    const char *z, *c, *p;
    size_t zl, cl, pl;
    if (resp) {
      if (!auth_decode(resp, resplen, &authdec)) return;
    } else if (!auth_prompt("", &authdec))
      return;
    if (!sasl_plain(authdec.s, authdec.len, &z, &zl, &c, &cl, &p, &pl)) {
      badcommand("501 5.5.2 malformed auth input (#5.5.2)\r\n");
      explicit_bzero(authdec.s, authdec.len);
      return;
    }
    /* Acting for another identity is not supported: authzid must be empty
     * or the user's own. */
    if (zl && (zl != cl || memcmp(z, c, cl))) {
      auth_fail(c, cl);
      explicit_bzero(authdec.s, authdec.len);
      return;
    }
    auth_check(c, cl, p, pl);
    explicit_bzero(authdec.s, authdec.len);
    return;
  }
  if (mechlen == 5 && !strncasecmp(mech, "LOGIN", 5)) {
    if (resp) {
      if (!auth_decode(resp, resplen, &authdec)) return;
    } else if (!auth_prompt("VXNlcm5hbWU6", &authdec))
      return;
    if (!stralloc_copy(&tmp, &authdec)) die_nomem();
    if (!auth_prompt("UGFzc3dvcmQ6", &authpass)) return;
    {
      stralloc user = STRALLOC_ZERO;
      if (!stralloc_copy(&user, &tmp)) die_nomem();
      auth_check(user.s, user.len, authpass.s, authpass.len);
      stralloc_free(&user);
    }
    explicit_bzero(authpass.s, authpass.len);
    return;
  }
  badcommand("504 5.5.4 unrecognized authentication type (#5.5.4)\r\n");
}

/* ---- the command loop ---- */

int main(int argc, char **argv)
{
  pid = (unsigned long)getpid();
  sig_ignore(SIGPIPE);
  buffer_init(&out, 1, outspace, sizeof outspace, 0);
  setup();
  buffer_init(&out, 1, outspace, sizeof outspace, (int)timeout);
  buffer_init(&in, 0, inspace, sizeof inspace, (int)timeout);
  setup_auth(argc, argv);
  if (timeoutsession) {
    sig_catch(SIGALRM, sessionalarm);
    alarm((unsigned int)timeoutsession);
  }

  smtp_greet("220 ");
  put(" ESMTP\r\n");

  for (;;) {
    const char *arg;
    size_t arglen;
    enum smtpcmd_verb v;

    if (!getline_bounded(&line, AUTHLINEMAX)) {
      badcommand("500 5.5.2 line too long (#5.5.2)\r\n");
      continue;
    }
    if (memchr(line.s, 0, line.len)) { badcommand("500 5.5.2 NUL in command (#5.5.2)\r\n"); continue; }
    v = smtpcmd_verb(line.s, line.len, &arg, &arglen);
    if (line.len + 2 > CMDMAX && v != SMTPCMD_AUTH) {
      badcommand("500 5.5.2 line too long (#5.5.2)\r\n");
      continue;
    }
    if (bdatmode && v != SMTPCMD_BDAT && v != SMTPCMD_QUIT && v != SMTPCMD_NOOP && v != SMTPCMD_RSET) {
      badcommand("503 5.5.1 BDAT expected (#5.5.1)\r\n");
      continue;
    }
    switch (v) {
      case SMTPCMD_HELO: smtp_helo(arg, arglen); break;
      case SMTPCMD_EHLO: smtp_ehlo(arg, arglen); break;
      case SMTPCMD_MAIL: smtp_mail(arg, arglen); break;
      case SMTPCMD_RCPT: smtp_rcpt(arg, arglen); break;
      case SMTPCMD_DATA: smtp_data(arg, arglen); break;
      case SMTPCMD_BDAT: smtp_bdat(arg, arglen); break;
      case SMTPCMD_AUTH:
        smtp_auth(arg, arglen);
        explicit_bzero(line.s, line.len); /* an initial response holds the password */
        break;
      case SMTPCMD_RSET:
        if (bdatmode) { bdatmode = 0; qq_abort(); }
        reset_transaction();
        put("250 2.0.0 ok\r\n");
        break;
      case SMTPCMD_NOOP: put("250 2.0.0 ok\r\n"); break;
      case SMTPCMD_VRFY: put("252 2.1.5 send some mail, i'll try my best\r\n"); break;
      case SMTPCMD_HELP: put("214 2.0.0 qmail home page: https://cr.yp.to/qmail.html\r\n"); break;
      case SMTPCMD_QUIT:
        put("221 2.0.0 ");
        putb(me.s, me.len - 1);
        quitwith("\r\n", 0);
      default: badcommand("502 5.5.1 unimplemented (#5.5.1)\r\n"); break;
    }
  }
}
