#include "env.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *env_get(const char *name)
{
  return getenv(name);
}

static int envbuild_grow(envbuild *e)
{
  char **v;
  size_t a;
  if (e->n + 1 < e->a) return 1;
  if (e->a > SIZE_MAX / 2 / sizeof(char *)) { errno = ENOMEM; return 0; }
  a = e->a ? e->a * 2 : 32;
  v = realloc(e->v, a * sizeof(char *));
  if (!v) { errno = ENOMEM; return 0; }
  e->v = v;
  e->a = a;
  return 1;
}

static int envbuild_validname(const char *name)
{
  if (!*name || strchr(name, '=')) { errno = EINVAL; return 0; }
  return 1;
}

/* Index of NAME in e, or e->n. */
static size_t envbuild_find(const envbuild *e, const char *name, size_t nlen)
{
  size_t i;
  for (i = 0; i < e->n; ++i)
    if (strncmp(e->v[i], name, nlen) == 0 && e->v[i][nlen] == '=') return i;
  return e->n;
}

int envbuild_init(envbuild *e, char *const *from)
{
  e->v = 0;
  e->n = 0;
  e->a = 0;
  if (!envbuild_grow(e)) return 0;
  e->v[0] = 0;
  if (from) {
    for (; *from; ++from) {
      const char *eq = strchr(*from, '=');
      size_t nlen;
      char *copy;
      if (!eq || eq == *from) continue; /* junk entries are dropped */
      nlen = (size_t)(eq - *from);
      if (envbuild_find(e, *from, nlen) < e->n) continue; /* first one wins, as getenv */
      if (!envbuild_grow(e)) { envbuild_free(e); return 0; }
      copy = strdup(*from);
      if (!copy) { envbuild_free(e); errno = ENOMEM; return 0; }
      e->v[e->n++] = copy;
      e->v[e->n] = 0;
    }
  }
  return 1;
}

int envbuild_setn(envbuild *e, const char *name, const char *value, size_t len)
{
  size_t nlen, i;
  char *s;

  if (!envbuild_validname(name)) return 0;
  nlen = strlen(name);
  if (len > SIZE_MAX - nlen - 2) { errno = ENOMEM; return 0; }
  s = malloc(nlen + len + 2);
  if (!s) { errno = ENOMEM; return 0; }
  memcpy(s, name, nlen);
  s[nlen] = '=';
  memcpy(s + nlen + 1, value, len);
  s[nlen + 1 + len] = 0;
  i = envbuild_find(e, name, nlen);
  if (i < e->n) {
    free(e->v[i]);
    e->v[i] = s;
    return 1;
  }
  if (!envbuild_grow(e)) { free(s); return 0; }
  e->v[e->n++] = s;
  e->v[e->n] = 0;
  return 1;
}

int envbuild_set(envbuild *e, const char *name, const char *value)
{
  return envbuild_setn(e, name, value, strlen(value));
}

int envbuild_unset(envbuild *e, const char *name)
{
  size_t nlen, i;
  if (!envbuild_validname(name)) return 0;
  nlen = strlen(name);
  i = envbuild_find(e, name, nlen);
  if (i < e->n) {
    free(e->v[i]);
    e->v[i] = e->v[--e->n];
    e->v[e->n] = 0;
  }
  return 1;
}

const char *envbuild_get(const envbuild *e, const char *name)
{
  size_t nlen, i;
  if (!*name || strchr(name, '=')) return 0; /* "A=B" must not find "A=B=c" */
  nlen = strlen(name);
  i = envbuild_find(e, name, nlen);
  return i < e->n ? e->v[i] + nlen + 1 : 0;
}

void envbuild_free(envbuild *e)
{
  size_t i;
  for (i = 0; i < e->n; ++i) free(e->v[i]);
  free(e->v);
  e->v = 0;
  e->n = 0;
  e->a = 0;
}
