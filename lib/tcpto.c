/* queue/lock/tcpto: recent connect timeouts (tcpto.h). */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "tcpto.h"

#define NREC (TCPTO_SIZE / TCPTO_RECORD)

static int key(const struct sockaddr_storage *ss, unsigned char *fam, unsigned char addr[16])
{
  memset(addr, 0, 16);
  if (ss->ss_family == AF_INET) {
    *fam = 4;
    memcpy(addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    return 1;
  }
  if (ss->ss_family == AF_INET6) {
    *fam = 6;
    memcpy(addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
    return 1;
  }
  return 0;
}

static uint64_t getwhen(const unsigned char *r)
{
  uint64_t w = 0;
  int i;
  for (i = 15; i >= 8; --i) w = (w << 8) | r[i];
  return w;
}

static void setwhen(unsigned char *r, uint64_t w)
{
  int i;
  for (i = 8; i < 16; ++i) { r[i] = (unsigned char)(w & 255); w >>= 8; }
}

static int find(const unsigned char *buf, unsigned char fam, const unsigned char addr[16])
{
  int i;
  for (i = 0; i < NREC; ++i) {
    const unsigned char *r = buf + i * TCPTO_RECORD;
    if (r[0] == fam && !memcmp(r + 16, addr, 16)) return i;
  }
  return -1;
}

int tcpto_check(const unsigned char *buf, const struct sockaddr_storage *ss, uint64_t now, unsigned jitter)
{
  unsigned char fam, addr[16];
  const unsigned char *r;
  int i;
  if (!key(ss, &fam, addr)) return 0;
  i = find(buf, fam, addr);
  if (i < 0) return 0;
  r = buf + i * TCPTO_RECORD;
  if (r[1] < 2) return 0;
  /* qmail: (60 + (pid & 31)) << 6 seconds, 64 to 97 minutes */
  return now >= getwhen(r) && now - getwhen(r) < (uint64_t)((60 + (jitter & 31)) << 6);
}

int tcpto_update(unsigned char *buf, const struct sockaddr_storage *ss, int flagerr, uint64_t now)
{
  unsigned char fam, addr[16], *r;
  int i;
  if (!key(ss, &fam, addr)) return 0;
  i = find(buf, fam, addr);
  if (!flagerr) {
    if (i < 0) return 0;
    memset(buf + i * TCPTO_RECORD, 0, TCPTO_RECORD);
    return 1;
  }
  if (i >= 0) {
    r = buf + i * TCPTO_RECORD;
    /* timeouts closer together than 2 minutes are one outage */
    if (now >= getwhen(r) && now - getwhen(r) < 120) return 0;
    /* an outage long past says nothing about this one */
    if (now < getwhen(r) || now - getwhen(r) >= 7200) r[1] = 1;
    else if (r[1] < 255) ++r[1];
    setwhen(r, now);
    return 1;
  }
  {
    int j, best = 0;
    for (j = 0; j < NREC; ++j) {
      const unsigned char *q = buf + j * TCPTO_RECORD;
      if (q[0] != 4 && q[0] != 6) { best = j; break; }
      if (getwhen(q) < getwhen(buf + best * TCPTO_RECORD)) best = j;
    }
    r = buf + best * TCPTO_RECORD;
  }
  memset(r, 0, TCPTO_RECORD);
  r[0] = fam;
  r[1] = 1;
  setwhen(r, now);
  memcpy(r + 16, addr, 16);
  return 1;
}

int tcpto_record(const unsigned char *buf, size_t i, struct sockaddr_storage *ss, unsigned *errors, uint64_t *when)
{
  const unsigned char *r;
  if (i >= NREC) return 0;
  r = buf + i * TCPTO_RECORD;
  memset(ss, 0, sizeof *ss);
  if (r[0] == 4) {
    ss->ss_family = AF_INET;
    memcpy(&((struct sockaddr_in *)ss)->sin_addr, r + 16, 4);
  } else if (r[0] == 6) {
    ss->ss_family = AF_INET6;
    memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, r + 16, 16);
  } else
    return 0;
  *errors = r[1];
  *when = getwhen(r);
  return 1;
}

/* Reads the whole file; a short file reads as zeros (free records). */
static int readall(int fd, unsigned char *buf)
{
  size_t got = 0;
  memset(buf, 0, TCPTO_SIZE);
  while (got < TCPTO_SIZE) {
    ssize_t r = pread(fd, buf + got, TCPTO_SIZE - got, (off_t)got);
    if (r == -1 && errno == EINTR) continue;
    if (r == -1) return -1;
    if (r == 0) break;
    got += (size_t)r;
  }
  return 0;
}

int tcpto_dead(const struct sockaddr_storage *ss)
{
  unsigned char buf[TCPTO_SIZE];
  int fd = open(TCPTO_FILE, O_RDONLY | O_CLOEXEC | O_NONBLOCK), r = 0;
  if (fd == -1) return 0;
  /* a shared lock, so that a half-written record is never read */
  if (lock_sh(fd) == 0 && readall(fd, buf) == 0)
    r = tcpto_check(buf, ss, (uint64_t)time(0), (unsigned)getpid());
  close(fd);
  return r;
}

void tcpto_err(const struct sockaddr_storage *ss, int flagerr)
{
  unsigned char buf[TCPTO_SIZE];
  int fd = open(TCPTO_FILE, O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd == -1) return;
  /* never wait for the lock: another delivery is writing, and a lost
   * record costs one more timeout at worst */
  if (lock_exnb(fd) == 0 && readall(fd, buf) == 0 && tcpto_update(buf, ss, flagerr, (uint64_t)time(0))) {
    size_t done = 0;
    while (done < TCPTO_SIZE) {
      ssize_t w = pwrite(fd, buf + done, TCPTO_SIZE - done, (off_t)done);
      if (w == -1 && errno == EINTR) continue;
      if (w <= 0) break;
      done += (size_t)w;
    }
  }
  close(fd);
}
