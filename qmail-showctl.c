/* qmail-showctl: print the build settings and every control file, with the
 * value in force and whether it is a default, in qmail-showctl's words so
 * that people and scripts used to it read it the same way. */

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "control.h"
#include "fmt.h"
#include "ids.h"
#include "stralloc.h"
#include "strerr.h"

static char outspace[4096];
static buffer out;

static void puts1(const char *s) { buffer_puts(&out, s); }

static void putnum(unsigned long u)
{
  char num[FMT_ULONG];
  buffer_put(&out, num, fmt_ulong(num, u));
}

/* Control file text may hold anything; show only printable ASCII. */
static void safeput(const char *s, size_t len)
{
  for (; len; ++s, --len) {
    char c = (*s < 32 || *s > 126) ? '?' : *s;
    buffer_put(&out, &c, 1);
  }
}

static NORETURN void oops(const char *what)
{
  puts1("Oops! ");
  puts1(what);
  puts1("\n");
  buffer_flush(&out);
  _exit(111);
}

enum kind { NUM, STR, LST };

struct ctl {
  const char *name;
  enum kind kind;
  int flagme;          /* STR: the default is control/me */
  const char *def;     /* the default, in words */
  const char *pre;
  const char *post;
};

/* qmail 1.03's control files, in qmail-showctl's order and words, and
 * Quail's additions (bouncemaxbytes, concurrencydomains, timeoutlocal, and
 * qmail-smtpd's limits and checks) among them. */
static const struct ctl ctls[] = {
  { "badhelo", LST, 0, "Any HELO name is allowed.", "", " not accepted in HELO." },
  { "badmailfrom", LST, 0, "Any MAIL FROM is allowed.", "", " not accepted in MAIL FROM." },
  { "badrcptto", LST, 0, "Any RCPT TO is allowed.", "", " not accepted in RCPT TO." },
  { "bouncefrom", STR, 0, "MAILER-DAEMON", "Bounce user name is ", "" },
  { "bouncehost", STR, 1, "bouncehost", "Bounce host name is ", "" },
  { "bouncemaxbytes", NUM, 0, "50000", "Bounces return whole messages up to ", " bytes" },
  { "concurrencydomains", LST, 0, "No per-domain remote concurrency limits.", "Remote concurrency per domain: ", "" },
  { "concurrencylocal", NUM, 0, "10", "Local concurrency is ", "" },
  { "concurrencyremote", NUM, 0, "20", "Remote concurrency is ", "" },
  { "databytes", NUM, 0, "0", "SMTP DATA limit is ", " bytes" },
  { "defaultdomain", STR, 1, "defaultdomain", "Default domain name is ", "" },
  { "defaulthost", STR, 1, "defaulthost", "Default host name is ", "" },
  { "doublebouncehost", STR, 1, "doublebouncehost", "2B recipient host: ", "" },
  { "doublebounceto", STR, 0, "postmaster", "2B recipient user: ", "" },
  { "envnoathost", STR, 1, "envnoathost", "Presumed domain name is ", "" },
  { "helohost", STR, 1, "helohost", "SMTP client HELO host name is ", "" },
  { "idhost", STR, 1, "idhost", "Message-ID host name is ", "" },
  { "localiphost", STR, 1, "localiphost", "Local IP address becomes ", "" },
  { "maxbadcommands", NUM, 0, "20", "SMTP sessions end after ", " bad commands" },
  { "maxlinelength", NUM, 0, "1000", "SMTP message lines may be ", " bytes long" },
  { "maxrcpt", NUM, 0, "1000", "SMTP messages may have ", " recipients" },
  { "locals", LST, 0, "Messages for me are delivered locally.", "Messages for ", " are delivered locally." },
  { "me", STR, 0, "undefined! Uh-oh", "My name is ", "" },
  { "percenthack", LST, 0, "The percent hack is not allowed.", "The percent hack is allowed for user%host@", "." },
  { "plusdomain", STR, 1, "plusdomain", "Plus domain name is ", "" },
  { "qmqpservers", LST, 0, "No QMQP servers.", "QMQP server: ", "." },
  { "queuelifetime", NUM, 0, "604800", "Message lifetime in the queue is ", " seconds" },
  { "rcptcheck", NUM, 0, "1", "SMTP recipient check (1 on, 0 off) is ", "" },
  { "rcpthosts", LST, 0, "SMTP clients may send messages to any recipient.", "SMTP clients may send messages to recipients at ", "." },
  { "morercpthosts", LST, 0, 0, "SMTP clients may send messages to recipients at ", "." },
  { "morercpthosts.cdb", LST, 0, 0, 0, 0 },
  { "requirehelo", NUM, 0, "0", "SMTP HELO required before MAIL (1 yes, 0 no) is ", "" },
  { "smtpgreeting", STR, 1, "smtpgreeting", "SMTP greeting: 220 ", "" },
  { "smtproutes", LST, 0, "No artificial SMTP routes.", "SMTP route: ", "" },
  { "timeoutconnect", NUM, 0, "60", "SMTP client connection timeout is ", " seconds" },
  { "timeoutlocal", NUM, 0, "86400", "Local delivery time limit is ", " seconds" },
  { "timeoutpop3", NUM, 0, "1200", "POP3 login timeout is ", " seconds" },
  { "timeoutremote", NUM, 0, "1200", "SMTP client data timeout is ", " seconds" },
  { "timeoutsession", NUM, 0, "3600", "SMTP session time limit is ", " seconds" },
  { "timeoutsmtpd", NUM, 0, "1200", "SMTP server data timeout is ", " seconds" },
  { "virtualdomains", LST, 0, "No virtual domains.", "Virtual domain: ", "" },
};

static stralloc line = STRALLOC_ZERO;
static int haverh;

static void do_num(const struct ctl *c)
{
  unsigned long u;
  switch (control_readulong(&u, c->name)) {
    case 0:
      puts1("(Default.) "); puts1(c->pre); puts1(c->def); puts1(c->post); puts1(".\n");
      break;
    case 1:
      puts1(c->pre); putnum(u); puts1(c->post); puts1(".\n");
      break;
    default:
      puts1(errno == EINVAL ? "Oops! This file does not hold a number.\n" : "Oops! Trouble reading this file.\n");
  }
}

static void do_str(const struct ctl *c)
{
  switch (control_readline(&line, c->name)) {
    case 0:
      puts1("(Default.) ");
      if (c->flagme && control_me.len) {
        if (!stralloc_copyb(&line, control_me.s, control_me.len - 1)) oops("Out of memory.");
      } else if (!stralloc_copys(&line, c->def))
        oops("Out of memory.");
      /* fall through */
    case 1:
      puts1(c->pre); safeput(line.s, line.len); puts1(c->post); puts1(".\n");
      break;
    default:
      puts1("Oops! Trouble reading this file.\n");
  }
}

static int do_lst(const struct ctl *c, const char *def, const char *pre)
{
  size_t i, j;
  switch (control_readfile(&line, c->name, 0)) {
    case 0:
      puts1("(Default.) "); puts1(def); puts1("\n");
      return 0;
    case 1:
      puts1("\n");
      for (i = j = 0; j < line.len; ++j) {
        if (line.s[j]) continue;
        puts1(pre); safeput(line.s + i, j - i); puts1(c->post); puts1("\n");
        i = j + 1;
      }
      return 1;
    default:
      puts1("Oops! Trouble reading this file.\n");
      return -1;
  }
}

/* morercpthosts.cdb is only useful next to, and newer than, morercpthosts. */
static void do_mrhcdb(void)
{
  struct stat st, stcdb;
  int have = stat("morercpthosts", &st) == 0;
  int havecdb = stat("morercpthosts.cdb", &stcdb) == 0;
  if (!have && !havecdb) puts1("(Default.) No effect.\n");
  else if (!have) puts1("Oops! morercpthosts.cdb exists but morercpthosts doesn't.\n");
  else if (!havecdb) puts1("Oops! morercpthosts exists but morercpthosts.cdb doesn't.\n");
  else if (st.st_mtime > stcdb.st_mtime) puts1("Oops! morercpthosts.cdb is older than morercpthosts.\n");
  else puts1("Modified recently enough; hopefully up to date.\n");
}

static void show(const struct ctl *c)
{
  puts1("\n"); puts1(c->name); puts1(": ");
  if (!strcmp(c->name, "morercpthosts")) {
    if (haverh) do_lst(c, "No effect.", c->pre);
    else do_lst(c, "No rcpthosts; morercpthosts is irrelevant.", "No rcpthosts; doesn't matter that morercpthosts has ");
    return;
  }
  if (!strcmp(c->name, "morercpthosts.cdb")) { do_mrhcdb(); return; }
  switch (c->kind) {
    case NUM: do_num(c); break;
    case STR: do_str(c); break;
    case LST: {
      int r = do_lst(c, c->def, c->pre);
      if (!strcmp(c->name, "rcpthosts")) haverh = r == 1;
      break;
    }
  }
}

static int known(const char *name)
{
  size_t i;
  for (i = 0; i < sizeof ctls / sizeof ctls[0]; ++i)
    if (!strcmp(name, ctls[i].name)) return 1;
  return 0;
}

int main(void)
{
  struct ids ids;
  const char *missing;
  DIR *dir;
  struct dirent *d;
  size_t i;
  char brk[2];

  buffer_init(&out, 1, outspace, sizeof outspace, 0);

  puts1("qmail home directory: "); puts1(auto_qmail); puts1(".\n");
  brk[0] = auto_break;
  brk[1] = 0;
  puts1("user-ext delimiter: "); puts1(brk); puts1(".\n");
  puts1("paternalism (in decimal): "); putnum(auto_patrn); puts1(".\n");
  puts1("silent concurrency limit: "); putnum(auto_spawn); puts1(".\n");
  puts1("subdirectory split: "); putnum(auto_split); puts1(".\n");
  if (ids_load(&ids, 1, &missing) == -1) {
    puts1("Oops! Unable to look up ");
    puts1(missing ? missing : "the qmail users and groups");
    puts1(missing ? " in /etc/passwd or /etc/group.\n" : ".\n");
  } else {
    puts1("user ids: ");
    for (i = 0; i < IDS_NUSERS; ++i) { if (i) puts1(", "); putnum(ids.uid[i]); }
    puts1(".\ngroup ids: ");
    putnum(ids.gid[IDS_NOFILES]); puts1(", "); putnum(ids.gid[IDS_QMAIL]); puts1(".\n");
  }

  if (chdir(auto_qmail) == -1) oops("Unable to chdir to the qmail home directory.");
  if (chdir("control") == -1) oops("Unable to chdir to control.");
  dir = opendir(".");
  if (!dir) oops("Unable to open current directory.");
  /* control_init reads control/me; we are in control/ already. */
  switch (control_readline(&control_me, "me")) {
    case -1: oops("Trouble reading control/me.");
    case 1: if (!stralloc_0(&control_me)) oops("Out of memory."); break;
    default: control_me.len = 0;
  }

  for (i = 0; i < sizeof ctls / sizeof ctls[0]; ++i) show(&ctls[i]);

  while ((d = readdir(dir))) {
    if (d->d_name[0] == '.' && (!d->d_name[1] || (d->d_name[1] == '.' && !d->d_name[2]))) continue;
    if (known(d->d_name)) continue;
    puts1("\n"); puts1(d->d_name); puts1(": I have no idea what this file does.\n");
  }
  closedir(dir);
  buffer_flush(&out);
  return 0;
}
