/* sendmail: the sendmail command line, for programs that expect one
 * (sendmail(8)). It takes qmail's option set and runs QMAILHOME/bin/
 * qmail-inject, which does the work: -t reads the recipients from the
 * header, -f sets the envelope sender, -F the sender's full name. -bp runs
 * qmail-qread (so does the name mailq), -bs runs qmail-smtpd on the
 * standard input and output. The options sendmail has and qmail has no
 * use for are accepted and ignored.
 *
 * It changes no directory before running qmail-inject, so that a relative
 * $QMAILMFTFILE means the same as with qmail-inject itself. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auto.h"
#include "env.h"
#include "error.h"
#include "sgetopt.h"
#include "stralloc.h"
#include "strerr.h"

#define FATAL "sendmail: fatal: "

extern char **environ;

static NORETURN void die_nomem(void) { strerr_die(111, FATAL, "out of memory"); }
static NORETURN void die_usage(void)
{
  strerr_die(100, "sendmail: usage: sendmail [ -t ] [ -fsender ] [ -Fname ] [ -bp ] [ -bs ] [ arg ... ]");
}
static NORETURN void die_home(void)
{
  strerr_die(111, FATAL, "unable to switch to ", auto_qmail, ": ", error_str(errno));
}

static envbuild env = ENVBUILD_ZERO;

static void setenvironment(const char *name, const char *value)
{
  if (!envbuild_set(&env, name, value)) die_nomem();
}

static void unsetenvironment(const char *name)
{
  if (!envbuild_unset(&env, name)) die_nomem();
}

/* Runs QMAILHOME/bin/<prog> with the environment built so far. */
static NORETURN void run(const char *prog, char **argv, int inhome)
{
  stralloc path = STRALLOC_ZERO;
  if (inhome && chdir(auto_qmail) == -1) die_home();
  if (!stralloc_copys(&path, auto_qmail) || !stralloc_cats(&path, "/bin/") || !stralloc_cats(&path, prog)
      || !stralloc_0(&path))
    die_nomem();
  argv[0] = path.s;
  execve(path.s, argv, env.v);
  strerr_die(111, FATAL, "unable to run ", prog, ": ", error_str(errno));
}

/* -bp, and the name mailq. */
static NORETURN void mailq(void)
{
  char *argv[2] = { 0, 0 };
  run("qmail-qread", argv, 1);
}

/* -bs: an SMTP session on descriptors 0 and 1, with the environment
 * tcpserver would give a local client (unless one is set already). */
static NORETURN void smtpd(void)
{
  char *argv[2] = { 0, 0 };
  if (!envbuild_get(&env, "PROTO")) {
    setenvironment("RELAYCLIENT", "");
    setenvironment("DATABYTES", "0");
    setenvironment("PROTO", "TCP");
    setenvironment("TCPLOCALIP", "127.0.0.1");
    setenvironment("TCPLOCALHOST", "localhost");
    setenvironment("TCPREMOTEIP", "127.0.0.1");
    setenvironment("TCPREMOTEHOST", "localhost");
    setenvironment("TCPREMOTEINFO", "sendmail-bs");
  }
  run("qmail-smtpd", argv, 1);
}

/* -f also makes the From field show the sender (notqmail): the user and
 * host come from it, and the caller's own name and host no longer apply.
 * The empty sender (<>) leaves From alone. */
static void dosender(const char *s)
{
  stralloc part = STRALLOC_ZERO;
  size_t len = strlen(s), i, at = 0;
  int hasat = 0;

  if (len >= 2 && s[0] == '<' && s[len - 1] == '>') { ++s; len -= 2; }
  if (!len) return;
  unsetenvironment("QMAILNAME");
  unsetenvironment("MAILNAME");
  unsetenvironment("NAME");
  unsetenvironment("QMAILHOST");
  unsetenvironment("MAILHOST");
  for (i = len; i > 0; --i)
    if (s[i - 1] == '@') { at = i - 1; hasat = 1; break; }
  if (!stralloc_copyb(&part, s, hasat ? at : len) || !stralloc_0(&part)) die_nomem();
  setenvironment("QMAILUSER", part.s);
  if (hasat) {
    if (!stralloc_copyb(&part, s + at + 1, len - at - 1) || !stralloc_0(&part)) die_nomem();
    setenvironment("QMAILHOST", part.s);
  }
  stralloc_free(&part);
}

int main(int argc, char **argv)
{
  struct sgetopt g = SGETOPT_INIT;
  const char *progname = argv[0] ? argv[0] : "sendmail";
  const char *sender = 0, *name = 0, *slash;
  char **qiargv;
  int flagh = 0, opt, i, n;

  if ((slash = strrchr(progname, '/'))) progname = slash + 1;
  if (!envbuild_init(&env, environ)) die_nomem();

  while ((opt = sgetopt(&g, argc, argv, "vimte:f:p:o:B:F:EJxb:")) != SGETOPT_END)
    switch (opt) {
      case 't': flagh = 1; break;
      case 'f': sender = g.arg; break;
      case 'F': name = g.arg; break;
      case 'B': break; /* body type: qmail is 8-bit clean */
      case 'p': break; /* protocol and host for a Received line */
      case 'v': break; /* verbose */
      case 'i': break; /* a lone dot does not end the message anyway */
      case 'x': break;
      case 'm': break; /* "me too": qmail never leaves the sender out */
      case 'e': break; /* error mode: qmail has one */
      case 'o': break; /* -oi, -odb, -oem, ...: nothing to set */
      case 'E': case 'J': sgetopt_skiprest(&g, argv); break; /* with an optional attached argument */
      case 'b':
        switch (g.arg[0]) {
          case 'm': break;
          case 'p': mailq();
          case 's': smtpd();
          default: die_usage();
        }
        break;
      default:
        sgetopt_warn(&g, "sendmail");
        die_usage();
    }
  argc -= g.ind;
  argv += g.ind;

  if (!strcmp(progname, "mailq")) mailq();
  if (!strcmp(progname, "newaliases")) strerr_die(100, FATAL, "please use fastforward/newaliases instead");

  if (sender) dosender(sender);
  /* -F names the sender whatever the environment says. */
  if (name) {
    unsetenvironment("QMAILNAME");
    setenvironment("MAILNAME", name);
  }

  if ((size_t)argc > ((size_t)-1) / sizeof(char *) - 6) die_nomem();
  qiargv = malloc(((size_t)argc + 6) * sizeof(char *));
  if (!qiargv) die_nomem();
  n = 0;
  qiargv[n++] = 0; /* run() puts the path here */
  qiargv[n++] = flagh ? "-H" : "-a";
  if (sender) {
    qiargv[n++] = "-f";
    qiargv[n++] = (char *)sender;
  }
  qiargv[n++] = "--";
  for (i = 0; i < argc; ++i) qiargv[n++] = argv[i];
  qiargv[n] = 0;
  run("qmail-inject", qiargv, 0);
}
