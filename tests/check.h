#ifndef CHECK_H
#define CHECK_H

/* A small table-driven test harness. Each check prints one line,
 *   ok - name
 *   not ok - name: got X, want Y
 * and check_end() prints "# N passed, M failed" and returns the exit code.
 * TEST counts the "ok" and "not ok" lines of every test program. Byte
 * strings are shown with C escapes so that NULs and control bytes are
 * visible. Tests may use stdio; programs may not. */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static unsigned check_passed, check_failed;

#if defined(__GNUC__)
#define CHECK_UNUSED __attribute__((unused))
#define CHECK_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CHECK_UNUSED
#define CHECK_PRINTF(a, b)
#endif

static CHECK_UNUSED void check_escape(FILE *f, const char *s, size_t len)
{
  size_t i;
  if (!s) { fputs("(null)", f); return; }
  fputc('"', f);
  for (i = 0; i < len; ++i) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\\' || c == '"') fprintf(f, "\\%c", c);
    else if (c == '\n') fputs("\\n", f);
    else if (c == '\r') fputs("\\r", f);
    else if (c == '\t') fputs("\\t", f);
    else if (c < 32 || c > 126) fprintf(f, "\\x%02x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

/* The name is printf-style, so table tests can say which row failed. */
static CHECK_PRINTF(2, 3) int check_ok(int ok, const char *fmt, ...)
{
  va_list ap;
  fputs(ok ? "ok - " : "not ok - ", stdout);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  if (ok) { ++check_passed; fputc('\n', stdout); }
  else ++check_failed; /* the caller finishes the line */
  return ok;
}

/* check(cond, "name %d", i) */
#define check(cond, ...) \
  (check_ok(!!(cond), __VA_ARGS__) ? 1 : (printf(": %s is false (%s:%d)\n", #cond, __FILE__, __LINE__), 0))

#define check_long(got, want, ...) do { \
  long check_g_ = (long)(got), check_w_ = (long)(want); \
  if (!check_ok(check_g_ == check_w_, __VA_ARGS__)) \
    printf(": got %ld, want %ld (%s:%d)\n", check_g_, check_w_, __FILE__, __LINE__); \
} while (0)

#define check_bytes(got, gotlen, want, wantlen, ...) do { \
  const char *check_g_ = (got), *check_w_ = (want); \
  size_t check_gl_ = (gotlen), check_wl_ = (wantlen); \
  int check_same_ = check_g_ && check_w_ ? check_gl_ == check_wl_ && !memcmp(check_g_, check_w_, check_gl_) \
                                         : check_g_ == check_w_; \
  if (!check_ok(check_same_, __VA_ARGS__)) { \
    fputs(": got ", stdout); check_escape(stdout, check_g_, check_gl_); \
    fputs(", want ", stdout); check_escape(stdout, check_w_, check_wl_); \
    printf(" (%s:%d)\n", __FILE__, __LINE__); \
  } \
} while (0)

#define check_str(got, want, ...) do { \
  const char *check_gs_ = (got), *check_ws_ = (want); \
  check_bytes(check_gs_, check_gs_ ? strlen(check_gs_) : 0, check_ws_, check_ws_ ? strlen(check_ws_) : 0, __VA_ARGS__); \
} while (0)

static CHECK_UNUSED int check_end(void)
{
  printf("# %u passed, %u failed\n", check_passed, check_failed);
  fflush(stdout);
  return check_failed ? 1 : 0;
}

#endif
