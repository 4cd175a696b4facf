#ifndef SMTPDATA_H
#define SMTPDATA_H

#include <stddef.h>

/* The message text of an SMTP transaction, as qmail-smtpd reads it: after
 * DATA (dot-stuffed, ended by the line "."), or in BDAT chunks (counted,
 * no stuffing; RFC 3030). The one place that decides where a message ends.
 *
 * Lines must end in CRLF. They are passed on with LF endings, as qmail
 * stores messages. A CR not followed by LF, or an LF without a CR before
 * it, is "bare": the feed stops right after it and sets bare, and the
 * caller refuses the message. No other reading is allowed, because the
 * next server could disagree on where the message ends and take the rest
 * for a second message (SMTP smuggling, 2023). With dots, a line that
 * starts with "." loses that first dot; the line "." alone ends the data.
 *
 * On the way it counts, as qmail does, the header fields that show the
 * message has looped (hops: fields named Received or Delivered-To, in any
 * case, before the first empty line), and notes lines longer than maxline
 * bytes with their CRLF (toolong; maxline 0: no limit), and NUL bytes
 * (nul: RFC 5322 and 8BITMIME allow none; a NUL next to a "." could end
 * the message for a later server that reads lines as C strings). */

struct smtpdata {
  int state;
  int dots;
  int inheader;
  int hopmatch;             /* bit 0: "received:" still possible, bit 1: "delivered-to:" */
  size_t hpos;
  unsigned long hops;
  unsigned long long linelen;
  unsigned long long maxline;
  int bare;
  int toolong;
  int nul;
};

typedef void (*smtpdata_put)(void *ctx, const char *s, size_t n);

void smtpdata_start(struct smtpdata *d, int dots, unsigned long long maxline);
/* Feeds s[0..n). Message bytes go to put. Returns how many bytes of s were
 * used: all of them, unless the final "." line ends inside s (*end is set
 * to 1 and the rest belongs to the next command) or a bare CR or LF was
 * found (d->bare set; the bytes after it are not used). */
size_t smtpdata_feed(struct smtpdata *d, const char *s, size_t n, int *end, smtpdata_put put, void *ctx);
/* The end of counted data (BDAT LAST): a CR still waiting for its LF is
 * bare. A last line without CRLF is allowed and passed on as it is. */
void smtpdata_finish(struct smtpdata *d);

#endif
