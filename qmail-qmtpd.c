/* qmail-qmtpd: receive mail by QMTP (cr.yp.to/proto/qmtp.txt), one or
 * more messages per connection, run by tcpserver.
 *
 * Each message is a netstring holding the body (its first byte says LF or
 * CR LF line endings), a netstring with the envelope sender, and a
 * netstring holding one netstring per recipient. Every recipient gets one
 * netstring back: K (queued), Z (try later) or D (never), with a reason.
 *
 * As qmail-qmtpd does: recipients must be in control/rcpthosts or
 * control/morercpthosts.cdb unless RELAYCLIENT is set (its value is then
 * appended to every recipient); control/databytes or $DATABYTES limits
 * the body as stored; the body streams into qmail-queue ($QMAILQUEUE)
 * with a Received line on top, and nothing is queued unless the whole
 * message, sender and recipient list arrived intact.
 *
 * Input is bounded: a field (address) is at most 1000 bytes in memory,
 * bodies and lists are streamed, each read waits at most
 * control/timeoutsmtpd seconds, and a connection lasts at most an hour. */

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "control.h"
#include "env.h"
#include "error.h"
#include "fmt.h"
#include "netstring.h"
#include "qmtp.h"
#include "qq.h"
#include "rcpthosts.h"
#include "received.h"
#include "scan.h"
#include "sig.h"
#include "stralloc.h"
#include "strerr.h"

#define FATAL "qmail-qmtpd: fatal: "
/* An address, with RELAYCLIENT appended, must stay below this (qmail). */
#define ADDRMAX 1000
/* The whole connection, as qmail-qmtpd's alarm(3600). */
#define CONNTIMEOUT 3600

static struct qq qq;
static int qqopen;
static volatile pid_t qqpid;

/* Ends the connection. A message being queued is killed before it could
 * commit (qq_fail), so a broken-off message is never delivered. */
static NORETURN void quit(int code)
{
  if (qqopen) { qq_fail(&qq); qq_close(&qq); }
  _exit(code);
}
static NORETURN void badproto(void) { quit(100); }
static NORETURN void resources(void) { quit(111); }
/* End of file or an error in the middle of a message. */
static NORETURN void die_read(void) { quit(errno == EPROTO ? 100 : 111); }
static NORETURN void die_control(const char *fn)
{
  strerr_warn(FATAL, "unable to read ", fn, ": ", error_str(errno));
  quit(111);
}
static void sigalrm(int sig)
{
  (void)sig;
  if (qqpid > 0) kill(qqpid, SIGKILL);
  _exit(111);
}

static char inbuf[8192];
static char outbuf[1024];
static buffer in;
static buffer out;

static const char *relayclient;
static size_t relayclientlen;
static unsigned long databytes; /* 0: no limit */
static struct rcpthosts rh;
static const char *remotehost, *remoteinfo, *remoteip, *local;

static void setup(void)
{
  unsigned long u;
  const char *x;
  int timeout;

  if (chdir(auto_qmail) == -1) strerr_die(111, FATAL, "unable to chdir to ", auto_qmail, ": ", error_str(errno));
  if (rcpthosts_init(&rh) == -1) die_control("control/rcpthosts");
  relayclient = env_get("RELAYCLIENT");
  relayclientlen = relayclient ? strlen(relayclient) : 0;

  if (control_readulong(&databytes, "control/databytes") == -1) die_control("control/databytes");
  x = env_get("DATABYTES");
  if (x && !scan_whole_ulong(x, ULONG_MAX, &databytes))
    strerr_die(111, FATAL, "DATABYTES is not a number: ", x);

  switch (control_readulong(&u, "control/timeoutsmtpd")) {
    case -1: die_control("control/timeoutsmtpd");
    case 0: u = 1200;
  }
  timeout = u > INT_MAX ? INT_MAX : (int)u;

  remotehost = env_get("TCPREMOTEHOST");
  remoteinfo = env_get("TCPREMOTEINFO");
  remoteip = env_get("TCPREMOTEIP");
  local = env_get("TCPLOCALHOST");
  if (!local) local = env_get("TCPLOCALIP");

  buffer_init(&in, 0, inbuf, sizeof inbuf, timeout);
  buffer_init(&out, 1, outbuf, sizeof outbuf, timeout);
}

/* ---- one message ---- */

static unsigned long stored;  /* body bytes after conversion */
static int flagtoobig;

static void putbody(const char *s, size_t n)
{
  if (!n) return;
  if (databytes && !flagtoobig) {
    if (n > databytes - stored) { flagtoobig = 1; qq_fail(&qq); }
    else stored += n;
  }
  qq_put(&qq, s, n);
}

/* The body: len bytes, the first of which is the mode byte (checked by
 * the caller before the queue was started). */
static void getbody(size_t len)
{
  static char conv[sizeof inbuf + 1];
  struct qmtp_body q;
  size_t k;
  ssize_t r;

  qmtp_body_start(&q);
  while (len) {
    r = buffer_feed(&in);
    if (r <= 0) { if (!r) errno = EPROTO; die_read(); }
    k = (size_t)r < len ? (size_t)r : len;
    r = qmtp_body_conv(&q, buffer_peek(&in), k, conv);
    if (r < 0) badproto();
    buffer_seek(&in, k);
    len -= k;
    putbody(conv, (size_t)r);
  }
  putbody(conv, qmtp_body_end(&q, conv));
}

static void getlen(size_t *len)
{
  switch (netstring_getlen(&in, QMTP_MAXLEN, len)) {
    case 1: return;
    case 0: errno = EPROTO; die_read();
    case -1: die_read();
    default: badproto();
  }
}

static void getcomma(void)
{
  switch (qmtp_getcomma(&in)) {
    case 1: return;
    case -1: die_read();
    default: badproto();
  }
}

static stralloc addr = STRALLOC_ZERO;
static stralloc status = STRALLOC_ZERO; /* per recipient: 0 queued with the message, 'L' unusable, 'D' rcpthosts */
static stralloc reply = STRALLOC_ZERO;
static stralloc hdr = STRALLOC_ZERO;

/* Reads the next field of a region into addr: 1 usable, 0 not. */
static int getfield(size_t *left, size_t len, size_t max)
{
  switch (qmtp_getfield(&in, left, len, &addr, max)) {
    case 1: return 1;
    case 0: return 0;
    case -1: if (errno == ENOMEM) resources(); die_read();
    default: badproto();
  }
}

static void message(void)
{
  size_t len, left, max;
  int flagsenderok, flagbother = 0, r;
  unsigned long qp;
  const char *result;
  char num[FMT_ULONG];
  size_t i;

  /* Replies to the previous message go out before we wait for this one. */
  if (buffer_flush(&out) == -1) quit(111);
  switch (netstring_getlen(&in, QMTP_MAXLEN, &len)) {
    case 1: break;
    case 0: quit(0); /* the client is done */
    case -1: die_read();
    default: badproto();
  }
  if (!len) badproto();
  /* The mode byte, before anything is started for the message. */
  r = (int)buffer_feed(&in);
  if (r <= 0) { if (!r) errno = EPROTO; die_read(); }
  if (*buffer_peek(&in) != '\n' && *buffer_peek(&in) != '\r') badproto();

  stored = 0;
  flagtoobig = 0;
  status.len = 0;
  if (qq_open(&qq) == -1) resources();
  qqopen = 1;
  qqpid = qq.pid;
  qp = qq_qp(&qq);
  hdr.len = 0;
  if (!received(&hdr, "QMTP", local, remoteip, remotehost, remoteinfo, 0, time(0))) resources();
  qq_put(&qq, hdr.s, hdr.len);
  getbody(len);
  getcomma();

  getlen(&len);
  left = len + 1;
  flagsenderok = getfield(&left, len, ADDRMAX); /* and its comma */
  qq_from(&qq, flagsenderok ? addr.s : "");
  if (!flagsenderok) qq_fail(&qq);

  getlen(&left);
  max = relayclientlen >= ADDRMAX ? 0 : ADDRMAX - relayclientlen;
  while (left) {
    char st = 0;
    switch (qmtp_getlen(&in, &left, &len)) {
      case 1: break;
      case -1: die_read();
      default: badproto();
    }
    if (!getfield(&left, len, max)) st = 'L';
    else if (relayclient) {
      addr.len--; /* the NUL */
      if (!stralloc_cats(&addr, relayclient) || !stralloc_0(&addr)) resources();
    } else
      switch (rcpthosts_allowed(&rh, addr.s, addr.len - 1)) {
        case -1: resources();
        case 0: st = 'D';
      }
    if (!st) { qq_to(&qq, addr.s); flagbother = 1; }
    if (!stralloc_append(&status, st)) resources();
  }
  getcomma();

  if (!flagbother) qq_fail(&qq);
  result = qq_close(&qq);
  qqopen = 0;
  qqpid = 0;
  if (!flagsenderok) result = "Dunacceptable sender (#5.1.7)";
  if (flagtoobig) result = "Dsorry, that message size exceeds my databytes limit (#5.3.4)";
  reply.len = 0;
  if (*result) r = netstring_cat(&reply, result, strlen(result));
  else {
    stralloc ok = STRALLOC_ZERO;
    r = stralloc_cats(&ok, "Kok ") && stralloc_catb(&ok, num, fmt_ulong(num, (unsigned long)time(0)))
        && stralloc_cats(&ok, " qp ") && stralloc_catb(&ok, num, fmt_ulong(num, qp))
        && netstring_cat(&reply, ok.s, ok.len);
    stralloc_free(&ok);
  }
  if (!r) resources();

  for (i = 0; i < status.len; ++i) {
    static const char rh_text[] = "66:Dsorry, that domain isn't in my list of allowed rcpthosts (#5.7.1),";
    static const char l_text[] = "46:Dsorry, I can't handle that recipient (#5.1.3),";
    switch (status.s[i]) {
      case 0: r = buffer_put(&out, reply.s, reply.len); break;
      case 'D': r = buffer_put(&out, rh_text, sizeof rh_text - 1); break;
      default: r = buffer_put(&out, l_text, sizeof l_text - 1); break;
    }
    if (r == -1) quit(111);
  }
}

int main(void)
{
  sig_ignore(SIGPIPE);
  sig_catch(SIGALRM, sigalrm);
  alarm(CONNTIMEOUT);
  setup();
  for (;;) message();
}
