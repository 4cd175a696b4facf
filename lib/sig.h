#ifndef SIG_H
#define SIG_H

/* Signal dispositions, with sigaction semantics (handlers stay installed,
 * interrupted calls are not restarted unless said so). */
typedef void (*sig_handler)(int);

void sig_catch(int sig, sig_handler h);
void sig_ignore(int sig);
void sig_default(int sig);
void sig_block(int sig);
void sig_unblock(int sig);
void sig_blocknone(void);

/* The crash signals (SIGILL, SIGABRT, SIGFPE, SIGBUS, SIGSEGV) go to h,
 * which should _exit with the program's "internal bug" code. */
void sig_bugcatch(sig_handler h);

#endif
