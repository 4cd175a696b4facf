/* Tests for lib/sgetopt.c.
 * not tested: argc smaller than the number of non-null argv entries
 * beyond what the table shows. */

#include <unistd.h>

#include "check.h"
#include "sgetopt.h"
#include "stralloc.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

/* Runs sgetopt over argv and describes what it returned: "a f=x ?q :f |3"
 * (options, options with arguments, '?' with the problem character, ':'
 * for a missing argument, and '|' with the index of the first operand).
 * The character 'E' is skipped to the end of its word, as sendmail does. */
static const char *run(char **argv, const char *opts)
{
  static stralloc sa = STRALLOC_ZERO;
  struct sgetopt g = SGETOPT_INIT;
  int argc = 0, opt;
  while (argv[argc]) ++argc;
  sa.len = 0;
  while ((opt = sgetopt(&g, argc, argv, opts)) != SGETOPT_END) {
    if (opt == '?') {
      stralloc_append(&sa, g.missing ? ':' : '?');
      stralloc_append(&sa, g.problem);
    } else {
      stralloc_append(&sa, (char)opt);
      if (g.arg) { stralloc_append(&sa, '='); stralloc_cats(&sa, g.arg); }
      if (opt == 'E') sgetopt_skiprest(&g, argv);
    }
    stralloc_append(&sa, ' ');
  }
  stralloc_append(&sa, '|');
  stralloc_catulong(&sa, (unsigned long)g.ind);
  stralloc_0(&sa);
  return sa.s;
}

#define A(...) ((char *[]){ "prog", __VA_ARGS__, 0 })

/* What sgetopt_warn writes on descriptor 2 after sgetopt's '?' on argv. */
static const char *warned(char **argv)
{
  static char buf[200];
  struct sgetopt g = SGETOPT_INIT;
  int argc = 0, pi[2], save;
  ssize_t r;
  while (argv[argc]) ++argc;
  while (sgetopt(&g, argc, argv, "f:") != '?') continue;
  fflush(stderr);
  if (pipe(pi) == -1 || (save = dup(2)) == -1 || dup2(pi[1], 2) == -1) return "(no pipe)";
  sgetopt_warn(&g, "prog");
  dup2(save, 2);
  close(save);
  close(pi[1]);
  r = read(pi[0], buf, sizeof buf - 1);
  close(pi[0]);
  buf[r > 0 ? r : 0] = 0;
  return buf;
}

int main(void)
{
  static const char *opts = "aAnf:E";
  struct { char **argv; const char *want; } cases[] = {
    { A("x"), "|1" },
    { ((char *[]){ "prog", 0 }), "|1" },
    { A("-a", "x"), "a |2" },
    { A("-an", "x"), "a n |2" },                    /* bundled */
    { A("-fjoe", "x"), "f=joe |2" },                /* attached argument */
    { A("-f", "joe", "x"), "f=joe |3" },            /* separate argument */
    { A("-af", "joe"), "a f=joe |3" },
    { A("-f", "-a"), "f=-a |3" },                   /* an argument may look like an option */
    { A("-f"), ":f |2" },                           /* missing argument */
    { A("-q", "x"), "?q |2" },                      /* unknown option, then the rest */
    { A("-aqn"), "a ?q n |2" },
    { A("--", "-a"), "|2" },                        /* "--" is used up */
    { A("--foo", "-a"), "|2" },                     /* so is anything starting "--" */
    { A("-", "-a"), "|1" },                         /* "-" is an operand */
    { A("x", "-a"), "|1" },                         /* no permuting */
    { A("-a", "", "-n"), "a |2" },                  /* an empty word is an operand */
    { A("-Efoo", "-a"), "E a |3" },                 /* skipped attached argument */
    { A("-E", "-a"), "E a |3" },
    { A("-aE", "x"), "a E |2" },
    { A("-:"), "?: |2" },                           /* ':' is never an option */
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) check_str(run(cases[i].argv, opts), cases[i].want, "sgetopt case %zu", i);
  check_str(warned(A("-q")), "prog: illegal option -- q\n", "sgetopt_warn: an unknown option");
  check_str(warned(A("-f")), "prog: option requires an argument -- f\n", "sgetopt_warn: a missing argument");
  return check_end();
}
