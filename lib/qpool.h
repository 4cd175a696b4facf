#ifndef QPOOL_H
#define QPOOL_H

#include <sys/stat.h>

#include "stralloc.h"

/* queue/pool/: queue files kept for reuse (INTERNALS.md, "The pool").
 *
 * Creating a file and deleting another costs far more than rewriting one
 * on ext4 without a journal, which skips recently freed inodes when it
 * allocates: a queue that creates and deletes one file per message is
 * capped near 1,000 messages a second on the reference machine, where
 * rewriting kept files is not. So qmail-clean moves a finished message's
 * file into the pool instead of deleting it, and qmail-queue takes a file
 * from there before it creates one. The message number stays the inode
 * number: a reused file keeps its inode, and qmail-send already tells a
 * message from a later one with the same number (birth, pid, size).
 *
 * A file is pooled only when nobody reads it: every reader of mess/ takes
 * a shared flock(2) on its descriptor (qpool_hold), which its children
 * inherit with the descriptor; qmail-clean pools a file only if it can
 * take the exclusive lock at once, and deletes it otherwise. The pool has
 * QPOOL_SLOTS names (0 .. QPOOL_SLOTS-1) to keep; past them, a file goes
 * in under an overflow name (x<id>), which qmail-queue may take as well,
 * and which qmail-clean deletes when it has nothing else to do: deleting
 * costs over a millisecond here (ext4 mounted with discard), and qmail-
 * clean must not make new messages wait behind a burst of deletions.
 *
 * Paths are relative to the queue directory. */

#define QPOOL_DIR "pool"
#define QPOOL_SLOTS 512

/* qmail-clean: moves the finished queue file at path (ending in its
 * number) into the pool. 1 if it went into a slot; 2 if under an overflow
 * name, which is in overflow then (NUL-terminated): the caller deletes
 * that later, when idle; 0 if neither (a reader holds it, or the
 * filesystem cannot rename without replacing): the caller deletes it.
 * *next is the caller's rotating slot number. */
int qpool_put(const char *path, unsigned long *next, stralloc *overflow);

/* 1 if name (in the pool) is an overflow name. */
int qpool_isoverflow(const char *name);

/* 1 if the file st (in the pool) is also todo/ or mess/ of the message
 * its inode number names. Renames into and out of the pool change two
 * directories, which reach the disk separately on a filesystem without a
 * journal: after a power cut, a pool name may be a second name of a live
 * message. Such a file is never taken (qpool_take; the count of links
 * says so too, but only once fsck has run), and qmail-clean unlinks the
 * pool name when it starts. */
int qpool_aliased(const struct stat *st);

/* qmail-clean, when idle: deletes the pool file at path, unless a
 * qmail-queue holds it (it is being reused: then it is left alone). */
void qpool_trim(const char *path);

/* qmail-queue: takes a pooled file, which stays where it is, in the pool,
 * under an exclusive flock(2) until the caller has renamed it into todo/
 * (qpool_share): another qmail-queue skips a locked file, and one that dies
 * half-way leaves just a pool file with garbage in it, nothing to clean
 * up. Its name goes into path. The open descriptor (O_WRONLY, offset 0,
 * its old content still there: the caller overwrites it and cuts it to
 * the new length before its fsync), or -1 when the pool is empty or
 * unusable: the caller creates a file as before. */
int qpool_take(stralloc *path);

/* qmail-queue: a shared lock on its file (the exclusive one from
 * qpool_take becomes shared once the file is renamed into todo/; a new
 * file gets one before it is named) until qmail-queue exits. Deliveries,
 * which may start at once, take shared locks too (qpool_hold); qmail-clean
 * cannot pool the file before qmail-queue is done with it, so the
 * QFILE_SYNCED mark qmail-queue sets after its fsync can only fall on its
 * own message (lib/qfile.h). */
void qpool_share(int fd);

/* A reader of mess/: takes the shared lock on fd, opened from path for
 * message number id (waiting up to 50 ms for a qmail-queue that had
 * opened the file in the pool before it was reused, and is letting go).
 * 1, or 0 if the file is being pooled right now, was moved away meanwhile
 * (path no longer names it), or is not the file of message id (its inode
 * is not id). */
int qpool_hold(int fd, const char *path, unsigned long id);

#endif
