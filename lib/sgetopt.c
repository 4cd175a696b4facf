#include "sgetopt.h"

#include <string.h>

#include "strerr.h"

int sgetopt(struct sgetopt *g, int argc, char *const *argv, const char *opts)
{
  const char *s;
  char c;

  g->arg = 0;
  g->missing = 0;
  if (!argv || g->ind >= argc || !argv[g->ind]) return SGETOPT_END;
  if (g->pos && !argv[g->ind][g->pos]) {
    ++g->ind;
    g->pos = 0;
    if (g->ind >= argc || !argv[g->ind]) return SGETOPT_END;
  }
  if (!g->pos) {
    if (argv[g->ind][0] != '-') return SGETOPT_END;
    c = argv[g->ind][1];
    if (c == '-' || !c) {
      if (c) ++g->ind; /* "--" is used up; "-" stays an operand */
      return SGETOPT_END;
    }
    g->pos = 1;
  }
  c = argv[g->ind][g->pos++];
  for (s = opts; *s; ++s) {
    if (*s == ':') continue;
    if (*s != c) continue;
    if (s[1] != ':') return c;
    g->arg = argv[g->ind] + g->pos;
    ++g->ind;
    g->pos = 0;
    if (!*g->arg) {
      if (g->ind >= argc || !argv[g->ind]) {
        g->arg = 0;
        g->problem = c;
        g->missing = 1;
        return '?';
      }
      g->arg = argv[g->ind++];
    }
    return c;
  }
  g->problem = c;
  return '?';
}

void sgetopt_skiprest(struct sgetopt *g, char *const *argv)
{
  if (g->pos) g->pos += strlen(argv[g->ind] + g->pos);
}

void sgetopt_warn(const struct sgetopt *g, const char *prog)
{
  char c[2];
  c[0] = g->problem;
  c[1] = 0;
  strerr_warn(prog, g->missing ? ": option requires an argument -- " : ": illegal option -- ", c);
}
