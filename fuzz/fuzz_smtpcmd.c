/* fuzz_smtpcmd: the SMTP command parser (lib/smtpcmd) on one command
 * line, as qmail-smtpd hands it over without its CRLF. The verb is split
 * off, and the argument goes through every parser, whatever the verb.
 * Checked:
 *   - the argument is the tail of the line, after the verb and one space;
 *   - an accepted address is at most SMTPCMD_ADDRMAX bytes, NUL-terminated,
 *     free of control bytes, 8-bit only where SMTPUTF8 allows it, empty
 *     only for MAIL; it quotes back ("<" escaped ">") to itself;
 *   - RCPT accepts no parameter; the parameters' fields hold only their
 *     documented values; allowing UTF-8 never turns an accepted RCPT into
 *     a refused one, and it is the only cure of EUTF8;
 *   - HELO, BDAT and AUTH answers keep their documented bounds. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "smtpcmd.h"
#include "stralloc.h"

static stralloc addr, addr2, line;

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static void check_params(const struct smtpcmd_params *p, int ismail)
{
  if (p->hassize != 0 && p->hassize != 1) abort();
  if (!p->hassize && p->size) abort();
  if (p->body != 0 && p->body != 7 && p->body != 8) abort();
  if (p->smtputf8 != 0 && p->smtputf8 != 1) abort();
  if (p->hasauth != 0 && p->hasauth != 1) abort();
  if (!ismail && (p->hassize || p->body || p->smtputf8 || p->hasauth)) abort();
}

/* addr, with every byte the parser would take as syntax escaped, in
 * brackets: it must parse back to itself. */
static void requote(int ismail, int utf8, const struct smtpcmd_params *p)
{
  struct smtpcmd_params p2;
  size_t i;
  enum smtpcmd_result r;

  if (!stralloc_copys(&line, ismail ? "FROM:<" : "TO:<")) abort();
  for (i = 0; i < addr.len; ++i) {
    char c = addr.s[i];
    if (c == '"' || c == '\\' || c == '<' || c == '>' || c == ' ' || (i == 0 && c == '@'))
      if (!stralloc_append(&line, '\\')) abort();
    if (!stralloc_append(&line, c)) abort();
  }
  if (!stralloc_cats(&line, ismail && p->smtputf8 ? "> SMTPUTF8" : ">")) abort();
  r = smtpcmd_path(line.s, line.len, ismail, utf8, &addr2, &p2);
  if (r != SMTPCMD_OK) abort();
  if (addr2.len != addr.len || memcmp(addr2.s, addr.s, addr.len)) abort();
}

static void path(const char *arg, size_t len, int ismail, int utf8)
{
  struct smtpcmd_params p;
  enum smtpcmd_result r;
  size_t i;
  int eight = 0;

  memset(&p, 0x5a, sizeof p);
  r = smtpcmd_path(arg, len, ismail, utf8, &addr, &p);
  if ((unsigned)r > SMTPCMD_EPARAMVALUE) abort();
  check_params(&p, ismail);
  if (r != SMTPCMD_OK) {
    if (!ismail && r == SMTPCMD_EUTF8) {
      /* the one thing utf8 changes */
      if (utf8) abort();
      if (smtpcmd_path(arg, len, 0, 1, &addr2, 0) != SMTPCMD_OK) abort();
    }
    return;
  }
  if (addr.len > SMTPCMD_ADDRMAX) abort();
  if (addr.s[addr.len] != 0) abort();
  if (!addr.len && !ismail) abort();
  for (i = 0; i < addr.len; ++i) {
    unsigned char c = (unsigned char)addr.s[i];
    if (c < 32 || c == 127) abort();
    if (c >= 128) eight = 1;
  }
  if (eight && !(ismail ? p.smtputf8 : utf8)) abort();
  if (!ismail && !utf8) {
    /* allowing UTF-8 cannot refuse what was accepted without it */
    if (smtpcmd_path(arg, len, 0, 1, &addr2, 0) != SMTPCMD_OK) abort();
    if (addr2.len != addr.len || memcmp(addr2.s, addr.s, addr.len)) abort();
  }
  if (addr.len) requote(ismail, utf8, &p);
}

static void helo(const char *arg, size_t len)
{
  size_t i;
  int r = smtpcmd_heloname(arg, len);
  if (r != 0 && r != 1) abort();
  if (!r) return;
  while (len && arg[0] == ' ') { ++arg; --len; }
  while (len && arg[len - 1] == ' ') --len;
  if (!len || len > 255) abort();
  for (i = 0; i < len; ++i)
    if ((unsigned char)arg[i] < 32 || arg[i] == 127) abort();
}

static void bdat(const char *arg, size_t len)
{
  unsigned long long size = 777, v = 0;
  int last = 777;
  size_t i;
  int r = smtpcmd_bdat(arg, len, &size, &last);
  if (r != 0 && r != 1) abort();
  if (!r) return;
  if (size > SIZE_MAX / 2) abort();
  if (last != 0 && last != 1) abort();
  /* the leading digits are the size */
  while (len && arg[len - 1] == ' ') --len;
  for (i = 0; i < len && arg[i] >= '0' && arg[i] <= '9'; ++i) v = v * 10 + (unsigned)(arg[i] - '0');
  if (!i || v != size) abort();
  /* digits alone, or digits, spaces and LAST */
  if (last != (i < len)) abort();
  if (last && (arg[i] != ' ' || len - i < 5 || lower((unsigned char)arg[len - 4]) != 'l')) abort();
}

static void auth(const char *arg, size_t len)
{
  const char *mech = 0, *resp = 0;
  size_t mlen = 777, rlen = 777, i;
  int r = smtpcmd_auth(arg, len, &mech, &mlen, &resp, &rlen);
  if (r != 0 && r != 1) abort();
  if (!r) return;
  if (mech != arg || mlen < 1 || mlen > 20 || mlen > len) abort();
  for (i = 0; i < mlen; ++i)
    if (arg[i] == ' ' || (unsigned char)arg[i] < 33 || (unsigned char)arg[i] > 126) abort();
  if (!resp) { if (rlen) abort(); return; }
  if (!rlen) {
    if (*resp) abort(); /* "=" gives "" */
    return;
  }
  if (resp < arg + mlen + 1 || resp + rlen > arg + len) abort();
  for (i = 0; i < rlen; ++i)
    if ((unsigned char)resp[i] < 33 || (unsigned char)resp[i] > 126) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  const char *s = (const char *)data, *arg = 0;
  size_t arglen = 777;
  enum smtpcmd_verb v = smtpcmd_verb(s, size, &arg, &arglen);

  if ((unsigned)v > SMTPCMD_STARTTLS) abort();
  if (arglen > size || arg + arglen != s + size) abort();
  if (arglen && (arg == s || arg[-1] != ' ')) abort();
  if (arglen && memchr(s, ' ', (size_t)(arg - 1 - s))) abort(); /* the first space */
  if (v != SMTPCMD_UNKNOWN && (size_t)(arg - s) < 4) abort();

  path(arg, arglen, 1, 0);
  path(arg, arglen, 1, 1);
  path(arg, arglen, 0, 0);
  path(arg, arglen, 0, 1);
  helo(arg, arglen);
  bdat(arg, arglen);
  auth(arg, arglen);
  return 0;
}
