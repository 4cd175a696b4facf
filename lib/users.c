#include "users.h"

#include <string.h>

#include "scan.h"

int users_cdb(struct cdb *c, const char *local, stralloc *nughde)
{
  static stralloc key = STRALLOC_ZERO;
  const char *wild, *data;
  uint32_t wildlen;
  size_t i, locallen = strlen(local);
  int r, flagwild = 0;

  if (!stralloc_copys(&key, "!") || !stralloc_cats(&key, local) || !stralloc_0(&key)) return -1;
  for (i = 0; i < key.len; ++i)
    if (key.s[i] >= 'A' && key.s[i] <= 'Z') key.s[i] = (char)(key.s[i] + 32);

  r = cdb_find(c, "", 0);
  if (r != 1) return -1; /* without the "" record the cdb is broken (qmail: QLX_CDB) */
  wildlen = cdb_datalen(c);
  wild = cdb_get(c, cdb_datapos(c), wildlen);
  if (!wild) return -1;

  /* i counts bytes of key: "!" local NUL first, then shorter prefixes */
  for (i = key.len; i; --i, flagwild = 1) {
    if (flagwild && i != 1 && !memchr(wild, key.s[i - 1], wildlen)) continue;
    r = cdb_find(c, key.s, i);
    if (r == -1) return -1;
    if (r == 0) continue;
    data = cdb_get(c, cdb_datapos(c), cdb_datalen(c));
    if (!data) return -1;
    if (!stralloc_copyb(nughde, data, cdb_datalen(c))) return -1;
    /* "!prefix" matched: the rest of local joins the ext field */
    if (flagwild && !stralloc_catb(nughde, local + i - 1, locallen - (i - 1))) return -1;
    if (!stralloc_0(nughde)) return -1;
    return 1;
  }
  return 0;
}

int users_split(const stralloc *nughde, struct users_entry *e)
{
  const char *f[6];
  size_t i, n = 0, start = 0;
  for (i = 0; i < nughde->len && n < 6; ++i)
    if (!nughde->s[i]) { f[n++] = nughde->s + start; start = i + 1; }
  if (n < 6) return 0;
  if (!scan_whole_ulong(f[1], 0xffffffffUL, &e->uid)) return 0;
  if (!scan_whole_ulong(f[2], 0xffffffffUL, &e->gid)) return 0;
  e->user = f[0];
  e->home = f[3];
  e->dash = f[4];
  e->ext = f[5];
  return 1;
}
