/* fuzz_cpwdata: checkpassword's descriptor-3 data on arbitrary bytes
 * (cpwdata_parse, and cpwdata_read through a memory file). A parse that
 * succeeds gives three fields inside the input, each ended by its NUL
 * there and free of NULs, that join back into exactly the input; one that
 * fails means the input is not such a join. cpwdata_user_ok and
 * cpwdata_same agree with naive versions. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpwdata.h"
#include "fuzz.h"

static void check_field(const char *in, size_t size, const char *f, size_t flen)
{
  if (f < in || flen >= size || (size_t)(f - in) > size - flen - 1) abort();
  if (memchr(f, 0, flen) || f[flen] != 0) abort();
}

static int naive_user_ok(const char *u, size_t len)
{
  size_t i;
  if (len < 1 || len > CPWDATA_USERMAX) return 0;
  if (memchr(u, 0, len) || memchr(u, '/', len)) return 0;
  for (i = 0; i + 1 < len; ++i)
    if (u[i] == '.' && u[i + 1] == '.') return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  const char *in = (const char *)data;
  struct cpwdata d;
  size_t nuls = 0, i;
  int ok = cpwdata_parse(in, size, &d);

  for (i = 0; i < size; ++i) nuls += in[i] == 0;
  if (ok != (nuls == 3 && size > 0 && in[size - 1] == 0)) abort();
  if (ok) {
    check_field(in, size, d.user, d.ulen);
    check_field(in, size, d.pass, d.plen);
    check_field(in, size, d.stamp, d.slen);
    if (d.user != in || d.pass != d.user + d.ulen + 1 || d.stamp != d.pass + d.plen + 1) abort();
    if (d.slen + d.plen + d.ulen + 3 != size) abort();
    if (cpwdata_user_ok(d.user, d.ulen) != naive_user_ok(d.user, d.ulen)) abort();
    /* The password against the timestamp, both ways, and against itself. */
    if (cpwdata_same(d.pass, d.plen, d.stamp, d.slen) != (d.plen == d.slen && !memcmp(d.pass, d.stamp, d.plen)))
      abort();
    if (cpwdata_same(d.stamp, d.slen, d.pass, d.plen) != (d.plen == d.slen && !memcmp(d.pass, d.stamp, d.plen)))
      abort();
    if (!cpwdata_same(d.pass, d.plen, d.pass, d.plen)) abort();
  }
  if (cpwdata_user_ok(in, size) != naive_user_ok(in, size)) abort();

  {
    char buf[CPWDATA_MAX + 1];
    size_t len = 0;
    int fd = fuzz_memfd(data, size);
    int r = cpwdata_read(fd, buf, &len);
    close(fd);
    if (size > CPWDATA_MAX) {
      if (r != 0) abort();
    } else if (r != 1 || len != size || memcmp(buf, data, size))
      abort();
  }
  return 0;
}
