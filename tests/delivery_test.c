/* Tests for lib/delivery.c.
 * not tested: running out of memory; read errors other than a descriptor
 * that cannot be read (EBADF). */

#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "delivery.h"
#include "stralloc.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

static void test_dtline(void)
{
  static const struct { const char *local, *host, *want; } cases[] = {
    { "joe", "example.com", "Delivered-To: joe@example.com\n" },
    { "joe-list", "example.com", "Delivered-To: joe-list@example.com\n" },
    { "", "", "Delivered-To: @\n" },
    { "a\nb", "c\nd", "Delivered-To: a_b@c_d\n" },
    { "a b", "x", "Delivered-To: a b@x\n" }, /* not quoted, as in qmail */
    { "a\rb", "x", "Delivered-To: a\rb@x\n" },
  };
  stralloc sa = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    check_long(delivery_dtline(&sa, cases[i].local, cases[i].host), 1, "dtline %zu", i);
    check_bytes(sa.s, sa.len, cases[i].want, strlen(cases[i].want), "dtline %zu", i);
  }
  stralloc_free(&sa);
}

static void test_rpline(void)
{
  static const struct { const char *sender, *want; } cases[] = {
    { "a@b.example", "Return-Path: <a@b.example>\n" },
    { "", "Return-Path: <>\n" },
    { "#@[]", "Return-Path: <#@[]>\n" },
    { "joe smith@example.com", "Return-Path: <\"joe smith\"@example.com>\n" },
    { "a@b@c", "Return-Path: <\"a@b\"@c>\n" },
    { "nohost", "Return-Path: <nohost>\n" },
    { "@host", "Return-Path: <\"\"@host>\n" },
    { ".a@b", "Return-Path: <\".a\"@b>\n" },
    { "a..b@c", "Return-Path: <\"a..b\"@c>\n" },
    { "a.b@c", "Return-Path: <a.b@c>\n" },
    { "a\"b@c", "Return-Path: <\"a\\\"b\"@c>\n" },
    { "a\\b@c", "Return-Path: <\"a\\\\b\"@c>\n" },
    { "a\rb@c", "Return-Path: <\"a\\\rb\"@c>\n" },   /* CR quoted, stays inside the line */
    { "a\nb@c", "Return-Path: <\"a\\_b\"@c>\n" },    /* LF quoted, then made '_' */
    { "a@b\nc", "Return-Path: <a@b_c>\n" },
    { "\xe9t\xe9@x", "Return-Path: <\"\xe9t\xe9\"@x>\n" },
    /* the last '@' splits: qmail quotes an unexpanded VERP sender so */
    { "list-owner-@example.com-@[]", "Return-Path: <\"list-owner-@example.com-\"@[]>\n" },
  };
  stralloc sa = STRALLOC_ZERO;
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    check_long(delivery_rpline(&sa, cases[i].sender), 1, "rpline %zu", i);
    check_bytes(sa.s, sa.len, cases[i].want, strlen(cases[i].want), "rpline %zu", i);
  }
  stralloc_free(&sa);
}

static int memfile(const char *s, size_t len)
{
  int fd = memfd_create("msg", 0);
  if (fd == -1 || write(fd, s, len) != (ssize_t)len) { perror("memfd"); exit(111); }
  return fd;
}

static void test_looping(void)
{
  static const char dt[] = "Delivered-To: joe@example.com\n";
  static const struct { const char *msg; int want; } cases[] = {
    { "", 0 },
    { "Delivered-To: joe@example.com\n", 1 },
    { "Delivered-To: joe@example.com", 0 },         /* a partial last line is not compared */
    { "Subject: x\nDelivered-To: joe@example.com\n\nbody\n", 1 },
    { "Subject: x\n\nDelivered-To: joe@example.com\n", 0 },     /* in the body */
    { "Delivered-To: joe@example.com.au\n", 0 },
    { "Delivered-To: joe@example.co\n", 0 },
    { "Delivered-To: Joe@example.com\n", 0 },       /* exact bytes, as qmail */
    { "delivered-to: joe@example.com\n", 0 },
    { "Delivered-To: joe@example.com \n", 0 },
    { "Delivered-To: joe@example.com\r\n", 0 },
    { "X-Delivered-To: joe@example.com\n", 0 },
    { " Delivered-To: joe@example.com\n", 0 },
    { "Delivered-To: other@example.com\nDelivered-To: joe@example.com\n", 1 },
    { "Subject: x\r\n\r\nDelivered-To: joe@example.com\n", 1 }, /* "\r\n" does not end the header */
    { "\nDelivered-To: joe@example.com\n", 0 },
    { "Delivered-To: joe@example.com\nDelivered-To: joe@example.com\n", 1 },
  };
  size_t i;
  for (i = 0; i < N(cases); ++i) {
    int fd = memfile(cases[i].msg, strlen(cases[i].msg));
    check_long(delivery_looping(fd, dt, sizeof dt - 1), cases[i].want, "looping %zu", i);
    check_long(lseek(fd, 0, SEEK_CUR), (long)strlen(cases[i].msg), "looping %zu: offset untouched", i);
    close(fd);
  }

  /* Long lines, and the line on a buffer boundary. */
  {
    stralloc m = STRALLOC_ZERO;
    size_t pad;
    for (pad = 8150; pad < 8200; pad += 7) {
      int fd;
      m.len = 0;
      stralloc_cats(&m, "X-Pad: ");
      while (m.len < pad) stralloc_append(&m, 'x');
      stralloc_cats(&m, "\n");
      stralloc_cats(&m, dt);
      fd = memfile(m.s, m.len);
      check_long(delivery_looping(fd, dt, sizeof dt - 1), 1, "looping: after a %zu-byte line", pad);
      close(fd);
    }
    m.len = 0;
    while (m.len < 100000) stralloc_cats(&m, "Delivered-To: joe@example.com");
    stralloc_cats(&m, "\n");
    {
      int fd = memfile(m.s, m.len);
      check_long(delivery_looping(fd, dt, sizeof dt - 1), 0, "looping: a 100 kB line starting like it");
      close(fd);
    }
    stralloc_free(&m);
  }

  {
    int fds[2];
    check(pipe(fds) == 0, "pipe");
    close(fds[1]);
    check_long(delivery_looping(fds[0], dt, sizeof dt - 1), -1, "looping: unseekable input is an error");
    close(fds[0]);
    check_long(delivery_looping(-1, dt, sizeof dt - 1), -1, "looping: bad descriptor");
    check_long(errno, EBADF, "looping: bad descriptor: errno");
  }
}

static void test_env(void)
{
  static const struct {
    const char *ext, *host, *deflt;
    const char *ext2, *ext3, *ext4, *host2, *host3, *host4;
  } cases[] = {
    { "", "example.com", 0, "", "", "", "example", "example", "example" },
    { "a", "a.b.c.d.e", 0, "", "", "", "a.b.c.d", "a.b.c", "a.b" },
    { "a-b", "x", "b", "b", "", "", "x", "x", "x" },
    { "a-b-c-d-e", "a.b", 0, "b-c-d-e", "c-d-e", "d-e", "a", "a", "a" },
    { "-", ".com", 0, "", "", "", "", "", "" },
    { "a--b", "a..b", 0, "-b", "b", "", "a.", "a", "a" },
    { "x-y", "", 0, "y", "", "", "", "", "" },
  };
  char *from[] = { "PATH=/bin", "DEFAULT=inherited", "SENDER=old", 0 };
  size_t i;

  for (i = 0; i < N(cases); ++i) {
    envbuild e = ENVBUILD_ZERO;
    struct delivery d;
    d.user = "joe";
    d.home = "/home/joe";
    d.local = "joe-list";
    d.ext = cases[i].ext;
    d.host = cases[i].host;
    d.sender = "a@b";
    d.newsender = "joe-list-owner@x";
    d.deflt = cases[i].deflt;
    d.dtline = "Delivered-To: joe-list@x\n";
    d.rpline = "Return-Path: <a@b>\n";
    d.ufline = "From a@b Thu Jan 01 00:00:00 1970\n";
    check_long(envbuild_init(&e, from), 1, "env %zu: init", i);
    check_long(delivery_env(&e, &d), 1, "env %zu: set", i);
    check_str(envbuild_get(&e, "SENDER"), "a@b", "env %zu: SENDER replaces the inherited one", i);
    check_str(envbuild_get(&e, "NEWSENDER"), "joe-list-owner@x", "env %zu: NEWSENDER", i);
    {
      stralloc r = STRALLOC_ZERO;
      stralloc_copys(&r, "joe-list@");
      stralloc_cats(&r, cases[i].host);
      stralloc_0(&r);
      check_str(envbuild_get(&e, "RECIPIENT"), r.s, "env %zu: RECIPIENT", i);
      stralloc_free(&r);
    }
    check_str(envbuild_get(&e, "USER"), "joe", "env %zu: USER", i);
    check_str(envbuild_get(&e, "HOME"), "/home/joe", "env %zu: HOME", i);
    check_str(envbuild_get(&e, "LOCAL"), "joe-list", "env %zu: LOCAL", i);
    check_str(envbuild_get(&e, "HOST"), cases[i].host, "env %zu: HOST", i);
    check_str(envbuild_get(&e, "HOST2"), cases[i].host2, "env %zu: HOST2", i);
    check_str(envbuild_get(&e, "HOST3"), cases[i].host3, "env %zu: HOST3", i);
    check_str(envbuild_get(&e, "HOST4"), cases[i].host4, "env %zu: HOST4", i);
    check_str(envbuild_get(&e, "EXT"), cases[i].ext, "env %zu: EXT", i);
    check_str(envbuild_get(&e, "EXT2"), cases[i].ext2, "env %zu: EXT2", i);
    check_str(envbuild_get(&e, "EXT3"), cases[i].ext3, "env %zu: EXT3", i);
    check_str(envbuild_get(&e, "EXT4"), cases[i].ext4, "env %zu: EXT4", i);
    check_str(envbuild_get(&e, "DEFAULT"), cases[i].deflt, "env %zu: DEFAULT (an inherited one removed)", i);
    check_str(envbuild_get(&e, "DTLINE"), "Delivered-To: joe-list@x\n", "env %zu: DTLINE", i);
    check_str(envbuild_get(&e, "RPLINE"), "Return-Path: <a@b>\n", "env %zu: RPLINE", i);
    check_str(envbuild_get(&e, "UFLINE"), "From a@b Thu Jan 01 00:00:00 1970\n", "env %zu: UFLINE", i);
    check_str(envbuild_get(&e, "PATH"), "/bin", "env %zu: inherited PATH kept", i);
    /* PATH, and the 17 variables (18 with DEFAULT) */
    check_long(e.n, cases[i].deflt ? 19 : 18, "env %zu: nothing else", i);
    envbuild_free(&e);
  }
}

int main(void)
{
  test_dtline();
  test_rpline();
  test_looping();
  test_env();
  return check_end();
}
