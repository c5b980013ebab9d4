/* pack.h - how a map batch's values travel to and from a worker process
 * (pack.c). A leaf: it knows values, not maps, so the map's files (map.c,
 * reduce.c, batch.c) use it and it uses none of them. Internal. */
#ifndef WEFT_MAP_PACK_H
#define WEFT_MAP_PACK_H

#include <stdbool.h>
#include <stddef.h>

#include "weft/error.h"
#include "weft/value.h"

/* Scalars (none, bool, int, double) pack as their weft_value structs. */
static inline bool weft__map_scalar(const weft_value *v) {
  return v->type <= WEFT_T_DOUBLE;
}

/* The payload of items in[0..count): packed bytes when every item is a
 * scalar, or a scalar or a list of scalars; else a list holding a reference
 * to each item. 0, WEFT_ENOMEM, or WEFT_ENOTSUP with *bad set to the
 * offending item (a ptr value cannot leave the process). */
int weft__map_pack(const weft_value *in, size_t count, weft_value *payload,
                   size_t *bad);

/* The number of items in a payload: 0, or WEFT_EWIRE when it is not one. */
int weft__map_payload_count(const weft_value *p, size_t *count);

/* The values of a payload of packed scalars (unaligned: copy them out), or
 * NULL when p is not one or holds a value that is not a scalar. */
const unsigned char *weft__map_packed_scalars(const weft_value *p);

/* The items of a payload (packed bytes or a list of exactly count items)
 * into out[0..count), each owning a reference; res keeps its own. 0,
 * WEFT_EWIRE when res is not a well-formed payload of count items, or
 * WEFT_ENOMEM; on error out is untouched or released (none). */
int weft__map_unpack(const weft_value *res, size_t count, weft_value *out);

#endif
