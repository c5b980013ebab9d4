/* pack.c - how the items and results of a map batch travel to and from a
 * worker process: as compactly as their shape allows.
 *
 * Most maps move numbers, or short lists of numbers (a vector, the prime
 * factors of an integer). Sent as a list of values, each would be encoded
 * and decoded value by value by the wire format; decoding runs in the
 * program, on the same cores as the workers, and for small items costs as
 * much as the work. So a batch's values are packed into one bytes value
 * when their shape allows, and unpacked with one copy per batch (scalars
 * straight into the outputs; lists of scalars into one block shared by the
 * batch's lists, see "arena" below):
 *
 *   header (16 bytes): magic "WMAP" (u32), kind (u32), item count (u64)
 *   kind 1, scalars:  count weft_value structs (16 bytes each: none,
 *                     bool, int or double)
 *   kind 2, flat:     count u32 tags (UINT32_MAX: a scalar; else the
 *                     length of a list of scalars), zero padding to a
 *                     multiple of 16, then every value in item order (a
 *                     scalar item's value, or a list's items) as weft_value
 *                     structs
 * Anything else (strings, nested lists, ...) travels as a list value, item
 * by item. Host byte order: the bytes never leave the machine (workers are
 * copies of the program). A reader checks the magic, kind, count, every
 * length against the bytes that are there and every value's type, so a
 * malformed payload is an error, never a bad read. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/obj.h"
#include "pack.h"

#define PACK_MAGIC 0x50414d57u /* "WMAP" read as a little-endian u32 */
#define PACK_SCALARS 1u
#define PACK_FLAT 2u
#define PACK_SCALAR_TAG UINT32_MAX
#define HDR 16u
#define VAL sizeof(weft_value)

static size_t pad16(size_t n) { return (n + 15) & ~(size_t)15; }

/* ---- the block that unpacked lists live in ----
 * [arena: reference count, one per list not yet released] then per list:
 * [LIST_SLOT bytes: the arena's address][weft__list_obj and its items].
 * The lists are ordinary list values (weft_list_get, weft_list_set, the
 * wire format); only their destroy differs: it releases the items (a user
 * may have set heap values into them) and gives the list's reference on
 * the block back. */
typedef struct arena {
  _Atomic size_t refs;
  size_t pad;
} arena;
#define ARENA_HDR sizeof(arena)
#define LIST_SLOT 16u
#define LIST_BLOCK (LIST_SLOT + sizeof(weft__list_obj))

static void arena_list_destroy(weft_obj *o) {
  weft__list_obj *l = (weft__list_obj *)o;
  for (size_t i = 0; i < l->n; i++)
    if (weft_value_is_obj(&l->items[i]))
      weft_value_release(&l->items[i]);
  arena *a;
  memcpy(&a, (unsigned char *)o - LIST_SLOT, sizeof a);
  if (atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) == 1)
    free(a);
}

/* A list's object (the layout of core/obj.h, read directly: this runs for
 * every item of every batch). */
static inline const weft__list_obj *list_of(const weft_value *v) {
  return (const weft__list_obj *)v->as.obj;
}

/* Whether v is a scalar or a list of scalars; *nvals: its values. */
static inline bool flat_item(const weft_value *v, size_t *nvals) {
  if (weft__map_scalar(v)) {
    *nvals = 1;
    return true;
  }
  if (v->type != WEFT_T_LIST)
    return false;
  const weft__list_obj *l = list_of(v);
  if (l->n >= PACK_SCALAR_TAG)
    return false;
  for (size_t k = 0; k < l->n; k++)
    if (!weft__map_scalar(&l->items[k]))
      return false;
  *nvals = l->n;
  return true;
}

static void put_hdr(unsigned char *p, uint32_t kind, uint64_t count) {
  uint32_t magic = PACK_MAGIC;
  memcpy(p, &magic, 4);
  memcpy(p + 4, &kind, 4);
  memcpy(p + 8, &count, 8);
}

int weft__map_pack(const weft_value *in, size_t count, weft_value *payload,
                   size_t *bad) {
  *payload = weft_none();
  bool scalars = true, flat = true;
  size_t nvals = 0, k = 0;
  for (; k < count && weft__map_scalar(&in[k]); k++)
    ; /* the common case, numbers only: one pass, nothing else */
  scalars = k == count;
  for (k = 0; k < count && !scalars; k++) {
    if (in[k].type == WEFT_T_PTR) {
      *bad = k;
      return WEFT_ENOTSUP;
    }
    size_t nv = 0;
    flat = flat && flat_item(&in[k], &nv);
    nvals += nv;
  }
  unsigned char *p;
  int rc;
  if (scalars) {
    rc = weft_bytes_alloc(payload, HDR + count * VAL, (void **)&p);
    if (rc)
      return rc;
    put_hdr(p, PACK_SCALARS, count);
    if (count)
      memcpy(p + HDR, in, count * VAL);
    return 0;
  }
  if (flat) {
    size_t tags = pad16(count * 4);
    rc = weft_bytes_alloc(payload, HDR + tags + nvals * VAL, (void **)&p);
    if (rc)
      return rc;
    put_hdr(p, PACK_FLAT, count);
    unsigned char *t = p + HDR, *v = p + HDR + tags;
    for (size_t k = 0; k < count; k++) {
      if (weft__map_scalar(&in[k])) {
        uint32_t tag = PACK_SCALAR_TAG;
        memcpy(t + 4 * k, &tag, 4);
        memcpy(v, &in[k], VAL);
        v += VAL;
        continue;
      }
      const weft__list_obj *l = list_of(&in[k]);
      size_t len = l->n;
      uint32_t tag = (uint32_t)len;
      memcpy(t + 4 * k, &tag, 4);
      if (len) /* a list's items are contiguous */
        memcpy(v, l->items, len * VAL);
      v += len * VAL;
    }
    return 0;
  }
  rc = weft_list_new(payload, count);
  if (rc)
    return rc;
  for (size_t k = 0; k < count; k++)
    weft_list_set(payload, k, weft_value_retain(&in[k]));
  return 0;
}

/* The header of packed bytes: 0 and kind, count; or WEFT_EWIRE. */
static int get_hdr(const weft_value *p, uint32_t *kind, uint64_t *count) {
  size_t len = weft_value_len(p);
  const unsigned char *b = weft_value_bytes(p);
  uint32_t magic;
  if (len < HDR)
    return WEFT_EWIRE;
  memcpy(&magic, b, 4);
  memcpy(kind, b + 4, 4);
  memcpy(count, b + 8, 8);
  if (magic != PACK_MAGIC || (*kind != PACK_SCALARS && *kind != PACK_FLAT))
    return WEFT_EWIRE;
  if (*kind == PACK_SCALARS)
    return *count <= (len - HDR) / VAL && len == HDR + *count * VAL
               ? 0
               : WEFT_EWIRE;
  return *count <= (len - HDR) / 4 ? 0 : WEFT_EWIRE;
}

int weft__map_payload_count(const weft_value *p, size_t *count) {
  uint32_t kind;
  uint64_t c;
  *count = 0;
  if (p->type == WEFT_T_LIST) {
    *count = weft_value_len(p);
    return 0;
  }
  if (p->type != WEFT_T_BYTES || get_hdr(p, &kind, &c))
    return WEFT_EWIRE;
  *count = (size_t)c;
  return 0;
}

const unsigned char *weft__map_packed_scalars(const weft_value *p) {
  uint32_t kind;
  uint64_t c;
  if (p->type != WEFT_T_BYTES || get_hdr(p, &kind, &c) || kind != PACK_SCALARS)
    return NULL;
  const unsigned char *v = (const unsigned char *)weft_value_bytes(p) + HDR;
  for (uint64_t k = 0; k < c; k++) {
    weft_value x;
    memcpy(&x, v + k * VAL, VAL);
    if (!weft__map_scalar(&x))
      return NULL;
  }
  return v;
}

/* Kind 2 into out[0..count): 0, WEFT_EWIRE or WEFT_ENOMEM (out released
 * and none then). */
static int unpack_flat(const weft_value *p, size_t count, weft_value *out) {
  size_t len = weft_value_len(p), tags = pad16(count * 4), need = 0;
  const unsigned char *b = weft_value_bytes(p);
  if (len < HDR + tags)
    return WEFT_EWIRE;
  const unsigned char *t = b + HDR, *v = b + HDR + tags;
  size_t avail = (len - HDR - tags) / VAL;
  for (size_t k = 0; k < count; k++) {
    uint32_t tag;
    memcpy(&tag, t + 4 * k, 4);
    need += tag == PACK_SCALAR_TAG ? 1 : tag;
    if (need > avail) /* checked as it grows: cannot overflow */
      return WEFT_EWIRE;
  }
  if (len != HDR + tags + need * VAL)
    return WEFT_EWIRE;
  for (size_t j = 0; j < need; j++) {
    weft_value x;
    memcpy(&x, v + j * VAL, VAL);
    if (!weft__map_scalar(&x))
      return WEFT_EWIRE;
  }
  /* The lists all go into one block (an arena), each a list object of its
   * own that holds a reference on the block: one allocation and one copy
   * of the values per batch, not one per item, and releasing them is a
   * count going down (the last one frees the block). */
  size_t nlists = 0, nlistvals = 0;
  for (size_t k = 0; k < count; k++) {
    uint32_t tag;
    memcpy(&tag, t + 4 * k, 4);
    if (tag != PACK_SCALAR_TAG) {
      nlists++;
      nlistvals += tag;
    }
  }
  unsigned char *a = NULL;
  if (nlists) {
    a = malloc(ARENA_HDR + nlists * LIST_BLOCK + nlistvals * VAL);
    if (!a)
      return WEFT_ENOMEM;
    atomic_init(&((arena *)a)->refs, nlists);
  }
  unsigned char *at = a ? a + ARENA_HDR : NULL;
  for (size_t k = 0; k < count; k++) {
    uint32_t tag;
    memcpy(&tag, t + 4 * k, 4);
    if (tag == PACK_SCALAR_TAG) {
      memcpy(&out[k], v, VAL);
      v += VAL;
      continue;
    }
    memcpy(at, &a, sizeof a); /* the list's way back to its block */
    weft__list_obj *l = (weft__list_obj *)(at + LIST_SLOT);
    weft__obj_init(&l->hdr, WEFT_T_LIST | WEFT__OBJ_ARENA, arena_list_destroy);
    l->n = tag;
    if (tag)
      memcpy(l->items, v, (size_t)tag * VAL);
    v += (size_t)tag * VAL;
    at += LIST_BLOCK + (size_t)tag * VAL;
    out[k] = (weft_value){WEFT_T_LIST, 0, {.obj = &l->hdr}};
  }
  return 0;
}

int weft__map_unpack(const weft_value *res, size_t count, weft_value *out) {
  if (res->type == WEFT_T_LIST) {
    if (weft_value_len(res) != count)
      return WEFT_EWIRE;
    for (size_t k = 0; k < count; k++)
      out[k] = weft_value_retain(weft_list_get(res, k));
    return 0;
  }
  uint32_t kind;
  uint64_t c;
  if (res->type != WEFT_T_BYTES || get_hdr(res, &kind, &c) || c != count)
    return WEFT_EWIRE;
  if (kind == PACK_FLAT)
    return unpack_flat(res, count, out);
  const unsigned char *v = weft__map_packed_scalars(res);
  if (!v)
    return WEFT_EWIRE;
  if (count)
    memcpy(out, v, count * VAL);
  return 0;
}
