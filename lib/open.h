#ifndef OPEN_H
#define OPEN_H

/* open() with the flags qmail programs need, each retried on EINTR.
 * None sets close-on-exec: descriptors are handed to children on purpose
 * in this system, and callers that must not leak one use fd_coe(). */
int open_read(const char *fn);      /* O_RDONLY|O_NONBLOCK: never blocks on a FIFO */
int open_write(const char *fn);     /* O_WRONLY|O_NONBLOCK, must exist */
int open_append(const char *fn);    /* O_WRONLY|O_APPEND|O_CREAT, 0600 */
int open_trunc(const char *fn);     /* O_WRONLY|O_TRUNC|O_CREAT, 0644 */
int open_excl(const char *fn);      /* O_WRONLY|O_EXCL|O_CREAT, 0644 */
int open_dir(const char *fn);       /* O_RDONLY|O_DIRECTORY */

#endif
