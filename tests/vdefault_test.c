/* Tests for lib/vdefault.c: vdelivermail's instruction, the
 * .qmail-default line as vadddomain and vpopmail write it, and the
 * user-ext names.
 * not tested: out of memory. */

#include "check.h"
#include "stralloc.h"
#include "vdefault.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static void test_instruction(void)
{
  static const struct { const char *in; size_t len; enum vdefault_kind kind; const char *arg; } cases[] = {
    { "delete", 0, VDEFAULT_DELETE, "delete" },
    { "bounce-no-mailbox", 0, VDEFAULT_BOUNCE, "bounce-no-mailbox" },
    { "Delete", 0, VDEFAULT_FORWARD, "Delete" },               /* vpopmail compares exactly */
    { "bounce-no-mailboxx", 0, VDEFAULT_FORWARD, "bounce-no-mailboxx" },
    { "/home/vpopmail/domains/x.test/postmaster", 0, VDEFAULT_PATH, "/home/vpopmail/domains/x.test/postmaster" },
    { "/var/mail/catch/Maildir/", 0, VDEFAULT_PATH, "/var/mail/catch/Maildir/" },
    { "postmaster@x.test", 0, VDEFAULT_FORWARD, "postmaster@x.test" },
    { "&postmaster@x.test", 0, VDEFAULT_FORWARD, "postmaster@x.test" },
    { "&", 0, VDEFAULT_INVALID, "" },
    { "", 0, VDEFAULT_INVALID, "" },
    { "a\nb", 0, VDEFAULT_INVALID, "a\nb" },
    { "a\0b", 3, VDEFAULT_INVALID, "a\0b" },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    const char *arg;
    size_t arglen, len = cases[i].len ? cases[i].len : strlen(cases[i].in);
    enum vdefault_kind k = vdefault_instruction(cases[i].in, len, &arg, &arglen);
    check_long(k, cases[i].kind, "instruction %zu kind", i);
    if (k == VDEFAULT_PATH || k == VDEFAULT_FORWARD)
      check_bytes(arg, arglen, cases[i].arg, strlen(cases[i].arg), "instruction %zu arg", i);
  }
}

static void test_parse(void)
{
  static const struct { const char *in; int ok; enum vdefault_kind kind; const char *instr; } cases[] = {
    { "| /var/qmail/bin/vdelivermail '' delete\n", 1, VDEFAULT_DELETE, "delete" },
    { "| /home/vpopmail/bin/vdelivermail '' bounce-no-mailbox\n", 1, VDEFAULT_BOUNCE, "bounce-no-mailbox" },
    { "|/home/vpopmail/bin/vdelivermail '' delete", 1, VDEFAULT_DELETE, "delete" },
    { "| vdelivermail \"\" delete\n", 1, VDEFAULT_DELETE, "delete" },
    { "| vdelivermail '' 'delete'\n", 1, VDEFAULT_DELETE, "delete" },
    { "| vdelivermail '' de'le'te\n", 1, VDEFAULT_DELETE, "delete" },
    { "|\tvdelivermail\t''\tdelete  \t\n", 1, VDEFAULT_DELETE, "delete" },
    { "# made by vadddomain\n| vdelivermail '' delete\n", 1, VDEFAULT_DELETE, "delete" },
    { "| vdelivermail '' delete\n\n# end\n", 1, VDEFAULT_DELETE, "delete" },
    { "| vdelivermail '' postmaster@x.test\n", 1, VDEFAULT_FORWARD, "postmaster@x.test" },
    { "| vdelivermail '' /home/vpopmail/domains/x.test/postmaster\n", 1, VDEFAULT_PATH,
      "/home/vpopmail/domains/x.test/postmaster" },
    { "| vdelivermail '' /home/x/Maildir/\n", 1, VDEFAULT_PATH, "/home/x/Maildir/" },
    { "| vdelivermail '' ''\n", 1, VDEFAULT_INVALID, "" },
    /* not sure, or not vdelivermail: 0 */
    { "", 0, 0, 0 },
    { "\n| vdelivermail '' delete\n", 0, 0, 0 },                 /* blank first line */
    { "| vdelivermail '' delete\n| vdelivermail '' delete\n", 0, 0, 0 },
    { "| vdelivermail '' delete\n./Maildir/\n", 0, 0, 0 },
    { "| vdelivermail '' delete\n&someone@else.test\n", 0, 0, 0 },
    { "./Maildir/\n", 0, 0, 0 },
    { "| vdelivermail delete\n", 0, 0, 0 },                      /* one argument */
    { "| vdelivermail '' delete extra\n", 0, 0, 0 },
    { "| vdelivermail '' delete; true\n", 0, 0, 0 },
    { "| vdelivermail '' delete || true\n", 0, 0, 0 },
    { "| vdelivermail '' $WHAT\n", 0, 0, 0 },
    { "| vdelivermail '' \"$WHAT\"\n", 0, 0, 0 },
    { "| vdelivermail '' \\delete\n", 0, 0, 0 },
    { "| vdelivermail '' 'delete\n", 0, 0, 0 },                  /* unterminated quote */
    { "| vdelivermail '' \"delete\n", 0, 0, 0 },
    { "| vdelivermail '' delete >/dev/null\n", 0, 0, 0 },
    { "| X=1 vdelivermail '' delete\n", 0, 0, 0 },
    { "| /usr/bin/env vdelivermail '' delete\n", 0, 0, 0 },
    { "| preline vdelivermail '' delete\n", 0, 0, 0 },
    { "| /bin/vdelivermail2 '' delete\n", 0, 0, 0 },
    { "| /bin/xvdelivermail '' delete\n", 0, 0, 0 },
    { "| ~/vdelivermail '' delete\n", 0, 0, 0 },
    { "| vdelivermail '' del*\n", 0, 0, 0 },
    { "|\n", 0, 0, 0 },
  };
  stralloc instr = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    enum vdefault_kind k = VDEFAULT_INVALID;
    int r = vdefault_parse(cases[i].in, strlen(cases[i].in), &k, &instr);
    check_long(r, cases[i].ok, "parse %zu", i);
    if (r == 1 && cases[i].ok) {
      check_long(k, cases[i].kind, "parse %zu kind", i);
      check_bytes(instr.s, instr.len, cases[i].instr, strlen(cases[i].instr), "parse %zu instr", i);
    }
  }
  /* A NUL inside a line ends it, for qmail-local as for lib/dotqmail:
   * what follows is not run, and not read here either. */
  {
    static const char t[] = "| vdelivermail '' delete\0 || evil\n";
    enum vdefault_kind k = VDEFAULT_INVALID;
    check_long(vdefault_parse(t, sizeof t - 1, &k, &instr), 1, "parse: NUL inside the line");
    check_long(k, VDEFAULT_DELETE, "parse: NUL inside the line: kind");
  }
  stralloc_free(&instr);
}

static void test_shorter(void)
{
  static const struct { const char *ext; const char *want[5]; } cases[] = {
    { "joe", { "joe", 0 } },
    { "joe-foo", { "joe-foo", "joe", 0 } },
    { "a-b-c", { "a-b-c", "a-b", "a", 0 } },
    { "joe-", { "joe-", "joe", 0 } },
    { "-joe", { "-joe", 0 } },
    { "a--b", { "a--b", "a-", "a", 0 } },
    { "", { "", 0 } },
  };
  size_t i, j;
  for (i = 0; i < N(cases); ++i) {
    size_t len = strlen(cases[i].ext);
    /* the names produced, then the end (0) at the right place */
    for (j = 0; j < 5; ++j) {
      if (!cases[i].want[j]) { check_long(len, 0, "shorter %s: ends after %zu names", cases[i].ext, j); break; }
      check_bytes(cases[i].ext, len, cases[i].want[j], strlen(cases[i].want[j]), "shorter %s step %zu",
                  cases[i].ext, j);
      len = vdefault_shorter(cases[i].ext, len);
    }
  }
}

int main(void)
{
  test_instruction();
  test_parse();
  test_shorter();
  return check_end();
}
