#ifndef TRIGGER_H
#define TRIGGER_H

/* The queue's wake-up call: qmail-queue writes one byte to the named pipe
 * lock/trigger (relative to the queue directory) so that qmail-send looks
 * at todo/ now. Never blocks and never fails the caller: if nobody listens,
 * qmail-send finds the message on its next scan anyway. */
void trigger_pull(void);

#endif
