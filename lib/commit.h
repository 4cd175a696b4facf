#ifndef COMMIT_H
#define COMMIT_H

#include <stddef.h>

/* Making a file durable, one checked step at a time:
 *   write everything -> fsync -> close (checked) -> link or rename into
 *   place -> fsync the directory that gained the name.
 * A step that fails returns -1 with errno set, and the caller decides
 * (through error_temp) what that means. Nothing here retries a failed
 * fsync: after a failed fsync the page cache may have dropped the data. */

int commit_writeall(int fd, const char *s, size_t len);
/* fsync(fd), then close(fd); the descriptor is closed either way. */
int commit_fsyncclose(int fd);
/* fsync of a directory, by path. */
int commit_dir(const char *dir);
/* fsync of the directory holding path (path's text up to its last '/',
 * or "." when it has none). */
int commit_dirof(const char *path);
/* rename(tmp, fn) or link(tmp, fn), then the fsync of fn's directory. */
int commit_rename(const char *tmp, const char *fn);
int commit_link(const char *tmp, const char *fn);

/* An unnamed file in dir (O_TMPFILE, opened O_RDWR): nothing is left behind if the
 * process dies before commit_linkfd() names it. -1 with errno EOPNOTSUPP
 * (or EISDIR/EINVAL from old kernels) when the filesystem cannot do it;
 * the caller then falls back to a named temporary file. */
int commit_tmpfile(const char *dir, int mode);
/* Gives the O_TMPFILE fd the name fn (the file must already be fsynced),
 * then fsyncs fn's directory. linkat(AT_EMPTY_PATH) where the kernel
 * allows it unprivileged (Linux 6.10+), else /proc/self/fd. ENOENT when
 * fn's directory is missing, or when neither way works (no /proc on an old
 * kernel): the file is O_RDWR, so the caller can copy it out instead. */
int commit_linkfd(int fd, const char *fn);
/* commit_linkfd without the directory's fsync, for a caller that makes the
 * name visible before the file is durable and syncs both itself. */
int commit_namefd(int fd, const char *fn);

/* Writes len bytes as the whole new content of fn, durably and
 * atomically: fn.tmp is written, fsynced and renamed over fn. */
int commit_replace(const char *fn, const char *data, size_t len, int mode);

#endif
