#ifndef FD_H
#define FD_H

/* Descriptor juggling for programs that hand descriptors to children. */
int fd_copy(int to, int from);  /* dup2 unless equal; 0 or -1 */
int fd_move(int to, int from);  /* fd_copy, then close(from) */
int fd_coe(int fd);             /* set close-on-exec */
int fd_nocoe(int fd);
int fd_nonblock(int fd);
int fd_block(int fd);

#endif
