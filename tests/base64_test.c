/* Tests for lib/base64.c.
 * not tested: running out of memory (base64_decode's -1). */

#include <stdlib.h>

#include "base64.h"
#include "check.h"
#include "stralloc.h"

#define N(a) (sizeof (a) / sizeof (a)[0])
#define IN(s) s, sizeof s - 1

/* RFC 4648 section 10, and some binary. */
static const struct { const char *plain; size_t plen; const char *enc; size_t elen; } vectors[] = {
  { IN(""), IN("") },
  { IN("f"), IN("Zg==") },
  { IN("fo"), IN("Zm8=") },
  { IN("foo"), IN("Zm9v") },
  { IN("foob"), IN("Zm9vYg==") },
  { IN("fooba"), IN("Zm9vYmE=") },
  { IN("foobar"), IN("Zm9vYmFy") },
  { IN("\0"), IN("AA==") },
  { IN("\0\0\0"), IN("AAAA") },
  { IN("\xff\xff\xff"), IN("////") },
  { IN("\xfb\xef\xbe"), IN("++++") },
  { IN("\0joe\0secret"), IN("AGpvZQBzZWNyZXQ=") },
  { IN("\x14\xfb\x9c\x03\xd9\x7e"), IN("FPucA9l+") },
  { IN("\x14\xfb\x9c\x03\xd9"), IN("FPucA9k=") },
  { IN("\x14\xfb\x9c\x03"), IN("FPucAw==") },
  { IN("Username:"), IN("VXNlcm5hbWU6") },
  { IN("Password:"), IN("UGFzc3dvcmQ6") },
};

static void test_vectors(void)
{
  stralloc sa = STRALLOC_ZERO;
  size_t i;

  for (i = 0; i < N(vectors); ++i) {
    stralloc_copys(&sa, "");
    check_long(base64_encode(&sa, vectors[i].plain, vectors[i].plen), 1, "encode vector %zu", i);
    check_bytes(sa.s, sa.len, vectors[i].enc, vectors[i].elen, "encode vector %zu: bytes", i);
    stralloc_copys(&sa, "");
    check_long(base64_decode(&sa, vectors[i].enc, vectors[i].elen), 1, "decode vector %zu (%s)", i, vectors[i].enc);
    check_bytes(sa.s, sa.len, vectors[i].plain, vectors[i].plen, "decode vector %zu: bytes", i);
  }
  /* both append */
  stralloc_copys(&sa, "pre:");
  base64_encode(&sa, "foo", 3);
  check_bytes(sa.s, sa.len, "pre:Zm9v", 8, "encode appends");
  stralloc_copys(&sa, "pre:");
  base64_decode(&sa, "Zm9v", 4);
  check_bytes(sa.s, sa.len, "pre:foo", 7, "decode appends");
  /* a failed decode leaves what was there */
  stralloc_copys(&sa, "pre:");
  check_long(base64_decode(&sa, "Zm9vYmF!", 8), 0, "bad last group");
  check_bytes(sa.s, sa.len, "pre:", 4, "a failed decode appends nothing");

  /* every byte value round trips, at every length modulo 3 */
  {
    char all[256];
    stralloc back = STRALLOC_ZERO;
    size_t n;
    for (i = 0; i < sizeof all; ++i) all[i] = (char)i;
    for (n = 250; n <= 256; ++n) {
      stralloc_copys(&sa, "");
      stralloc_copys(&back, "");
      base64_encode(&sa, all, n);
      check_long(sa.len, (n + 2) / 3 * 4, "round trip %zu: encoded length", n);
      check_long(base64_decode(&back, sa.s, sa.len), 1, "round trip %zu: decode", n);
      check_bytes(back.s, back.len, all, n, "round trip %zu: bytes", n);
    }
    stralloc_free(&back);
  }
  stralloc_free(&sa);
}

static void test_bad(void)
{
  static const struct { const char *in; size_t len; } bad[] = {
    { IN("Z") }, { IN("Zg") }, { IN("Zg=") }, { IN("Zm9") }, { IN("Zm9vY") },
    { IN("Zg") }, { IN("=") }, { IN("==") }, { IN("===") }, { IN("====") },
    { IN("Z===") }, { IN("=Zg=") }, { IN("Zg=a") }, { IN("Z=g=") },
    { IN("Zg==Zg==") },        /* padding in the middle */
    { IN("Zm8=Zm8=") },
    { IN("Zg======") },
    { IN("Zm9v====") },
    { IN("Zh==") },            /* non-zero pad bits: "Zg==" is the one */
    { IN("Zm9=") },            /* "Zm8=" is the one */
    { IN("QR==") }, { IN("AB==") }, { IN("AAB=") },
    { IN("Zm9v\n") }, { IN("Zm9v\r\n") }, { IN(" Zm9v") }, { IN("Zm 9v") }, { IN("Zm9\tv") },
    { IN("Zm9v YmFy") },
    { IN("Zm-v") }, { IN("Zm_v") },  /* the URL alphabet is not ours */
    { IN("Zm9!") }, { IN("Zm9.") }, { IN("Zm\0v") }, { IN("Zm9\x80") }, { IN("Zm9\xff") },
    { IN("Zm9v\0") },
  };
  stralloc sa = STRALLOC_ZERO;
  size_t i;

  for (i = 0; i < N(bad); ++i) {
    stralloc_copys(&sa, "");
    check_long(base64_decode(&sa, bad[i].in, bad[i].len), 0, "bad case %zu", i);
    check_long(sa.len, 0, "bad case %zu: nothing appended", i);
  }
  /* every byte outside the alphabet is refused, in every position */
  {
    unsigned c;
    unsigned refused = 0;
    for (c = 0; c < 256; ++c) {
      int k, inalpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
      for (k = 0; k < 4; ++k) {
        char in[4] = { 'Q', 'Q', 'R', 'R' }; /* "QQR=" has pad bits set */
        int r;
        in[k] = (char)c;
        stralloc_copys(&sa, "");
        r = base64_decode(&sa, in, 4);
        if (inalpha) { if (r != 1) check_long(r, 1, "byte %u at %d", c, k); }
        else if (r == 0) ++refused;
      }
    }
    check_long(refused, (256 - 64) * 4, "bytes outside the alphabet refused in every position");
  }
  stralloc_free(&sa);
}

static void test_sasl_plain(void)
{
  static const struct {
    const char *in; size_t len; int r;
    const char *z; size_t zl; const char *c; size_t cl; const char *p; size_t pl;
  } cases[] = {
    { IN("\0joe\0secret"), 1, IN(""), IN("joe"), IN("secret") },
    { IN("admin\0joe\0secret"), 1, IN("admin"), IN("joe"), IN("secret") },
    { IN("\0joe@example.com\0p a s s"), 1, IN(""), IN("joe@example.com"), IN("p a s s") },
    { IN("\0joe\0\x01\xff\r\n"), 1, IN(""), IN("joe"), IN("\x01\xff\r\n") },  /* any byte but NUL */
    { IN("\0j\xc3\xb6rg\0pw"), 1, IN(""), IN("j\xc3\xb6rg"), IN("pw") },
    { IN("\0x\0y"), 1, IN(""), IN("x"), IN("y") },
    { IN(""), 0, 0, 0, 0, 0, 0, 0 },
    { IN("joe"), 0, 0, 0, 0, 0, 0, 0 },
    { IN("\0joe"), 0, 0, 0, 0, 0, 0, 0 },
    { IN("joe\0secret"), 0, 0, 0, 0, 0, 0, 0 },
    { IN("\0\0secret"), 0, 0, 0, 0, 0, 0, 0 },          /* empty authcid */
    { IN("\0joe\0"), 0, 0, 0, 0, 0, 0, 0 },             /* empty password */
    { IN("\0\0"), 0, 0, 0, 0, 0, 0, 0 },
    { IN("\0joe\0secret\0"), 0, 0, 0, 0, 0, 0, 0 },     /* three NULs */
    { IN("\0joe\0sec\0ret"), 0, 0, 0, 0, 0, 0, 0 },
    { IN("a\0b\0c\0d"), 0, 0, 0, 0, 0, 0, 0 },
    { IN("\0jo\ne\0secret"), 0, 0, 0, 0, 0, 0, 0 },     /* control byte in a name */
    { IN("\0joe\r\0secret"), 0, 0, 0, 0, 0, 0, 0 },
    { IN("ad\tmin\0joe\0secret"), 0, 0, 0, 0, 0, 0, 0 },
    { IN("\0joe\x7f\0secret"), 0, 0, 0, 0, 0, 0, 0 },
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    const char *z = 0, *c = 0, *p = 0;
    size_t zl = 777, cl = 777, pl = 777;
    int r = sasl_plain(cases[i].in, cases[i].len, &z, &zl, &c, &cl, &p, &pl);
    check_long(r, cases[i].r, "sasl_plain case %zu: result", i);
    if (r == 1 && cases[i].r == 1) {
      check_bytes(z, zl, cases[i].z, cases[i].zl, "sasl_plain case %zu: authzid", i);
      check_bytes(c, cl, cases[i].c, cases[i].cl, "sasl_plain case %zu: authcid", i);
      check_bytes(p, pl, cases[i].p, cases[i].pl, "sasl_plain case %zu: password", i);
    }
  }
  check_long(sasl_plain(0, 0, 0, 0, 0, 0, 0, 0), 0, "sasl_plain of nothing");

  /* each part may be 255 bytes, not 256 */
  {
    static const char *names[] = { "authzid", "authcid", "password" };
    int part;
    for (part = 0; part < 3; ++part) {
      size_t n;
      for (n = 255; n <= 256; ++n) {
        stralloc sa = STRALLOC_ZERO;
        const char *z, *c, *p;
        size_t zl, cl, pl, k;
        int j;
        for (j = 0; j < 3; ++j) {
          if (j) stralloc_append(&sa, '\0');
          if (j == part) for (k = 0; k < n; ++k) stralloc_append(&sa, 'x');
          else stralloc_cats(&sa, "ab");
        }
        check_long(sasl_plain(sa.s, sa.len, &z, &zl, &c, &cl, &p, &pl), n == 255, "sasl_plain %s of %zu bytes", names[part], n);
        stralloc_free(&sa);
      }
    }
  }

  /* decoded from base64, as qmail-smtpd will */
  {
    stralloc sa = STRALLOC_ZERO;
    const char *z, *c, *p;
    size_t zl, cl, pl;
    check_long(base64_decode(&sa, IN("AGpvZQBzZWNyZXQ=")), 1, "decode of a PLAIN response");
    check_long(sasl_plain(sa.s, sa.len, &z, &zl, &c, &cl, &p, &pl), 1, "its sasl_plain");
    check_bytes(c, cl, "joe", 3, "its authcid");
    check_bytes(p, pl, "secret", 6, "its password");
    stralloc_free(&sa);
  }
}

int main(void)
{
  test_vectors();
  test_bad();
  test_sasl_plain();
  return check_end();
}
