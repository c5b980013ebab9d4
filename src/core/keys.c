/* keys.c - the key <-> node index map (see keys.h). */
#include "keys.h"

#include <stdlib.h>
#include <string.h>

#include "weft/error.h"

static size_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (size_t)h;
}

static size_t hash_idx(uint32_t i) {
  return (size_t)(i * 2654435761u);
}

static int rehash(weft__keys *k, size_t tab) {
  uint32_t *bk = calloc(tab, sizeof *bk), *bi = calloc(tab, sizeof *bi);
  if (!bk || !bi) {
    free(bk);
    free(bi);
    return WEFT_ENOMEM;
  }
  for (size_t e = 0; e < k->n; e++) {
    size_t h = hash_str(k->ents[e].key) & (tab - 1);
    while (bk[h])
      h = (h + 1) & (tab - 1);
    bk[h] = (uint32_t)e + 1;
    h = hash_idx(k->ents[e].idx) & (tab - 1);
    while (bi[h])
      h = (h + 1) & (tab - 1);
    bi[h] = (uint32_t)e + 1;
  }
  free(k->by_key);
  free(k->by_idx);
  k->by_key = bk;
  k->by_idx = bi;
  k->tab = tab;
  return 0;
}

int weft__keys_find(const weft__keys *k, const char *key, uint32_t *idx) {
  if (!k->tab)
    return WEFT_ENOTFOUND;
  for (size_t h = hash_str(key) & (k->tab - 1);; h = (h + 1) & (k->tab - 1)) {
    uint32_t e = k->by_key[h];
    if (!e)
      return WEFT_ENOTFOUND;
    if (strcmp(k->ents[e - 1].key, key) == 0) {
      *idx = k->ents[e - 1].idx;
      return 0;
    }
  }
}

const char *weft__keys_name(const weft__keys *k, uint32_t idx) {
  if (!k->tab)
    return NULL;
  for (size_t h = hash_idx(idx) & (k->tab - 1);; h = (h + 1) & (k->tab - 1)) {
    uint32_t e = k->by_idx[h];
    if (!e)
      return NULL;
    if (k->ents[e - 1].idx == idx)
      return k->ents[e - 1].key;
  }
}

int weft__keys_put(weft__keys *k, const char *key, uint32_t idx) {
  uint32_t other;
  if (weft__keys_find(k, key, &other) == 0)
    return WEFT_EEXIST;
  if (weft__keys_name(k, idx))
    return WEFT_EINVAL;
  if ((k->n + 1) * 2 > k->tab) {
    int rc = rehash(k, k->tab ? k->tab * 2 : 16);
    if (rc)
      return rc;
  }
  if (k->n == k->cap) {
    size_t cap = k->cap ? k->cap * 2 : 8;
    weft__key_entry *ents = realloc(k->ents, cap * sizeof *ents);
    if (!ents)
      return WEFT_ENOMEM;
    k->ents = ents;
    k->cap = cap;
  }
  char *copy = strdup(key);
  if (!copy)
    return WEFT_ENOMEM;
  size_t e = k->n++;
  k->ents[e].key = copy;
  k->ents[e].idx = idx;
  size_t h = hash_str(key) & (k->tab - 1);
  while (k->by_key[h])
    h = (h + 1) & (k->tab - 1);
  k->by_key[h] = (uint32_t)e + 1;
  h = hash_idx(idx) & (k->tab - 1);
  while (k->by_idx[h])
    h = (h + 1) & (k->tab - 1);
  k->by_idx[h] = (uint32_t)e + 1;
  return 0;
}

void weft__keys_free(weft__keys *k) {
  for (size_t e = 0; e < k->n; e++)
    free(k->ents[e].key);
  free(k->ents);
  free(k->by_key);
  free(k->by_idx);
  memset(k, 0, sizeof *k);
}
