/* Tests for lib/cdb.c and lib/cdbmake.c.
 * not tested: files near the 4 GB limit (E2BIG from cdbmake); mmap
 * failure. The djb-compatibility check is one hand-computed layout, not a
 * comparison with djb's own cdbmake (not installed here). */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "cdb.h"
#include "cdbmake.h"
#include "check.h"
#include "tmpdir.h"

#define N(a) (sizeof (a) / sizeof (a)[0])

struct rec { const char *k; size_t klen; const char *d; size_t dlen; };
#define R(k, d) { k, sizeof k - 1, d, sizeof d - 1 }

static unsigned filecount;

/* Builds a cdb from recs and returns a descriptor open on it. */
static int build(const struct rec *recs, size_t n)
{
  struct cdbmake m;
  char fn[64];
  size_t i;
  int fd;

  snprintf(fn, sizeof fn, "c%u.cdb", filecount++);
  fd = open(tmpdir_path(fn), O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd == -1) { perror("open"); exit(111); }
  if (cdbmake_start(&m, fd) == -1) { perror("cdbmake_start"); exit(111); }
  for (i = 0; i < n; ++i)
    if (cdbmake_add(&m, recs[i].k, recs[i].klen, recs[i].d, recs[i].dlen) == -1) { perror("cdbmake_add"); exit(111); }
  if (cdbmake_finish(&m) == -1) { perror("cdbmake_finish"); exit(111); }
  return fd;
}

/* The whole file, in a malloc'd buffer of exactly its size (so that
 * AddressSanitizer sees any read past its end). */
static char *slurp(int fd, size_t *len)
{
  off_t size = lseek(fd, 0, SEEK_END);
  char *buf = malloc(size ? (size_t)size : 1);
  if (!buf || pread(fd, buf, (size_t)size, 0) != size) { perror("slurp"); exit(111); }
  *len = (size_t)size;
  return buf;
}

/* 1 and the data if key is found with find, else the result. */
static int lookup(struct cdb *c, const char *k, size_t klen, const char **d, uint32_t *dlen)
{
  int r = cdb_find(c, k, klen);
  if (r == 1) {
    *dlen = cdb_datalen(c);
    *d = cdb_get(c, cdb_datapos(c), *dlen);
  }
  return r;
}

static void test_small(void)
{
  static const struct rec recs[] = {
    R("one", "1"),
    R("", "empty key"),
    R("nul\0key", "binary key"),
    R("nul\0kez", "other binary key"),
    R("empty data", ""),
    R("\xff\x80\x00\x01", "high bytes"),
    R("one\0", "one with a NUL"),
  };
  static const struct rec absent[] = {
    R("two", ""), R("nul", ""), R("nul\0ke", ""), R("On", ""), R("ONE", ""), R("one\0\0", ""),
  };
  struct cdb c;
  size_t i;
  int fd = build(recs, N(recs));

  check_long(cdb_init(&c, fd), 0, "cdb_init");
  close(fd); /* the mapping stays */
  for (i = 0; i < N(recs); ++i) {
    const char *d = 0;
    uint32_t dlen = 0;
    check_long(lookup(&c, recs[i].k, recs[i].klen, &d, &dlen), 1, "find record %zu", i);
    check_bytes(d, dlen, recs[i].d, recs[i].dlen, "data of record %zu", i);
    check_long(cdb_findnext(&c, recs[i].k, recs[i].klen), 0, "record %zu has no second value", i);
  }
  for (i = 0; i < N(absent); ++i)
    check_long(cdb_find(&c, absent[i].k, absent[i].klen), 0, "absent key %zu not found", i);

  /* cdb_next walks them in insertion order */
  {
    uint32_t pos = 0, klen, dlen;
    const char *k, *d;
    size_t n = 0;
    int r;
    while ((r = cdb_next(&c, &pos, &k, &klen, &d, &dlen)) == 1) {
      if (n < N(recs)) {
        check_bytes(k, klen, recs[n].k, recs[n].klen, "cdb_next record %zu key", n);
        check_bytes(d, dlen, recs[n].d, recs[n].dlen, "cdb_next record %zu data", n);
      }
      ++n;
    }
    check_long(r, 0, "cdb_next ends with 0");
    check_long(n, N(recs), "cdb_next count");
    check_long(cdb_next(&c, &pos, &k, &klen, &d, &dlen), 0, "cdb_next after the end stays 0");
  }
  cdb_free(&c);
}

static void test_single(void)
{
  static const struct rec rec = R("key", "value");
  struct cdb c;
  const char *d = 0;
  uint32_t dlen = 0;
  int fd = build(&rec, 1);
  check_long(cdb_init(&c, fd), 0, "single: cdb_init");
  check_long(lookup(&c, "key", 3, &d, &dlen), 1, "single: found");
  check_bytes(d, dlen, "value", 5, "single: data");
  check_long(cdb_find(&c, "kex", 3), 0, "single: other key of the same length");
  check_long(cdb_find(&c, "ke", 2), 0, "single: prefix");
  check_long(cdb_find(&c, "", 0), 0, "single: empty key absent");
  cdb_free(&c);
  close(fd);
}

static void test_empty(void)
{
  struct cdb c;
  uint32_t pos = 0, klen, dlen;
  const char *k, *d;
  size_t len;
  char *buf;
  int fd = build(0, 0);

  buf = slurp(fd, &len);
  check_long(len, 2048, "empty cdb is the header alone");
  check_long(cdb_init(&c, fd), 0, "empty: cdb_init");
  check_long(cdb_find(&c, "a", 1), 0, "empty: nothing found");
  check_long(cdb_find(&c, "", 0), 0, "empty: empty key not found");
  check_long(cdb_next(&c, &pos, &k, &klen, &d, &dlen), 0, "empty: cdb_next gives 0");
  cdb_free(&c);
  free(buf);
  close(fd);
}

static void test_duplicates(void)
{
  static const struct rec recs[] = {
    R("dup", "first"), R("x", "1"), R("dup", "second"), R("y", "2"), R("dup", ""), R("dup", "fourth"),
  };
  static const char *const want[] = { "first", "second", "", "fourth" };
  struct cdb c;
  size_t i;
  int fd = build(recs, N(recs));

  check_long(cdb_init(&c, fd), 0, "dup: cdb_init");
  cdb_findstart(&c);
  for (i = 0; i < N(want); ++i) {
    const char *d;
    check_long(cdb_findnext(&c, "dup", 3), 1, "dup: value %zu found", i);
    d = cdb_get(&c, cdb_datapos(&c), cdb_datalen(&c));
    check_bytes(d, cdb_datalen(&c), want[i], strlen(want[i]), "dup: value %zu in insertion order", i);
  }
  check_long(cdb_findnext(&c, "dup", 3), 0, "dup: no fifth value");
  check_long(cdb_findnext(&c, "dup", 3), 0, "dup: still no fifth value");
  /* a new search starts over */
  check_long(cdb_find(&c, "dup", 3), 1, "dup: find starts over");
  check_bytes(cdb_get(&c, cdb_datapos(&c), cdb_datalen(&c)), cdb_datalen(&c), "first", 5, "dup: first again");
  cdb_free(&c);
  close(fd);
}

static void test_many(void)
{
  enum { NKEYS = 2000 };
  struct rec *recs = calloc(NKEYS, sizeof *recs);
  char (*keys)[16] = calloc(NKEYS, sizeof *keys), (*datas)[24] = calloc(NKEYS, sizeof *datas);
  struct cdb c;
  size_t i, missing = 0, wrong = 0, found_absent = 0, walked = 0, order = 0;
  uint32_t pos = 0, klen, dlen;
  const char *k, *d;
  int fd, r;

  for (i = 0; i < NKEYS; ++i) {
    recs[i].klen = (size_t)snprintf(keys[i], sizeof keys[i], "key%zu", i);
    recs[i].dlen = (size_t)snprintf(datas[i], sizeof datas[i], "data for %zu", i);
    recs[i].k = keys[i];
    recs[i].d = datas[i];
  }
  fd = build(recs, NKEYS);
  check_long(cdb_init(&c, fd), 0, "many: cdb_init");
  for (i = 0; i < NKEYS; ++i) {
    const char *dd = 0;
    uint32_t dl = 0;
    char absent[32];
    int n;
    if (lookup(&c, recs[i].k, recs[i].klen, &dd, &dl) != 1) { ++missing; continue; }
    if (!dd || dl != recs[i].dlen || memcmp(dd, recs[i].d, dl)) ++wrong;
    n = snprintf(absent, sizeof absent, "nokey%zu", i);
    if (cdb_find(&c, absent, (size_t)n) != 0) ++found_absent;
    n = snprintf(absent, sizeof absent, "key%zu", i + NKEYS);
    if (cdb_find(&c, absent, (size_t)n) != 0) ++found_absent;
  }
  check_long(missing, 0, "many: all 2000 keys found");
  check_long(wrong, 0, "many: all 2000 values right");
  check_long(found_absent, 0, "many: 4000 absent keys not found");
  while ((r = cdb_next(&c, &pos, &k, &klen, &d, &dlen)) == 1) {
    if (walked < NKEYS && (klen != recs[walked].klen || memcmp(k, recs[walked].k, klen))) ++order;
    ++walked;
  }
  check_long(r, 0, "many: cdb_next ends with 0");
  check_long(walked, NKEYS, "many: cdb_next visits every record");
  check_long(order, 0, "many: cdb_next in insertion order");
  cdb_free(&c);
  close(fd);
  free(recs);
  free(keys);
  free(datas);
}

/* The layout djb's cdbmake gives for the single record a -> b. */
static void test_layout(void)
{
  static const struct rec rec = R("a", "b");
  uint32_t h = ((5381u << 5) + 5381u) ^ 'a';
  unsigned bucket = h & 255, i;
  unsigned char want[2048 + 10 + 16];
  size_t len;
  char *buf;
  int fd;

  memset(want, 0, sizeof want);
  for (i = 0; i < 256; ++i) {
    uint32_t pos = i <= bucket ? 2058 : 2074, slots = i == bucket ? 2 : 0;
    want[i * 8] = (unsigned char)(pos & 255);
    want[i * 8 + 1] = (unsigned char)(pos >> 8);
    want[i * 8 + 4] = (unsigned char)slots;
  }
  /* the record: klen 1, dlen 1, "a", "b" */
  want[2048] = 1;
  want[2052] = 1;
  want[2056] = 'a';
  want[2057] = 'b';
  /* the table: two slots, the record in slot (h >> 8) % 2 */
  {
    unsigned char *slot = want + 2058 + ((h >> 8) % 2) * 8;
    slot[0] = (unsigned char)(h & 255);
    slot[1] = (unsigned char)(h >> 8 & 255);
    slot[2] = (unsigned char)(h >> 16 & 255);
    slot[3] = (unsigned char)(h >> 24);
    slot[4] = 2048 & 255;
    slot[5] = 2048 >> 8;
  }
  check_long(cdb_hash("a", 1), h, "cdb_hash(\"a\")");
  check_long(cdb_hash("", 0), 5381, "cdb_hash(\"\")");
  fd = build(&rec, 1);
  buf = slurp(fd, &len);
  check_bytes(buf, len, (const char *)want, sizeof want, "layout of a cdb holding a -> b");
  free(buf);
  close(fd);
}

/* ---- corrupt input ---- */

static void check_lookup_safe(const char *buf, size_t len, const char *name)
{
  struct cdb c;
  char *copy = malloc(len ? len : 1);
  const char *keys[] = { "a", "", "dup", "key", "zz" };
  size_t i;

  memcpy(copy, buf, len);
  cdb_initmem(&c, copy, len);
  for (i = 0; i < N(keys); ++i) {
    int r, n = 0;
    cdb_findstart(&c);
    errno = 0;
    while ((r = cdb_findnext(&c, keys[i], strlen(keys[i]))) == 1 && n < 1000) {
      check(cdb_get(&c, cdb_datapos(&c), cdb_datalen(&c)) != 0, "%s: data of \"%s\" is inside", name, keys[i]);
      ++n;
    }
    check(r == 0 || (r == -1 && errno == EPROTO), "%s: find \"%s\" gives 0 or -1/EPROTO (got %d, errno %d)",
          name, keys[i], r, errno);
  }
  free(copy);
}

static int walk(const char *buf, size_t len)
{
  struct cdb c;
  uint32_t pos = 0, klen, dlen;
  const char *k, *d;
  char *copy = malloc(len ? len : 1);
  int r, n = 0;
  memcpy(copy, buf, len);
  cdb_initmem(&c, copy, len);
  errno = 0;
  while ((r = cdb_next(&c, &pos, &k, &klen, &d, &dlen)) == 1 && n < 100000) ++n;
  if (r == -1 && errno != EPROTO) r = -2;
  free(copy);
  return r;
}

static void put32(char *p, uint32_t u)
{
  p[0] = (char)(u & 255);
  p[1] = (char)(u >> 8 & 255);
  p[2] = (char)(u >> 16 & 255);
  p[3] = (char)(u >> 24);
}

static void test_corrupt(void)
{
  static const struct rec rec = R("a", "b");
  uint32_t h = cdb_hash("a", 1);
  size_t hdr = (h & 255) * 8, slot = 2058 + ((h >> 8) % 2) * 8, len;
  char *good, *bad;
  struct cdb c;
  int fd = build(&rec, 1);

  good = slurp(fd, &len);
  close(fd);
  bad = malloc(len);

  /* sanity: the good one works through cdb_initmem */
  check_lookup_safe(good, len, "good");
  cdb_initmem(&c, good, len);
  check_long(cdb_find(&c, "a", 1), 1, "initmem: found a");
  check_long(walk(good, len), 0, "initmem: walk ends with 0");

  /* shorter than 2048 bytes */
  {
    static const size_t sizes[] = { 0, 1, 8, 2047 };
    size_t i;
    for (i = 0; i < N(sizes); ++i) {
      char *copy = malloc(sizes[i] ? sizes[i] : 1);
      memcpy(copy, good, sizes[i]);
      cdb_initmem(&c, copy, sizes[i]);
      errno = 0;
      check_long(cdb_find(&c, "a", 1), -1, "%zu bytes: find fails", sizes[i]);
      check_long(errno, EPROTO, "%zu bytes: errno", sizes[i]);
      check_long(walk(good, sizes[i]), -1, "%zu bytes: walk fails", sizes[i]);
      free(copy);
    }
  }

  /* header slot count past the end */
  {
    static const uint32_t counts[] = { 3, 100, 0x10000000, 0x20000000, 0x80000000, 0xffffffff };
    size_t i;
    for (i = 0; i < N(counts); ++i) {
      memcpy(bad, good, len);
      put32(bad + hdr + 4, counts[i]);
      cdb_initmem(&c, bad, len);
      errno = 0;
      check_long(cdb_find(&c, "a", 1), -1, "slot count %lu: find fails", (unsigned long)counts[i]);
      check_long(errno, EPROTO, "slot count %lu: errno", (unsigned long)counts[i]);
    }
  }
  /* header table position past the end */
  {
    const uint32_t positions[] = { (uint32_t)len, (uint32_t)len - 15, (uint32_t)len + 1000, 0xfffffff8, 0xffffffff };
    size_t i;
    for (i = 0; i < N(positions); ++i) {
      memcpy(bad, good, len);
      put32(bad + hdr, positions[i]);
      cdb_initmem(&c, bad, len);
      errno = 0;
      check_long(cdb_find(&c, "a", 1), -1, "table position %lu: find fails", (unsigned long)positions[i]);
      check_long(errno, EPROTO, "table position %lu: errno", (unsigned long)positions[i]);
    }
  }
  /* slot's record position past the end */
  {
    const uint32_t positions[] = { (uint32_t)len, (uint32_t)len - 7, (uint32_t)len + 1, 0xfffffffc, 0xffffffff };
    size_t i;
    for (i = 0; i < N(positions); ++i) {
      memcpy(bad, good, len);
      put32(bad + slot + 4, positions[i]);
      cdb_initmem(&c, bad, len);
      errno = 0;
      check_long(cdb_find(&c, "a", 1), -1, "record position %lu: find fails", (unsigned long)positions[i]);
      check_long(errno, EPROTO, "record position %lu: errno", (unsigned long)positions[i]);
    }
  }
  /* key length past the end: not our key (0), or corrupt (-1) */
  {
    static const uint32_t klens[] = { 100, 0x7fffffff, 0xfffffff8, 0xffffffff };
    size_t i;
    for (i = 0; i < N(klens); ++i) {
      int r;
      memcpy(bad, good, len);
      put32(bad + 2048, klens[i]);
      cdb_initmem(&c, bad, len);
      errno = 0;
      r = cdb_find(&c, "a", 1);
      check(r == 0 || (r == -1 && errno == EPROTO), "key length %lu: find gives 0 or EPROTO (got %d)",
            (unsigned long)klens[i], r);
      check_long(walk(bad, len), -1, "key length %lu: walk fails", (unsigned long)klens[i]);
    }
  }
  /* data length past the end */
  {
    /* the data starts at 2057: one byte too many reaches past the end */
    const uint32_t dlens[] = { (uint32_t)len - 2057 + 1, 100, 0x7fffffff, 0xfffffff7, 0xffffffff };
    size_t i;
    for (i = 0; i < N(dlens); ++i) {
      memcpy(bad, good, len);
      put32(bad + 2052, dlens[i]);
      cdb_initmem(&c, bad, len);
      errno = 0;
      check_long(cdb_find(&c, "a", 1), -1, "data length %lu: find fails", (unsigned long)dlens[i]);
      check_long(errno, EPROTO, "data length %lu: errno", (unsigned long)dlens[i]);
      check_long(walk(bad, len), -1, "data length %lu: walk fails", (unsigned long)dlens[i]);
    }
  }
  /* data running into the hash table: inside the file, so find may give
   * it, but it is past the end of the records for cdb_next */
  memcpy(bad, good, len);
  put32(bad + 2052, 2);
  check_lookup_safe(bad, len, "data into the table");
  check_long(walk(bad, len), -1, "data into the table: walk fails");
  /* header entry 0 (end of records, for cdb_next) out of range */
  {
    const uint32_t ends[] = { 0, 2047, (uint32_t)len + 1, 0xffffffff, 2050 };
    size_t i;
    for (i = 0; i < N(ends); ++i) {
      memcpy(bad, good, len);
      put32(bad, ends[i]);
      check_long(walk(bad, len), -1, "records end %lu: walk fails", (unsigned long)ends[i]);
    }
  }
  /* a full table of foreign hashes: the probe stops after every slot */
  {
    memcpy(bad, good, len);
    put32(bad + 2058, h + 256);
    put32(bad + 2062, 2048);
    put32(bad + 2066, h + 512);
    put32(bad + 2070, 2048);
    cdb_initmem(&c, bad, len);
    check_long(cdb_find(&c, "a", 1), 0, "full table of other hashes: not found, no endless loop");
  }
  free(bad);

  /* every single-byte change, and a few garbage values, at every offset */
  {
    size_t i, bad_results = 0;
    static const unsigned char values[] = { 0x00, 0xff, 0x80, 0x08, 0x01 };
    char *copy = malloc(len);
    for (i = 0; i < len; ++i) {
      size_t v;
      for (v = 0; v < N(values); ++v) {
        struct cdb cc;
        int r;
        memcpy(copy, good, len);
        copy[i] = (char)values[v];
        cdb_initmem(&cc, copy, len);
        errno = 0;
        r = cdb_find(&cc, "a", 1);
        if (r == 1 && !cdb_get(&cc, cdb_datapos(&cc), cdb_datalen(&cc))) ++bad_results;
        if (r == -1 && errno != EPROTO) ++bad_results;
        if (walk(copy, len) == -2) ++bad_results;
      }
    }
    check_long(bad_results, 0, "every byte changed: no bad results");
    free(copy);
  }
  free(good);
}

static void test_init_errors(void)
{
  struct cdb c;
  int fd;

  tmpdir_write(tmpdir_path("short"), "abc", 3);
  fd = open(tmpdir_path("short"), O_RDONLY);
  errno = 0;
  check_long(cdb_init(&c, fd), -1, "cdb_init of a 3-byte file");
  check_long(errno, EPROTO, "cdb_init of a short file: errno");
  close(fd);
  tmpdir_write(tmpdir_path("empty"), "", 0);
  fd = open(tmpdir_path("empty"), O_RDONLY);
  check_long(cdb_init(&c, fd), -1, "cdb_init of an empty file");
  close(fd);
  errno = 0;
  check_long(cdb_init(&c, -1), -1, "cdb_init of a bad fd");
  check_long(errno, EBADF, "cdb_init of a bad fd: errno");

  /* cdb_get bounds */
  {
    char buf[2048 + 16];
    memset(buf, 0, sizeof buf);
    cdb_initmem(&c, buf, sizeof buf);
    check(cdb_get(&c, 0, sizeof buf) == buf, "cdb_get of everything");
    check(cdb_get(&c, sizeof buf, 0) == buf + sizeof buf, "cdb_get of nothing at the end");
    check(cdb_get(&c, sizeof buf, 1) == 0, "cdb_get one past the end");
    check(cdb_get(&c, sizeof buf + 1, 0) == 0, "cdb_get position past the end");
    check(cdb_get(&c, 10, 0xffffffff) == 0, "cdb_get huge length");
    check(cdb_get(&c, 0xffffffff, 2) == 0, "cdb_get huge position");
  }
}

static void test_make_errors(void)
{
  struct cdbmake m;
  int fd = open("/dev/null", O_RDONLY);
  check_long(cdbmake_start(&m, fd), 0, "cdbmake_start on a read-only fd (buffered)");
  check_long(cdbmake_add(&m, "k", 1, "d", 1), 0, "cdbmake_add (buffered)");
  check_long(cdbmake_finish(&m), -1, "cdbmake_finish on a read-only fd fails");
  close(fd);
  fd = open("/dev/null", O_RDONLY);
  check_long(cdbmake_start(&m, fd), 0, "cdbmake_start again");
  errno = 0;
  check_long(cdbmake_add(&m, "k", 1, "d", (size_t)UINT32_MAX), -1, "cdbmake_add of a 4 GB record");
  check_long(errno, E2BIG, "cdbmake_add of a 4 GB record: errno");
  cdbmake_free(&m);
  close(fd);
}

int main(void)
{
  tmpdir_make("cdb_test");
  test_small();
  test_single();
  test_empty();
  test_duplicates();
  test_many();
  test_layout();
  test_corrupt();
  test_init_errors();
  test_make_errors();
  tmpdir_remove();
  return check_end();
}
