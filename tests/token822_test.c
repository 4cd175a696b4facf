/* Tests for lib/token822.c: parsing, writing back with folding, address
 * lists and qualification, with qmail's own examples (qmail-header(5)).
 * not tested: running out of memory. */

#include "check.h"
#include "stralloc.h"
#include "token822.h"

#define N(a) (sizeof (a) / sizeof (a)[0])
#define IN(s) s, sizeof s - 1

/* "a:joe @ a:x" etc.: a atom, q quoted string, l literal, c comment, and
 * the specials as themselves. */
static const char *dump(const token822_list *ta)
{
  static stralloc sa = STRALLOC_ZERO;
  size_t i;
  sa.len = 0;
  for (i = 0; i < ta->len; ++i) {
    const struct token822 *t = ta->t + i;
    if (i) stralloc_append(&sa, ' ');
    switch (t->type) {
      case TOKEN822_ATOM: stralloc_cats(&sa, "a:"); stralloc_catb(&sa, t->s, t->len); break;
      case TOKEN822_QUOTE: stralloc_cats(&sa, "q:"); stralloc_catb(&sa, t->s, t->len); break;
      case TOKEN822_LITERAL: stralloc_cats(&sa, "l:"); stralloc_catb(&sa, t->s, t->len); break;
      case TOKEN822_COMMENT: stralloc_cats(&sa, "c:"); stralloc_catb(&sa, t->s, t->len); break;
      case TOKEN822_LEFT: stralloc_append(&sa, '<'); break;
      case TOKEN822_RIGHT: stralloc_append(&sa, '>'); break;
      case TOKEN822_AT: stralloc_append(&sa, '@'); break;
      case TOKEN822_COMMA: stralloc_append(&sa, ','); break;
      case TOKEN822_SEMI: stralloc_append(&sa, ';'); break;
      case TOKEN822_COLON: stralloc_append(&sa, ':'); break;
      case TOKEN822_DOT: stralloc_append(&sa, '.'); break;
      default: stralloc_append(&sa, '?');
    }
  }
  stralloc_0(&sa);
  return sa.s;
}

static void test_parse(void)
{
  static const struct { const char *in; size_t len; int r; const char *want; } cases[] = {
    { IN(""), 1, "" },
    { IN(" \t\r\n"), 1, "" },
    { IN("a.b@c"), 1, "a:a . a:b @ a:c" },
    { IN("\"x y\" <z@w>"), 1, "q:x y < a:z @ a:w >" },
    { IN("a,b;c:d"), 1, "a:a , a:b ; a:c : a:d" },
    { IN("(c (nested) d)"), 1, "c:c nested d" },              /* inner parentheses dropped */
    { IN("(a\\)b)"), 1, "c:a)b" },
    { IN("[1.2\\]3]"), 1, "l:1.2]3" },
    { IN("[a[b]"), 1, "l:a[b" },                               /* literals do not nest */
    { IN("\"a(b\""), 1, "q:a(b" },
    { IN("\"a\\\"b\""), 1, "q:a\"b" },
    { IN("a\\ b"), 1, "a:a b" },                               /* an escaped space stays in the atom */
    { IN("a\\@b"), 1, "a:a@b" },
    { IN("a)b"), 1, "q:a)b" },                                 /* ')' inside an atom: quoted */
    { IN("a]b"), 1, "q:a]b" },
    { IN("a\\\\b"), 1, "q:a\\b" },
    { IN("j\xc3\xb6rg"), 1, "q:j\xc3\xb6rg" },                 /* 8-bit: quoted */
    { IN("a\x01z"), 1, "q:a\x01z" },
    { IN("a\\"), 1, "a:a" },                                   /* a trailing backslash is dropped */
    { IN("\\"), 1, "a:" },
    { IN("To: joe"), 1, "a:To : a:joe" },
    { IN("a\"b\"c"), 1, "a:a q:b a:c" },
    { IN(")x"), 0, 0 },
    { IN("a ]"), 0, 0 },
    { IN("(unclosed"), 0, 0 },
    { IN("(a (b)"), 0, 0 },
    { IN("\"unclosed"), 0, 0 },
    { IN("[unclosed"), 0, 0 },
    { IN("\"a\\"), 0, 0 },
    { IN("(a\\"), 0, 0 },
  };
  token822_list ta = TOKEN822_LIST_ZERO;
  stralloc buf = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    int r = token822_parse(&ta, cases[i].in, cases[i].len, &buf);
    check_long(r, cases[i].r, "parse case %zu: result", i);
    if (r == 1 && cases[i].want) check_str(dump(&ta), cases[i].want, "parse case %zu", i);
  }
  token822_free(&ta);
  stralloc_free(&buf);
}

/* parse, then unparse */
static void test_unparse(void)
{
  static const struct { const char *in; size_t linelen; const char *want; } cases[] = {
    { "", 80, "\n" },
    { "To:joe", 80, "To: joe\n" },
    { "To :  joe  @ x . y", 80, "To: joe@x.y\n" },
    { "To: \"a\\\"b\" <c@d>", 80, "To: \"a\\\"b\" <c@d>\n" },
    { "To: a@b (the (nested) c)", 80, "To: a@b (the nested c)\n" },
    { "To: a@[1.2.3.4]", 80, "To: a@[1.2.3.4]\n" },
    { "To: a)b@c", 80, "To: \"a\\)b\"@c\n" },
    { "To: g: a, b;, c", 80, "To: g: a, b;, c\n" },
    { "To: \"x\r\ny\"@z", 80, "To: \"x\\\r\\\ny\"@z\n" },
    /* ten addresses of 21 bytes: lines are filled up to 78 bytes */
    { "To: abcdefgh0@example.com, abcdefgh1@example.com, abcdefgh2@example.com, abcdefgh3@example.com, "
      "abcdefgh4@example.com, abcdefgh5@example.com, abcdefgh6@example.com, abcdefgh7@example.com, "
      "abcdefgh8@example.com, abcdefgh9@example.com", 80,
      "To: abcdefgh0@example.com, abcdefgh1@example.com, abcdefgh2@example.com,\n"
      "  abcdefgh3@example.com, abcdefgh4@example.com, abcdefgh5@example.com,\n"
      "  abcdefgh6@example.com, abcdefgh7@example.com, abcdefgh8@example.com,\n"
      "  abcdefgh9@example.com\n" },
    { "To: abcdefgh0@example.com, abcdefgh1@example.com, abcdefgh2@example.com, abcdefgh3@example.com", 0,
      "To: abcdefgh0@example.com, abcdefgh1@example.com, abcdefgh2@example.com, abcdefgh3@example.com\n" },
    /* a line may hold 78 bytes: 35 + 34 fill it, 35 + 35 do not */
    { "To: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, c", 80,
      "To: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, c\n" },
    { "To: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, c", 80,
      "To: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb,\n  c\n" },
    /* an address longer than a line stays whole */
    { "To: x, aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, y", 80,
      "To: x,\n  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,\n  y\n" },
  };
  token822_list ta = TOKEN822_LIST_ZERO;
  stralloc buf = STRALLOC_ZERO, out = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    int r = token822_parse(&ta, cases[i].in, strlen(cases[i].in), &buf);
    check_long(r, 1, "unparse case %zu: parses", i);
    check_long(token822_unparse(&out, &ta, cases[i].linelen), 1, "unparse case %zu: succeeds", i);
    check_bytes(out.s, out.len, cases[i].want, strlen(cases[i].want), "unparse case %zu", i);
  }
  token822_free(&ta);
  stralloc_free(&buf);
  stralloc_free(&out);
}

static void test_unquote(void)
{
  static const struct { const char *in; const char *want; } cases[] = {
    { "\"a b\"@[1.2.3.4]", "a b@[1.2.3.4]" },
    { "a . b @ c (comment)", "a.b@c" },
    { "<a@b>", "<a@b>" },
    { "x,y;z:w", "x,y;z:w" },
    { "", "" },
  };
  token822_list ta = TOKEN822_LIST_ZERO;
  stralloc buf = STRALLOC_ZERO, out = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    token822_parse(&ta, cases[i].in, strlen(cases[i].in), &buf);
    check_long(token822_unquote(&out, &ta), 1, "unquote case %zu: succeeds", i);
    check_bytes(out.s, out.len, cases[i].want, strlen(cases[i].want), "unquote case %zu", i);
  }
  token822_free(&ta);
  stralloc_free(&buf);
  stralloc_free(&out);
}

/* The callback of the address-list tests: qualify, and note the address
 * ("a@b|c@d|" in the order the callback saw them). */
struct seen {
  struct token822_qualify *q;
  stralloc list;
  stralloc tmp;
};

static int note(token822_list *addr, void *arg)
{
  struct seen *s = arg;
  if (s->q && !token822_qualify(addr, s->q)) return -1;
  token822_reverse(addr);
  token822_unquote(&s->tmp, addr);
  token822_reverse(addr);
  stralloc_cat(&s->list, &s->tmp);
  stralloc_append(&s->list, '|');
  return 1;
}

static int refuse(token822_list *addr, void *arg)
{
  (void)addr;
  (void)arg;
  return -1;
}

static void test_addrlist(void)
{
  static const struct { const char *in; int r; const char *out, *seen; } cases[] = {
    /* qmail-header(5)'s examples, with defaulthost silverton and
     * defaultdomain and plusdomain berkeley.edu */
    { "To: djb", 1, "To: djb@silverton.berkeley.edu\n", "djb@silverton.berkeley.edu|" },
    { "To: djb@silverton", 1, "To: djb@silverton.berkeley.edu\n", "djb@silverton.berkeley.edu|" },
    { "To: eric@mammoth.cs+", 1, "To: eric@mammoth.cs.berkeley.edu\n", "eric@mammoth.cs.berkeley.edu|" },
    { "To: djb@[128.32.183.163]", 1, "To: djb@[128.32.183.163]\n", "djb@[128.32.183.163]|" },
    { "To: djb fred", 1, "To: djb@silverton.berkeley.edu, fred@silverton.berkeley.edu\n",
      "fred@silverton.berkeley.edu|djb@silverton.berkeley.edu|" },
    { "To: a@b.c (Somebody), A Person <e@f.g>, random group: g@h.i, i@j.k;, k@l.m", 1,
      "To: a@b.c (Somebody), A Person <e@f.g>, random group: g@h.i, i@j.k;, k@l.m\n",
      "k@l.m|i@j.k|g@h.i|e@f.g|a@b.c|" },
    { "To: <@r1.x,@r2.y:a@b.c>", 1, "To: <a@b.c>\n", "a@b.c|" },      /* source route dropped */
    { "To: <>", 1, "To: <>\n", "|" },                                 /* <> is an (empty) address */
    { "To: a@b.c.", 1, "To: a@b.c\n", "a@b.c|" },
    { "To: a@", 1, "To: a@silverton.berkeley.edu\n", "a@silverton.berkeley.edu|" },
    { "To: a@.", 1, "To: a@silverton.berkeley.edu\n", "a@silverton.berkeley.edu|" },
    { "To: x@[]", 1, "To: x@[]\n", "x@[]|" },                        /* box@[] is left alone */
    { "To: list-@example.com-@[]", 1, "To: list-@example.com-@[]\n", "list-@example.com-@[]|" },
    { "To: x@host+", 1, "To: x@host.berkeley.edu\n", "x@host.berkeley.edu|" },
    { "To: undisclosed-recipients:;", 1, "To: undisclosed-recipients: ;\n", "" },
    { "To: \"joe smith\"@x.y", 1, "To: \"joe smith\"@x.y\n", "joe smith@x.y|" },
    { "To: a;", 1, "To: a@silverton.berkeley.edu;\n", "a@silverton.berkeley.edu|" },
    { "To:", 1, "To:\n", "" },
    { "To: <a@b", 1, "To: <a@b.berkeley.edu\n", "<a@b.berkeley.edu|" },      /* qmail's leniency */
    { "To: g: a", 0, 0, 0 },                                          /* a group without its ';' */
    { "To: a>", 0, 0, 0 },                                            /* '>' without '<' */
    { "To: a;;", 0, 0, 0 },
    { "To: g: a; b;", 0, 0, 0 },                                      /* two ';' in a row of groups */
    { "To: g: a;, h: b;", 1, "To: g: a@silverton.berkeley.edu;, h: b@silverton.berkeley.edu;\n",
      "b@silverton.berkeley.edu|a@silverton.berkeley.edu|" },
  };
  struct token822_qualify q = TOKEN822_QUALIFY_ZERO;
  token822_list ta = TOKEN822_LIST_ZERO, out = TOKEN822_LIST_ZERO, addr = TOKEN822_LIST_ZERO;
  stralloc buf = STRALLOC_ZERO, text = STRALLOC_ZERO;
  struct seen s = { 0, STRALLOC_ZERO, STRALLOC_ZERO };
  size_t i;
  int bad = -1;

  check_long(token822_qualify_init(&q, "silverton", "berkeley.edu", "berkeley.edu", &bad), 1, "qualify_init");
  s.q = &q;
  for (i = 0; i < N(cases); ++i) {
    int r;
    check_long(token822_parse(&ta, cases[i].in, strlen(cases[i].in), &buf), 1, "addrlist case %zu: parses", i);
    s.list.len = 0;
    r = token822_addrlist(&out, &addr, &ta, 2, note, &s);
    check_long(r, cases[i].r, "addrlist case %zu: result", i);
    if (r != 1 || !cases[i].out) continue;
    token822_unparse(&text, &out, 80);
    check_bytes(text.s, text.len, cases[i].out, strlen(cases[i].out), "addrlist case %zu: text", i);
    check_bytes(s.list.s, s.list.len, cases[i].seen, strlen(cases[i].seen), "addrlist case %zu: addresses", i);
  }

  /* A callback's failure is passed on; start beyond the end copies all. */
  token822_parse(&ta, "To: a, b", 8, &buf);
  check_long(token822_addrlist(&out, &addr, &ta, 2, refuse, 0), -1, "a failing callback stops the walk");
  s.list.len = 0;
  check_long(token822_addrlist(&out, &addr, &ta, 99, note, &s), 1, "start past the end");
  check_long(out.len, ta.len, "start past the end: everything copied");
  check_long(s.list.len, 0, "start past the end: no address");

  check_long(token822_qualify_init(&q, "a", "b", "(", &bad), 0, "qualify_init: a name that does not parse");
  check_long(bad, 2, "qualify_init: which name");
  token822_qualify_free(&q);
  stralloc_free(&s.list);
  stralloc_free(&s.tmp);
  token822_free(&ta);
  token822_free(&out);
  token822_free(&addr);
  stralloc_free(&buf);
  stralloc_free(&text);
}

/* qualify on single addresses, with the hosts of a typical site */
static void test_qualify(void)
{
  static const struct { const char *dh, *dd, *pd, *in, *want; } cases[] = {
    { "example.com", "example.com", "example.com", "joe", "joe@example.com" },
    { "mail.example.com", "example.com", "example.com", "joe@host", "joe@host.example.com" },
    { "mail.example.com", "example.com", "example.org", "joe@host+", "joe@host.example.org" },
    { "mail.example.com", "example.com", "example.org", "joe+", "joe+@mail.example.com" },
    { "host+", "example.com", "example.org", "joe", "joe@host.example.org" },     /* defaulthost with a + */
    { "host", "example.com", "example.org", "joe", "joe@host.example.com" },      /* defaulthost without dots */
    { "x.y", "example.com", "example.org", "", "" },
    { "x.y", "example.com", "example.org", "@", "" },
    { "x.y", "example.com", "example.org", ".", "" },
    { "x.y", "example.com", "example.org", "@r:", "" },
    { "x.y", "example.com", "example.org", "@r", "" },                            /* a route and nothing else */
    { "x.y", "example.com", "example.org", "joe@[1.2.3.4]", "joe@[1.2.3.4]" },
    { "x.y", "example.com", "example.org", "joe@[]", "joe@[]" },
    { "x.y", "example.com", "example.org", "a@b@c", "a@b@c.example.com" },
    { "x.y", "example.com", "example.org", "a.b.c", "a.b.c@x.y" },
  };
  struct token822_qualify q;
  token822_list ta = TOKEN822_LIST_ZERO;
  stralloc buf = STRALLOC_ZERO, out = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    struct token822_qualify zero = TOKEN822_QUALIFY_ZERO;
    q = zero;
    check_long(token822_qualify_init(&q, cases[i].dh, cases[i].dd, cases[i].pd, 0), 1, "qualify case %zu: init", i);
    token822_parse(&ta, cases[i].in, strlen(cases[i].in), &buf);
    token822_reverse(&ta);
    check_long(token822_qualify(&ta, &q), 1, "qualify case %zu: succeeds", i);
    token822_reverse(&ta);
    token822_unquote(&out, &ta);
    check_bytes(out.s, out.len, cases[i].want, strlen(cases[i].want), "qualify case %zu (%s)", i, cases[i].in);
    token822_qualify_free(&q);
  }
  token822_free(&ta);
  stralloc_free(&buf);
  stralloc_free(&out);
}

int main(void)
{
  test_parse();
  test_unparse();
  test_unquote();
  test_addrlist();
  test_qualify();
  return check_end();
}
