#ifndef TOKEN822_H
#define TOKEN822_H

#include <stddef.h>

#include "stralloc.h"

/* RFC 822 address lists as qmail-inject reads, rewrites and writes them
 * (qmail's token822.c): a field is split into tokens, the address list is
 * walked from right to left (where RFC 822 lists are easy to parse), each
 * address is handed to a callback that may rewrite it, and the result is
 * written back as text with long lists folded after commas.
 *
 * The lexical rules are qmail's, including its leniencies: a comment
 * nested in a comment loses its parentheses, a backslash escapes the next
 * byte anywhere, an atom holding a control byte, a byte above 126, ')',
 * ']' or '\' becomes a quoted string, and two words with nothing between
 * them are two addresses ("djb fred" is "djb, fred"). */

enum token822_type {
  TOKEN822_ATOM = 1,
  TOKEN822_QUOTE,    /* "quoted string", without its quotes */
  TOKEN822_LITERAL,  /* [domain literal], without its brackets */
  TOKEN822_COMMENT,  /* (comment), without its parentheses */
  TOKEN822_LEFT,     /* < */
  TOKEN822_RIGHT,    /* > */
  TOKEN822_AT,       /* @ */
  TOKEN822_COMMA,    /* , */
  TOKEN822_SEMI,     /* ; */
  TOKEN822_COLON,    /* : */
  TOKEN822_DOT       /* . */
};

/* A token: its type and, for the four word types, its text s[0..len)
 * with escapes removed. s points into a buffer the token does not own. */
struct token822 {
  int type;
  const char *s;
  size_t len;
};

typedef struct token822_list {
  struct token822 *t;
  size_t len;
  size_t a;
} token822_list;

#define TOKEN822_LIST_ZERO { 0, 0, 0 }

/* Growth, overflow-checked: 1, or 0 with errno ENOMEM. */
int token822_ready(token822_list *ta, size_t n);
int token822_readyplus(token822_list *ta, size_t n);
int token822_append(token822_list *ta, const struct token822 *t);
void token822_reverse(token822_list *ta);
void token822_free(token822_list *ta);

/* Splits s[0..len) into ta (replacing its contents). The words' texts are
 * written into buf, which must not change while the tokens are used.
 * 1 done, 0 syntax error (a ')' or ']' where a token starts, or a quoted
 * string, comment or literal without its end), -1 out of memory. */
int token822_parse(token822_list *ta, const char *s, size_t len, stralloc *buf);

/* Writes ta as text into out (replacing its contents), ending with "\n".
 * Words are quoted again and their specials backslashed; after each comma
 * the line is broken ("\n  ") unless what follows still fits in a line of
 * linelen bytes (0: never break). 1, or 0 when out of memory. */
int token822_unparse(stralloc *out, const token822_list *ta, size_t linelen);

/* The tokens joined as the envelope holds an address: words without
 * quotes or escapes, literals in brackets, comments dropped. out is
 * replaced. 1, or 0 when out of memory. */
int token822_unquote(stralloc *out, const token822_list *ta);

/* The callback of token822_addrlist: addr holds one address in REVERSE
 * order (its last token first), which it may change. It returns 1 to go
 * on; anything else stops the walk and is returned by token822_addrlist
 * (-1 with errno set for a failure). */
typedef int (*token822_addrfn)(token822_list *addr, void *arg);

/* Walks the address list in ta->t[start..] (the tokens before start, a
 * field name and its colon, are copied as they are), calling fn for each
 * address from the last to the first, and puts the list with the
 * rewritten addresses into out. Words in a row become separate addresses,
 * with a comma put in between. addr is scratch space. Returns 1, 0 on a
 * syntax error (a group without its colon or semicolon, a '>' without
 * '<'), -1 when out of memory, or what fn returned when not 1. */
int token822_addrlist(token822_list *out, token822_list *addr, const token822_list *ta,
                      size_t start, token822_addrfn fn, void *arg);

/* Qualifying addresses as qmail-inject does, with the tokens of
 * "@defaulthost", ".defaultdomain" and ".plusdomain". */
struct token822_qualify {
  token822_list host, domain, plus;
  stralloc hostbuf, domainbuf, plusbuf;
};

#define TOKEN822_QUALIFY_ZERO { TOKEN822_LIST_ZERO, TOKEN822_LIST_ZERO, TOKEN822_LIST_ZERO, \
                                STRALLOC_ZERO, STRALLOC_ZERO, STRALLOC_ZERO }

/* Parses the three names. 1, 0 if one of them does not parse (*bad is
 * then 0, 1 or 2 for defaulthost, defaultdomain, plusdomain), -1 when out
 * of memory. */
int token822_qualify_init(struct token822_qualify *q, const char *defaulthost, const char *defaultdomain,
                          const char *plusdomain, int *bad);

void token822_qualify_free(struct token822_qualify *q);

/* Rewrites one address, given in reverse order as token822_addrlist hands
 * it over (qmail-inject's rwgeneric): <> and box@[] stay as they are;
 * a source route (@a,@b:box@host) is dropped; one trailing '.', then one
 * trailing '@' is dropped; "@defaulthost" is added when there is no '@';
 * a host ending in '+' gets ".plusdomain" instead of its '+'; a host with
 * neither a dot nor a literal gets ".defaultdomain". 1, or 0 when out of
 * memory. */
int token822_qualify(token822_list *addr, const struct token822_qualify *q);

#endif
