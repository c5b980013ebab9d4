/* wire_internal.h - what the wire module's files share and nobody else sees:
 * the little-endian and varint primitives, a bounds-checked read cursor, and
 * error reporting into a weft_wire_error.
 *
 * Every read goes through weft__rd, whose functions check the bytes left
 * before touching them, so no decoder can over-read whatever the input says.
 * Writers assume the caller reserved room (weft_buf_reserve) first. */
#ifndef WEFT_WIRE_INTERNAL_H
#define WEFT_WIRE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "weft/wire.h"

/* Longest LEB128 encoding of a uint64_t. */
#define WEFT__VARINT_MAX 10

/* ---- errors ---- */

/* Fills err (if any) with offset and a printf-style reason; returns code. */
int weft__wire_fail(weft_wire_error *err, size_t offset, int code,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- writing (room must already be reserved) ---- */

static inline uint8_t *weft__put_u16(uint8_t *p, uint16_t x) {
  p[0] = (uint8_t)x;
  p[1] = (uint8_t)(x >> 8);
  return p + 2;
}

static inline uint8_t *weft__put_u32(uint8_t *p, uint32_t x) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(x >> (8 * i));
  return p + 4;
}

static inline uint8_t *weft__put_u64(uint8_t *p, uint64_t x) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(x >> (8 * i));
  return p + 8;
}

/* Writes x as unsigned LEB128 (1-10 bytes, minimal). */
static inline uint8_t *weft__put_varint(uint8_t *p, uint64_t x) {
  while (x >= 0x80) {
    *p++ = (uint8_t)(x | 0x80);
    x >>= 7;
  }
  *p++ = (uint8_t)x;
  return p;
}

static inline size_t weft__varint_size(uint64_t x) {
  size_t n = 1;
  while (x >= 0x80) {
    x >>= 7;
    n++;
  }
  return n;
}

/* Appends a varint length and then the bytes: 0 or WEFT_ENOMEM. */
int weft__buf_put_lenbytes(weft_buf *b, const void *data, size_t n);

/* ---- reading ---- */

typedef struct weft__rd {
  const uint8_t *data; /* the whole input, for offsets in errors */
  size_t end;          /* bytes readable: data[0 .. end) */
  size_t pos;          /* next byte to read */
  weft_wire_error *err;
} weft__rd;

static inline size_t weft__rd_left(const weft__rd *r) {
  return r->end - r->pos;
}

/* Each returns 0, or WEFT_EWIRE (reported in r->err) when the bytes are not
 * there; `what` names the field for the message. */
int weft__rd_u8(weft__rd *r, uint8_t *out, const char *what);
int weft__rd_u32(weft__rd *r, uint32_t *out, const char *what);
int weft__rd_u64(weft__rd *r, uint64_t *out, const char *what);
/* A minimal LEB128 uint64 of at most 10 bytes. */
int weft__rd_varint(weft__rd *r, uint64_t *out, const char *what);
/* A varint length n followed by n bytes: *p points at them inside the
 * input. n is checked against the bytes left before anything else. */
int weft__rd_lenbytes(weft__rd *r, const uint8_t **p, size_t *n,
                      const char *what);

/* Decodes one value at the cursor (used by the message decoder). */
int weft__wire_decode_at(weft__rd *r, weft_value *out);

#endif
