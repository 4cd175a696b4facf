#ifndef STRERR_H
#define STRERR_H

/* Diagnostics to descriptor 2 without stdio. The strings are joined and a
 * newline is added:
 *
 *   strerr_die(111, FATAL, "unable to open ", fn, ": ", error_str(errno));
 *
 * The macros count their arguments through a compound literal, so any
 * number of strings may be given. A null string is skipped. */

#ifndef NORETURN
#if defined(__GNUC__)
#define NORETURN __attribute__((noreturn))
#else
#define NORETURN
#endif
#endif

void strerr_warnv(const char *const *v, unsigned n);
NORETURN void strerr_diev(int code, const char *const *v, unsigned n);

#define STRERR_V(...) ((const char *const[]){ __VA_ARGS__ })
#define STRERR_N(...) (unsigned)(sizeof(STRERR_V(__VA_ARGS__)) / sizeof(const char *))

#define strerr_warn(...) strerr_warnv(STRERR_V(__VA_ARGS__), STRERR_N(__VA_ARGS__))
#define strerr_die(code, ...) strerr_diev((code), STRERR_V(__VA_ARGS__), STRERR_N(__VA_ARGS__))

#endif
