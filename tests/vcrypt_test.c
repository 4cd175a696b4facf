/* Tests for lib/vcrypt.c.
 * not tested: getrandom failing (the kernel's pool is seeded long before
 * a test runs); a libcrypt without yescrypt or without crypt_gensalt (the
 * fallback builds, but this machine's library has both). */

#include <errno.h>
#include <string.h>

#include "check.h"
#include "vcrypt.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

/* Hashes made elsewhere (mkpasswd / openssl passwd), password "secret". */
static const struct { const char *hash, *pass; int want; } known[] = {
  { "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1", "secret", 1 },
  { "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1", "Secret", 0 },
  { "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1", "", 0 },
  { "$1$saltsalt$9xy1btjgzLYfb7hivXtC//", "secret", 1 },      /* MD5-crypt, vpopmail's old default */
  { "$1$saltsalt$9xy1btjgzLYfb7hivXtC//", "secreT", 0 },
  { "", "", 0 },                                               /* an empty hash never matches */
  { "!$1$saltsalt$9xy1btjgzLYfb7hivXtC//", "secret", 0 },     /* locked */
  { "*", "", 0 },
  { "*0", "", 0 },
  { "$6$saltsalt$", "secret", 0 },                             /* damaged: no hash part */
  { "$zz$abc$def", "secret", 0 },                              /* unknown scheme */
  { "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO", "secret", 0 }, /* one short */
};

static void test_known(void)
{
  size_t i;
  for (i = 0; i < N(known); ++i)
    check_long(vcrypt_verify(known[i].pass, known[i].hash), known[i].want, "verify known %zu", i);
}

static void test_hash(void)
{
  static const char *const pw[] = { "secret", "", "pass word:with colon", "\xc3\xa9t\xc3\xa9", "x" };
  stralloc h = STRALLOC_ZERO, h2 = STRALLOC_ZERO;
  const char *sch = vcrypt_scheme();
  size_t i;

  check(!strcmp(sch, "$y$") || !strcmp(sch, "$6$"), "scheme is $y$ or $6$ (got %s)", sch);
  /* Debian 12's libxcrypt has yescrypt: the strong one must be chosen. */
  check_str(sch, "$y$", "scheme on this system");
  for (i = 0; i < N(pw); ++i) {
    check_long(vcrypt_hash(&h, pw[i]), 0, "hash %zu", i);
    check_long(h.len, strlen(h.s) + 1, "hash %zu: NUL-terminated, len counts it", i);
    check(!strncmp(h.s, sch, strlen(sch)), "hash %zu: starts with the scheme", i);
    check(vcrypt_hash_storable(h.s), "hash %zu: storable in vpasswd", i);
    check_long(vcrypt_verify(pw[i], h.s), 1, "hash %zu: verifies", i);
    check_long(vcrypt_verify("wrong", h.s), 0, "hash %zu: wrong password refused", i);
    /* a fresh salt each time */
    check_long(vcrypt_hash(&h2, pw[i]), 0, "hash %zu again", i);
    check(strcmp(h.s, h2.s) != 0, "hash %zu: two hashes differ (salt)", i);
  }
  check_long(vcrypt_hash_with(&h, "secret", "$6$"), 0, "sha-512 hash");
  check(!strncmp(h.s, "$6$", 3), "sha-512 prefix");
  check_long(vcrypt_verify("secret", h.s), 1, "sha-512 verifies");
  check_long(vcrypt_verify("secret\n", h.s), 0, "sha-512: a trailing newline is another password");
  errno = 0;
  check_long(vcrypt_hash_with(&h, "secret", "$zz$"), -1, "unknown scheme refused");
  check_long(errno, EINVAL, "unknown scheme: EINVAL");

  {
    char big[VCRYPT_PASSMAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    errno = 0;
    check_long(vcrypt_hash(&h, big), -1, "password over VCRYPT_PASSMAX refused");
    check_long(errno, EINVAL, "over-long password: EINVAL");
    big[VCRYPT_PASSMAX] = 0;
    check_long(vcrypt_hash(&h, big), 0, "password of VCRYPT_PASSMAX bytes hashed");
    check_long(vcrypt_verify(big, h.s), 1, "password of VCRYPT_PASSMAX bytes verifies");
  }
  stralloc_free(&h);
  stralloc_free(&h2);
}

static void test_random(void)
{
  static const size_t lens[] = { 1, 8, 12, 64, VCRYPT_RANDOMMAX };
  char buf[VCRYPT_RANDOMMAX + 2], prev[VCRYPT_RANDOMMAX + 2];
  unsigned seen[256];
  size_t i, j, distinct;

  for (i = 0; i < N(lens); ++i) {
    memset(buf, '#', sizeof buf);
    check_long(vcrypt_random_password(buf, lens[i]), 0, "random %zu", lens[i]);
    check_long(strlen(buf), lens[i], "random %zu: length", lens[i]);
    check_long(buf[lens[i] + 1] == '#' || lens[i] + 1 >= sizeof buf, 1, "random %zu: nothing written past the NUL", lens[i]);
    for (j = 0; j < lens[i]; ++j)
      if (!((buf[j] >= 'a' && buf[j] <= 'z') || (buf[j] >= 'A' && buf[j] <= 'Z') || (buf[j] >= '0' && buf[j] <= '9'))) break;
    check_long(j, lens[i], "random %zu: only letters and digits", lens[i]);
  }
  errno = 0;
  check_long(vcrypt_random_password(buf, 0), -1, "random 0 refused");
  check_long(errno, EINVAL, "random 0: EINVAL");
  check_long(vcrypt_random_password(buf, VCRYPT_RANDOMMAX + 1), -1, "random over max refused");

  /* 200 passwords of 128: every one of the 62 characters turns up and no
   * two passwords are the same (a stuck generator fails this). */
  memset(seen, 0, sizeof seen);
  prev[0] = 0;
  distinct = 0;
  for (i = 0; i < 200; ++i) {
    vcrypt_random_password(buf, VCRYPT_RANDOMMAX);
    if (strcmp(buf, prev)) ++distinct;
    memcpy(prev, buf, sizeof buf);
    for (j = 0; buf[j]; ++j) ++seen[(unsigned char)buf[j]];
  }
  check_long(distinct, 200, "random: consecutive passwords differ");
  for (i = 0, j = 0; i < 256; ++i) j += seen[i] != 0;
  check_long(j, 62, "random: all 62 characters used");
}

static void test_storable(void)
{
  static const struct { const char *in; int want; } cases[] = {
    { "$6$abc$def", 1 },
    { "abcdefghijklm", 1 },                  /* DES */
    { "", 0 },
    { "$6$a:b$c", 0 },                       /* vpasswd's separator */
    { "$6$a b$c", 0 },
    { "$6$ab$c\n", 0 },
    { "$6$ab$\x7f", 0 },
    { "$6$ab$\xc3\xa9", 0 },
  };
  char big[300];
  size_t i;
  for (i = 0; i < N(cases); ++i)
    check_long(vcrypt_hash_storable(cases[i].in), cases[i].want, "storable %zu", i);
  memset(big, 'a', 255);
  big[255] = 0;
  check_long(vcrypt_hash_storable(big), 1, "storable: 255 bytes");
  big[255] = 'a';
  big[256] = 0;
  check_long(vcrypt_hash_storable(big), 0, "storable: 256 bytes refused");
}

int main(void)
{
  test_known();
  test_hash();
  test_random();
  test_storable();
  return check_end();
}
