/* Tests for lib/handoff.c.
 * not tested: a sendmsg that fails for want of memory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "handoff.h"
#include "stralloc.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static void test_pack_unpack(void)
{
  static const char *const in[] = { "1001", "", "alice", "/home/alice", "", "a@b" };
  const char *out[N(in)];
  stralloc sa = STRALLOC_ZERO;
  size_t i;

  check(handoff_pack(&sa, in, N(in)), "pack six fields");
  check_bytes(sa.s, sa.len, "1001\0\0alice\0/home/alice\0\0a@b\0", 29, "each field with its NUL");
  check(handoff_unpack(sa.s, sa.len, out, N(in)), "unpack them");
  for (i = 0; i < N(in); ++i) check_str(out[i], in[i], "field %zu back", i);
  check(!handoff_unpack(sa.s, sa.len, out, N(in) - 1), "one field too many: refused");
  check(!handoff_unpack(sa.s, sa.len, out, N(in) + 1), "one field too few: refused");
  check(!handoff_unpack(sa.s, sa.len - 1, out, N(in)), "a last field without its NUL: refused");
  check(!handoff_unpack("", 0, out, 1), "nothing at all: refused");
  check(handoff_unpack("", 0, out, 0), "zero fields in zero bytes");
  check(handoff_unpack("\0", 1, out, 1) && !out[0][0], "one empty field");

  {
    stralloc big = STRALLOC_ZERO;
    const char *f[1];
    size_t keep = sa.len;
    for (i = 0; i < HANDOFF_MAX; ++i)
      if (!stralloc_append(&big, 'x')) break;
    check(i == HANDOFF_MAX && stralloc_0(&big), "a field of HANDOFF_MAX bytes");
    f[0] = big.s;
    check(!handoff_pack(&sa, f, 1), "a field past HANDOFF_MAX: refused");
    check_long((long)sa.len, (long)keep, "and nothing appended");
    stralloc_free(&big);
  }
  stralloc_free(&sa);
}

static void test_send_recv(void)
{
  int sv[2], p[2], fds[2], got[2] = { -1, -1 };
  char buf[HANDOFF_MAX];
  long n;

  if (!check(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0, "socketpair")) return;
  if (!check(pipe(p) == 0, "pipe")) return;
  fds[0] = p[0];
  fds[1] = p[1];
  check_long(handoff_send(sv[0], "a\0b\0", 4, fds, 2), 0, "send two fields and two descriptors");
  n = handoff_recv(sv[1], buf, sizeof buf, got, 2);
  check_long(n, 4, "receive the four bytes");
  check_bytes(buf, n > 0 ? (size_t)n : 0, "a\0b\0", 4, "as sent");
  check(got[0] > 2 && got[1] > 2 && got[0] != p[0] && got[1] != p[1], "two new descriptors");
  check((fcntl(got[0], F_GETFD) & FD_CLOEXEC) && (fcntl(got[1], F_GETFD) & FD_CLOEXEC), "close-on-exec");
  check(write(got[1], "x", 1) == 1 && read(p[0], buf, 1) == 1 && buf[0] == 'x', "the same pipe");
  close(got[0]);
  close(got[1]);

  /* The wrong number of descriptors: refused, and none left open. */
  check_long(handoff_send(sv[0], "a\0", 2, fds, 1), 0, "send one descriptor");
  errno = 0;
  n = handoff_recv(sv[1], buf, sizeof buf, got, 2);
  check(n == -1 && errno == EPROTO, "expecting two: EPROTO");
  check_long(handoff_send(sv[0], "a\0", 2, fds, 0), 0, "send none");
  errno = 0;
  n = handoff_recv(sv[1], buf, sizeof buf, got, 1);
  check(n == -1 && errno == EPROTO, "expecting one: EPROTO");

  /* Too big to send, and a buffer too small to receive into. */
  errno = 0;
  check(handoff_send(sv[0], buf, HANDOFF_MAX + 1, fds, 0) == -1 && errno == EINVAL, "past HANDOFF_MAX: EINVAL");
  errno = 0;
  check(handoff_recv(sv[1], buf, 16, got, 0) == -1 && errno == EINVAL, "a buffer under HANDOFF_MAX: EINVAL");

  /* The other side gone: end of file, and EPIPE for the sender. */
  close(sv[0]);
  check_long(handoff_recv(sv[1], buf, sizeof buf, got, 0), 0, "end of file once the sender is gone");
  close(sv[1]);
  check(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
  close(sv[1]);
  errno = 0;
  check(handoff_send(sv[0], "a\0", 2, fds, 0) == -1 && errno == EPIPE, "sending to a gone receiver: EPIPE");
  close(sv[0]);
  close(p[0]);
  close(p[1]);
}

int main(void)
{
  test_pack_unpack();
  test_send_recv();
  return check_end();
}
