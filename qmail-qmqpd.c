/* qmail-qmqpd: receive one message by QMQP (cr.yp.to/proto/qmqp.html),
 * run by tcpserver.
 *
 * The client sends one netstring holding a netstring with the message, a
 * netstring with the envelope sender and one netstring per recipient; the
 * answer is one netstring, K (queued), Z (try later) or D (never), with a
 * reason. Then the connection ends.
 *
 * QMQP carries mail for any destination: qmail-qmqpd checks nothing about
 * its client or the recipients. Only trusted clients may reach it, which
 * the administrator arranges with tcpserver's rules, as with qmail.
 *
 * As qmail-qmqpd does: the message streams into qmail-queue ($QMAILQUEUE)
 * below a Received line, and is queued only if the whole packet arrived
 * intact; an address of 1000 bytes or more, or holding a NUL, refuses the
 * message. Each read waits at most control/timeoutsmtpd seconds, and a
 * connection lasts at most an hour. */

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
#include "received.h"
#include "sig.h"
#include "stralloc.h"
#include "strerr.h"

#define FATAL "qmail-qmqpd: fatal: "
#define ADDRMAX 1000
#define CONNTIMEOUT 3600

static struct qq qq;
static int qqopen;
static volatile pid_t qqpid;

/* A message being queued is killed before it could commit. */
static NORETURN void quit(int code)
{
  if (qqopen) { qq_fail(&qq); qq_close(&qq); }
  _exit(code);
}
static NORETURN void badproto(void) { quit(100); }
static NORETURN void resources(void) { quit(111); }
static NORETURN void die_read(void) { quit(errno == EPROTO ? 100 : 111); }
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

static void setup(void)
{
  unsigned long u;
  int timeout;

  if (chdir(auto_qmail) == -1) strerr_die(111, FATAL, "unable to chdir to ", auto_qmail, ": ", error_str(errno));
  switch (control_readulong(&u, "control/timeoutsmtpd")) {
    case -1: strerr_warn(FATAL, "unable to read control/timeoutsmtpd: ", error_str(errno)); quit(111);
    case 0: u = 1200;
  }
  timeout = u > INT_MAX ? INT_MAX : (int)u;
  buffer_init(&in, 0, inbuf, sizeof inbuf, timeout);
  buffer_init(&out, 1, outbuf, sizeof outbuf, timeout);
}

static stralloc addr = STRALLOC_ZERO;

/* The next field of the packet into addr: 1 usable, 0 not. */
static int getfield(size_t *left)
{
  size_t len;
  switch (qmtp_getlen(&in, left, &len)) {
    case 1: break;
    case -1: die_read();
    default: badproto();
  }
  switch (qmtp_getfield(&in, left, len, &addr, ADDRMAX)) {
    case 1: return 1;
    case 0: return 0;
    case -1: if (errno == ENOMEM) resources(); die_read();
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

/* len bytes of message from the network into the queue. */
static void copymessage(size_t len)
{
  while (len) {
    ssize_t r = buffer_feed(&in);
    size_t k;
    if (r <= 0) { if (!r) errno = EPROTO; die_read(); }
    k = (size_t)r < len ? (size_t)r : len;
    qq_put(&qq, buffer_peek(&in), k);
    buffer_seek(&in, k);
    len -= k;
  }
}

int main(void)
{
  stralloc hdr = STRALLOC_ZERO, reply = STRALLOC_ZERO, ok = STRALLOC_ZERO;
  char num[FMT_ULONG];
  size_t left, len;
  unsigned long qp;
  const char *result, *local;
  int flagok = 1;

  sig_ignore(SIGPIPE);
  sig_catch(SIGALRM, sigalrm);
  alarm(CONNTIMEOUT);
  setup();

  switch (netstring_getlen(&in, QMTP_MAXLEN, &left)) {
    case 1: break;
    case 0: quit(0); /* nothing sent */
    case -1: die_read();
    default: badproto();
  }
  switch (qmtp_getlen(&in, &left, &len)) {
    case 1: break;
    case -1: die_read();
    default: badproto();
  }

  if (qq_open(&qq) == -1) resources();
  qqopen = 1;
  qqpid = qq.pid;
  qp = qq_qp(&qq);
  local = env_get("TCPLOCALHOST");
  if (!local) local = env_get("TCPLOCALIP");
  if (!received(&hdr, "QMQP", local, env_get("TCPREMOTEIP"), env_get("TCPREMOTEHOST"), env_get("TCPREMOTEINFO"), 0,
                time(0)))
    resources();
  qq_put(&qq, hdr.s, hdr.len);
  copymessage(len);
  getcomma();
  left -= len + 1;

  if (getfield(&left)) qq_from(&qq, addr.s);
  else { qq_from(&qq, ""); qq_fail(&qq); flagok = 0; }
  while (left)
    if (getfield(&left)) qq_to(&qq, addr.s);
    else { qq_fail(&qq); flagok = 0; }
  getcomma();

  result = qq_close(&qq);
  qqopen = 0;
  qqpid = 0;
  if (!*result) {
    if (!stralloc_cats(&ok, "Kok ") || !stralloc_catb(&ok, num, fmt_ulong(num, (unsigned long)time(0)))
        || !stralloc_cats(&ok, " qp ") || !stralloc_catb(&ok, num, fmt_ulong(num, qp)) || !stralloc_0(&ok))
      resources();
    result = ok.s;
  }
  if (!flagok) result = "Dsorry, I can't accept addresses like that (#5.1.3)";
  if (!netstring_cat(&reply, result, strlen(result))) resources();
  if (buffer_putflush(&out, reply.s, reply.len) == -1) quit(111);
  return 0;
}
