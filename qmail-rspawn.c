/* qmail-rspawn: run qmail-remote (or $QMAILREMOTE) for qmail-send.
 *
 * Started by qmail-start as the qmailr user. For each remote delivery it
 * runs `qmail-remote host sender recip` with the message on descriptor 0
 * and turns its per-recipient report (r, h, s) and message report (K, Z,
 * D) into one result for qmail-send, as qmail-rspawn does (lib/spawn.h). */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auto.h"
#include "control.h"
#include "env.h"
#include "error.h"
#include "fd.h"
#include "sig.h"
#include "spawner.h"
#include "stralloc.h"

static const char *remote;

static pid_t start(int fdmess, int fdout, const char *sender, const char *recip, stralloc *result)
{
  const char *at = strrchr(recip, '@');
  pid_t pid;
  (void)result;
  pid = fork();
  if (pid) return pid;
  {
    char *args[5];
    setpgid(0, 0);
    sig_default(SIGCHLD);
    sig_default(SIGPIPE);
    sig_blocknone();
    args[0] = (char *)remote;
    args[1] = (char *)(at + 1);
    args[2] = (char *)sender;
    args[3] = (char *)recip;
    args[4] = 0;
    if (fd_move(0, fdmess) == -1) _exit(111);
    if (fd_move(1, fdout) == -1) _exit(111);
    if (fd_copy(2, 1) == -1) _exit(111);
    fd_nocoe(0);
    fd_nocoe(1);
    fd_nocoe(2);
    execvp(args[0], args);
    _exit(error_temp(errno) ? 111 : 100);
  }
}

/* qmail-remote's output: for each recipient r (accepted), h (permanent)
 * or s (temporary) and text, NUL-terminated, then K, Z or D and text for
 * the message. One recipient per delivery here. */
static void report(stralloc *result, int wstat, const char *s, size_t len)
{
  size_t j, k;
  int res = -1, orr;

  if (!WIFEXITED(wstat)) { stralloc_copys(result, "Zqmail-remote crashed.\n"); return; }
  switch (WEXITSTATUS(wstat)) {
    case 0: break;
    case 111: stralloc_copys(result, "ZUnable to run qmail-remote.\n"); return;
    default: stralloc_copys(result, "DUnable to run qmail-remote.\n"); return;
  }
  if (!len) { stralloc_copys(result, "Zqmail-remote produced no output.\n"); return; }

  for (j = k = 0; k < len; ++k)
    if (!s[k]) {
      if (s[j] == 'K') { res = 1; break; }
      if (s[j] == 'Z') { res = 0; break; }
      if (s[j] == 'D') break;
      j = k + 1;
    }
  orr = res;
  if (s[0] == 's') orr = 0;
  else if (s[0] == 'h') orr = -1;
  stralloc_copys(result, orr == 1 ? "K" : orr == 0 ? "Z" : "D");

  for (k = 1; k < len;)
    if (!s[k++]) {
      stralloc_catb(result, s + 1, strnlen(s + 1, k - 1));
      if (res <= orr && k < len && (s[k] == 'Z' || s[k] == 'D' || s[k] == 'K'))
        stralloc_catb(result, s + k + 1, strnlen(s + k + 1, len - k - 1));
      break;
    }
}

static const struct spawner_ops rspawn = { "rspawn", 0, start, report };

int main(void)
{
  unsigned long limit = 0;
  if (chdir(auto_qmail) == -1) _exit(111);
  remote = env_get("QMAILREMOTE");
  if (!remote || !*remote) remote = "bin/qmail-remote";
  /* qmail-remote has its own timeouts; this is the backstop for one that
   * hangs anyway: twice timeoutremote, at least an hour. */
  if (control_readulong(&limit, "control/timeoutremote") == -1) _exit(111);
  limit = limit ? limit * 2 : 2400;
  if (limit < 3600) limit = 3600;
  spawner_run(&rspawn, limit);
}
