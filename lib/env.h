#ifndef ENV_H
#define ENV_H

#include <stddef.h>

/* The process environment, read, and an environment built for a child.
 *
 * env_get() reads this process's environment. Programs that must not be
 * moved by their caller (qmail-queue) simply never call it. */
const char *env_get(const char *name);

/* An environment under construction, as an argv-style array of
 * "NAME=value" strings that the builder owns. */
typedef struct envbuild {
  char **v;     /* null-terminated */
  size_t n;     /* entries in use */
  size_t a;     /* allocated slots, including the terminating null */
} envbuild;

#define ENVBUILD_ZERO { 0, 0, 0 }

/* All return 1 on success, 0 on failure (errno set: ENOMEM, or EINVAL for
 * a name that is empty or contains '='). */
int envbuild_init(envbuild *e, char *const *from); /* copy of from (may be null) */
int envbuild_set(envbuild *e, const char *name, const char *value);
int envbuild_setn(envbuild *e, const char *name, const char *value, size_t len);
int envbuild_unset(envbuild *e, const char *name);
const char *envbuild_get(const envbuild *e, const char *name);
void envbuild_free(envbuild *e);

#endif
