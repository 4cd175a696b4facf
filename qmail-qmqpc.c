/* qmail-qmqpc: qmail-queue's interface, but the message goes by QMQP
 * (cr.yp.to/proto/qmqp.html) to a server instead of into a local queue:
 * the "mini-qmail" installation links bin/qmail-queue to it.
 *
 * Message on descriptor 0, envelope on descriptor 1, exactly as for
 * qmail-queue(8), and the same exit codes. The servers are the addresses
 * given as arguments (as ezmlm-idx's patched qmail-qmqpc takes them) or,
 * without arguments, the lines of control/qmqpservers; they are tried in
 * order until one accepts the connection, and that server's answer is
 * final: K exits 0, Z 71, D 31. A connection that breaks after it was made
 * exits 74 at once, without trying the next server, as qmail-qmqpc does:
 * the server may have queued the message already.
 *
 * The whole message is held in memory (its length goes first on the
 * wire), as in qmail. */

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "control.h"
#include "envelope.h"
#include "fmt.h"
#include "netstring.h"
#include "qmtp.h"
#include "sig.h"
#include "stralloc.h"
#include "timeoutconn.h"
#include "strerr.h" /* NORETURN */

/* Exit codes, qmail-queue(8): 11-40 permanent, the rest temporary. */
enum {
  QQ_OK = 0,
  QQ_ADDRTOOLONG = 11,
  QQ_PERM = 31,
  QQ_NOMEM = 51,
  QQ_READ = 54,
  QQ_CONFIG = 55,
  QQ_SOCKET = 56,
  QQ_HOME = 61,
  QQ_TEMP = 71,
  QQ_CONNTIMEOUT = 72,
  QQ_CONNREFUSED = 73,
  QQ_COMM = 74,
  QQ_FORMAT = 91
};

/* qmail-qmqpc's own times when the control files are absent. */
#define TIMEOUTCONNECT 10
#define TIMEOUTREMOTE 60
/* The server's answer is a short text. */
#define REPLYMAX 65536

static NORETURN void die(int code) { _exit(code); }
static NORETURN void die_read(void) { die(errno == ENOMEM ? QQ_NOMEM : QQ_READ); }

static stralloc message = STRALLOC_ZERO;
static stralloc before = STRALLOC_ZERO;  /* the packet's and the message's length prefixes */
static stralloc after = STRALLOC_ZERO;   /* the message's comma, sender and recipients */
static stralloc envelope = STRALLOC_ZERO;
static int timeoutconnect = TIMEOUTCONNECT;
static int timeoutremote = TIMEOUTREMOTE;
static int lasterror = QQ_CONFIG; /* no server at all is a configuration problem */

static void readall(int fd, stralloc *sa)
{
  for (;;) {
    ssize_t r;
    if (!stralloc_readyplus(sa, 65536)) die(QQ_NOMEM);
    do r = read(fd, sa->s + sa->len, 65536); while (r == -1 && errno == EINTR);
    if (r == -1) die_read();
    if (r == 0) return;
    sa->len += (size_t)r;
  }
}

/* The envelope, checked by qmail-queue's rules, turned into netstrings. */
static void getenvelope(void)
{
  struct envelope_scan scan;
  size_t pos = 0, alen;
  const char *a;
  char type;
  char buf[4096];

  envelope_start(&scan, ENVELOPE_MAXADDR);
  for (;;) {
    ssize_t r;
    size_t used;
    enum envelope_status st;
    do r = read(1, buf, sizeof buf); while (r == -1 && errno == EINTR);
    if (r == -1) die_read();
    if (r == 0) die(QQ_READ); /* end of file before the final NUL: abort */
    st = envelope_feed(&scan, buf, (size_t)r, &used);
    if (!stralloc_catb(&envelope, buf, used)) die(QQ_NOMEM);
    if (st == ENVELOPE_BAD) die(QQ_FORMAT);
    if (st == ENVELOPE_TOOLONG) die(QQ_ADDRTOOLONG);
    if (st == ENVELOPE_DONE) break;
  }
  if (!stralloc_copys(&after, ",")) die(QQ_NOMEM);
  while (envelope_next(envelope.s, envelope.len, &pos, &type, &a, &alen) == 1)
    if (!netstring_cat(&after, a, alen)) die(QQ_NOMEM);
}

static void packet(void)
{
  char num[FMT_ULONG];
  size_t total;

  if (!stralloc_catb(&before, num, fmt_ulong(num, message.len)) || !stralloc_append(&before, ':'))
    die(QQ_NOMEM);
  total = before.len + message.len + after.len;
  if (total < message.len) die(QQ_NOMEM);
  /* the outer netstring's prefix goes in front */
  {
    stralloc sa = STRALLOC_ZERO;
    if (!stralloc_catb(&sa, num, fmt_ulong(num, total)) || !stralloc_append(&sa, ':') || !stralloc_cat(&sa, &before))
      die(QQ_NOMEM);
    stralloc_free(&before);
    before = sa;
  }
  if (!stralloc_append(&after, ',')) die(QQ_NOMEM);
}

static void doit(const char *server)
{
  struct sockaddr_storage ss;
  socklen_t len;
  stralloc reply = STRALLOC_ZERO;
  char outspace[8192], inspace[1024];
  buffer out, in;
  int fd;

  if (!qmtp_server(server, &ss, &len)) return; /* not an address: ignored, as in qmail */
  fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1) die(QQ_SOCKET);
  if (timeoutconn(fd, (const struct sockaddr *)&ss, len, (unsigned long)timeoutconnect) == -1) {
    lasterror = errno == ETIMEDOUT ? QQ_CONNTIMEOUT : QQ_CONNREFUSED;
    close(fd);
    return;
  }

  buffer_init(&out, fd, outspace, sizeof outspace, timeoutremote);
  if (buffer_put(&out, before.s, before.len) == -1 || buffer_put(&out, message.s, message.len) == -1
      || buffer_put(&out, after.s, after.len) == -1 || buffer_flush(&out) == -1)
    die(QQ_COMM);
  buffer_init(&in, fd, inspace, sizeof inspace, timeoutremote);
  if (netstring_get(&in, &reply, REPLYMAX) != 1 || !reply.len) die(QQ_COMM);
  switch (reply.s[0]) {
    case 'K': die(QQ_OK);
    case 'Z': die(QQ_TEMP);
    case 'D': die(QQ_PERM);
    default: die(QQ_COMM);
  }
}

static int readtimeout(const char *fn, int *t)
{
  unsigned long u;
  int r = control_readulong(&u, fn);
  if (r == 1) *t = u > INT_MAX ? INT_MAX : (int)u;
  return r;
}

int main(int argc, char **argv)
{
  stralloc servers = STRALLOC_ZERO;
  size_t i, start;

  sig_ignore(SIGPIPE);
  if (chdir(auto_qmail) == -1) die(QQ_HOME);
  if (argc < 2 && control_readfile(&servers, "control/qmqpservers", 0) != 1) die(QQ_CONFIG);
  if (readtimeout("control/timeoutconnect", &timeoutconnect) == -1) die(QQ_CONFIG);
  if (readtimeout("control/timeoutremote", &timeoutremote) == -1) die(QQ_CONFIG);

  readall(0, &message);
  getenvelope();
  packet();

  if (argc >= 2)
    for (i = 1; i < (size_t)argc; ++i) doit(argv[i]);
  else
    for (start = i = 0; i < servers.len; ++i)
      if (!servers.s[i]) { doit(servers.s + start); start = i + 1; }
  die(lasterror);
}
