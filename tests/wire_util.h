/* wire_util.h - values made and compared the way the wire tests need
 * (test_wire.c, test_wire_msg.c): constructors that assert, and a deep
 * equality where doubles compare by their bits. */
#ifndef WEFT_TEST_WIRE_UTIL_H
#define WEFT_TEST_WIRE_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h> /* after stdarg.h, stddef.h and setjmp.h */

#include "weft.h"

static inline weft_value mk_str(const char *s) {
  weft_value v;
  assert_int_equal(weft_str_new(&v, s), 0);
  return v;
}

static inline weft_value mk_bytes(const void *p, size_t n) {
  weft_value v;
  assert_int_equal(weft_bytes_new(&v, p, n), 0);
  return v;
}

/* A chunk of the given shape holding a copy of the elements at data (zeros
 * when data is NULL). */
static inline weft_value mk_chunk(weft_dtype dt, int ndim, const int64_t *shape,
                           const void *data) {
  weft_value v;
  void *p;
  assert_int_equal(weft_chunk_new(&v, dt, ndim, shape, &p), 0);
  weft_chunk_info c;
  assert_int_equal(weft_chunk_get(&v, &c), 0);
  if (data && c.nbytes)
    memcpy(p, data, c.nbytes);
  return v;
}

/* A list of n items, taking over their references. */
static inline weft_value mk_list(size_t n, ...) {
  weft_value l;
  assert_int_equal(weft_list_new(&l, n), 0);
  va_list ap;
  va_start(ap, n);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(weft_list_set(&l, i, va_arg(ap, weft_value)), 0);
  va_end(ap);
  return l;
}

/* Deep equality where doubles compare by their bits (NaN payloads, -0.0). */
static inline bool same(const weft_value *a, const weft_value *b) {
  if (a->type != b->type)
    return false;
  switch (a->type) {
  case WEFT_T_DOUBLE:
    return memcmp(&a->as.d, &b->as.d, sizeof(double)) == 0;
  case WEFT_T_LIST:
    if (weft_value_len(a) != weft_value_len(b))
      return false;
    for (size_t i = 0; i < weft_value_len(a); i++)
      if (!same(weft_list_get(a, i), weft_list_get(b, i)))
        return false;
    return true;
  case WEFT_T_CHUNK: { /* bit for bit, so NaN payloads count too */
    weft_chunk_info x, y;
    if (weft_chunk_get(a, &x) || weft_chunk_get(b, &y))
      return false;
    return x.dtype == y.dtype && x.ndim == y.ndim &&
           memcmp(x.shape, y.shape, (size_t)x.ndim * sizeof *x.shape) == 0 &&
           x.nbytes == y.nbytes &&
           (x.nbytes == 0 || memcmp(x.data, y.data, x.nbytes) == 0);
  }
  default:
    return weft_value_equal(a, b);
  }
}

#endif
