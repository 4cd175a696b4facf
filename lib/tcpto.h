#ifndef TCPTO_H
#define TCPTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* queue/lock/tcpto: the addresses whose SMTP connections timed out
 * recently, so that qmail-remote does not wait timeoutconnect again and
 * again for a host that is down (qmail's tcpto).
 *
 * qmail's file holds 64 records of 16 bytes with room for IPv4 only. Ours
 * keeps qmail's size (1024 bytes, written in place under an flock) and
 * its rules, with records of 32 bytes that hold IPv6 too (32 records):
 *   byte 0       family: 4 or 6; 0 = free record
 *   byte 1       recent timeouts (saturating at 255)
 *   bytes 2..7   zero
 *   bytes 8..15  time of the last timeout, seconds since the epoch,
 *                little-endian
 *   bytes 16..31 the address (IPv4: 4 bytes, the rest zero)
 * A file in qmail's layout reads as garbage records that never match and
 * are reused; qmail-tcpok clears it either way.
 *
 * The rules (qmail's): a timeout counts as "another" only if it comes at
 * least 2 minutes after the last one recorded; an address with 2 or more
 * recent timeouts is dead for an hour (plus up to 31 minutes, by pid, so
 * that all deliveries do not retry it at once) after the last; a
 * successful connection forgets the address. A new address takes a free
 * record, else the one with the oldest time. */

#define TCPTO_FILE "queue/lock/tcpto"
#define TCPTO_SIZE 1024
#define TCPTO_RECORD 32

/* In memory, on buf[0..TCPTO_SIZE). now: the time. */
int tcpto_check(const unsigned char *buf, const struct sockaddr_storage *ss, uint64_t now, unsigned jitter);
/* flagerr: 1 the connection timed out, 0 it succeeded (or failed some
 * other way: forgets the address, as qmail does). Returns 1 if buf
 * changed. */
int tcpto_update(unsigned char *buf, const struct sockaddr_storage *ss, int flagerr, uint64_t now);

/* On the file (relative to QMAILHOME). Every trouble with the file is
 * ignored: tcpto only saves time. */
int tcpto_dead(const struct sockaddr_storage *ss);
void tcpto_err(const struct sockaddr_storage *ss, int flagerr);

/* For qmail-tcpto: record i (0..TCPTO_SIZE/TCPTO_RECORD-1) of buf. 1 and
 * the fields if it is in use, else 0. */
int tcpto_record(const unsigned char *buf, size_t i, struct sockaddr_storage *ss, unsigned *errors, uint64_t *when);

#endif
