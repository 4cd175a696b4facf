#include "bounce.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "date822.h"
#include "fmt.h"
#include "qq.h"

int bounce_paragraph(stralloc *sa, const char *rcpt, const char *report)
{
  size_t start = sa->len, pos, rlen = strlen(report);

  if (!stralloc_append(sa, '<') || !stralloc_cats(sa, rcpt)) return 0;
  for (pos = start; pos < sa->len; ++pos)
    if (sa->s[pos] == '\n') sa->s[pos] = '_';
  if (!stralloc_cats(sa, ">:\n") || !stralloc_cats(sa, report)) return 0;
  if (rlen && report[rlen - 1] != '\n' && !stralloc_append(sa, '\n')) return 0;
  /* An empty line would end the paragraph early: qmail turns the second
   * newline of each pair into '/'. */
  for (pos = sa->len - 2; pos > start; --pos)
    if (sa->s[pos] == '\n' && sa->s[pos - 1] == '\n') sa->s[pos] = '/';
  return stralloc_append(sa, '\n');
}

const char *bounce_status(const char *report, const char *dflt, char *buf)
{
  const char *s = report;
  while ((s = strstr(s, "(#"))) {
    size_t i = 2, n = 0;
    int dots = 0;
    while (n < 15 && (s[i] == '.' || (s[i] >= '0' && s[i] <= '9'))) {
      if (s[i] == '.') ++dots;
      buf[n++] = s[i++];
    }
    if (s[i] == ')' && dots == 2 && n >= 5 && (buf[0] == '2' || buf[0] == '4' || buf[0] == '5') && buf[1] == '.') {
      buf[n] = 0;
      return buf;
    }
    s += 2;
  }
  strcpy(buf, dflt);
  return buf;
}

/* Text for a header field: one line, printable, at most max bytes. */
static void bounce_oneline(struct qq *qq, const char *s, size_t max)
{
  size_t n = 0;
  int space = 0;
  for (; *s && n < max; ++s) {
    char c = *s;
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') { space = 1; continue; }
    if ((unsigned char)c < 32 || (unsigned char)c > 126) c = '?';
    if (space && n) { qq_put(qq, " ", 1); ++n; }
    space = 0;
    qq_put(qq, &c, 1);
    ++n;
  }
}

static void bounce_date(struct qq *qq, time_t t)
{
  char buf[DATE822_MAX];
  qq_put(qq, buf, date822_fmt(buf, t));
}

/* Copies the message (all of it, or its header only), returning -1 on a
 * read error. Lines are copied as they are: the queue holds LF lines. */
static int bounce_copy(struct qq *qq, int fd, uint64_t len, int headeronly)
{
  char buf[8192];
  uint64_t off = 0;
  int nl = 1; /* at the start of a line */
  while (off < len) {
    size_t want = len - off < sizeof buf ? (size_t)(len - off) : sizeof buf;
    ssize_t r = pread(fd, buf, want, (off_t)off);
    size_t n;
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    if (r == 0) return -1;
    n = (size_t)r;
    if (headeronly) {
      size_t i;
      for (i = 0; i < n; ++i) {
        if (buf[i] == '\n' && nl) { qq_put(qq, buf, i + 1); return 0; } /* the empty line */
        nl = buf[i] == '\n';
      }
    }
    qq_put(qq, buf, n);
    if (n) nl = buf[n - 1] == '\n';
    off += n;
  }
  if (!nl) qq_put(qq, "\n", 1);
  return 0;
}

const char *bounce_inject(const struct bounce *b, unsigned long *qp, int *discarded)
{
  struct qq qq;
  char num[FMT_ULONG], status[16], boundary[3 * FMT_ULONG + 32];
  const char *bsender, *brcpt;
  int doublebounce = !*b->sender;
  int headeronly = b->maxbytes && b->msglen > b->maxbytes;
  size_t i, n;
  time_t now = time(0);

  *discarded = 0;
  *qp = 0;
  if (doublebounce) {
    if (!*b->doublebounceto) { *discarded = 1; return ""; }
    bsender = "#@[]";
    brcpt = b->doublebounceto;
  } else {
    bsender = "";
    brcpt = b->sender;
  }

  n = fmt_str(boundary, "quail-");
  n += fmt_ulong(boundary + n, (unsigned long)now);
  boundary[n++] = '-';
  n += fmt_ulong(boundary + n, b->id);
  boundary[n++] = '-';
  n += fmt_ulong(boundary + n, (unsigned long)getpid());
  boundary[n] = 0;

  if (qq_open(&qq) == -1) return "Zunable to start qmail-queue";
  *qp = qq_qp(&qq);

  qq_puts(&qq, "Date: ");
  bounce_date(&qq, now);
  qq_puts(&qq, "\nFrom: ");
  qq_puts(&qq, b->bouncefrom);
  qq_puts(&qq, "@");
  qq_puts(&qq, b->bouncehost);
  qq_puts(&qq, "\nTo: ");
  bounce_oneline(&qq, brcpt, 1000);
  qq_puts(&qq, "\nSubject: failure notice\nMessage-ID: <");
  qq_put(&qq, num, fmt_ulong(num, (unsigned long)now));
  qq_puts(&qq, ".");
  qq_put(&qq, num, fmt_ulong(num, b->id));
  qq_puts(&qq, ".bounce@");
  qq_puts(&qq, b->bouncehost);
  qq_puts(&qq, ">\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"");
  qq_puts(&qq, boundary);
  qq_puts(&qq, "\"\n\nThis is a MIME-formatted message. Its first part is for people.\n\n--");
  qq_puts(&qq, boundary);
  qq_puts(&qq, "\nContent-Type: text/plain; charset=us-ascii\n\nHi. This is the qmail-send program at ");
  qq_puts(&qq, b->bouncehost);
  qq_puts(&qq, doublebounce
    ? ".\nI tried to deliver a bounce message to this address, but the bounce bounced!\n\n"
    : ".\nI'm afraid I wasn't able to deliver your message to the following addresses.\n"
      "This is a permanent error; I've given up. Sorry it didn't work out.\n\n");
  {
    stralloc para = STRALLOC_ZERO;
    for (i = 0; i < b->nf; ++i) {
      para.len = 0;
      if (!bounce_paragraph(&para, b->f[i].rcpt, b->f[i].report)) { qq_fail(&qq); break; }
      qq_put(&qq, para.s, para.len);
    }
    stralloc_free(&para);
  }
  qq_puts(&qq, doublebounce ? "--- Below this line is the original bounce.\n" : "--- Below this line is a copy of the message.\n");
  if (headeronly) qq_puts(&qq, "(The message was too long to return whole: here is its header.)\n");

  qq_puts(&qq, "\n--");
  qq_puts(&qq, boundary);
  qq_puts(&qq, "\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; ");
  bounce_oneline(&qq, b->me, 255);
  qq_puts(&qq, "\nArrival-Date: ");
  bounce_date(&qq, b->birth);
  qq_puts(&qq, "\n");
  for (i = 0; i < b->nf; ++i) {
    qq_puts(&qq, "\nFinal-Recipient: rfc822; ");
    bounce_oneline(&qq, b->f[i].rcpt, 1000);
    qq_puts(&qq, "\nAction: failed\nStatus: ");
    qq_puts(&qq, bounce_status(b->f[i].report, "5.0.0", status));
    qq_puts(&qq, b->f[i].remote ? "\nDiagnostic-Code: smtp; " : "\nDiagnostic-Code: x-unix; ");
    bounce_oneline(&qq, b->f[i].report, 900);
    qq_puts(&qq, "\n");
  }

  qq_puts(&qq, "\n--");
  qq_puts(&qq, boundary);
  qq_puts(&qq, headeronly ? "\nContent-Type: text/rfc822-headers\n\n" : "\nContent-Type: message/rfc822\n\n");
  qq_puts(&qq, "Return-Path: <");
  bounce_oneline(&qq, b->sender, 1000);
  qq_puts(&qq, ">\n");
  if (bounce_copy(&qq, b->fdmess, b->msglen, headeronly) == -1) qq_fail(&qq);
  qq_puts(&qq, "\n--");
  qq_puts(&qq, boundary);
  qq_puts(&qq, "--\n");

  qq_from(&qq, bsender);
  qq_to(&qq, brcpt);
  return qq_close(&qq);
}
