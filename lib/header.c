#include "header.h"

#include <string.h>

static const char *const header_names[HEADER_NUM] = {
  "unknown-header",
  "sender", "from", "reply-to", "to", "cc", "bcc",
  "date", "message-id", "subject",
  "resent-sender", "resent-from", "resent-reply-to", "resent-to", "resent-cc", "resent-bcc",
  "resent-date", "resent-message-id",
  "return-receipt-to", "errors-to", "apparently-to", "received",
  "return-path", "delivered-to", "content-length", "content-type",
  "content-transfer-encoding", "notice-requested-upon-delivery-to",
  "mail-followup-to"
};

const char *header_name(int type)
{
  if (type < 0 || type >= HEADER_NUM) type = 0;
  return header_names[type];
}

/* s is the field named t (lower case letters and dashes), in any case of
 * its letters, followed by optional blanks and a colon. */
static int header_match(const char *s, size_t len, const char *t)
{
  size_t i;
  for (i = 0; t[i]; ++i) {
    if (i >= len) return 0;
    if (s[i] != t[i] && (t[i] == '-' || s[i] != t[i] - 32)) return 0;
  }
  for (; i < len; ++i) {
    if (s[i] == ':') return 1;
    if (s[i] != ' ' && s[i] != '\t') return 0;
  }
  return 0;
}

int header_known(const char *s, size_t len)
{
  int i;
  for (i = 1; i < HEADER_NUM; ++i)
    if (header_match(s, len, header_names[i])) return i;
  return HEADER_UNKNOWN;
}

int header_valid(const char *s, size_t len)
{
  size_t i, j;
  for (j = 0; j < len; ++j)
    if (s[j] == ':') break;
  if (j >= len) return 0;
  while (j && (s[j - 1] == ' ' || s[j - 1] == '\t')) --j;
  if (!j) return 0;
  for (i = 0; i < j; ++i) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 32 || c >= 127) return 0;
  }
  return 1;
}

void header_split_init(struct header_split *hs, size_t max)
{
  hs->field.len = 0;
  hs->max = max;
  hs->have = 0;
  hs->ended = 0;
}

void header_split_free(struct header_split *hs)
{
  stralloc_free(&hs->field);
}

static int header_flush(struct header_split *hs, const struct header_split_ops *ops, void *arg)
{
  if (!hs->have) return 0;
  hs->have = 0;
  return ops->field(arg, &hs->field) == -1 ? -1 : 0;
}

static int header_end(struct header_split *hs, const struct header_split_ops *ops, void *arg)
{
  hs->ended = 1;
  return ops->end(arg) == -1 ? -1 : 0;
}

int header_split_line(struct header_split *hs, const char *line, size_t len, int partial,
                      const struct header_split_ops *ops, void *arg)
{
  static const char mbox[] = "MBOX-Line: ";

  if (hs->ended) return ops->body(arg, line, len) == -1 ? -1 : 0;

  if (hs->have && len && (line[0] == ' ' || line[0] == '\t')) {
    if (partial || len > hs->max - hs->field.len) return -2;
    return stralloc_catb(&hs->field, line, len) ? 1 : -1;
  }
  if (header_flush(hs, ops, arg) == -1) return -1;

  if (len == 1 && line[0] == '\n' && !partial) {
    if (header_end(hs, ops, arg) == -1) return -1;
    return ops->body(arg, line, len) == -1 ? -1 : 0;
  }
  if (len >= 5 && !memcmp(line, "From ", 5)) {
    if (partial || len > hs->max || sizeof mbox - 1 > hs->max - len) return -2;
    if (!stralloc_copyb(&hs->field, mbox, sizeof mbox - 1) || !stralloc_catb(&hs->field, line, len)) return -1;
    hs->have = 1;
    return 1;
  }
  if (header_valid(line, len)) {
    if (partial || len > hs->max) return -2;
    if (!stralloc_copyb(&hs->field, line, len)) return -1;
    hs->have = 1;
    return 1;
  }
  if (header_end(hs, ops, arg) == -1) return -1;
  if (ops->body(arg, "\n", 1) == -1) return -1;
  return ops->body(arg, line, len) == -1 ? -1 : 0;
}

int header_split_eof(struct header_split *hs, const struct header_split_ops *ops, void *arg)
{
  if (hs->ended) return 0;
  if (header_flush(hs, ops, arg) == -1) return -1;
  return header_end(hs, ops, arg);
}
