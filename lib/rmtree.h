#ifndef RMTREE_H
#define RMTREE_H

/* rm -rf of name in the directory dfd (AT_FDCWD: the current one), for
 * the virtual-domain commands removing a user's or a domain's directory.
 * Symbolic links are removed, never followed (ezmlm's .qmail links go,
 * not their targets), and every step is relative to a descriptor opened
 * with O_NOFOLLOW, so nothing outside the tree can be reached. Depth is
 * bounded (ELOOP past RMTREE_MAXDEPTH levels). A missing name is not an
 * error. 0, or -1 with errno (the tree may be partly removed). */
#define RMTREE_MAXDEPTH 100

int rmtree_at(int dfd, const char *name);

#endif
