#ifndef SPAWNER_H
#define SPAWNER_H

#include <sys/types.h>

#include "stralloc.h"

/* The server side of the protocol between qmail-send and its delivery
 * spawners (qmail-lspawn, qmail-rspawn). Text0 records:
 *
 *   at start, spawner to qmail-send:  <ceiling> NUL
 *   qmail-send to spawner:            <delnum> NUL <id> NUL <index> NUL <sender> NUL <recip> NUL <msglen> NUL
 *   spawner to qmail-send:            <delnum> NUL <K|Z|D><report> NUL
 *   qmail-send to spawner:            a<delnum> NUL   (the result is in the journal)
 *
 * delnum, id, index and msglen are decimal. The message is
 * queue/mess/<id%split>/<id> (relative to QMAILHOME) when msglen is empty.
 * With a msglen, the message is not committed yet: it is the first msglen
 * bytes of queue/todo/<id%split>/<id>, whose envelope qmail-clean may be
 * cutting off right then (or of queue/mess/... once it has): the spawner
 * copies those bytes, which never change, into a sealed memory file for
 * the delivery to read. So a local delivery starts while qmail-send syncs
 * its journal, not after that and the commit. qmail-send does this only
 * for messages of at most SPAWNER_EARLYMAX bytes, and the spawner refuses
 * larger ones. The ceiling is conf-spawn: qmail-send runs at most that
 * many deliveries at once on this spawner.
 *
 * A slot stays busy until qmail-send acknowledges its result, which it
 * does once the result is in its journal. When qmail-send goes away (end
 * of file on descriptor 0, or a broken pipe on 1), no result is lost:
 * those not acknowledged (still in the pipe, or read but not recorded)
 * and those of deliveries still running are written, as
 * <id> NUL <index> NUL <result> NUL, to queue/orphans/<name>.<pid>, under
 * an exclusive lock held until the last delivery has finished, and
 * qmail-send applies them when it starts again. A spawner holds
 * queue/lock/<name>mutex until then, and a new one waits for that lock
 * before it says hello, so the new qmail-send never looks for orphans
 * too early. So a killed qmail-send does not make a finished delivery
 * happen twice. */

#define SPAWNER_EARLYMAX 262144

struct spawner_ops {
  const char *name;     /* "lspawn", "rspawn": the orphans file name */
  size_t truncreport;   /* reports longer than this are cut; 0: no limit */
  /* Starts the delivery of the message open on fdmess to recip, with
   * output to fdout; the child must put itself in its own process group.
   * Returns its pid, or -1 with the whole result (K/Z/D text) in result. */
  pid_t (*start)(int fdmess, int fdout, const char *sender, const char *recip, stralloc *result);
  /* The result for a finished child: its wait status and output. */
  void (*report)(stralloc *result, int wstat, const char *output, size_t len);
};

/* Runs the spawner until qmail-send goes away and every delivery has
 * finished. timeout: seconds a delivery may run before its whole process
 * group is killed (it is then a temporary failure). Never returns. */
void spawner_run(const struct spawner_ops *ops, unsigned long timeout);

/* Appends the spawner's reason for a killed delivery. */
int spawner_timedout(stralloc *result, unsigned long timeout);

#endif
