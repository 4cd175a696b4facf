#ifndef PWFILE_H
#define PWFILE_H

#include <stddef.h>

/* The passwd(5) and group(5) line formats, read straight from the files.
 * qmail's role users are system accounts in /etc/passwd; reading the file
 * ourselves keeps the statically linked programs away from NSS.
 *
 *   passwd: name:password:uid:gid:gecos:home:shell
 *   group:  name:password:gid:members
 *
 * Fields point into the line (not NUL-terminated). NIS "+"/"-" lines,
 * comments and malformed lines are not entries. */
struct pwfile_entry {
  const char *name;
  size_t namelen;
  unsigned long id;     /* uid, or gid for a group line */
  unsigned long gid;    /* passwd lines only */
  const char *home;     /* passwd lines only */
  size_t homelen;
};

/* 1 and e filled for a well-formed line (trailing newline allowed), else 0. */
int pwfile_parse_passwd(const char *line, size_t len, struct pwfile_entry *e);
int pwfile_parse_group(const char *line, size_t len, struct pwfile_entry *e);

/* Looks each of n names up in file (a passwd file if isgroup is 0, else a
 * group file). ids[i] is set and found[i] becomes 1 for each name found
 * (gids[i] too for passwd files, when gids is not null). A name made only
 * of digits is a number and needs no file. Returns 0, or -1 when the file
 * cannot be read. */
int pwfile_lookup(const char *file, int isgroup, const char *const *names, size_t n,
                  unsigned long *ids, unsigned long *gids, int *found);

#endif
