#ifndef MAILDIRQUOTA_H
#define MAILDIRQUOTA_H

#include <stddef.h>
#include <stdint.h>

/* Maildir++ quotas (Courier's README.maildirquota, as vpopmail 5.6 uses
 * them): the quota of a mailbox, from vpasswd's quota field, and its usage,
 * kept in Maildir/maildirsize.
 *
 * maildirsize is a cache. Its first line is the quota definition
 * ("10000000S,1000C"); each further line is "bytes count" (either may be
 * negative), one per delivery or removal; the usage is their sum. It is
 * recalculated from the Maildir itself, written to a file in tmp/ and
 * renamed over the old one, when it is missing, unreadable, malformed, over
 * 5120 bytes, older than 15 minutes (qmail-pop3d and qmail-local do not
 * update it, so an old file may be stale), or written for another quota.
 * The recalculation counts the files of new/ and cur/ of the Maildir and
 * of every folder (a subdirectory whose name starts with '.') except
 * .Trash, as the Maildir++ specification says; a file's size is the
 * ",S=<bytes>" of its name when it has one, else its size on disk.
 *
 * Paths name the Maildir directory itself (".../USER/Maildir"). */

/* A quota: 0 means no limit on that dimension (as in Maildir++). */
struct maildirquota {
  uint64_t bytes;
  uint64_t count;
};

/* Usage: sums of maildirsize lines may be negative for a while (a removal
 * counted twice); the functions below never report less than 0. */
struct maildirquota_usage {
  int64_t bytes;
  int64_t count;
};

/* Longest quota field accepted, and the room maildirquota_fmt needs. */
#define MAILDIRQUOTA_FIELDMAX 64
#define MAILDIRQUOTA_FMT 48
/* Maildir++'s limits for the file. */
#define MAILDIRQUOTA_MAXSIZE 5120
#define MAILDIRQUOTA_MAXAGE (15 * 60)

/* Parses a quota field s[0..len): "NOQUOTA" (no limit), Maildir++'s
 * "NNNS", "NNNC", "NNNS,MMMC" (either order), or vpopmail's old style:
 * bytes "NNN", "NNNK"/"NNNKB" (times 1024), "NNNM"/"NNNMB" (times 1048576),
 * letters in either case. An empty field means no limit, as vpopmail reads
 * it. 1 ok, 0 malformed (also: a number that overflows, a dimension given
 * twice, anything after the last item, over MAILDIRQUOTA_FIELDMAX bytes). */
int maildirquota_parse(const char *s, size_t len, struct maildirquota *q);
/* Writes q as Maildir++ "NNNS", "NNNC", "NNNS,MMMC", or "NOQUOTA" when it
 * has no limit, into s (room: MAILDIRQUOTA_FMT; no NUL added). Returns the
 * length. The result parses back to q. */
size_t maildirquota_fmt(char *s, const struct maildirquota *q);
/* 1 if q limits anything. */
int maildirquota_limited(const struct maildirquota *q);

/* Parses the contents of a maildirsize file, s[0..len): the quota
 * definition on the first line into def, the sum of the other lines into
 * u. 1 ok; 0 malformed: no first line, a definition that does not parse,
 * a line that is not two integers separated by blanks, a last line
 * without its newline (an append cut short), or a sum that overflows. */
int maildirquota_parsesize(const char *s, size_t len, struct maildirquota *def,
                           struct maildirquota_usage *u);

/* Reads maildir/maildirsize: 1 with u set when it can be used for q,
 * 0 when it must be recalculated (any of the reasons above), -1 on error
 * (errno; a missing Maildir is ENOENT, which is an error, not a 0). */
int maildirquota_read(const char *maildir, const struct maildirquota *q,
                      struct maildirquota_usage *u);
/* Counts the Maildir into u and, if q limits anything, writes a new
 * maildirsize for q (tmp/ file, fsync, rename); with no limit, removes
 * maildirsize. 0, or -1 (errno: the Maildir or a directory of it could
 * not be read, or the new file not written). A folder that vanishes while
 * being counted is skipped. */
int maildirquota_recalc(const char *maildir, const struct maildirquota *q,
                        struct maildirquota_usage *u);
/* Counts the Maildir into u as maildirquota_recalc does, writing
 * nothing (for readers such as vuserinfo, which may run as another user
 * than the mailbox's owner). 0, or -1 (errno). */
int maildirquota_count(const char *maildir, struct maildirquota_usage *u);
/* The usage of the Maildir under q: maildirquota_read, and
 * maildirquota_recalc when that says 0. When the recalculated numbers are
 * known but the new file cannot be written, they are still returned (the
 * file is a cache; the next delivery tries again). With no limit in q,
 * nothing is read or written and u is zero. 0, or -1 (errno). */
int maildirquota_get(const char *maildir, const struct maildirquota *q,
                     struct maildirquota_usage *u);

/* Records a delivery (bytes > 0, count 1) or a removal (negative) by
 * appending one line to maildir/maildirsize with a single O_APPEND write,
 * when the file exists (Maildir++: a missing file is recalculated on the
 * next read, never started by an append). 1 appended, 0 no file, -1 on
 * error (errno). */
int maildirquota_add(const char *maildir, int64_t bytes, int64_t count);

/* 1 if one more message of size bytes would take u past q (usage plus the
 * message over a limit; no limit never is), else 0. */
int maildirquota_exceeds(const struct maildirquota *q, const struct maildirquota_usage *u,
                         uint64_t size);
/* How full the mailbox is, in percent of its tighter limit, rounded down;
 * 0 with no limit, and possibly over 100. */
unsigned maildirquota_percent(const struct maildirquota *q, const struct maildirquota_usage *u);

#endif
