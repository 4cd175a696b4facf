/* qmail-qread: list the messages in the queue, as qmail's qmail-qread
 * does: for each message its queue time, number, size and sender, then
 * its recipients, "done" for those already delivered or given up on.
 *
 * It reads qmail-send's journal (queue/state/journal) without changing it;
 * a record being written at that moment is simply not shown yet. Messages
 * still in todo/ have no recipients assigned yet and are not listed, as in
 * qmail (qmail-qstat counts them). */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auto.h"
#include "buffer.h"
#include "date822.h"
#include "error.h"
#include "fmt.h"
#include "journal.h"
#include "stralloc.h"
#include "strerr.h"

static char outspace[4096];
static buffer out;

static void outsafe(const char *s, size_t len)
{
  for (; len; ++s, --len) buffer_put(&out, (*s >= 32 && *s <= 126) ? s : "_", 1);
}

struct qmsg {
  unsigned long id;
  const char *rec;      /* its N record */
  size_t reclen;
  unsigned char *done;  /* per recipient */
  size_t nr;
  int bouncing;
};

static struct qmsg *msgs;
static size_t nmsgs, amsgs;

static NORETURN void die_nomem(void) { strerr_die(111, "qmail-qread: fatal: out of memory"); }

/* Message number -> the latest message of that number (its index + 1 in
 * msgs), open addressing: a journal of a million messages is read in
 * one pass, where a scan per record took minutes. */
static size_t *slots;
static size_t nslots, nused; /* nslots a power of 2, or 0 */

static size_t slot_of(unsigned long id)
{
  size_t s = (size_t)(((unsigned long long)id * 0x9e3779b97f4a7c15ULL) >> 20) & (nslots - 1);
  while (slots[s] && msgs[slots[s] - 1].id != id) s = (s + 1) & (nslots - 1);
  return s;
}

static struct qmsg *find(unsigned long id)
{
  size_t s;
  if (!nslots) return 0;
  s = slot_of(id);
  return slots[s] && msgs[slots[s] - 1].rec ? &msgs[slots[s] - 1] : 0;
}

/* msgs[i] is now the message of its number. */
static void remember(size_t i)
{
  size_t s;
  if ((nused + 1) * 2 > nslots) {
    size_t old = nslots, k;
    size_t *was = slots;
    nslots = nslots ? nslots * 2 : 1024;
    if (nslots < old || !(slots = calloc(nslots, sizeof *slots))) die_nomem();
    for (k = 0; k < old; ++k)
      if (was[k]) slots[slot_of(msgs[was[k] - 1].id)] = was[k];
    free(was);
  }
  s = slot_of(msgs[i].id);
  if (!slots[s]) ++nused;
  slots[s] = i + 1;
}

int main(void)
{
  stralloc data = STRALLOC_ZERO;
  size_t pos = 0, i;
  int fd;

  buffer_init(&out, 1, outspace, sizeof outspace, 0);
  if (chdir(auto_qmail) == -1 || chdir("queue") == -1)
    strerr_die(111, "qmail-qread: fatal: unable to chdir: ", error_str(errno));
  fd = open("state/journal", O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    if (errno == ENOENT) { buffer_flush(&out); return 0; }
    strerr_die(111, "qmail-qread: fatal: unable to open queue/state/journal: ", error_str(errno));
  }
  for (;;) {
    ssize_t r;
    if (!stralloc_readyplus(&data, 65536)) die_nomem();
    r = read(fd, data.s + data.len, 65536);
    if (r < 0) strerr_die(111, "qmail-qread: fatal: unable to read queue/state/journal: ", error_str(errno));
    if (r == 0) break;
    data.len += (size_t)r;
  }
  close(fd);

  while (pos < data.len) {
    const char *p, *f;
    size_t plen, used, fpos = 1, flen;
    unsigned long id, idx;
    struct qmsg *m;
    if (journal_parse(data.s + pos, data.len - pos, &p, &plen, &used) != 1) break;
    pos += used;
    if (!plen || journal_field(p, plen, &fpos, &f, &flen) != 1 || !journal_number(f, flen, &id)) continue;
    m = find(id);
    switch (p[0]) {
      case 'N': {
        size_t nr = 0, k;
        if (m) m->rec = 0; /* a newer message with the same number */
        /* birth, msglen, uid, pid, sender; then the recipients */
        for (k = 0; k < 5 && journal_field(p, plen, &fpos, &f, &flen) == 1; ++k) continue;
        while (journal_field(p, plen, &fpos, &f, &flen) == 1) ++nr;
        if (nmsgs == amsgs) {
          size_t a = amsgs ? amsgs * 2 : 256;
          struct qmsg *x = realloc(msgs, a * sizeof *x);
          if (!x) die_nomem();
          msgs = x;
          amsgs = a;
        }
        m = &msgs[nmsgs++];
        m->id = id;
        remember(nmsgs - 1);
        m->rec = p;
        m->reclen = plen;
        m->nr = nr;
        m->bouncing = 0;
        m->done = calloc(nr ? nr : 1, 1);
        if (!m->done) die_nomem();
        break;
      }
      case 'D':
      case 'F':
        if (m && journal_field(p, plen, &fpos, &f, &flen) == 1 && journal_number(f, flen, &idx) && idx < m->nr) {
          m->done[idx] = 1;
          if (p[0] == 'F') m->bouncing = 1;
        }
        break;
      case 'B':
        if (m) m->bouncing = 0;
        break;
      case 'E':
        if (m) m->rec = 0;
        break;
    }
  }

  for (i = 0; i < nmsgs; ++i) {
    struct qmsg *m = &msgs[i];
    const char *f;
    size_t fpos = 1, flen, k;
    unsigned long birth = 0, size = 0;
    char date[DATE822_MAX], num[FMT_ULONG];
    const char *field[6];
    size_t fieldlen[6];
    if (!m->rec) continue;
    for (k = 0; k < 6; ++k) {
      if (journal_field(m->rec, m->reclen, &fpos, &field[k], &fieldlen[k]) != 1) break;
    }
    if (k < 6) continue;
    journal_number(field[1], fieldlen[1], &birth);
    journal_number(field[2], fieldlen[2], &size);
    outsafe(date, date822_fmt(date, (time_t)birth) - 6);
    buffer_puts(&out, " GMT  #");
    buffer_put(&out, num, fmt_ulong(num, m->id));
    buffer_puts(&out, "  ");
    buffer_put(&out, num, fmt_ulong(num, size));
    buffer_puts(&out, "  <");
    outsafe(field[5], fieldlen[5]);
    buffer_puts(&out, "> ");
    if (m->bouncing) buffer_puts(&out, " bouncing");
    buffer_puts(&out, "\n");
    for (k = 0; journal_field(m->rec, m->reclen, &fpos, &f, &flen) == 1; ++k) {
      int remote = flen && (f[0] == 'R' || f[0] == 'r');
      int done = (flen && (f[0] == 'l' || f[0] == 'r')) || m->done[k];
      if (done) buffer_puts(&out, "  done");
      buffer_puts(&out, remote ? "\tremote\t" : "\tlocal\t");
      if (flen) outsafe(f + 1, flen - 1);
      buffer_puts(&out, "\n");
    }
  }
  buffer_flush(&out);
  return 0;
}
