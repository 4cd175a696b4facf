#ifndef LOCK_H
#define LOCK_H

/* Whole-file advisory locks (flock). Each returns 0 or -1 (errno set;
 * EWOULDBLOCK from lock_exnb when another process holds the lock). */
int lock_ex(int fd);
int lock_exnb(int fd);
int lock_sh(int fd);
int lock_un(int fd);

#endif
