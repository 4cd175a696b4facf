/* Tests for lib/env.c.
 * not tested: running out of memory while building. */

#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "env.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

/* The entries of e, sorted-independent: "NAME=value" must be there once. */
static int count(const envbuild *e, const char *entry)
{
  size_t i;
  int n = 0;
  for (i = 0; i < e->n; ++i) n += !strcmp(e->v[i], entry);
  return n;
}

static void check_terminated(const envbuild *e, const char *when)
{
  check(e->v && e->v[e->n] == 0, "%s: v[n] is null", when);
  check(e->n < e->a, "%s: n < a", when);
}

static void test_init(void)
{
  char *from[] = {
    "PATH=/bin", "HOME=/root", "PATH=/usr/bin", "junk", "=novalue", "EMPTY=", "A=b=c", 0,
  };
  envbuild e = ENVBUILD_ZERO;

  check_long(envbuild_init(&e, from), 1, "init");
  check_long(e.n, 4, "init: duplicate and junk dropped");
  check_terminated(&e, "init");
  check_str(envbuild_get(&e, "PATH"), "/bin", "init: first PATH wins");
  check_str(envbuild_get(&e, "HOME"), "/root", "init: HOME");
  check_str(envbuild_get(&e, "EMPTY"), "", "init: empty value");
  check_str(envbuild_get(&e, "A"), "b=c", "init: value with '='");
  check(envbuild_get(&e, "junk") == 0, "init: junk entry gone");
  check(envbuild_get(&e, "") == 0, "init: entry with empty name gone");
  check(envbuild_get(&e, "PAT") == 0, "init: prefix of a name is not found");
  check(envbuild_get(&e, "PATHX") == 0, "init: longer name is not found");
  check(e.v[0] != from[0], "init copies the strings");
  envbuild_free(&e);
  check(e.v == 0 && e.n == 0 && e.a == 0, "free zeroes");

  check_long(envbuild_init(&e, 0), 1, "init from null");
  check_long(e.n, 0, "init from null: empty");
  check_terminated(&e, "init from null");
  envbuild_free(&e);
}

static void test_set(void)
{
  envbuild e = ENVBUILD_ZERO;
  char *from[] = { "USER=joe", "HOME=/home/joe", 0 };
  size_t i;

  envbuild_init(&e, from);
  check_long(envbuild_set(&e, "NEW", "value"), 1, "set new");
  check_str(envbuild_get(&e, "NEW"), "value", "set new: get");
  check_long(count(&e, "NEW=value"), 1, "set new: entry");
  check_long(envbuild_set(&e, "USER", "alias"), 1, "set replace");
  check_str(envbuild_get(&e, "USER"), "alias", "set replace: get");
  check_long(count(&e, "USER=joe"), 0, "set replace: old entry gone");
  check_long(e.n, 3, "set replace: no new entry");
  check_long(envbuild_set(&e, "EMPTY", ""), 1, "set empty value");
  check_str(envbuild_get(&e, "EMPTY"), "", "set empty value: get");
  check_long(envbuild_setn(&e, "EXT", "abcdef", 3), 1, "setn");
  check_str(envbuild_get(&e, "EXT"), "abc", "setn takes len bytes");
  check_long(envbuild_setn(&e, "EXT", "xyz", 0), 1, "setn 0 bytes");
  check_str(envbuild_get(&e, "EXT"), "", "setn 0 bytes: empty");
  check_long(envbuild_set(&e, "EQ", "a=b"), 1, "set a value with '='");
  check_str(envbuild_get(&e, "EQ"), "a=b", "value with '='");
  check_terminated(&e, "after sets");

  check_long(envbuild_unset(&e, "USER"), 1, "unset");
  check(envbuild_get(&e, "USER") == 0, "unset: gone");
  check_str(envbuild_get(&e, "HOME"), "/home/joe", "unset: others kept");
  check_str(envbuild_get(&e, "NEW"), "value", "unset: others kept (NEW)");
  check_long(envbuild_unset(&e, "NOSUCH"), 1, "unset of an absent name");
  check_long(e.n, 5, "count after unset");
  check_terminated(&e, "after unset");

  /* invalid names */
  {
    static const char *const bad[] = { "", "A=B", "=", "A=" };
    for (i = 0; i < N(bad); ++i) {
      errno = 0;
      check_long(envbuild_set(&e, bad[i], "v"), 0, "set \"%s\" fails", bad[i]);
      check_long(errno, EINVAL, "set \"%s\": errno", bad[i]);
      errno = 0;
      check_long(envbuild_setn(&e, bad[i], "v", 1), 0, "setn \"%s\" fails", bad[i]);
      check_long(errno, EINVAL, "setn \"%s\": errno", bad[i]);
      errno = 0;
      check_long(envbuild_unset(&e, bad[i]), 0, "unset \"%s\" fails", bad[i]);
      check_long(errno, EINVAL, "unset \"%s\": errno", bad[i]);
    }
    check_long(e.n, 5, "invalid names change nothing");
    check_str(envbuild_get(&e, "HOME"), "/home/joe", "HOME intact after invalid names");
  }

  /* growth past the first allocation */
  {
    int ok = 1, bad = 0;
    char name[16], value[16];
    for (i = 0; i < 500; ++i) {
      snprintf(name, sizeof name, "V%zu", i);
      snprintf(value, sizeof value, "%zu", i * 7);
      ok &= envbuild_set(&e, name, value);
    }
    check_long(ok, 1, "500 sets");
    check_long(e.n, 505, "500 sets: count");
    for (i = 0; i < 500; ++i) {
      const char *g;
      snprintf(name, sizeof name, "V%zu", i);
      snprintf(value, sizeof value, "%zu", i * 7);
      g = envbuild_get(&e, name);
      if (!g || strcmp(g, value)) ++bad;
    }
    check_long(bad, 0, "500 sets: every value");
    for (i = 0; i < 500; i += 2) {
      snprintf(name, sizeof name, "V%zu", i);
      ok &= envbuild_unset(&e, name);
    }
    check_long(e.n, 255, "250 unsets: count");
    snprintf(name, sizeof name, "V%d", 3);
    check_str(envbuild_get(&e, name), "21", "odd one kept");
    check(envbuild_get(&e, "V4") == 0, "even one gone");
    check_terminated(&e, "after growth");
  }
  envbuild_free(&e);

  /* set on a fresh zero envbuild, without init */
  {
    envbuild z = ENVBUILD_ZERO;
    check_long(envbuild_set(&z, "A", "1"), 1, "set without init");
    check_str(envbuild_get(&z, "A"), "1", "set without init: get");
    check_terminated(&z, "set without init");
    envbuild_free(&z);
  }
}

static void test_get_invalid(void)
{
  envbuild e;
  static char a1[] = "A=B=c", a2[] = "A=1";
  char *from[] = { a1, a2, 0 };
  envbuild_init(&e, from);
  check(envbuild_get(&e, "A=B") == 0, "envbuild_get(\"A=B\") does not find A=B=c");
  check(envbuild_get(&e, "") == 0, "envbuild_get(\"\") finds nothing");
  check_str(envbuild_get(&e, "A"), "B=c", "envbuild_get(\"A\") finds the first A");
  envbuild_free(&e);
}

static void test_env_get(void)
{
  setenv("ENV_TEST_X", "42", 1);
  check_str(env_get("ENV_TEST_X"), "42", "env_get of a set variable");
  unsetenv("ENV_TEST_X");
  check(env_get("ENV_TEST_X") == 0, "env_get of an unset variable");
}

int main(void)
{
  test_init();
  test_set();
  test_env_get();
  test_get_invalid();
  return check_end();
}
