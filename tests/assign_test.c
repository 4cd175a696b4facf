/* Tests for lib/assign.c.
 * not tested: ASSIGN_NOMEM (running out of memory). */

#include "assign.h"
#include "check.h"
#include "stralloc.h"

#define N(a) (sizeof (a) / sizeof (a)[0])
#define IN(s) s, sizeof s - 1

static const char *result_name(int r)
{
  switch (r) {
    case ASSIGN_END: return "END";
    case ASSIGN_ENTRY: return "ENTRY";
    case ASSIGN_BAD: return "BAD";
    case ASSIGN_NOMEM: return "NOMEM";
  }
  return "?";
}

static void test_parse(void)
{
  static const struct {
    const char *line; size_t len;
    int r;
    const char *key; size_t klen;
    const char *data; size_t dlen;
    char wild;
  } cases[] = {
    { IN("=joe:joe:1000:1000:/home/joe:::"), ASSIGN_ENTRY,
      IN("!joe\0"), IN("joe\0" "1000\0" "1000\0/home/joe\0\0"), 0 },
    { IN("+joe-:joe:1000:1000:/home/joe:-::"), ASSIGN_ENTRY,
      IN("!joe-"), IN("joe\0" "1000\0" "1000\0/home/joe\0-\0"), '-' },
    { IN("=JoE:JoE:1000:1000:/Home/JOE:::"), ASSIGN_ENTRY,        /* lowered in the key only */
      IN("!joe\0"), IN("JoE\0" "1000\0" "1000\0/Home/JOE\0\0"), 0 },
    { IN("+JOE-:Joe:1:2:/H:-:X:"), ASSIGN_ENTRY,
      IN("!joe-"), IN("Joe\0" "1\0" "2\0/H\0-\0X"), '-' },
    { IN("+:alias:7790:2108:/var/qmail/alias:-::"), ASSIGN_ENTRY,  /* empty prefix */
      IN("!"), IN("alias\0" "7790\0" "2108\0/var/qmail/alias\0-\0"), 0 },
    { IN("+alias-:alias:7790:2108:/var/qmail/alias:-:alias-:"), ASSIGN_ENTRY,
      IN("!alias-"), IN("alias\0" "7790\0" "2108\0/var/qmail/alias\0-\0alias-"), '-' },
    { IN("=joe:joe:1000:1000:/home/joe:::extra:text"), ASSIGN_ENTRY,  /* extra text ignored */
      IN("!joe\0"), IN("joe\0" "1000\0" "1000\0/home/joe\0\0"), 0 },
    { IN("=joe:joe:1000:1000:/home/joe:-:ext:trailing junk"), ASSIGN_ENTRY,
      IN("!joe\0"), IN("joe\0" "1000\0" "1000\0/home/joe\0-\0ext"), 0 },
    { IN("=:u:1:2:/h:::"), ASSIGN_ENTRY,                              /* empty local part */
      IN("!\0"), IN("u\0" "1\0" "2\0/h\0\0"), 0 },
    { IN("xjoe:joe:1:2:/h:::"), ASSIGN_ENTRY,                         /* any type but '+' is simple */
      IN("!joe\0"), IN("joe\0" "1\0" "2\0/h\0\0"), 0 },
    { IN("+a:u:1:2:/h:::"), ASSIGN_ENTRY, IN("!a"), IN("u\0" "1\0" "2\0/h\0\0"), 'a' },
    { IN("+A:u:1:2:/h:::"), ASSIGN_ENTRY, IN("!a"), IN("u\0" "1\0" "2\0/h\0\0"), 'A' },
    /* bad */
    { IN("=joe:joe:1000:1000:/home/joe::"), ASSIGN_BAD, 0, 0, 0, 0, 0 },  /* five colons */
    { IN("=joe:joe:1000"), ASSIGN_BAD, 0, 0, 0, 0, 0 },
    { IN("=joe"), ASSIGN_BAD, 0, 0, 0, 0, 0 },
    { IN("=joe:"), ASSIGN_BAD, 0, 0, 0, 0, 0 },
    { IN("+joe-:joe:1000:1000:/home/joe:-:"), ASSIGN_BAD, 0, 0, 0, 0, 0 },
    { IN("=jo\0e:joe:1000:1000:/home/joe:::"), ASSIGN_BAD, 0, 0, 0, 0, 0 }, /* NUL in the key */
    { IN("=joe:joe:1000:1000:/ho\0me/joe:::"), ASSIGN_BAD, 0, 0, 0, 0, 0 }, /* NUL in the data */
    { IN(":x:1:2:/h:::"), ASSIGN_BAD, 0, 0, 0, 0, 0 },
    { IN(""), ASSIGN_BAD, 0, 0, 0, 0, 0 },
    { IN("nocolon"), ASSIGN_BAD, 0, 0, 0, 0, 0 },
    /* end */
    { IN("."), ASSIGN_END, 0, 0, 0, 0, 0 },
    { IN(".anything"), ASSIGN_END, 0, 0, 0, 0, 0 },
  };
  stralloc key = STRALLOC_ZERO, data = STRALLOC_ZERO;
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    char wild = 'Z';
    int r = assign_parse(cases[i].line, cases[i].len, &key, &data, &wild);
    if (r != cases[i].r)
      check(0, "assign case %zu: result %s, want %s", i, result_name(r), result_name(cases[i].r));
    else
      check(1, "assign case %zu: result %s", i, result_name(r));
    if (cases[i].r != ASSIGN_ENTRY || r != ASSIGN_ENTRY) continue;
    check_bytes(key.s, key.len, cases[i].key, cases[i].klen, "assign case %zu: key", i);
    check_bytes(data.s, data.len, cases[i].data, cases[i].dlen, "assign case %zu: data", i);
    check_long(wild, cases[i].wild, "assign case %zu: wildchar", i);
  }

  /* key and data are replaced, not appended to */
  stralloc_copys(&key, "old key");
  stralloc_copys(&data, "old data");
  {
    char wild;
    assign_parse(IN("=a:u:1:2:/h:::"), &key, &data, &wild);
    check_bytes(key.s, key.len, "!a\0", 3, "key replaced");
    check_bytes(data.s, data.len, "u\0" "1\0" "2\0/h\0\0", 10, "data replaced");
  }
  stralloc_free(&key);
  stralloc_free(&data);
}

int main(void)
{
  test_parse();
  return check_end();
}
