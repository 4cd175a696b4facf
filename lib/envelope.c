#include "envelope.h"

#include <string.h>

enum { S_FIRST, S_ADDR, S_RECORD };

void envelope_start(struct envelope_scan *s, size_t maxaddr)
{
  s->state = S_FIRST;
  s->addrlen = 0;
  s->maxaddr = maxaddr;
  s->rcpts = 0;
}

enum envelope_status envelope_feed(struct envelope_scan *s, const char *buf, size_t len, size_t *used)
{
  size_t i = 0;

  while (i < len) {
    char c = buf[i++];
    switch (s->state) {
      case S_FIRST:
        if (c != 'F') { *used = i; return ENVELOPE_BAD; }
        s->state = S_ADDR;
        s->addrlen = 0;
        break;
      case S_ADDR: {
        /* Skip quickly to the end of the address. */
        const char *nul = memchr(buf + i - 1, 0, len - (i - 1));
        size_t k = nul ? (size_t)(nul - (buf + i - 1)) : len - (i - 1);
        if (k > s->maxaddr - s->addrlen) {
          *used = i - 1 + (s->maxaddr - s->addrlen) + 1;
          return ENVELOPE_TOOLONG;
        }
        s->addrlen += k;
        i = i - 1 + k;
        if (nul) { ++i; s->state = S_RECORD; }
        break;
      }
      case S_RECORD:
        if (!c) { *used = i; return ENVELOPE_DONE; }
        if (c != 'T') { *used = i; return ENVELOPE_BAD; }
        ++s->rcpts;
        s->state = S_ADDR;
        s->addrlen = 0;
        break;
    }
  }
  *used = i;
  return ENVELOPE_MORE;
}

int envelope_next(const char *s, size_t len, size_t *pos, char *type,
                  const char **addr, size_t *alen)
{
  const char *nul;
  size_t p = *pos;

  if (p >= len) return -1;
  if (!s[p]) { *pos = p + 1; return 0; }
  nul = memchr(s + p, 0, len - p);
  if (!nul) return -1;
  *type = s[p];
  *addr = s + p + 1;
  *alen = (size_t)(nul - (s + p + 1));
  *pos = (size_t)(nul - s) + 1;
  return 1;
}
