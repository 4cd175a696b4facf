#include "rcpthosts.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "fd.h"
#include "open.h"

int rcpthosts_init(struct rcpthosts *r)
{
  int fd;

  memset(r, 0, sizeof *r);
  r->fdmrh = -1;
  r->flag = control_readfile(&r->list, "control/rcpthosts", 0);
  if (r->flag != 1) return r->flag;
  if (!constmap_init(&r->map, r->list.s, r->list.len, 0)) { r->flag = -1; return -1; }
  /* Only with rcpthosts present, as in qmail: without it everything is
   * allowed and morercpthosts.cdb would change nothing. */
  fd = open_read("control/morercpthosts.cdb");
  if (fd == -1) {
    if (errno == ENOENT) return 1;
    rcpthosts_free(r);
    r->flag = -1;
    return -1;
  }
  if (fd_coe(fd) == -1 || cdb_init(&r->mrh, fd) == -1) {
    int e = errno;
    close(fd);
    rcpthosts_free(r);
    errno = e;
    r->flag = -1;
    return -1;
  }
  r->fdmrh = fd;
  return 1;
}

int rcpthosts_allowed(struct rcpthosts *r, const char *addr, size_t len)
{
  const char *at;
  char *h;
  size_t i, n;

  if (r->flag != 1) return 1;
  for (i = len; i > 0 && addr[i - 1] != '@'; --i) {}
  if (!i) return 1; /* qmail-send adds envnoathost, presumably ours */
  at = addr + i;
  n = len - i;

  if (!stralloc_copyb(&r->host, at, n)) return -1;
  h = r->host.s;
  for (i = 0; i < n; ++i)
    if (h[i] >= 'A' && h[i] <= 'Z') h[i] = (char)(h[i] + 32);

  for (i = 0; i < n; ++i)
    if (!i || h[i] == '.')
      if (constmap(&r->map, h + i, n - i)) return 1;

  if (r->fdmrh != -1)
    for (i = 0; i < n; ++i)
      if (!i || h[i] == '.') {
        int f = cdb_find(&r->mrh, h + i, n - i);
        if (f) return f; /* 1 found, -1 corrupt */
      }
  return 0;
}

void rcpthosts_free(struct rcpthosts *r)
{
  constmap_free(&r->map);
  stralloc_free(&r->list);
  stralloc_free(&r->host);
  if (r->fdmrh != -1) {
    cdb_free(&r->mrh);
    close(r->fdmrh);
    r->fdmrh = -1;
  }
  r->flag = 0;
}
