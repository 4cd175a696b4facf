#ifndef CHILD_H
#define CHILD_H

#include <sys/types.h>

/* Running the program that a .qmail helper wraps (preline, condredirect,
 * bouncesaying, except), the way qmail's helpers run it: found through
 * PATH by execvp (so a script without "#!" still runs under /bin/sh),
 * with SIGPIPE back at its default disposition.
 *
 * child_start() forks and runs argv. Unless fdin is -1, it becomes the
 * child's descriptor 0 (and fdin itself is closed in the child). It
 * returns the child's pid, or -1 with errno set. When the program could
 * not be run at all, *execfailed is 1, errno is the exec's error and the
 * child has already been reaped; when fork or pipe failed, *execfailed
 * is 0. The exec error travels back over a close-on-exec pipe, so the
 * caller can say why, instead of guessing from an exit code. */
pid_t child_start(char *const *argv, int fdin, int *execfailed);

/* Waits for pid: 0 with *wstat set, or -1 (errno set). */
int child_wait(pid_t pid, int *wstat);

/* Whether a failed exec is worth retrying. qmail's helpers treat a
 * program that does not exist or may not be run (ENOENT, ENOTDIR, EACCES,
 * EPERM, ENOEXEC, ...) as a permanent failure: condredirect(1) says "or
 * does not exist". Quail's error_temp() counts a missing file as
 * temporary, which is right for files and wrong here, hence this one
 * exception, made in one place. Everything else follows error_temp(). */
int child_exectemp(int e);

/* The exit-code rule condredirect, bouncesaying and except share: run
 * argv with the caller's descriptors and wait for it. */
enum child_result {
  CHILD_ZERO,    /* exited 0 */
  CHILD_TEMP,    /* exited 111, or could not be run for a temporary reason */
  CHILD_OTHER,   /* any other exit code, or the program does not exist */
  CHILD_CRASHED, /* killed by a signal */
  CHILD_ERROR    /* fork or wait failed */
};
/* *err is the errno behind CHILD_TEMP (a failed exec) and CHILD_ERROR,
 * and 0 otherwise. */
enum child_result child_run(char *const *argv, int *err);

/* The temporary outcomes the three share: for CHILD_TEMP, CHILD_CRASHED
 * and CHILD_ERROR, prints why (after fatal, naming prog when it could not
 * be run) and exits 111. Returns for CHILD_ZERO and CHILD_OTHER. */
void child_temp(enum child_result r, int err, const char *fatal, const char *prog);

#endif
