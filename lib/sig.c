#include "sig.h"

#include <signal.h>
#include <string.h>

void sig_catch(int sig, sig_handler h)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = h;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, 0);
}

void sig_ignore(int sig) { sig_catch(sig, SIG_IGN); }
void sig_default(int sig) { sig_catch(sig, SIG_DFL); }

static void sig_mask(int how, int sig)
{
  sigset_t ss;
  sigemptyset(&ss);
  if (sig) sigaddset(&ss, sig);
  sigprocmask(how, &ss, 0);
}

void sig_block(int sig) { sig_mask(SIG_BLOCK, sig); }
void sig_unblock(int sig) { sig_mask(SIG_UNBLOCK, sig); }
void sig_blocknone(void) { sig_mask(SIG_SETMASK, 0); }

#if defined(__SANITIZE_ADDRESS__)
#define SIG_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIG_SANITIZED 1
#endif
#endif

void sig_bugcatch(sig_handler h)
{
#ifdef SIG_SANITIZED
  /* In the sanitized test build, AddressSanitizer's own handler reports the
   * crash with a stack trace; ours would hide it behind an exit code. */
  (void)h;
  return;
#endif
  sig_catch(SIGILL, h);
  sig_catch(SIGABRT, h);
  sig_catch(SIGFPE, h);
  sig_catch(SIGBUS, h);
  sig_catch(SIGSEGV, h);
}
