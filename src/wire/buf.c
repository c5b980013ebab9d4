/* buf.c - the byte-level ground floor of the wire format: a growable output
 * buffer (weft_buf) and the bounds-checked input cursor (weft__rd) that every
 * decoder reads through, plus error reporting.
 *
 * The cursor is where safety against malformed input lives: each read first
 * compares what it wants with the bytes left, so a lying length or a
 * truncated message becomes WEFT_EWIRE with an offset, never an over-read.
 * Lengths are compared as "n > left", never as "pos + n > end", so a huge n
 * cannot wrap around. */
#include <stdio.h>
#include <stdlib.h>

#include "wire_internal.h"

/* ---- weft_buf ---- */

void weft_buf_init(weft_buf *b) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void weft_buf_free(weft_buf *b) {
  if (!b)
    return;
  free(b->data);
  weft_buf_init(b);
}

int weft_buf_reserve(weft_buf *b, size_t extra) {
  if (!b)
    return WEFT_EINVAL;
  if (extra <= b->cap - b->len)
    return 0;
  if (extra > SIZE_MAX - b->len)
    return WEFT_ENOMEM;
  size_t need = b->len + extra;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  uint8_t *p = realloc(b->data, cap);
  if (!p)
    return WEFT_ENOMEM;
  b->data = p;
  b->cap = cap;
  return 0;
}

int weft_buf_append(weft_buf *b, const void *data, size_t n) {
  int rc = weft_buf_reserve(b, n);
  if (rc)
    return rc;
  if (n) {
    memcpy(b->data + b->len, data, n);
    b->len += n;
  }
  return 0;
}

int weft__buf_put_lenbytes(weft_buf *b, const void *data, size_t n) {
  size_t vn = weft__varint_size((uint64_t)n);
  if (n > SIZE_MAX - vn)
    return WEFT_ENOMEM;
  int rc = weft_buf_reserve(b, vn + n);
  if (rc)
    return rc;
  uint8_t *p = weft__put_varint(b->data + b->len, (uint64_t)n);
  if (n)
    memcpy(p, data, n);
  b->len += vn + n;
  return 0;
}

/* ---- errors ---- */

int weft__wire_fail(weft_wire_error *err, size_t offset, int code,
                    const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    err->offset = offset;
    vsnprintf(err->text, sizeof err->text, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* ---- the read cursor ---- */

static int short_read(weft__rd *r, size_t want, const char *what) {
  return weft__wire_fail(r->err, r->pos, WEFT_EWIRE,
                         "truncated %s: needs %zu bytes, %zu left", what, want,
                         weft__rd_left(r));
}

int weft__rd_u8(weft__rd *r, uint8_t *out, const char *what) {
  if (weft__rd_left(r) < 1)
    return short_read(r, 1, what);
  *out = r->data[r->pos++];
  return 0;
}

int weft__rd_u32(weft__rd *r, uint32_t *out, const char *what) {
  if (weft__rd_left(r) < 4)
    return short_read(r, 4, what);
  const uint8_t *p = r->data + r->pos;
  uint32_t x = 0;
  for (int i = 0; i < 4; i++)
    x |= (uint32_t)p[i] << (8 * i);
  r->pos += 4;
  *out = x;
  return 0;
}

int weft__rd_u64(weft__rd *r, uint64_t *out, const char *what) {
  if (weft__rd_left(r) < 8)
    return short_read(r, 8, what);
  const uint8_t *p = r->data + r->pos;
  uint64_t x = 0;
  for (int i = 0; i < 8; i++)
    x |= (uint64_t)p[i] << (8 * i);
  r->pos += 8;
  *out = x;
  return 0;
}

int weft__rd_varint(weft__rd *r, uint64_t *out, const char *what) {
  size_t start = r->pos;
  uint64_t x = 0;
  for (int i = 0; i < WEFT__VARINT_MAX; i++) {
    if (r->pos >= r->end) {
      r->pos = start;
      return weft__wire_fail(r->err, start, WEFT_EWIRE, "truncated %s (varint)",
                             what);
    }
    uint8_t byte = r->data[r->pos++];
    /* The 10th byte holds bit 63 only. */
    if (i == WEFT__VARINT_MAX - 1 && byte > 1) {
      r->pos = start;
      return weft__wire_fail(r->err, start, WEFT_EWIRE,
                             "%s (varint) overflows 64 bits", what);
    }
    x |= (uint64_t)(byte & 0x7f) << (7 * i);
    if (!(byte & 0x80)) {
      /* Minimal form only: one value, one encoding. */
      if (byte == 0 && i > 0) {
        r->pos = start;
        return weft__wire_fail(r->err, start, WEFT_EWIRE,
                               "%s (varint) is not in minimal form", what);
      }
      *out = x;
      return 0;
    }
  }
  r->pos = start;
  return weft__wire_fail(r->err, start, WEFT_EWIRE,
                         "%s (varint) longer than %d bytes", what,
                         WEFT__VARINT_MAX);
}

int weft__rd_lenbytes(weft__rd *r, const uint8_t **p, size_t *n,
                      const char *what) {
  size_t start = r->pos;
  uint64_t len = 0;
  int rc = weft__rd_varint(r, &len, what);
  if (rc)
    return rc;
  if (len > (uint64_t)weft__rd_left(r)) {
    size_t at = r->pos;
    r->pos = start;
    return weft__wire_fail(r->err, at, WEFT_EWIRE,
                           "%s claims %llu bytes, only %zu left", what,
                           (unsigned long long)len, r->end - at);
  }
  *p = r->data + r->pos;
  *n = (size_t)len;
  r->pos += (size_t)len;
  return 0;
}
