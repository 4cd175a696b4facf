#ifndef SGETOPT_H
#define SGETOPT_H

#include <stddef.h>

/* Command-line options as qmail's getopt reads them, without stdio and
 * without global state:
 *
 *   struct sgetopt g = SGETOPT_INIT;
 *   while ((opt = sgetopt(&g, argc, argv, "nf:")) != SGETOPT_END) ...
 *   argv += g.ind;
 *
 * Options are bundled ("-nN") and an argument may be attached ("-fjoe")
 * or follow as the next word. Options end at the first word that does not
 * start with '-', at "-" (which stays an operand), and after "--" (or any
 * word starting with "--"), which is consumed. Nothing is permuted: an
 * operand that looks like an option after the first operand is an
 * operand. */

#define SGETOPT_END (-1)

struct sgetopt {
  int ind;           /* the next word of argv to look at */
  size_t pos;        /* inside argv[ind]: 0 at the start of a word */
  const char *arg;   /* the argument of the option just returned, or 0 */
  char problem;      /* the option character that was wrong */
  int missing;       /* with '?': 1 if the option lacked its argument */
};

#define SGETOPT_INIT { 1, 0, 0, 0, 0 }

/* The next option character, '?' for an unknown option or one without
 * its argument (problem and missing say which), or SGETOPT_END. */
int sgetopt(struct sgetopt *g, int argc, char *const *argv, const char *opts);

/* Says on standard error what was wrong with the option sgetopt just
 * answered '?' for, as "prog: illegal option -- x" (or "option requires
 * an argument -- x"), like qmail's getopt. */
void sgetopt_warn(const struct sgetopt *g, const char *prog);

/* Skips what is left of the current word (sendmail's -E and -J, which
 * take an optional attached argument). */
void sgetopt_skiprest(struct sgetopt *g, char *const *argv);

#endif
