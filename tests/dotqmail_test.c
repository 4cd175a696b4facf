/* Tests for lib/dotqmail.c.
 * not tested: I/O errors while opening (DOTQMAIL_ETEMP is tested through a
 * directory without search permission, which root does not notice). */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "dotqmail.h"
#include "stralloc.h"
#include "tmpdir.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static const char *kindname(enum dotqmail_kind k)
{
  switch (k) {
    case DOTQMAIL_BLANK: return "blank";
    case DOTQMAIL_COMMENT: return "comment";
    case DOTQMAIL_PROGRAM: return "program";
    case DOTQMAIL_FORWARD: return "forward";
    case DOTQMAIL_MBOX: return "mbox";
    case DOTQMAIL_MAILDIR: return "maildir";
    case DOTQMAIL_LIST: return "list";
    case DOTQMAIL_IGNORED: return "ignored";
  }
  return "?";
}

static void test_parse(void)
{
  static const struct {
    const char *in;
    size_t len; /* 0: strlen */
    enum dotqmail_kind kind;
    const char *arg;
  } cases[] = {
    { "", 0, DOTQMAIL_BLANK, "" },
    { "   \t ", 0, DOTQMAIL_BLANK, "" },
    { "# a comment", 0, DOTQMAIL_COMMENT, "# a comment" },
    { "#", 0, DOTQMAIL_COMMENT, "#" },
    { "|preline /usr/ucb/vacation djb", 0, DOTQMAIL_PROGRAM, "preline /usr/ucb/vacation djb" },
    { "|prog arg  \t", 0, DOTQMAIL_PROGRAM, "prog arg" },
    { "|", 0, DOTQMAIL_PROGRAM, "" },
    { "| leading space kept", 0, DOTQMAIL_PROGRAM, " leading space kept" },
    { "&me@new.job.com", 0, DOTQMAIL_FORWARD, "me@new.job.com" },
    { "&", 0, DOTQMAIL_FORWARD, "" },
    { "& me@new.job.com", 0, DOTQMAIL_FORWARD, " me@new.job.com" },
    { "me@new.job.com", 0, DOTQMAIL_FORWARD, "me@new.job.com" },
    { "9lives@example.com  ", 0, DOTQMAIL_FORWARD, "9lives@example.com" },
    { "<me@x>", 0, DOTQMAIL_FORWARD, "<me@x>" },   /* wrong, but a forward, as in qmail */
    { " me@x", 0, DOTQMAIL_FORWARD, " me@x" },     /* leading blank: not stripped */
    { "-x@y", 0, DOTQMAIL_FORWARD, "-x@y" },
    { "/home/djb/Mailbox.sos", 0, DOTQMAIL_MBOX, "/home/djb/Mailbox.sos" },
    { "./Mailbox", 0, DOTQMAIL_MBOX, "./Mailbox" },
    { "./Mailbox \t ", 0, DOTQMAIL_MBOX, "./Mailbox" },
    { ".", 0, DOTQMAIL_MBOX, "." },
    { ".qmail-x", 0, DOTQMAIL_MBOX, ".qmail-x" },
    { "/home/djb/Maildir/", 0, DOTQMAIL_MAILDIR, "/home/djb/Maildir/" },
    { "./Maildir/", 0, DOTQMAIL_MAILDIR, "./Maildir/" },
    { "./Maildir/  ", 0, DOTQMAIL_MAILDIR, "./Maildir/" },
    { "/", 0, DOTQMAIL_MAILDIR, "/" },
    { "./", 0, DOTQMAIL_MAILDIR, "./" },
    { "+list", 0, DOTQMAIL_LIST, "list" },
    { "+list \t", 0, DOTQMAIL_LIST, "list" },
    { "+lists", 0, DOTQMAIL_IGNORED, "lists" },
    { "+List", 0, DOTQMAIL_IGNORED, "List" },
    { "+", 0, DOTQMAIL_IGNORED, "" },
    { "+ list", 0, DOTQMAIL_IGNORED, " list" },
    /* a NUL ends the line, as it ends qmail's C strings */
    { "|prog\0rm -rf /", 13, DOTQMAIL_PROGRAM, "prog" },
    { "./Mailbox\0/", 11, DOTQMAIL_MBOX, "./Mailbox" },
    { "./Maildir/ \0junk", 16, DOTQMAIL_MAILDIR, "./Maildir/" },
    { "\0|prog", 6, DOTQMAIL_BLANK, "" },
    { "+list\0x", 7, DOTQMAIL_LIST, "list" },
    { "a@b\0c", 5, DOTQMAIL_FORWARD, "a@b" },
    /* CR is not a blank: a file with CRLF lines keeps it */
    { "./Mailbox\r", 0, DOTQMAIL_MBOX, "./Mailbox\r" },
    { "./Maildir/\r", 0, DOTQMAIL_MBOX, "./Maildir/\r" },
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    struct dotqmail_line l;
    size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
    enum dotqmail_kind k = dotqmail_parse(cases[i].in, len, &l);
    check_str(kindname(k), kindname(cases[i].kind), "parse %zu: kind", i);
    check_str(kindname(l.kind), kindname(cases[i].kind), "parse %zu: l.kind", i);
    check_bytes(l.arg, l.len, cases[i].arg, strlen(cases[i].arg), "parse %zu: arg", i);
    check(l.arg >= cases[i].in && l.arg + l.len <= cases[i].in + len, "parse %zu: arg inside the line", i);
  }
}

static void test_iterate(void)
{
  static const struct {
    const char *in;
    size_t len;
    const char *want; /* kinds and args, "kind:arg|" per line */
  } cases[] = {
    { "", 0, "" },
    { "\n", 1, "blank:|" },
    { "./Maildir/\n", 11, "maildir:./Maildir/|" },
    { "./Maildir/", 10, "maildir:./Maildir/|" },
    { "#c\n\n&a@b\n|x\n", 12, "comment:#c|blank:|forward:a@b|program:x|" },
    { "a@b\nc@d", 7, "forward:a@b|forward:c@d|" },
    { "a@b\n\n\n", 6, "forward:a@b|blank:|blank:|" },
    { "x\0y\nz", 5, "forward:x|forward:z|" },
    { "+list\n&a@b\n", 11, "list:list|forward:a@b|" },
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    struct dotqmail d;
    struct dotqmail_line l;
    stralloc got = STRALLOC_ZERO;
    unsigned long n = 0;
    dotqmail_start(&d, cases[i].in, cases[i].len);
    while (dotqmail_next(&d, &l)) {
      ++n;
      check_long(d.lineno, n, "iterate %zu: line number", i);
      stralloc_cats(&got, kindname(l.kind));
      stralloc_append(&got, ':');
      stralloc_catb(&got, l.arg, l.len);
      stralloc_append(&got, '|');
    }
    check_bytes(got.s ? got.s : "", got.len, cases[i].want, strlen(cases[i].want), "iterate %zu", i);
    check(!dotqmail_next(&d, &l), "iterate %zu: stays at the end", i);
    stralloc_free(&got);
  }
}

static void test_delivery(void)
{
  static const struct {
    const char *in;
    int forwardonly;
    const char *want; /* the deliveries, "kind:arg|", then "!" and the error's code, or "." */
  } cases[] = {
    { "", 0, "." },
    { "#c\n\n+x\n./Maildir/\n|p\n&a@b\nc@d\n/m\n", 0,
      "maildir:./Maildir/|program:p|forward:a@b|forward:c@d|mbox:/m|." },
    { "\n./Maildir/\n", 0, "!#4.2.1" },
    { "./Maildir/\n", 1, "!#4.7.0" },
    { "&a@b\n|p\n", 1, "forward:a@b|!#4.7.0" },
    { "&a@b\n+list\n&c@d\n", 0, "forward:a@b|forward:c@d|." },
    { "&a@b\n+list\n./Maildir/\n", 0, "forward:a@b|!#4.7.0" },
    { "&a@b\n+list\n|p\n", 0, "forward:a@b|!#4.7.0" },
  };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    struct dotqmail d;
    struct dotqmail_line l;
    stralloc got = STRALLOC_ZERO;
    const char *why = 0;
    int fo = cases[i].forwardonly, r;
    dotqmail_start(&d, cases[i].in, strlen(cases[i].in));
    while ((r = dotqmail_delivery(&d, &fo, &l, &why)) == 1) {
      stralloc_cats(&got, kindname(l.kind));
      stralloc_append(&got, ':');
      stralloc_catb(&got, l.arg, l.len);
      stralloc_append(&got, '|');
    }
    if (r == -1) {
      const char *code = why ? strstr(why, "(#") : 0;
      stralloc_append(&got, '!');
      if (code) stralloc_catb(&got, code + 1, 6);
    } else
      stralloc_append(&got, '.');
    check_bytes(got.s, got.len, cases[i].want, strlen(cases[i].want), "delivery %zu", i);
    stralloc_free(&got);
  }
}

static void test_safeext(void)
{
  static const struct { const char *in, *want; } cases[] = {
    { "", "" },
    { "foo", "foo" },
    { "Foo-BAR", "foo-bar" },
    { "a.b", "a:b" },
    { "../../etc/passwd", "::/::/etc/passwd" },
    { "..", "::" },
    { "\xc4.X", "\xc4:x" }, /* only ASCII letters change */
    { "with space", "with space" },
  };
  size_t i;
  stralloc sa = STRALLOC_ZERO;
  for (i = 0; i < N(cases); ++i) {
    check_long(dotqmail_safeext(&sa, cases[i].in), 1, "safeext %zu", i);
    check_bytes(sa.s, sa.len, cases[i].want, strlen(cases[i].want), "safeext %zu: %s", i, cases[i].in);
  }
  stralloc_free(&sa);
}

static void put(const char *fn, const char *content, int mode)
{
  tmpdir_write(tmpdir_path(fn), content, strlen(content));
  chmod(tmpdir_path(fn), (mode_t)mode);
}

static void unput(const char *fn)
{
  unlink(tmpdir_path(fn));
}

/* Finds for (dash, ext) and says which file: its content, or "-" for
 * none, "T" for a temporary error, "W" for a writable file. */
static void find(const char *dash, const char *ext, const char *want, int wantdefault, size_t wantdeflt,
                 const char *name)
{
  stralloc fn = STRALLOC_ZERO, safe = STRALLOC_ZERO;
  struct dotqmail_file f;
  char buf[256];
  const char *got;
  enum dotqmail_find r;

  dotqmail_safeext(&safe, ext);
  r = dotqmail_find(&fn, dash, &safe, 002, &f);
  if (r == DOTQMAIL_FOUND) {
    ssize_t n = read(f.fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    got = buf;
    check(f.fd >= 0, "%s: fd open", name);
    check_long(fcntl(f.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC, "%s: close-on-exec", name);
    check_long(f.isdefault, wantdefault, "%s: isdefault", name);
    if (wantdefault) check_long(f.deflt, wantdeflt, "%s: DEFAULT offset", name);
    close(f.fd);
  } else {
    got = r == DOTQMAIL_NONE ? "-" : r == DOTQMAIL_EWRITABLE ? "W" : "T";
    check_long(f.fd, -1, "%s: no fd", name);
  }
  check_str(got, want, "%s", name);
  check(fn.len && fn.s[fn.len - 1] == 0, "%s: fn NUL-terminated", name);
  stralloc_free(&fn);
  stralloc_free(&safe);
}

static void test_find(void)
{
  /* nothing at all */
  find("", "", "-", 0, 0, "find: no .qmail");
  find("-", "foo", "-", 0, 0, "find: no .qmail-foo");

  put(".qmail", "basic", 0644);
  find("", "", "basic", 0, 0, "find: .qmail");
  put(".qmail-default", "default", 0644);
  find("-", "foo", "default", 1, 0, "find: .qmail-default for foo");
  find("-", "", "default", 1, 0, "find: .qmail-default for the empty extension after '-'");
  put(".qmail-", "dash", 0644);
  find("-", "", "dash", 0, 0, "find: .qmail- itself first");
  unput(".qmail-");
  put(".qmail-foo", "foo", 0644);
  find("-", "foo", "foo", 0, 0, "find: exact .qmail-foo");
  find("-", "FOO", "foo", 0, 0, "find: uppercase extension lowercased");
  find("-", "foo-bar", "default", 1, 0, "find: foo-bar without foo-default: .qmail-default");
  put(".qmail-foo-default", "foo-default", 0644);
  find("-", "foo-bar", "foo-default", 1, 4, "find: .qmail-foo-default");
  find("-", "Foo-Bar-Baz", "foo-default", 1, 4, "find: longest existing prefix");
  put(".qmail-foo-bar-default", "foo-bar-default", 0644);
  find("-", "foo-bar-baz", "foo-bar-default", 1, 8, "find: the longest prefix first");
  find("-", "foo-bar-", "foo-bar-default", 1, 8, "find: trailing dash");
  find("-", "foo-default", "foo-default", 1, 4, "find: an extension naming a default file itself");
  find("-", "foo-barx", "foo-default", 1, 4, "find: prefixes end at a dash");
  find("-", "foobar", "default", 1, 0, "find: foobar is not under foo-");
  put(".qmail-a:b", "dots", 0644);
  find("-", "a.b", "dots", 0, 0, "find: dots become colons");
  find("-", "A.B", "dots", 0, 0, "find: dots become colons, uppercase lowercased");

  /* the empty dash: the basic address; qmail then tries .qmaildefault */
  unput(".qmail");
  find("", "", "-", 0, 0, "find: no .qmail, no .qmaildefault");
  put(".qmaildefault", "qmaildefault", 0644);
  find("", "", "qmaildefault", 1, 0, "find: .qmaildefault (qmail's lookup, exactly)");
  unput(".qmaildefault");

  /* symbolic links are followed; dangling ones do not exist */
  check(symlink(".qmail-foo", tmpdir_path(".qmail-link")) == 0, "symlink %s", ".qmail-link");
  find("-", "link", "foo", 0, 0, "find: symlink followed");
  check(symlink("nowhere", tmpdir_path(".qmail-dangling")) == 0, "symlink %s", ".qmail-dangling");
  find("-", "dangling", "default", 1, 0, "find: dangling symlink skipped");
  check(symlink(".qmail-loop", tmpdir_path(".qmail-loop")) == 0, "symlink %s", ".qmail-loop");
  find("-", "loop", "default", 1, 0, "find: symlink loop skipped");

  /* not a regular file: skipped */
  mkdir(tmpdir_path(".qmail-dir"), 0700);
  find("-", "dir", "default", 1, 0, "find: directory skipped");
  mkfifo(tmpdir_path(".qmail-fifo"), 0600);
  find("-", "fifo", "default", 1, 0, "find: fifo skipped (and not blocked on)");

  /* a '/' in the extension: a name inside a subdirectory of home, never
   * outside it (dots are colons) */
  find("-", "dir/x", "default", 1, 0, "find: slash in extension, nothing there");
  tmpdir_write(tmpdir_path(".qmail-dir/x"), "inside", 6);
  find("-", "dir/x", "inside", 0, 0, "find: slash in extension stays below home");
  find("-", "../../etc/passwd", "default", 1, 0, "find: ../ cannot climb out");

  /* too long a name: does not exist, the search goes on */
  {
    char longext[5000];
    memset(longext, 'x', sizeof longext - 1);
    longext[sizeof longext - 1] = 0;
    longext[1] = '-';
    find("-", longext, "default", 1, 0, "find: name too long skipped");
    longext[0] = 'f';
    longext[1] = 'o';
    longext[2] = 'o';
    longext[3] = '-';
    find("-", longext, "foo-default", 1, 4, "find: long extension under foo-");
  }

  /* modes */
  put(".qmail-w", "w", 0646);
  find("-", "w", "W", 0, 0, "find: world-writable file refused");
  put(".qmail-g", "g", 0664);
  find("-", "g", "g", 0, 0, "find: group-writable allowed by patrn 002");
  {
    stralloc fn = STRALLOC_ZERO, safe = STRALLOC_ZERO;
    struct dotqmail_file f;
    put(".qmail-x", "x", 0744);
    dotqmail_safeext(&safe, "x");
    check_long(dotqmail_find(&fn, "-", &safe, 002, &f), DOTQMAIL_FOUND, "find: x bit file");
    check_long(f.forwardonly, 1, "find: x bit means forward only");
    check_long(f.size, 1, "find: size");
    close(f.fd);
    put(".qmail-x", "x", 0644);
    check_long(dotqmail_find(&fn, "-", &safe, 002, &f), DOTQMAIL_FOUND, "find: no x bit");
    check_long(f.forwardonly, 0, "find: no x bit, not forward only");
    close(f.fd);
    check(symlink(".qmail-x", tmpdir_path(".qmail-xlink")) == 0, "symlink %s", ".qmail-xlink");
    put(".qmail-x", "x", 0700);
    dotqmail_safeext(&safe, "xlink");
    check_long(dotqmail_find(&fn, "-", &safe, 002, &f), DOTQMAIL_FOUND, "find: x bit through a symlink");
    check_long(f.forwardonly, 1, "find: the target's x bit counts");
    close(f.fd);
    stralloc_free(&fn);
    stralloc_free(&safe);
  }

  /* unreadable: a temporary error, not a missing file */
  if (geteuid() != 0) {
    put(".qmail-secret", "s", 0000);
    find("-", "secret", "T", 0, 0, "find: unreadable file is a temporary error");
    mkdir(tmpdir_path(".qmail-sub"), 0000);
    find("-", "sub/x", "T", 0, 0, "find: unsearchable directory is a temporary error");
    chmod(tmpdir_path(".qmail-sub"), 0700);
  } else {
    printf("# skip - unreadable .qmail files: running as root\n");
  }
}

static void newsender(const char *dash, const char *ext, const char *sender, const char *want, const char *name)
{
  stralloc out = STRALLOC_ZERO, fn = STRALLOC_ZERO, safe = STRALLOC_ZERO;
  int r;
  dotqmail_safeext(&safe, ext);
  r = dotqmail_newsender(&out, &fn, dash, &safe, "joe-list", "example.com", sender);
  check_long(r, 1, "%s: result", name);
  check(out.len && out.s[out.len - 1] == 0, "%s: NUL-terminated", name);
  check_str(out.s, want, "%s", name);
  stralloc_free(&out);
  stralloc_free(&fn);
  stralloc_free(&safe);
}

static void test_newsender(void)
{
  newsender("-", "list", "a@b.example", "a@b.example", "newsender: no owner file");
  put(".qmail-list-owner", "", 0644);
  newsender("-", "list", "a@b.example", "joe-list-owner@example.com", "newsender: owner file");
  newsender("-", "LIST", "a@b.example", "joe-list-owner@example.com", "newsender: owner file, ext lowercased");
  newsender("-", "list", "", "", "newsender: bounce (empty) kept");
  newsender("-", "list", "#@[]", "#@[]", "newsender: double bounce kept");
  put(".qmail-list-owner-default", "", 0644);
  newsender("-", "list", "a@b.example", "joe-list-owner-@example.com-@[]", "newsender: VERP");
  newsender("-", "list", "", "", "newsender: VERP, bounce kept");
  unput(".qmail-list-owner");
  newsender("-", "list", "a@b.example", "a@b.example", "newsender: owner-default alone does nothing");
  check(symlink("nowhere", tmpdir_path(".qmail-list-owner")) == 0, "symlink %s", ".qmail-list-owner");
  newsender("-", "list", "a@b.example", "a@b.example", "newsender: dangling owner symlink");
  unput(".qmail-list-owner");
  mkdir(tmpdir_path(".qmail-list-owner"), 0700);
  newsender("-", "list", "a@b.example", "joe-list-owner-@example.com-@[]", "newsender: any kind of file counts");
  rmdir(tmpdir_path(".qmail-list-owner"));
  put(".qmail-owner", "", 0644);
  newsender("", "", "a@b.example", "joe-list-owner@example.com", "newsender: basic address, .qmail-owner");
}

int main(void)
{
  test_parse();
  test_iterate();
  test_delivery();
  test_safeext();
  tmpdir_make("dotqmail_test");
  if (chdir(tmpdir_name) == -1) { perror("chdir"); return 111; }
  test_find();
  if (chdir("/") == -1) return 111;
  tmpdir_remove();
  tmpdir_make("dotqmail_test");
  if (chdir(tmpdir_name) == -1) { perror("chdir"); return 111; }
  test_newsender();
  if (chdir("/") == -1) return 111;
  tmpdir_remove();
  return check_end();
}
