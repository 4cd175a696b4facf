#ifndef CHECKPW_H
#define CHECKPW_H

#include <stddef.h>

/* Running a checkpassword program (cr.yp.to/checkpwd/interface.html), as
 * qmail-popup and qmail-smtpd's AUTH do: argv[0] is the checkpassword
 * program, argv[1..] the program it runs after a success. It gets
 * "user\0password\0timestamp\0" on descriptor 3, /dev/null on 0 and 1
 * (the client's connection is never handed to it), and this process's
 * descriptor 2 for its messages.
 *
 * Returns the program's exit code: 0 success, 1 bad credentials, 2 misuse,
 * 111 temporary trouble, or anything else it chose; -1 when it could not
 * be run, was killed by a signal, or did not finish within timeout
 * seconds (it is then killed): callers treat -1 as temporary. The data
 * written is bounded by the interface's 512 bytes: longer credentials
 * give 1 without running anything. */
#define CHECKPW_MAX 512
int checkpw_run(char *const *argv, const char *user, size_t ulen, const char *pass, size_t plen,
                const char *timestamp, unsigned int timeout);

/* The same for qmail-popup, whose subprogram becomes the POP3 session:
 * with keepstdio set, descriptors 0 and 1 are passed on as they are (the
 * client's connection), and timeout 0 waits for as long as the program
 * runs. */
int checkpw_runv(char *const *argv, const char *user, size_t ulen, const char *pass, size_t plen,
                 const char *timestamp, unsigned int timeout, int keepstdio);

#endif
