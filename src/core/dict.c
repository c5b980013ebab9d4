/* dict.c - WEFT_T_DICT: string keys to values, in insertion order, as
 * Python's dict, so a map-reduce can return a word count as {'the': 12, ...}
 * instead of a list of pairs merged by hand.
 *
 * The entries sit in one array (key, value, key, value...: keys are str
 * values), in the order they were first set; an open-addressing hash index
 * (FNV-1a, linear probing, at most half full) finds a key in constant time.
 * Setting a key that is there replaces its value in place, keeping its
 * position, as Python does. Like a list, a dict is filled by its creator
 * and must not change once another owner can see it; it is freed without
 * recursion with the lists (value.c). */
#include <stdlib.h>
#include <string.h>

#include "obj.h"
#include "weft/error.h"

#define MAX_ENTRIES ((size_t)UINT32_MAX / 4)

static uint64_t hash(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
  return h;
}

static weft__dict_obj *as_dict(const weft_value *v) {
  return v && v->type == WEFT_T_DICT ? (weft__dict_obj *)v->as.obj : NULL;
}

/* The slot that holds key, or the empty slot where it would go. */
static size_t probe(const weft__dict_obj *d, const char *key, size_t n) {
  size_t mask = d->nslots - 1, s = (size_t)hash(key, n) & mask;
  for (;; s = (s + 1) & mask) {
    uint32_t e = d->slots[s];
    if (!e)
      return s;
    const weft_value *k = &d->items[2 * (size_t)(e - 1)];
    if (weft_value_len(k) == n && memcmp(weft_value_str(k), key, n) == 0)
      return s;
  }
}

/* Room for cap entries, the index rebuilt. 0 or WEFT_ENOMEM (unchanged). */
static int grow(weft__dict_obj *d, size_t cap) {
  if (cap > MAX_ENTRIES)
    return WEFT_ENOMEM;
  size_t nslots = 8;
  while (nslots < 2 * cap)
    nslots *= 2;
  weft_value *items = realloc(d->items, 2 * cap * sizeof *items);
  if (!items)
    return WEFT_ENOMEM;
  d->items = items;
  uint32_t *slots = calloc(nslots, sizeof *slots);
  if (!slots)
    return WEFT_ENOMEM; /* items merely larger: still consistent */
  free(d->slots);
  d->slots = slots;
  d->nslots = nslots;
  d->cap = cap;
  for (size_t i = 0; i < d->n; i++) {
    const weft_value *k = &d->items[2 * i];
    d->slots[probe(d, weft_value_str(k), weft_value_len(k))] =
        (uint32_t)(i + 1);
  }
  return 0;
}

int weft_dict_new(weft_value *out, size_t hint) {
  if (!out)
    return WEFT_EINVAL;
  *out = weft_none();
  if (hint > MAX_ENTRIES)
    return WEFT_ENOMEM;
  weft__dict_obj *d = calloc(1, sizeof *d);
  if (!d)
    return WEFT_ENOMEM;
  weft__obj_init(&d->hdr, WEFT_T_DICT, weft__free_containers);
  if (grow(d, hint ? hint : 4)) {
    free(d->items);
    free(d);
    return WEFT_ENOMEM;
  }
  out->type = WEFT_T_DICT;
  out->as.obj = &d->hdr;
  return 0;
}

int weft__dict_setn(weft_value *dict, const char *key, size_t len,
                    weft_value item) {
  weft__dict_obj *d = as_dict(dict);
  if (!d || (!key && len)) {
    weft_value_release(&item);
    return WEFT_EINVAL;
  }
  if (!key)
    key = "";
  size_t s = probe(d, key, len);
  if (d->slots[s]) { /* there already: the new value, same place */
    weft_value *old = &d->items[2 * (size_t)(d->slots[s] - 1) + 1];
    weft_value_release(old);
    *old = item;
    return 0;
  }
  weft_value k;
  int rc = weft_str_newn(&k, key, len);
  if (!rc && d->n == d->cap && (rc = grow(d, 2 * d->cap)))
    weft_value_release(&k);
  if (rc) {
    weft_value_release(&item);
    return rc;
  }
  s = probe(d, key, len); /* the index may have been rebuilt */
  d->items[2 * d->n] = k;
  d->items[2 * d->n + 1] = item;
  d->slots[s] = (uint32_t)(++d->n);
  return 0;
}

int weft_dict_set(weft_value *dict, const char *key, weft_value item) {
  if (!key) {
    weft_value_release(&item);
    return WEFT_EINVAL;
  }
  return weft__dict_setn(dict, key, strlen(key), item);
}

const weft_value *weft__dict_getn(const weft_value *dict, const char *key,
                                  size_t len) {
  const weft__dict_obj *d = as_dict(dict);
  if (!d || (!key && len))
    return NULL;
  uint32_t e = d->slots[probe(d, key ? key : "", len)];
  return e ? &d->items[2 * (size_t)(e - 1) + 1] : NULL;
}

const weft_value *weft__dict_find(const weft_value *dict,
                                  const weft_value *key) {
  if (!key || key->type != WEFT_T_STR)
    return NULL;
  return weft__dict_getn(dict, weft_value_str(key), weft_value_len(key));
}

const weft_value *weft_dict_get(const weft_value *dict, const char *key) {
  return key ? weft__dict_getn(dict, key, strlen(key)) : NULL;
}

const char *weft_dict_key(const weft_value *dict, size_t i) {
  const weft__dict_obj *d = as_dict(dict);
  return d && i < d->n ? weft_value_str(&d->items[2 * i]) : NULL;
}

const weft_value *weft_dict_item(const weft_value *dict, size_t i) {
  const weft__dict_obj *d = as_dict(dict);
  return d && i < d->n ? &d->items[2 * i + 1] : NULL;
}
