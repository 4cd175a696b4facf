/* Linked into every program of the sanitized test build (TEST).
 *
 * The sanitizers read ASAN_OPTIONS and UBSAN_OPTIONS from
 * /proc/self/environ, which a process cannot read once it is not
 * dumpable: qmail-local, run by a root qmail-lspawn as a user who may not
 * read the binary, is one. Such a program then ran with the defaults, so
 * with the leak check at exit, whose tracer task (named like the program)
 * a test killing qmail-local processes could kill, wedging the program
 * for good. These are the options TEST exports, for the programs that
 * cannot see them; the environment still wins where it can be read (the
 * unit tests turn the leak check back on that way). */

const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
  return "detect_leaks=0:abort_on_error=0:allocator_may_return_null=1";
}

const char *__ubsan_default_options(void)
{
  return "print_stacktrace=1:halt_on_error=1";
}
