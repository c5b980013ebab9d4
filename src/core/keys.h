/* keys.h - the names of nodes (Dask's keys): a two-way map between key
 * strings and node indices, only for the nodes that were given a key, so
 * unnamed nodes cost nothing. Internal to weft. */
#ifndef WEFT_CORE_KEYS_H
#define WEFT_CORE_KEYS_H

#include <stddef.h>
#include <stdint.h>

typedef struct weft__key_entry {
  char *key;
  uint32_t idx;
} weft__key_entry;

typedef struct weft__keys {
  weft__key_entry *ents;
  size_t n, cap;
  uint32_t *by_key; /* open addressing: entry index + 1, 0 = empty */
  uint32_t *by_idx;
  size_t tab;       /* table size, a power of two */
} weft__keys;

/* 0, WEFT_EEXIST (key taken), WEFT_EINVAL (idx already named), WEFT_ENOMEM. */
int weft__keys_put(weft__keys *k, const char *key, uint32_t idx);
/* 0 and *idx, or WEFT_ENOTFOUND. */
int weft__keys_find(const weft__keys *k, const char *key, uint32_t *idx);
/* The key of node idx, or NULL. */
const char *weft__keys_name(const weft__keys *k, uint32_t idx);
void weft__keys_free(weft__keys *k);

#endif
