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
  const char *members;  /* group lines only: the comma-separated member list */
  size_t memberslen;
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

/* 1 if the member list of group entry e names user (len bytes), else 0.
 * Members are exactly the text between commas, as group(5) has it: no
 * spaces are trimmed, empty members name nobody. */
int pwfile_member(const struct pwfile_entry *e, const char *user, size_t len);

/* The supplementary groups of user, as initgroups(3) finds them in a group
 * file: the gid of every group whose member list names user, in file order,
 * each gid once, at most max of them (the rest are left out, as
 * initgroups leaves out those past NGROUPS_MAX). *n is how many. A name
 * made only of digits is a number, not a name, and no group lists it.
 * Returns 0, or -1 when the file cannot be read. */
int pwfile_member_gids(const char *file, const char *user, unsigned long *gids, size_t max, size_t *n);

#endif
