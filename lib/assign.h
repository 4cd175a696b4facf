#ifndef ASSIGN_H
#define ASSIGN_H

#include <stddef.h>

#include "stralloc.h"

/* users/assign lines (qmail-users(5)), turned into users/cdb records
 * exactly as qmail-newu does, because qmail-lspawn and vpopmail read the
 * cdb directly:
 *
 *   =local:user:uid:gid:homedir:dash:ext:   key "!" local NUL (lowercased)
 *   +prefix:user:uid:gid:homedir:dash:pre:  key "!" prefix   (lowercased)
 *
 * data is the six fields after the address joined with NUL
 * ("user\0uid\0gid\0homedir\0dash\0ext"); anything after the sixth colon
 * is ignored. As in qmail, any first character other than '+' makes a
 * simple entry. A line starting with '.' ends the file. */

enum assign_result { ASSIGN_END, ASSIGN_ENTRY, ASSIGN_BAD, ASSIGN_NOMEM };

/* Parses one line (its newline already removed). For '+' entries with a
 * non-empty prefix, *wildchar is the prefix's last character (it goes into
 * the cdb's "" record), else 0. key and data are replaced. */
enum assign_result assign_parse(const char *line, size_t len, stralloc *key, stralloc *data, char *wildchar);

#endif
