#define _GNU_SOURCE /* MSG_CMSG_CLOEXEC */
#include "handoff.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int handoff_pack(stralloc *out, const char *const *fields, size_t n)
{
  size_t i, start = out->len;
  for (i = 0; i < n; ++i)
    if (!stralloc_cats(out, fields[i]) || !stralloc_0(out) || out->len - start > HANDOFF_MAX) {
      out->len = start;
      return 0;
    }
  return 1;
}

int handoff_unpack(const char *buf, size_t len, const char **fields, size_t n)
{
  size_t pos = 0, i;
  for (i = 0; i < n; ++i) {
    const char *nul = pos < len ? memchr(buf + pos, 0, len - pos) : 0;
    if (!nul) return 0;
    fields[i] = buf + pos;
    pos = (size_t)(nul - buf) + 1;
  }
  return pos == len;
}

/* Room for HANDOFF_FDS descriptors, aligned as a cmsghdr must be. */
union handoff_cmsg {
  struct cmsghdr h;
  char space[CMSG_SPACE(sizeof(int) * HANDOFF_FDS)];
};

int handoff_send(int sock, const char *buf, size_t len, const int *fds, int nfds)
{
  union handoff_cmsg c;
  struct msghdr mh;
  struct iovec iov;
  ssize_t r;

  if (len > HANDOFF_MAX || nfds < 0 || nfds > HANDOFF_FDS) { errno = EINVAL; return -1; }
  memset(&mh, 0, sizeof mh);
  memset(&c, 0, sizeof c);
  iov.iov_base = (void *)buf;
  iov.iov_len = len;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  if (nfds) {
    struct cmsghdr *h;
    mh.msg_control = c.space;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
    h = CMSG_FIRSTHDR(&mh);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
    memcpy(CMSG_DATA(h), fds, sizeof(int) * (size_t)nfds);
  }
  do r = sendmsg(sock, &mh, MSG_NOSIGNAL); while (r == -1 && errno == EINTR);
  if (r == -1) return -1;
  if ((size_t)r != len) { errno = EPROTO; return -1; } /* a seqpacket send is whole or nothing */
  return 0;
}

long handoff_recv(int sock, char *buf, size_t size, int *fds, int nfds)
{
  union handoff_cmsg c;
  struct msghdr mh;
  struct iovec iov;
  struct cmsghdr *h;
  int got[HANDOFF_FDS];
  int ngot = 0, i;
  ssize_t r;

  if (size < HANDOFF_MAX || nfds < 0 || nfds > HANDOFF_FDS) { errno = EINVAL; return -1; }
  memset(&mh, 0, sizeof mh);
  iov.iov_base = buf;
  iov.iov_len = size;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = c.space;
  mh.msg_controllen = sizeof c.space;
  do r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC); while (r == -1 && errno == EINTR);
  if (r == -1) return -1;
  /* Every descriptor that came is ours to close, whatever else is wrong. */
  for (h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
    size_t n, k;
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS || h->cmsg_len < CMSG_LEN(0)) continue;
    n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (k = 0; k < n; ++k) {
      int fd;
      memcpy(&fd, CMSG_DATA(h) + k * sizeof(int), sizeof fd);
      if (ngot < HANDOFF_FDS) got[ngot++] = fd;
      else close(fd);
    }
  }
  if (r == 0 && !ngot) return 0;
  if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || ngot != nfds || (size_t)r > HANDOFF_MAX) {
    for (i = 0; i < ngot; ++i) close(got[i]);
    errno = EPROTO;
    return -1;
  }
  for (i = 0; i < ngot; ++i) fds[i] = got[i];
  return (long)r;
}
