/* qmail-send: the queue manager.
 *
 * Started by qmail-start (as qmails), with descriptor 0 the log, 1/2 to
 * and from qmail-lspawn, 3/4 qmail-rspawn, 5/6 qmail-clean. It takes new
 * messages from todo/, records them in its journal (lib/journal.h), has
 * qmail-clean cut the envelope off and move them to mess/, schedules one
 * delivery per recipient on the local or remote channel, retries deferred
 * ones on qmail's schedule, bounces permanent failures (lib/bounce.h) and
 * removes finished messages. INTERNALS.md describes the queue; the log
 * lines are qmail-log(5)'s.
 *
 * Remote deliveries are also limited per recipient domain
 * (control/concurrencydomains, lib/destlimit.h): a recipient whose domain
 * is at its limit waits in that domain's queue and takes the next slot
 * one of the domain's deliveries frees, so a slow site holds up only its
 * own mail.
 *
 * Signals: TERM finishes the deliveries under way and exits; ALRM retries
 * every deferred message now; HUP rereads locals, virtualdomains and
 * concurrencydomains. */

#define _GNU_SOURCE /* pipe2 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auto.h"
#include "bounce.h"
#include "buffer.h"
#include "control.h"
#include "destlimit.h"
#include "envelope.h"
#include "error.h"
#include "fd.h"
#include "fmt.h"
#include "journal.h"
#include "lock.h"
#include "open.h"
#include "prioq.h"
#include "qfile.h"
#include "route.h"
#include "scan.h"
#include "sig.h"
#include "spawner.h"
#include "stralloc.h"
#include "strerr.h"

#define SLEEP_TODO 1500      /* look through todo/ every 25 minutes anyway */
#define SLEEP_CLEANUP 76431  /* between cleanups of pid/ */
#define SLEEP_SYSFAIL 123    /* after a failure that may pass */
#define OSSIFIED 129600      /* 36 hours: older leftovers are removed */
#define TODO_BATCH 256       /* new messages per pass of the loop, at most */
#define COMPACT_MIN (8 * 1024 * 1024)

#define CHANNELS 2
static const char *const chanstatus[CHANNELS] = { " local ", " remote " };
static const char *const tochan[CHANNELS] = { " to local ", " to remote " };
static const int chanskip[CHANNELS] = { 10, 20 };
static const int fdtospawn[CHANNELS] = { 1, 3 };
static const int fdfromspawn[CHANNELS] = { 2, 4 };
#define FDTOCLEAN 5
#define FDFROMCLEAN 6

/* ---------------------------------------------------------------- LOG */

static char logspace[16384];
static buffer logbuf;

static void logs(const char *s) { buffer_puts(&logbuf, s); }
static void logn(unsigned long u)
{
  char num[FMT_ULONG];
  buffer_put(&logbuf, num, fmt_ulong(num, u));
}
static void logflush(void) { buffer_flush(&logbuf); }

/* qmail's logsafe: newlines become '/', anything not printable (and '%',
 * and space) becomes '_'. */
static void logsafe(const char *s, size_t len)
{
  char buf[256];
  size_t n = 0;
  for (; len; ++s, --len) {
    char c = *s;
    if (c == '\n') c = '/';
    else if (c == '%' || (unsigned char)c < 33 || (unsigned char)c > 126) c = '_';
    buf[n++] = c;
    if (n == sizeof buf) { buffer_put(&logbuf, buf, n); n = 0; }
  }
  buffer_put(&logbuf, buf, n);
}
static void logsafes(const char *s) { logsafe(s, strlen(s)); }

static void nomem(void)
{
  logs("alert: out of memory, sleeping...\n");
  logflush();
  sleep(10);
}

/* Room for one more element in the array p of *a elements of size bytes,
 * n of them in use: doubled when full, first elements at first. */
static void *room(void *p, size_t n, size_t *a, size_t size, size_t first)
{
  size_t m;
  void *q;
  if (n < *a) return p;
  m = *a ? *a * 2 : first;
  while (!(q = realloc(p, m * size))) nomem();
  *a = m;
  return q;
}

/* ----------------------------------------------------------- CONTROLS */

static unsigned long lifetime = 604800;
static unsigned long concurrency[CHANNELS] = { 10, 20 };
static stralloc envnoathost = STRALLOC_ZERO;
static stralloc bouncefrom = STRALLOC_ZERO;
static stralloc bouncehost = STRALLOC_ZERO;
static stralloc doublebounceto = STRALLOC_ZERO;
static stralloc doublebouncehost = STRALLOC_ZERO;
static stralloc locals = STRALLOC_ZERO;
static stralloc vdoms = STRALLOC_ZERO;
static stralloc percenthack = STRALLOC_ZERO;
static unsigned long bouncemaxbytes = 50000;
static struct route route;
static struct destlimit destlim;
static int flagwake;           /* a reload may have freed destination slots */

/* control/concurrencydomains into destlim; 1, or 0 if unreadable. */
static int getdestlimits(void)
{
  stralloc lines = STRALLOC_ZERO;
  int r = control_readfile(&lines, "control/concurrencydomains", 0);
  if (r == -1) return 0;
  while (!destlimit_config(&destlim, lines.s ? lines.s : "", r ? lines.len : 0)) nomem();
  stralloc_free(&lines);
  return 1;
}

static int getcontrols(void)
{
  unsigned long u;
  if (control_init() == -1) return 0;
  if (control_readulong(&lifetime, "control/queuelifetime") == -1) return 0;
  if (control_readulong(&concurrency[0], "control/concurrencylocal") == -1) return 0;
  if (control_readulong(&concurrency[1], "control/concurrencyremote") == -1) return 0;
  if (control_rldef(&envnoathost, "control/envnoathost", 1, "envnoathost") == -1) return 0;
  if (control_rldef(&bouncefrom, "control/bouncefrom", 0, "MAILER-DAEMON") == -1) return 0;
  if (control_rldef(&bouncehost, "control/bouncehost", 1, "bouncehost") == -1) return 0;
  if (control_rldef(&doublebouncehost, "control/doublebouncehost", 1, "doublebouncehost") == -1) return 0;
  if (control_rldef(&doublebounceto, "control/doublebounceto", 0, "postmaster") == -1) return 0;
  /* An empty doublebounceto discards double bounces. */
  if (doublebounceto.len > 1) {
    --doublebounceto.len;
    if (!stralloc_append(&doublebounceto, '@') || !stralloc_cat(&doublebounceto, &doublebouncehost)) return 0;
  } else if (!stralloc_copys(&doublebounceto, "") || !stralloc_0(&doublebounceto))
    return 0;
  switch (control_readulong(&u, "control/bouncemaxbytes")) {
    case -1: return 0;
    case 1: bouncemaxbytes = u;
  }
  if (control_readfile(&locals, "control/locals", 1) == -1) return 0;
  if (control_readfile(&vdoms, "control/virtualdomains", 0) == -1) return 0;
  if (control_readfile(&percenthack, "control/percenthack", 0) == -1) return 0;
  if (!constmap_init(&route.locals, locals.s, locals.len, 0)) return 0;
  if (!constmap_init(&route.vdoms, vdoms.s, vdoms.len, 1)) return 0;
  if (!constmap_init(&route.percenthack, percenthack.s, percenthack.len, 0)) return 0;
  route.envnoathost = envnoathost.s;
  return getdestlimits();
}

/* SIGHUP: locals and virtualdomains, as qmail, and concurrencydomains. */
static void regetcontrols(void)
{
  stralloc newlocals = STRALLOC_ZERO, newvdoms = STRALLOC_ZERO;
  struct constmap ml, mv;
  if (chdir(auto_qmail) == -1) { logs("alert: unable to reread controls: unable to switch to home directory\n"); return; }
  if (control_readfile(&newlocals, "control/locals", 1) == -1) logs("alert: unable to reread control/locals\n");
  else if (control_readfile(&newvdoms, "control/virtualdomains", 0) == -1) logs("alert: unable to reread control/virtualdomains\n");
  else if (!constmap_init(&ml, newlocals.s, newlocals.len, 0)) nomem();
  else if (!constmap_init(&mv, newvdoms.s, newvdoms.len, 1)) { constmap_free(&ml); nomem(); }
  else {
    constmap_free(&route.locals);
    constmap_free(&route.vdoms);
    stralloc_free(&locals);
    stralloc_free(&vdoms);
    locals = newlocals;
    vdoms = newvdoms;
    route.locals = ml;
    route.vdoms = mv;
    newlocals.s = newvdoms.s = 0;
  }
  stralloc_free(&newlocals);
  stralloc_free(&newvdoms);
  if (!getdestlimits()) logs("alert: unable to reread control/concurrencydomains\n");
  flagwake = 1;
  while (chdir("queue") == -1) {
    logs("alert: unable to switch back to queue directory; HELP! sleeping...\n");
    logflush();
    sleep(10);
  }
}

/* ----------------------------------------------------------- MESSAGES */

/* R_WAIT: in the queue of its destination (struct dest), which is full. */
enum { R_PENDING, R_INFLIGHT, R_DONE, R_WAIT };
enum { W_IDLE, W_HEAP, W_PASS };

struct rcpt {
  char *addr;             /* rewritten: local ones carry a virtual prepend */
  unsigned char chan;
  unsigned char state;
  char *failure;          /* a permanent failure not yet bounced */
};

struct msg {
  unsigned long id;
  time_t birth;
  uint64_t msglen;
  unsigned long uid, pid;
  char *sender;
  struct rcpt *r;
  size_t nr;
  unsigned pending[CHANNELS];   /* recipients waiting, per channel */
  unsigned inflight;
  unsigned waiting;             /* recipients in R_WAIT */
  uint64_t serial;              /* tells it from a later message with its id */
  time_t retry[CHANNELS];
  time_t unsyncedsince;         /* journaled, its commit waiting for the mark */
  size_t cursor[CHANNELS];      /* next recipient of the pass under way */
  unsigned char where[CHANNELS];
  unsigned char committed;      /* in mess/, confirmed by qmail-clean */
  unsigned char early;          /* journaled: local deliveries may start before the commit */
  unsigned char committing;     /* a C command is on its way (or waits: unsynced) */
  unsigned char finishing;      /* on the done list */
  unsigned char removing;       /* finished: its R command is due or on its way */
  unsigned char ejournaled;     /* its E record is written */
  unsigned char dead;           /* replaced by a newer message with its number */
  unsigned nfail;
  size_t recordlen;             /* size of its N record, for compaction */
  struct msg *hnext;
  struct msg *passnext[CHANNELS];
  struct msg *donenext;
};

static struct msg **htab;
static size_t hsize, hcount;
static uint64_t livebytes;
static uint64_t msgserial;

static struct msg *msg_find(unsigned long id)
{
  struct msg *m;
  if (!hsize) return 0;
  for (m = htab[id % hsize]; m; m = m->hnext)
    if (m->id == id) return m;
  return 0;
}

static void msg_link(struct msg *m)
{
  if (hcount + 1 > hsize) {
    size_t nsize = hsize ? hsize * 2 : 1024, i;
    struct msg **n;
    while (!(n = calloc(nsize, sizeof *n))) nomem();
    for (i = 0; i < hsize; ++i)
      while (htab[i]) {
        struct msg *x = htab[i];
        htab[i] = x->hnext;
        x->hnext = n[x->id % nsize];
        n[x->id % nsize] = x;
      }
    free(htab);
    htab = n;
    hsize = nsize;
  }
  m->hnext = htab[m->id % hsize];
  htab[m->id % hsize] = m;
  m->serial = ++msgserial;
  ++hcount;
  livebytes += m->recordlen;
}

static void msg_unlink(struct msg *m)
{
  struct msg **p = &htab[m->id % hsize];
  while (*p && *p != m) p = &(*p)->hnext;
  if (*p) { *p = m->hnext; --hcount; livebytes -= m->recordlen; }
}

static void msg_free(struct msg *m)
{
  size_t i;
  for (i = 0; i < m->nr; ++i) { free(m->r[i].addr); free(m->r[i].failure); }
  free(m->r);
  free(m->sender);
  free(m);
}

static char *dupb(const char *s, size_t len)
{
  char *x;
  while (!(x = malloc(len + 1))) nomem();
  memcpy(x, s, len);
  x[len] = 0;
  return x;
}

/* ------------------------------------------------------------ JOURNAL */

static struct journal journal;
static stralloc rec = STRALLOC_ZERO;

static void rec_num(unsigned long u)
{
  while (!stralloc_catulong(&rec, u) || !stralloc_0(&rec)) nomem();
}
static void rec_str(const char *s)
{
  while (!stralloc_cats(&rec, s) || !stralloc_0(&rec)) nomem();
}
static void rec_add(void)
{
  while (journal_add(&journal, rec.s, rec.len) == -1) nomem();
}

static void rec_new(const struct msg *m, int withdone)
{
  size_t i;
  rec.len = 0;
  while (!stralloc_append(&rec, 'N')) nomem();
  rec_num(m->id);
  rec_num((unsigned long)m->birth);
  rec_num((unsigned long)m->msglen);
  rec_num(m->uid);
  rec_num(m->pid);
  rec_str(m->sender);
  for (i = 0; i < m->nr; ++i) {
    char c = m->r[i].chan ? 'R' : 'L';
    if (withdone && m->r[i].state == R_DONE) c = (char)(c + 32);
    while (!stralloc_append(&rec, c)) nomem();
    rec_str(m->r[i].addr);
  }
}

static void journal_done(const struct msg *m, size_t idx)
{
  rec.len = 0;
  while (!stralloc_append(&rec, 'D')) nomem();
  rec_num(m->id);
  rec_num((unsigned long)idx);
  rec_add();
}

static void journal_fail(const struct msg *m, size_t idx, const char *text)
{
  rec.len = 0;
  while (!stralloc_append(&rec, 'F')) nomem();
  rec_num(m->id);
  rec_num((unsigned long)idx);
  rec_str(text);
  rec_add();
}

static void journal_simple(char type, unsigned long id)
{
  rec.len = 0;
  while (!stralloc_append(&rec, type)) nomem();
  rec_num(id);
  rec_add();
}

/* Replaying: rebuild the messages from the records. */
/* The numbers the journal ended (E) as it was replayed at start. A file
 * in mess/ under one of them, with no newer message of that number, is a
 * finished message whose removal a kill cut off (its E is written before
 * the R: journal_and_clean): recover_mess removes it at once. Freed after
 * recover_mess. */
static unsigned long *ended;
static size_t nended, aended;

static void ended_add(unsigned long id)
{
  ended = room(ended, nended, &aended, sizeof *ended, 1024);
  ended[nended++] = id;
}

static int ulongcmp(const void *a, const void *b)
{
  unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
  return x < y ? -1 : x > y;
}

static int replay_record(void *arg, const char *p, size_t len)
{
  const char *f;
  size_t flen, pos = 1;
  unsigned long id, u;
  struct msg *m;
  (void)arg;
  if (!len) return 0;
  if (journal_field(p, len, &pos, &f, &flen) != 1 || !journal_number(f, flen, &id)) return 0;
  m = msg_find(id);
  switch (p[0]) {
    case 'N': {
      struct msg *n;
      unsigned long birth, msglen, uid, pid;
      size_t i, nr = 0, save;
      if (journal_field(p, len, &pos, &f, &flen) != 1 || !journal_number(f, flen, &birth)) return 0;
      if (journal_field(p, len, &pos, &f, &flen) != 1 || !journal_number(f, flen, &msglen)) return 0;
      if (journal_field(p, len, &pos, &f, &flen) != 1 || !journal_number(f, flen, &uid)) return 0;
      if (journal_field(p, len, &pos, &f, &flen) != 1 || !journal_number(f, flen, &pid)) return 0;
      if (journal_field(p, len, &pos, &f, &flen) != 1) return 0;
      if (m) { msg_unlink(m); msg_free(m); } /* a newer message with the same number */
      while (!(n = calloc(1, sizeof *n))) nomem();
      n->id = id;
      n->birth = (time_t)birth;
      n->msglen = msglen;
      n->uid = uid;
      n->pid = pid;
      n->sender = dupb(f, flen);
      save = pos;
      while (journal_field(p, len, &pos, &f, &flen) == 1) ++nr;
      while (nr && !(n->r = calloc(nr, sizeof *n->r))) nomem();
      n->nr = nr;
      pos = save;
      for (i = 0; i < nr; ++i) {
        char c;
        journal_field(p, len, &pos, &f, &flen);
        c = flen ? f[0] : 'L';
        n->r[i].chan = c == 'R' || c == 'r';
        n->r[i].state = (c == 'l' || c == 'r') ? R_DONE : R_PENDING;
        n->r[i].addr = dupb(f + (flen ? 1 : 0), flen ? flen - 1 : 0);
      }
      n->recordlen = len;
      msg_link(n);
      return 0;
    }
    case 'D':
    case 'F':
      if (!m) return 0;
      if (journal_field(p, len, &pos, &f, &flen) != 1 || !journal_number(f, flen, &u) || u >= m->nr) return 0;
      m->r[u].state = R_DONE;
      if (p[0] == 'F' && journal_field(p, len, &pos, &f, &flen) == 1) {
        free(m->r[u].failure);
        m->r[u].failure = dupb(f, flen);
      }
      return 0;
    case 'B':
      if (m) {
        size_t i;
        for (i = 0; i < m->nr; ++i) { free(m->r[i].failure); m->r[i].failure = 0; }
      }
      return 0;
    case 'E':
      if (m) { msg_unlink(m); msg_free(m); }
      ended_add(id);
      return 0;
  }
  return 0;
}

/* Writes the live state as a new, short journal. */
static int journal_compact(void)
{
  struct journal tmp;
  size_t b;
  unlink("state/journal.new");
  if (journal_open(&tmp, "state/journal.new") == -1) return -1;
  for (b = 0; b < hsize; ++b) {
    struct msg *m;
    for (m = htab[b]; m; m = m->hnext) {
      size_t i;
      if (m->ejournaled) continue; /* its E record is written already */
      rec_new(m, 1);
      while (journal_add(&tmp, rec.s, rec.len) == -1) nomem();
      for (i = 0; i < m->nr; ++i)
        if (m->r[i].failure) {
          rec.len = 0;
          while (!stralloc_append(&rec, 'F')) nomem();
          rec_num(m->id);
          rec_num((unsigned long)i);
          rec_str(m->r[i].failure);
          while (journal_add(&tmp, rec.s, rec.len) == -1) nomem();
        }
      if (journal_flush(&tmp) == -1) { journal_close(&tmp); return -1; }
    }
  }
  if (journal_replace(&journal, &tmp, "state/journal.new", "state/journal") == -1) {
    journal_close(&tmp);
    return -1;
  }
  return 0;
}

/* ---------------------------------------------------------- QMAIL-CLEAN */

struct cleanop {
  char type;              /* C, T, R, P */
  unsigned long id;
  struct msg *m;          /* the message it is about; 0 if none, or gone */
};
static struct cleanop *cleanq;  /* commands awaiting their answer, in order */
static size_t cleanhead, cleancount, cleansize;
static stralloc cleanout = STRALLOC_ZERO;
static int cleanalive = 1;

static void clean_send(char type, struct msg *m, unsigned long id, unsigned long len)
{
  if (cleancount == cleansize) {
    size_t n = cleansize ? cleansize * 2 : 256, i;
    struct cleanop *q;
    while (!(q = malloc(n * sizeof *q))) nomem();
    for (i = 0; i < cleancount; ++i) q[i] = cleanq[(cleanhead + i) % cleansize];
    free(cleanq);
    cleanq = q;
    cleansize = n;
    cleanhead = 0;
  }
  {
    struct cleanop *op = &cleanq[(cleanhead + cleancount++) % cleansize];
    op->type = type;
    op->id = id;
    op->m = m;
  }
  while (!stralloc_append(&cleanout, type)) nomem();
  if (type != 'P') while (!stralloc_catulong(&cleanout, id)) nomem();
  while (!stralloc_append(&cleanout, 0)) nomem();
  if (type == 'C' || type == 'T') while (!stralloc_catulong(&cleanout, len) || !stralloc_append(&cleanout, 0)) nomem();
}

/* A message whose number now belongs to a newer one: its file is gone
 * (or the filesystem could not have reused the inode number). Its E record
 * goes first, so that replay keeps the newer message; answers still due
 * from qmail-clean about it are dropped. The usual case is a message
 * being removed, which nothing else refers to; otherwise (its file was
 * deleted by hand, say) it may still sit on a retry list, so it is only
 * marked dead and left for those lists to skip. */
static void unsynced_drop(struct msg *m);

static void msg_bury(struct msg *m)
{
  size_t i;
  int referenced = m->inflight || m->where[0] != 0 || m->where[1] != 0 || m->finishing;
  journal_simple('E', m->id);
  msg_unlink(m);
  unsynced_drop(m);
  for (i = 0; i < cleancount; ++i)
    if (cleanq[(cleanhead + i) % cleansize].m == m) cleanq[(cleanhead + i) % cleansize].m = 0;
  if (referenced && !m->removing) { m->dead = 1; return; }
  msg_free(m);
}

/* ----------------------------------------------------------- SCHEDULE */

static struct prioq heap[CHANNELS];
static struct prioq retryfinish; /* messages whose bounce or removal failed */
static struct msg *passhead[CHANNELS], *passtail[CHANNELS];
static struct msg *donehead;
static time_t recent;
static int flagexitasap, flagrunasap, flagreadasap;

static time_t isqrt(time_t x)
{
  time_t y = 0, bit = (time_t)1 << 30;
  while (bit > x) bit >>= 2;
  while (bit) {
    if (x >= y + bit) { x -= y + bit; y = (y >> 1) + bit; }
    else y >>= 1;
    bit >>= 2;
  }
  return y;
}

/* qmail's schedule: the n-th attempt after birth + (n + skip)^2 seconds,
 * so retries thin out as the message ages. */
static time_t nextretry(time_t birth, int c)
{
  time_t n = birth > recent ? 0 : isqrt(recent - birth);
  n += chanskip[c];
  return birth + n * n;
}

static void sched_heap(struct msg *m, int c, time_t when)
{
  if (m->where[c] != W_IDLE || !m->pending[c]) return;
  if (!m->committed && !(c == 0 && m->early)) return;
  while (!prioq_insert(&heap[c], when, m)) nomem();
  m->where[c] = W_HEAP;
}

static void sched_done(struct msg *m)
{
  if (m->finishing || m->removing || m->inflight || m->waiting || !m->committed) return;
  if (m->pending[0] || m->pending[1]) return;
  /* Not while a pass still points at it: the pass ends first. */
  if (m->where[0] == W_PASS || m->where[1] == W_PASS) return;
  m->finishing = 1;
  m->donenext = donehead;
  donehead = m;
}

/* A message's recipients start (or start again) on both channels. */
static void sched_msg(struct msg *m, time_t when)
{
  int c;
  for (c = 0; c < CHANNELS; ++c) sched_heap(m, c, when);
  sched_done(m);
}

static void msg_count(struct msg *m)
{
  size_t i;
  m->pending[0] = m->pending[1] = 0;
  m->waiting = 0;
  for (i = 0; i < m->nr; ++i)
    if (m->r[i].state == R_PENDING) ++m->pending[m->r[i].chan];
    else if (m->r[i].state == R_WAIT) ++m->waiting;
}

/* --------------------------------------------------------- DELIVERIES */

struct del {
  struct msg *m;         /* 0: slot free */
  size_t idx;
  unsigned long delid;
  struct dest *dest;     /* remote: the recipient's domain */
};
static struct del *dels[CHANNELS];
static unsigned long used[CHANNELS];
static unsigned long ceiling[CHANNELS];
static unsigned long masterdelid = 1;
static stralloc spawnout[CHANNELS];
static stralloc spawnin[CHANNELS];
static int spawnalive[CHANNELS] = { 1, 1 };

static void del_status(void)
{
  int c;
  logs("status:");
  for (c = 0; c < CHANNELS; ++c) {
    logs(chanstatus[c]);
    logn(used[c]);
    logs("/");
    logn(concurrency[c]);
  }
  if (flagexitasap) logs(" exitasap");
  logs("\n");
}

/* VERP: a sender ending in -@[] becomes prefix-recipbox=reciphost@host
 * for each recipient (qmail-send's senderadd). */
static void senderadd(stralloc *sa, const char *sender, const char *recip)
{
  size_t i = strlen(sender);
  if (i >= 4 && !strcmp(sender + i - 4, "-@[]")) {
    const char *at = strrchr(recip, '@');
    size_t j = i - 4;
    while (j && sender[j - 1] != '@') --j;
    /* j - 1 is the '@' before the host, when there is one */
    if (at && j && j - 1 + 5 <= i) {
      size_t k = (size_t)(at - recip);
      while (!stralloc_catb(sa, sender, j - 1)) nomem();
      while (!stralloc_catb(sa, recip, k)) nomem();
      while (!stralloc_append(sa, '=')) nomem();
      while (!stralloc_cats(sa, at + 1)) nomem();
      while (!stralloc_append(sa, '@')) nomem();
      while (!stralloc_catb(sa, sender + j, i - 4 - j)) nomem();
      return;
    }
  }
  while (!stralloc_cats(sa, sender)) nomem();
}

static void del_start(int c, struct msg *m, size_t idx, struct dest *dest)
{
  struct del *d;
  unsigned long i;
  stralloc *o = &spawnout[c];

  for (i = 0; i < concurrency[c]; ++i)
    if (!dels[c][i].m) break;
  if (i == concurrency[c]) return;
  d = &dels[c][i];
  d->m = m;
  d->idx = idx;
  d->delid = masterdelid++;
  d->dest = dest;
  if (dest) ++dest->inflight;
  m->r[idx].state = R_INFLIGHT;
  --m->pending[c];
  ++m->inflight;
  ++used[c];

  while (!stralloc_catulong(o, i) || !stralloc_append(o, 0)) nomem();
  while (!stralloc_catulong(o, m->id) || !stralloc_append(o, 0)) nomem();
  while (!stralloc_catulong(o, (unsigned long)idx) || !stralloc_append(o, 0)) nomem();
  senderadd(o, m->sender, m->r[idx].addr);
  while (!stralloc_append(o, 0) || !stralloc_cats(o, m->r[idx].addr) || !stralloc_append(o, 0)) nomem();
  /* Not committed yet: the spawner reads the message's first msglen bytes
   * from todo/ (lib/spawner.h). */
  if (!m->committed) while (!stralloc_catulong(o, (unsigned long)m->msglen)) nomem();
  while (!stralloc_append(o, 0)) nomem();

  logs("starting delivery ");
  logn(d->delid);
  logs(": msg ");
  logn(m->id);
  logs(tochan[c]);
  logsafes(m->r[idx].addr);
  logs("\n");
  del_status();
}

static struct dest *dest_of(const char *addr)
{
  size_t len;
  const char *domain = destlimit_domain(addr, &len);
  struct dest *d;
  while (!(d = destlimit_get(&destlim, domain, len))) nomem();
  return d;
}

/* Hands d's free slots to the recipients waiting for them, first come
 * first served, as far as the remote channel has slots. Waiters whose
 * message is gone, or that were settled meanwhile (an orphaned result),
 * are skipped. */
static void dest_wake(struct dest *d)
{
  struct destwait w;
  while (!flagexitasap && spawnalive[1] && used[1] < concurrency[1] && destlimit_pop(d, &w)) {
    struct msg *m = msg_find(w.id);
    if (!m || m->serial != w.serial || m->dead || w.idx >= m->nr || m->r[w.idx].state != R_WAIT) continue;
    m->r[w.idx].state = R_PENDING;
    --m->waiting;
    ++m->pending[1];
    del_start(1, m, w.idx, d);
  }
}

static void dest_wake_each(struct dest *d, void *arg)
{
  (void)arg;
  dest_wake(d);
  if (d->whead != d->wlen && d->inflight < d->limit) flagwake = 1; /* the channel was full */
}

/* A remote recipient whose destination is full waits in its queue. */
static void rcpt_wait(struct dest *d, struct msg *m, size_t idx)
{
  while (!destlimit_wait(d, m->id, m->serial, idx)) nomem();
  m->r[idx].state = R_WAIT;
  --m->pending[1];
  ++m->waiting;
}

/* Starts as many deliveries on channel c as it may run. */
static void pass_do(int c)
{
  while (!flagexitasap && spawnalive[c] && used[c] < concurrency[c]) {
    struct msg *m = passhead[c];
    if (!m) {
      const struct prioq_elt *e = prioq_min(&heap[c]);
      if (!e || e->when > recent) return;
      m = e->item;
      prioq_delmin(&heap[c]);
      if (m->dead) continue;
      m->where[c] = W_PASS;
      m->cursor[c] = 0;
      m->passnext[c] = 0;
      if (passtail[c]) passtail[c]->passnext[c] = m;
      else passhead[c] = m;
      passtail[c] = m;
      continue;
    }
    while (!m->dead && m->cursor[c] < m->nr && !(m->r[m->cursor[c]].chan == c && m->r[m->cursor[c]].state == R_PENDING))
      ++m->cursor[c];
    if (m->dead) m->cursor[c] = m->nr;
    if (m->cursor[c] == m->nr) {
      /* The pass is over; recipients deferred meanwhile wait for retry[c]. */
      passhead[c] = m->passnext[c];
      if (!passhead[c]) passtail[c] = 0;
      m->where[c] = W_IDLE;
      sched_heap(m, c, m->retry[c] > recent ? m->retry[c] : recent);
      sched_done(m);
      continue;
    }
    if (c == 1) {
      size_t idx = m->cursor[c];
      struct dest *d = dest_of(m->r[idx].addr);
      if (!destlimit_may(d)) {
        dest_wake(d); /* its waiters come first */
        if (used[c] >= concurrency[c]) return; /* this recipient's turn comes at the next pass_do */
        if (!destlimit_may(d)) { rcpt_wait(d, m, idx); ++m->cursor[c]; continue; }
      }
      ++m->cursor[c];
      del_start(c, m, idx, d);
    } else
      del_start(c, m, m->cursor[c]++, 0);
  }
}

/* A delivery to d ended: its slot goes to the next recipient waiting. */
static void dest_release(struct dest *d)
{
  if (!d) return;
  --d->inflight;
  dest_wake(d);
  destlimit_drop(&destlim, d);
}

/* The spawner keeps a result until told it is in the journal: the ack
 * goes out after the journal write that follows (the loop flushes the
 * journal before it writes to the spawners). */
static void del_ack(int c, unsigned long delnum)
{
  while (!stralloc_append(&spawnout[c], 'a') || !stralloc_catulong(&spawnout[c], delnum)
         || !stralloc_append(&spawnout[c], 0))
    nomem();
}

static void del_result(int c, unsigned long delnum, const char *res, size_t len)
{
  struct del *d;
  struct msg *m;
  stralloc text = STRALLOC_ZERO;
  char kind;

  if (delnum >= concurrency[c] || !dels[c][delnum].m) {
    logs("warning: internal error: delivery report out of range\n");
    return;
  }
  d = &dels[c][delnum];
  m = d->m;
  del_ack(c, delnum);
  if (m->dead) { /* its result no longer matters */
    struct dest *dest = d->dest;
    d->m = 0;
    d->dest = 0;
    --m->inflight;
    --used[c];
    dest_release(dest);
    del_status();
    return;
  }
  kind = len ? res[0] : 0;
  while (!stralloc_copyb(&text, len ? res + 1 : "", len ? len - 1 : 0) || !stralloc_0(&text)) nomem();
  if (kind == 'Z' && recent > m->birth + (time_t)lifetime) {
    kind = 'D';
    --text.len;
    while (!stralloc_cats(&text, "I'm not going to try again; this message has been in the queue too long.\n")
           || !stralloc_0(&text))
      nomem();
  }
  logs("delivery ");
  logn(d->delid);
  switch (kind) {
    case 'K':
      logs(": success: ");
      logsafes(text.s);
      logs("\n");
      m->r[d->idx].state = R_DONE;
      journal_done(m, d->idx);
      break;
    case 'D':
      logs(": failure: ");
      logsafes(text.s);
      logs("\n");
      m->r[d->idx].state = R_DONE;
      free(m->r[d->idx].failure);
      m->r[d->idx].failure = dupb(text.s, text.len - 1);
      journal_fail(m, d->idx, text.s);
      break;
    default:
      if (kind == 'Z') {
        logs(": deferral: ");
        logsafes(text.s);
        logs("\n");
      } else
        logs(": report mangled, will defer\n");
      m->r[d->idx].state = R_PENDING;
      ++m->pending[c];
      m->retry[c] = nextretry(m->birth, c);
      sched_heap(m, c, m->retry[c]);
  }
  stralloc_free(&text);
  {
    struct dest *dest = d->dest;
    d->m = 0;
    d->dest = 0;
    --m->inflight;
    --used[c];
    dest_release(dest);
  }
  del_status();
  sched_done(m);
}

static void spawn_read(int c)
{
  char buf[4096];
  ssize_t r = read(fdfromspawn[c], buf, sizeof buf);
  ssize_t i;
  if (r == -1) return;
  if (r == 0) {
    logs("alert: oh no! lost spawn connection! dying...\n");
    spawnalive[c] = 0;
    flagexitasap = 1;
    return;
  }
  for (i = 0; i < r; ++i) {
    while (!stralloc_append(&spawnin[c], buf[i])) nomem();
    if (buf[i]) {
      if (spawnin[c].len > 20000) spawnin[c].len = 20000; /* reports are kept short by the spawners */
      continue;
    }
    {
      /* <delnum> NUL <result> NUL: the delnum ends at the first NUL */
      char *nul = memchr(spawnin[c].s, 0, spawnin[c].len);
      if ((size_t)(nul - spawnin[c].s) + 1 < spawnin[c].len) {
        unsigned long delnum;
        size_t dlen = (size_t)(nul - spawnin[c].s);
        if (dlen && scan_ulongn(spawnin[c].s, dlen, &delnum) == dlen)
          del_result(c, delnum, nul + 1, spawnin[c].len - dlen - 2);
        else
          logs("warning: internal error: delivery report mangled\n");
        spawnin[c].len = 0;
      }
    }
  }
}

/* ---------------------------------------------------------------- TODO */

static unsigned long *todolist;
static size_t todolen, todosize;
static int inotifyfd = -1;
static int *inotifywd;
static int triggerfd = -1;
static time_t nexttodoscan;
static struct msg *committinglist[TODO_BATCH];
static size_t ncommitting;

static void todo_add(unsigned long id)
{
  todolist = room(todolist, todolen, &todosize, sizeof *todolist, 1024);
  todolist[todolen++] = id;
}

/* The numbers of the files in todo/ when this qmail-send started, sorted:
 * the messages from before the start. Only those can be from before a
 * crash, named by a qmail-queue whose fsync never returned: todo_one
 * checks their bytes against their hash (qfile_verify), which costs
 * nothing for new files; and only to those do results left in orphans/
 * for unknown messages belong (late_apply). */
static unsigned long *suspects;
static size_t nsuspects, asuspects;

static int suspect(unsigned long id)
{
  return nsuspects && bsearch(&id, suspects, nsuspects, sizeof *suspects, ulongcmp) != 0;
}

static void todo_scan(void)
{
  unsigned long i;
  char dir[32 + FMT_ULONG];
  for (i = 0; i < auto_split; ++i) {
    DIR *d;
    struct dirent *e;
    size_t n = fmt_str(dir, "todo/");
    dir[n + fmt_ulong(dir + n, i)] = 0;
    d = opendir(dir);
    if (!d) {
      logs("alert: unable to opendir ");
      logs(dir);
      logs("\n");
      continue;
    }
    while ((e = readdir(d))) {
      unsigned long id;
      if (!scan_whole_ulong(e->d_name, (unsigned long)-1, &id)) continue;
      todo_add(id);
      if (!nexttodoscan) { /* the first scan, at start */
        suspects = room(suspects, nsuspects, &asuspects, sizeof *suspects, 1024);
        suspects[nsuspects++] = id;
      }
    }
    closedir(d);
  }
  if (!nexttodoscan && nsuspects) qsort(suspects, nsuspects, sizeof *suspects, ulongcmp);
  nexttodoscan = recent + SLEEP_TODO;
}

static void todo_watch(void)
{
  unsigned long i;
  char dir[32 + FMT_ULONG];
  inotifyfd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotifyfd == -1) return;
  while (!(inotifywd = calloc(auto_split, sizeof *inotifywd))) nomem();
  for (i = 0; i < auto_split; ++i) {
    size_t n = fmt_str(dir, "todo/");
    dir[n + fmt_ulong(dir + n, i)] = 0;
    inotifywd[i] = inotify_add_watch(inotifyfd, dir, IN_CREATE | IN_MOVED_TO);
    if (inotifywd[i] == -1) {
      /* Without a watch on every directory, scanning is the only way. */
      close(inotifyfd);
      inotifyfd = -1;
      return;
    }
  }
}

static void todo_events(void)
{
  char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t r = read(inotifyfd, buf, sizeof buf);
    size_t off = 0;
    if (r <= 0) return;
    while (off + sizeof(struct inotify_event) <= (size_t)r) {
      struct inotify_event *ev = (struct inotify_event *)(buf + off);
      unsigned long id;
      if (ev->mask & IN_Q_OVERFLOW) todo_scan();
      else if (ev->len && scan_whole_ulong(ev->name, (unsigned long)-1, &id)) todo_add(id);
      off += sizeof(struct inotify_event) + ev->len;
    }
  }
}

/* When this qmail-send started: a message born since is new to it. */
static time_t startedat;

/* Results found at start for a message the journal does not know: a new
 * message's local deliveries begin before its N record is on disk
 * (todo_do), so a qmail-send killed in that moment leaves results for a
 * message that is still only in todo/. That file, which the first scan
 * finds there (a suspect), is the message of that number: no other can
 * have the number while it exists. todo_one applies them when it reads
 * it, and the delivery is not done twice. (Not "born before this start":
 * the queue time is in seconds, and a message born in the second of a
 * restart would be delivered again.) */
struct lateorphan {
  unsigned long id, idx;
  char *result;
};
static struct lateorphan *late;
static size_t nlate, alate;

static void late_add(unsigned long id, unsigned long idx, const char *result, size_t len)
{
  late = room(late, nlate, &alate, sizeof *late, 16);
  late[nlate].id = id;
  late[nlate].idx = idx;
  late[nlate].result = dupb(result, len);
  ++nlate;
}

static void late_apply(struct msg *m)
{
  size_t k = 0;
  if (!suspect(m->id)) return;
  while (k < nlate) {
    struct lateorphan *o = &late[k];
    if (o->id != m->id) { ++k; continue; }
    if (o->idx < m->nr && m->r[o->idx].state == R_PENDING) {
      m->r[o->idx].state = R_DONE;
      if (o->result[0] == 'K')
        journal_done(m, (size_t)o->idx);
      else {
        m->r[o->idx].failure = dupb(o->result + 1, strlen(o->result + 1));
        journal_fail(m, (size_t)o->idx, m->r[o->idx].failure);
      }
    }
    free(o->result);
    late[k] = late[--nlate];
  }
}

/* Drops todo/ file fn, which a power cut left not whole (todo_one). */
static void cutshort(const char *fn, unsigned long id)
{
  logs("warning: ");
  logs(fn);
  logs(" was cut short by a crash before qmail-queue had it on disk; discarding it\n");
  clean_send('D', 0, id, 0);
}

/* Reads todo/ file id, whose message may be known already (old): 1 and
 * its message length, queue time and envelope if it is a whole queue file
 * to take in; 0 if there is nothing more to do (the cases a crash leaves
 * are handled here); -1 trouble (try again later). */
static int todo_file(unsigned long id, struct msg *old, uint64_t *msglen, uint64_t *qtime, stralloc *env)
{
  static stralloc fn = STRALLOC_ZERO;
  struct stat st;
  int fd, r;

  fn.len = 0;
  while (!qfile_name(&fn, "todo", id, auto_split) || !stralloc_0(&fn)) nomem();
  fd = open_read(fn.s);
  if (fd == -1) {
    if (errno == ENOENT) {
      /* Committed already (or a stale event). If we know the message but
       * did not see the commit, look for it in mess/. */
      if (old && !old->committed && !old->committing) {
        fn.len = 0;
        while (!qfile_name(&fn, "mess", id, auto_split) || !stralloc_0(&fn)) nomem();
        if (stat(fn.s, &st) == 0 && (uint64_t)st.st_size == old->msglen) {
          old->committed = 1;
          msg_count(old);
          sched_msg(old, recent);
        }
      }
      return 0;
    }
    logs("warning: unable to open ");
    logs(fn.s);
    logs("\n");
    return -1;
  }
  if (fstat(fd, &st) == -1) { close(fd); return -1; }
  if (old && (old->committed || old->committing) && st.st_nlink > 1) {
    /* The same file as mess/N/<id>: a commit links it there and drops
     * this name only once mess/N is synced (qmail-clean), and a crash or
     * kill came in between. */
    close(fd);
    clean_send('D', 0, id, 0);
    return 0;
  }
  r = qfile_read(fd, (uint64_t)st.st_size, msglen, qtime, env);
  if (r == 1 && suspect(id)) {
    r = qfile_verify(fd, (uint64_t)st.st_size);
    if (r == 0) {
      /* Named by a qmail-queue whose fsync a crash cut short: never
       * acknowledged, and its bytes are not (all) the message's. */
      close(fd);
      if (old) msg_bury(old);
      cutshort(fn.s, id);
      return 0;
    }
  }
  close(fd);
  if (r == 0) {
    /* Cut already but not moved (a crash between the two): finish it. */
    if (old && !old->committed && (uint64_t)st.st_size == old->msglen) {
      if (!old->committing) { old->committing = 1; clean_send('C', old, id, (unsigned long)old->msglen); }
      return 0;
    }
    /* The todo/ name of a message committed, finished and pooled since:
     * a crash kept it on disk with the pool name (qmail-clean). */
    if (!old && st.st_nlink > 1) {
      clean_send('D', 0, id, 0);
      return 0;
    }
    /* There at start and not whole: a power cut came before its
     * qmail-queue's fsync returned (as when its hash does not match,
     * above). Never acknowledged; the journal may know it all the same,
     * having read it before the cut. */
    if (suspect(id) && !(old && (old->committed || old->committing))) {
      if (old) msg_bury(old);
      cutshort(fn.s, id);
      return 0;
    }
    logs("warning: ");
    logs(fn.s);
    logs(" is not a complete queue file; leaving it alone\n");
    return 0;
  }
  if (r == -1) {
    logs("warning: trouble reading ");
    logs(fn.s);
    logs("\n");
    return -1;
  }
  return 1;
}

/* Reads one new message's envelope: 1 a new message, 0 nothing to do (or
 * done another way), -1 trouble (try again later). */
static int todo_one(unsigned long id)
{
  static stralloc env = STRALLOC_ZERO;
  static stralloc addr = STRALLOC_ZERO;
  static stralloc rw = STRALLOC_ZERO;
  uint64_t msglen, qtime;
  struct msg *m, *old = msg_find(id);
  size_t pos, alen, nr, i;
  const char *a;
  char type;
  unsigned long uid = 0, pid = 0;
  int r = todo_file(id, old, &msglen, &qtime, &env);

  if (r != 1) return r;

  /* u, p, F, then T records (qfile_read checked the order). */
  pos = 0;
  nr = 0;
  {
    const char *sender = 0;
    size_t senderlen = 0;
    while (envelope_next(env.s, env.len, &pos, &type, &a, &alen) == 1) {
      switch (type) {
        case 'u': scan_ulongn(a, alen, &uid); break;
        case 'p': scan_ulongn(a, alen, &pid); break;
        case 'F': sender = a; senderlen = alen; break;
        case 'T': ++nr; break;
      }
    }
    if (old && !old->committed && old->birth == (time_t)qtime && old->pid == pid && old->msglen == msglen) {
      /* Journaled before a crash, not yet committed: just commit it. */
      if (!old->committing) { old->committing = 1; clean_send('C', old, id, (unsigned long)msglen); }
      return 0;
    }
    if (old) msg_bury(old); /* its number was reused: it is gone */
    while (!(m = calloc(1, sizeof *m))) nomem();
    m->id = id;
    m->birth = (time_t)qtime;
    m->msglen = msglen;
    m->uid = uid;
    m->pid = pid;
    m->sender = dupb(sender ? sender : "", senderlen);
    while (nr && !(m->r = calloc(nr, sizeof *m->r))) nomem();
    m->nr = nr;
  }
  pos = 0;
  i = 0;
  while (envelope_next(env.s, env.len, &pos, &type, &a, &alen) == 1) {
    int c;
    if (type != 'T') continue;
    while (!stralloc_copyb(&addr, a, alen) || !stralloc_0(&addr)) nomem();
    /* a NUL inside an address cannot happen: it ends the record */
    while ((c = route_rewrite(&route, addr.s, &rw)) == -1) nomem();
    m->r[i].addr = dupb(rw.s, rw.len - 1);
    m->r[i].chan = (unsigned char)c;
    m->r[i].state = R_PENDING;
    ++i;
  }
  rec_new(m, 0);
  m->recordlen = rec.len;
  rec_add();
  msg_link(m);
  if (nlate) late_apply(m);

  logs("new msg ");
  logn(id);
  logs("\ninfo msg ");
  logn(id);
  logs(": bytes ");
  logn((unsigned long)msglen);
  logs(" from <");
  logsafes(m->sender);
  logs("> qp ");
  logn(pid);
  logs(" uid ");
  logn(uid);
  logs("\n");
  return 1;
}

/* Takes a batch of new messages and journals them; journal_and_clean
 * syncs once and has qmail-clean commit them. Deliveries start as the
 * commits come back. */
static void todo_do(void)
{
  size_t done = 0;
  while (todolen && done < TODO_BATCH && !flagexitasap) {
    unsigned long id = todolist[--todolen];
    int r = todo_one(id);
    ++done;
    if (r == 1) {
      struct msg *m = msg_find(id);
      committinglist[ncommitting++] = m;
      /* Its local deliveries need not wait for the journal sync and the
       * commit (main loop): the spawner copies the message out of todo/.
       * Killed before the sync, the next qmail-send finds the message in
       * todo/ again and the results of those deliveries in orphans/
       * (late_apply): none is done twice. A power cut then repeats them,
       * as it does any delivery not yet on record; nothing is lost.
       * Bounces still wait for the commit (sched_done): they read mess/. */
      if (m->msglen <= SPAWNER_EARLYMAX) {
        m->early = 1;
        msg_count(m);
        sched_heap(m, 0, recent);
      }
    }
  }
}

/* ------------------------------------------------------------- FINISH */

static struct msg **removelist; /* finished: E and R due (journal_and_clean) */
static size_t nremove, removesize;
static time_t removesince;      /* when the first of them finished */
#define REMOVE_WAIT 1           /* see journal_and_clean */
#define REMOVE_BATCH 1024

/* All recipients are done: bounce what failed, then remove the message. */
static void finish_one(struct msg *m)
{
  size_t i, nf = 0;
  for (i = 0; i < m->nr; ++i)
    if (m->r[i].failure) ++nf;
  if (nf) {
    struct bounce_failure *f;
    struct bounce b;
    stralloc fn = STRALLOC_ZERO, sender = STRALLOC_ZERO;
    const char *err;
    unsigned long qp;
    int discarded, fd;
    size_t k = 0, slen = strlen(m->sender);

    while (!(f = calloc(nf, sizeof *f))) nomem();
    for (i = 0; i < m->nr; ++i)
      if (m->r[i].failure) {
        f[k].rcpt = route_stripprepend(&route, m->r[i].addr);
        f[k].report = m->r[i].failure;
        f[k].remote = m->r[i].chan;
        ++k;
      }
    /* owner-@host-@[] bounces to owner-@host */
    while (!stralloc_copys(&sender, m->sender)) nomem();
    if (slen >= 5 && !strcmp(m->sender + slen - 4, "-@[]")) sender.len -= 4;
    while (!stralloc_0(&sender)) nomem();
    while (!qfile_name(&fn, "mess", m->id, auto_split) || !stralloc_0(&fn)) nomem();
    fd = open_read(fn.s);
    if (!strcmp(sender.s, "#@[]")) {
      logs("triple bounce: discarding bounce/");
      logn(m->id);
      logs("\n");
      err = "";
    } else if (fd == -1) {
      err = "Zunable to open the message";
    } else {
      b.id = m->id;
      b.sender = sender.s;
      b.birth = m->birth;
      b.f = f;
      b.nf = nf;
      b.fdmess = fd;
      b.msglen = m->msglen;
      b.maxbytes = bouncemaxbytes;
      b.bouncefrom = bouncefrom.s;
      b.bouncehost = bouncehost.s;
      b.doublebounceto = doublebounceto.s;
      b.me = control_me.len ? control_me.s : bouncehost.s;
      err = bounce_inject(&b, &qp, &discarded);
      if (!*err) {
        if (discarded) {
          logs("double bounce: discarding bounce/");
          logn(m->id);
          logs("\n");
        } else {
          logs("bounce msg ");
          logn(m->id);
          logs(" qp ");
          logn(qp);
          logs("\n");
        }
      }
    }
    if (fd != -1) close(fd);
    free(f);
    stralloc_free(&fn);
    stralloc_free(&sender);
    if (*err) {
      logs("warning: trouble injecting bounce message, will try later\n");
      m->finishing = 0;
      while (!prioq_insert(&retryfinish, recent + SLEEP_SYSFAIL, m)) nomem();
      return;
    }
    for (i = 0; i < m->nr; ++i) { free(m->r[i].failure); m->r[i].failure = 0; }
    journal_simple('B', m->id);
  }
  logs("end msg ");
  logn(m->id);
  logs("\n");
  m->removing = 1;
  /* journal_and_clean writes its E record, syncs, and only then sends
   * the R: gone from the journal, durably, before its file may be reused
   * for another message (lib/qpool.h). Not before: a qmail-send killed
   * meanwhile finds the message again and finishes it again. */
  if (!nremove) removesince = recent;
  removelist = room(removelist, nremove, &removesize, sizeof *removelist, 256);
  removelist[nremove++] = m;
}

/* Journaled messages whose commit waits until qmail-queue has marked the
 * file synced (QFILE_SYNCED, lib/qfile.h). Committed earlier, qmail-clean
 * must sync the file itself: in a burst, nearly every commit came before
 * the mark, a disk flush a message. Not longer than SYNCED_WAIT (the
 * qmail-queue may have died: qmail-clean syncs the file then); and the
 * local deliveries do not wait for the commit anyway (todo_do). */
#define SYNCED_WAIT 1
static struct msg **unsynced;
static size_t nunsynced, aunsynced;

static int marked(const struct msg *m)
{
  static stralloc fn = STRALLOC_ZERO;
  struct stat st;
  fn.len = 0;
  while (!qfile_name(&fn, "todo", m->id, auto_split) || !stralloc_0(&fn)) nomem();
  /* Gone (committed another way, say): qmail-clean's C says so. */
  return stat(fn.s, &st) == -1 || (st.st_mode & QFILE_SYNCED);
}

static void commit_send(struct msg *m)
{
  m->committing = 1;
  if (marked(m)) {
    clean_send('C', m, m->id, (unsigned long)m->msglen);
    return;
  }
  m->unsyncedsince = recent;
  unsynced = room(unsynced, nunsynced, &aunsynced, sizeof *unsynced, 64);
  unsynced[nunsynced++] = m;
}

/* Sends the commits whose files are marked now, or waited long enough. */
static void unsynced_do(void)
{
  size_t k = 0;
  while (k < nunsynced) {
    struct msg *m = unsynced[k];
    if (!marked(m) && recent < m->unsyncedsince + SYNCED_WAIT) { ++k; continue; }
    clean_send('C', m, m->id, (unsigned long)m->msglen);
    unsynced[k] = unsynced[--nunsynced];
  }
}

static void unsynced_drop(struct msg *m)
{
  size_t k;
  for (k = 0; k < nunsynced; ++k)
    if (unsynced[k] == m) { unsynced[k] = unsynced[--nunsynced]; return; }
}

/* One journal sync for the loop's new and finished messages, then the
 * commands that must follow it: C (the envelope is on record before
 * qmail-clean cuts it off) and R (the message is off record before its
 * file can become another message). New messages wait for nothing; a
 * removal is not urgent, so removals ride along with the next sync for
 * new messages, and get one of their own only after REMOVE_WAIT seconds
 * or REMOVE_BATCH of them (force: now, on the way out): a queue draining
 * to the network does not sync once per turn of the loop. */
static void journal_and_clean(int force)
{
  size_t k;
  if (!ncommitting && !nremove) return;
  if (!ncommitting && !force && nremove < REMOVE_BATCH && recent < removesince + REMOVE_WAIT) return;
  for (k = 0; k < nremove; ++k) {
    journal_simple('E', removelist[k]->id);
    removelist[k]->ejournaled = 1;
  }
  while (journal_sync(&journal) == -1) {
    logs("alert: unable to write the journal; HELP! sleeping...\n");
    logflush();
    sleep(10);
  }
  for (k = 0; k < ncommitting; ++k) commit_send(committinglist[k]);
  ncommitting = 0;
  for (k = 0; k < nremove; ++k) clean_send('R', removelist[k], removelist[k]->id, 0);
  nremove = 0;
}

static void finish_do(void)
{
  const struct prioq_elt *e;
  while ((e = prioq_min(&retryfinish)) && e->when <= recent) {
    struct msg *m = e->item;
    prioq_delmin(&retryfinish);
    if (!m->dead) sched_done(m);
  }
  while (donehead) {
    struct msg *m = donehead;
    donehead = m->donenext;
    finish_one(m);
  }
}

/* ---------------------------------------------------------- QMAIL-CLEAN */

static void clean_answer(char a)
{
  struct cleanop op;
  struct msg *m;
  if (!cleancount) { logs("warning: internal error: unexpected answer from qmail-clean\n"); return; }
  op = cleanq[cleanhead];
  cleanhead = (cleanhead + 1) % cleansize;
  --cleancount;
  m = op.m; /* never by number: the number may belong to a newer message */
  switch (op.type) {
    case 'C':
    case 'T':
      if (!m) return;
      m->committing = 0;
      if (a != '+') {
        logs("warning: qmail-clean unable to commit message ");
        logn(op.id);
        logs("; will try again later\n");
        return; /* the next todo scan finds it again */
      }
      m->committed = 1;
      msg_count(m);
      sched_msg(m, recent);
      return;
    case 'R':
      if (!m) return;
      if (a != '+') {
        logs("warning: qmail-clean unable to remove message ");
        logn(op.id);
        logs("; will try again later\n");
        m->removing = 0;
        m->ejournaled = 0; /* live after all: compaction keeps it */
        m->finishing = 0;
        while (!prioq_insert(&retryfinish, recent + SLEEP_SYSFAIL, m)) nomem();
        return;
      }
      /* its E record went out before the R (journal_and_clean) */
      msg_unlink(m);
      msg_free(m);
      return;
  }
}

static void clean_read(void)
{
  char buf[1024];
  ssize_t r = read(FDFROMCLEAN, buf, sizeof buf), i;
  if (r == -1) return;
  if (r == 0) {
    logs("alert: oh no! lost qmail-clean connection! dying...\n");
    cleanalive = 0;
    flagexitasap = 1;
    return;
  }
  for (i = 0; i < r; ++i) clean_answer(buf[i]);
}

/* ------------------------------------------------------------- STARTUP */

/* Results of deliveries that finished while no qmail-send was there to
 * hear them (lib/spawn.h). */
static void orphans_apply(int wait)
{
  DIR *d = opendir("orphans");
  struct dirent *e;
  if (!d) return;
  while ((e = readdir(d))) {
    stralloc fn = STRALLOC_ZERO, data = STRALLOC_ZERO;
    int fd, tries;
    char buf[4096];
    ssize_t r;
    size_t pos;
    if (e->d_name[0] == '.') continue;
    while (!stralloc_cats(&fn, "orphans/") || !stralloc_cats(&fn, e->d_name) || !stralloc_0(&fn)) nomem();
    fd = open_read(fn.s);
    if (fd == -1) { stralloc_free(&fn); continue; }
    /* The spawner holds the lock until its last delivery is done. */
    for (tries = 0; lock_exnb(fd) == -1; ++tries) {
      if (!wait || tries >= 100) break;
      usleep(100000);
    }
    if (tries && (!wait || tries >= 100)) { close(fd); stralloc_free(&fn); continue; }
    while ((r = read(fd, buf, sizeof buf)) > 0) while (!stralloc_catb(&data, buf, (size_t)r)) nomem();
    close(fd);
    for (pos = 0; pos < data.len;) {
      const char *f[3];
      size_t flen[3], k;
      unsigned long id, idx;
      struct msg *m;
      for (k = 0; k < 3 && pos < data.len; ++k) {
        char *nul = memchr(data.s + pos, 0, data.len - pos);
        if (!nul) break;
        f[k] = data.s + pos;
        flen[k] = (size_t)(nul - f[k]);
        pos += flen[k] + 1;
      }
      if (k < 3) break;
      if (!journal_number(f[0], flen[0], &id) || !journal_number(f[1], flen[1], &idx) || !flen[2]) continue;
      m = msg_find(id);
      if (!m && wait && (f[2][0] == 'K' || f[2][0] == 'D')) { late_add(id, idx, f[2], flen[2]); continue; }
      /* Only recipients still waiting: one being redelivered right now
       * reports for itself. */
      if (!m || idx >= m->nr || (m->r[idx].state != R_PENDING && m->r[idx].state != R_WAIT)) continue;
      /* Found after start (its spawner outlived the wait there): its
       * deliveries began before this qmail-send, so a message born since
       * is a newer one with the same number (a reused file, or a reused
       * inode), not theirs. Every delivery redone meanwhile started ten
       * seconds after that at the earliest (the wait), so no message
       * born in this second can be one. */
      if (!wait && m->birth >= startedat) continue;
      if (f[2][0] != 'K' && f[2][0] != 'D') continue;
      /* A waiter stays in its destination's queue; dest_wake skips it. */
      if (m->r[idx].state == R_WAIT) { --m->waiting; ++m->pending[m->r[idx].chan]; }
      m->r[idx].state = R_DONE;
      if (f[2][0] == 'K')
        journal_done(m, idx);
      else {
        free(m->r[idx].failure);
        m->r[idx].failure = dupb(f[2] + 1, flen[2] - 1);
        journal_fail(m, idx, m->r[idx].failure);
      }
      if (m->committed) {
        --m->pending[m->r[idx].chan];
        sched_done(m);
      }
    }
    unlink(fn.s);
    stralloc_free(&fn);
    stralloc_free(&data);
  }
  closedir(d);
}

/* Checks the messages the journal knows against mess/. */
static void recover_mess(void)
{
  size_t b;
  unsigned long i;
  char dir[32 + FMT_ULONG];
  struct msg *m, *next;

  for (b = 0; b < hsize; ++b)
    for (m = htab[b]; m; m = m->hnext) m->committed = 0;
  if (nended) qsort(ended, nended, sizeof *ended, ulongcmp);
  for (i = 0; i < auto_split; ++i) {
    DIR *d;
    struct dirent *e;
    size_t n = fmt_str(dir, "mess/");
    dir[n + fmt_ulong(dir + n, i)] = 0;
    d = opendir(dir);
    if (!d) continue;
    while ((e = readdir(d))) {
      unsigned long id;
      struct stat st;
      stralloc fn = STRALLOC_ZERO;
      if (!scan_whole_ulong(e->d_name, (unsigned long)-1, &id)) continue;
      while (!stralloc_cats(&fn, dir) || !stralloc_append(&fn, '/') || !stralloc_cats(&fn, e->d_name) || !stralloc_0(&fn)) nomem();
      m = msg_find(id);
      if (stat(fn.s, &st) == 0) {
        if (m) {
          if ((uint64_t)st.st_size > m->msglen) {
            /* The cut did not reach the disk before a crash: redo it
             * before any delivery reads the file. */
            m->committing = 1;
            clean_send('T', m, id, (unsigned long)m->msglen);
          } else
            m->committed = 1;
        } else if (nended && bsearch(&id, ended, nended, sizeof *ended, ulongcmp)) {
          clean_send('R', 0, id, 0); /* finished; its removal was cut off */
        } else if (st.st_mtime + OSSIFIED < recent) {
          logs("warning: removing message ");
          logn(id);
          logs(" from mess/: it has no envelope\n");
          clean_send('R', 0, id, 0);
        }
      }
      stralloc_free(&fn);
    }
    closedir(d);
  }
  free(ended);
  ended = 0;
  nended = aended = 0;
  /* Known messages neither in mess/ nor in todo/ are gone. */
  for (b = 0; b < hsize; ++b)
    for (m = htab[b]; m; m = next) {
      stralloc fn = STRALLOC_ZERO;
      struct stat st;
      next = m->hnext;
      if (m->committed || m->committing) { msg_count(m); continue; }
      while (!qfile_name(&fn, "todo", m->id, auto_split) || !stralloc_0(&fn)) nomem();
      if (stat(fn.s, &st) == -1 && errno == ENOENT) {
        logs("warning: message ");
        logn(m->id);
        logs(" has vanished from the queue\n");
        journal_simple('E', m->id);
        msg_unlink(m);
        msg_free(m);
      }
      stralloc_free(&fn);
    }
}

/* ----------------------------------------------------------------- MAIN */

static int selfpipe[2];
static void sigwake(int sig)
{
  int e = errno;
  if (sig == SIGTERM) flagexitasap = 1;
  if (sig == SIGALRM) flagrunasap = 1;
  if (sig == SIGHUP) flagreadasap = 1;
  if (write(selfpipe[1], "", 1) < 0) { /* a wakeup is pending already */ }
  errno = e;
}

static NORETURN void die_start(const char *why)
{
  logs("alert: cannot start: ");
  logs(why);
  logs("\n");
  logflush();
  _exit(111);
}

static void spawn_ceiling(int c)
{
  char buf[32];
  size_t n = 0;
  unsigned long u;
  while (n < sizeof buf) {
    ssize_t r = read(fdfromspawn[c], buf + n, 1);
    if (r == -1 && errno == EINTR) continue;
    if (r != 1) die_start("hath the daemon spawn no fire?");
    if (!buf[n]) break;
    ++n;
  }
  if (n == sizeof buf || !scan_whole_ulong(buf, (unsigned long)-1, &u)) die_start("spawn spoke nonsense");
  ceiling[c] = u;
  if (concurrency[c] > u) concurrency[c] = u;
}

static int writeout(int fd, stralloc *sa)
{
  ssize_t w;
  if (!sa->len) return 0;
  w = write(fd, sa->s, sa->len);
  if (w <= 0) return w == -1 && errno != EAGAIN && errno != EINTR ? -1 : 0;
  memmove(sa->s, sa->s + w, sa->len - (size_t)w);
  sa->len -= (size_t)w;
  return 0;
}

static void spawn_flush(int c)
{
  if (spawnalive[c] && writeout(fdtospawn[c], &spawnout[c]) == -1) {
    logs("alert: oh no! lost spawn connection! dying...\n");
    spawnalive[c] = 0;
    flagexitasap = 1;
  }
}

int main(void)
{
  time_t nextcleanup, nextorphans;
  int c, fd;

  buffer_init(&logbuf, 0, logspace, sizeof logspace, 0);
  if (chdir(auto_qmail) == -1) die_start("unable to switch to home directory");
  if (!getcontrols()) die_start("unable to read controls");
  if (chdir("queue") == -1) die_start("unable to switch to queue directory");
  if (pipe2(selfpipe, O_CLOEXEC | O_NONBLOCK) == -1) die_start("unable to create a pipe");
  sig_ignore(SIGPIPE);
  sig_catch(SIGTERM, sigwake);
  sig_catch(SIGALRM, sigwake);
  sig_catch(SIGHUP, sigwake);
  sig_default(SIGCHLD);
  umask(077);

  fd = open_write("lock/sendmutex");
  if (fd == -1) die_start("unable to open mutex");
  if (lock_exnb(fd) == -1) die_start("qmail-send is already running");
  fd_coe(fd);

  /* qmail-clean says '+' once no earlier qmail-clean is still at work. */
  {
    char hello;
    ssize_t r;
    do r = read(FDFROMCLEAN, &hello, 1); while (r == -1 && errno == EINTR);
    if (r != 1 || hello != '+') die_start("qmail-clean did not say hello");
  }
  for (c = 0; c < CHANNELS; ++c) {
    spawn_ceiling(c);
    while (!(dels[c] = calloc(concurrency[c] ? concurrency[c] : 1, sizeof *dels[c]))) nomem();
    fd_nonblock(fdtospawn[c]);
  }
  fd_nonblock(FDTOCLEAN);
  recent = startedat = time(0);

  /* What the journal says, corrected by what is on disk. */
  if (journal_open(&journal, "state/journal") == -1) die_start("unable to open state/journal");
  if (journal_replay(&journal, replay_record, 0) == -1) die_start("unable to read state/journal");
  orphans_apply(1);
  recover_mess();
  /* (later, if recover_mess queued removals: their E records must stay) */
  if (!cleanout.len && journal_compact() == -1) logs("warning: unable to compact the journal\n");
  todo_watch();
  if (inotifyfd == -1) {
    triggerfd = open("lock/trigger", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    logs("warning: no inotify; watching lock/trigger\n");
  }
  todo_scan();
  {
    size_t b;
    struct msg *m;
    for (b = 0; b < hsize; ++b)
      for (m = htab[b]; m; m = m->hnext)
        if (m->committed) sched_msg(m, recent);
  }
  del_status();
  clean_send('P', 0, 0, 0); /* leftovers of crashed qmail-queues, now and then every SLEEP_CLEANUP */
  nextcleanup = recent + SLEEP_CLEANUP;
  nextorphans = recent + 60;

  for (;;) {
    struct pollfd pfd[10];
    int n = 0, wait, k;
    time_t wake;

    recent = time(0);
    if (flagrunasap) {
      flagrunasap = 0;
      for (c = 0; c < CHANNELS; ++c) prioq_setall(&heap[c], recent);
    }
    if (flagreadasap) { flagreadasap = 0; regetcontrols(); }
    if (flagexitasap) journal_and_clean(1);
    if (flagexitasap && (!used[0] || !spawnalive[0]) && (!used[1] || !spawnalive[1]) && (!cleancount || !cleanalive))
      break;

    if (!flagexitasap) {
      if (todolen) {
        todo_do();
        /* The new messages' local deliveries go out now, to run beside
         * the journal sync below rather than after it (todo_do). */
        pass_do(0);
        spawn_flush(0);
      }
      finish_do();
      journal_and_clean(0);
      if (nunsynced) unsynced_do();
      if (flagwake && used[1] < concurrency[1]) { flagwake = 0; destlimit_each(&destlim, dest_wake_each, 0); }
      for (c = 0; c < CHANNELS; ++c) pass_do(c);
      if (recent >= nexttodoscan) todo_scan();
      if (recent >= nextcleanup) { clean_send('P', 0, 0, 0); nextcleanup = recent + SLEEP_CLEANUP; }
      if (recent >= nextorphans) { orphans_apply(0); nextorphans = recent + 60; }
    }
    if (journal_flush(&journal) == -1) logs("warning: trouble writing the journal\n");
    /* Not while R commands wait to go out: their E records must stay in
     * the journal until qmail-clean has them (recover_mess). */
    if (!cleanout.len && journal.size > COMPACT_MIN && journal.size > 4 * livebytes + COMPACT_MIN)
      if (journal_compact() == -1) logs("warning: unable to compact the journal\n");
    for (c = 0; c < CHANNELS; ++c) spawn_flush(c);
    if (cleanalive && writeout(FDTOCLEAN, &cleanout) == -1) { cleanalive = 0; flagexitasap = 1; }
    logflush();

    /* What to wait for, and for how long. */
    wake = recent + SLEEP_TODO;
    if (!flagexitasap) {
      for (c = 0; c < CHANNELS; ++c) {
        const struct prioq_elt *e = prioq_min(&heap[c]);
        /* With every slot busy, only a result can let more start: that
         * is a descriptor to wait on, not a time (or we would spin). */
        if (!spawnalive[c] || used[c] >= concurrency[c]) continue;
        if (passhead[c]) wake = recent;
        if (e && e->when < wake) wake = e->when;
      }
      if (todolen || donehead) wake = recent;
      if (nremove && removesince + REMOVE_WAIT < wake) wake = removesince + REMOVE_WAIT;
      {
        const struct prioq_elt *e = prioq_min(&retryfinish);
        if (e && e->when < wake) wake = e->when;
      }
      if (nexttodoscan < wake) wake = nexttodoscan;
      if (nextorphans < wake) wake = nextorphans;
    }
    wait = wake <= recent ? 0 : (int)((wake - recent) * 1000 > 2000000000 ? 2000000000 : (wake - recent) * 1000);
    if (nunsynced && wait > 1) wait = 1; /* look for their marks again in a millisecond */

    pfd[n].fd = selfpipe[0]; pfd[n++].events = POLLIN;
    for (c = 0; c < CHANNELS; ++c) {
      if (!spawnalive[c]) continue;
      pfd[n].fd = fdfromspawn[c]; pfd[n++].events = POLLIN;
      if (spawnout[c].len) { pfd[n].fd = fdtospawn[c]; pfd[n++].events = POLLOUT; }
    }
    if (cleanalive) {
      pfd[n].fd = FDFROMCLEAN; pfd[n++].events = POLLIN;
      if (cleanout.len) { pfd[n].fd = FDTOCLEAN; pfd[n++].events = POLLOUT; }
    }
    if (inotifyfd != -1) { pfd[n].fd = inotifyfd; pfd[n++].events = POLLIN; }
    if (triggerfd != -1) { pfd[n].fd = triggerfd; pfd[n++].events = POLLIN; }

    if (poll(pfd, (nfds_t)n, wait) == -1) {
      if (errno != EINTR) logs("warning: trouble in poll\n");
      continue;
    }
    recent = time(0);
    for (k = 0; k < n; ++k) {
      if (!pfd[k].revents) continue;
      if (pfd[k].fd == selfpipe[0]) {
        char drain[64];
        while (read(selfpipe[0], drain, sizeof drain) > 0) continue;
      } else if (pfd[k].fd == fdfromspawn[0]) spawn_read(0);
      else if (pfd[k].fd == fdfromspawn[1]) spawn_read(1);
      else if (pfd[k].fd == FDFROMCLEAN) clean_read();
      else if (pfd[k].fd == inotifyfd) todo_events();
      else if (pfd[k].fd == triggerfd) {
        char drain[64];
        ssize_t r = read(triggerfd, drain, sizeof drain);
        if (r == 0) { /* writers gone: reopen so poll does not spin */
          close(triggerfd);
          triggerfd = open("lock/trigger", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        }
        todo_scan();
      }
    }
    /* Results are on record before anything else can happen: a kill now
     * must not make these deliveries happen again. */
    if (journal_flush(&journal) == -1) logs("warning: trouble writing the journal\n");
  }
  if (journal_sync(&journal) == -1) logs("warning: trouble writing the journal\n");
  logs("status: exiting\n");
  logflush();
  _exit(0);
}
