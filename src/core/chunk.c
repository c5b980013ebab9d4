/* chunk.c - array chunks as values (weft/chunk.h): an n-d block of numbers
 * in one allocation, header and elements together, or over elements someone
 * else owns (a caller's buffer, a shared-memory mapping from a worker).
 *
 * A new chunk is calloc'd: for big chunks glibc maps fresh zero pages, so
 * "zero-filled" costs nothing until the elements are written. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obj.h"
#include "weft/error.h"

#define ALIGN 64u

static const struct {
  const char *name;
  size_t size;
} dtypes[WEFT_DTYPE__END] = {
    [WEFT_BOOL] = {"bool", 1},   [WEFT_I8] = {"int8", 1},
    [WEFT_I16] = {"int16", 2},   [WEFT_I32] = {"int32", 4},
    [WEFT_I64] = {"int64", 8},   [WEFT_U8] = {"uint8", 1},
    [WEFT_U16] = {"uint16", 2},  [WEFT_U32] = {"uint32", 4},
    [WEFT_U64] = {"uint64", 8},  [WEFT_F32] = {"float32", 4},
    [WEFT_F64] = {"float64", 8},
};

static bool dtype_ok(weft_dtype dt) {
  return (int)dt > 0 && dt < WEFT_DTYPE__END;
}

size_t weft_dtype_size(weft_dtype dtype) {
  return dtype_ok(dtype) ? dtypes[dtype].size : 0;
}

const char *weft_dtype_name(weft_dtype dtype) {
  return dtype_ok(dtype) ? dtypes[dtype].name : "?";
}

/* Checks the description and computes the sizes: 0, WEFT_EINVAL or
 * WEFT_ENOMEM (more bytes than memory can hold). */
static int measure(weft_dtype dtype, int ndim, const int64_t *shape,
                   size_t *count, size_t *nbytes) {
  if (!dtype_ok(dtype) || ndim < 0 || ndim > WEFT_CHUNK_MAX_NDIM ||
      (ndim > 0 && !shape))
    return WEFT_EINVAL;
  size_t n = 1;
  bool empty = false, overflow = false;
  for (int k = 0; k < ndim; k++) {
    if (shape[k] < 0)
      return WEFT_EINVAL;
    if (shape[k] == 0)
      empty = true;
    else if ((uint64_t)shape[k] > SIZE_MAX / n)
      overflow = true;
    else
      n *= (size_t)shape[k];
  }
  if (empty) {
    *count = *nbytes = 0;
    return 0;
  }
  size_t size = dtypes[dtype].size;
  if (overflow || n > (SIZE_MAX - sizeof(weft__chunk_obj) - ALIGN) / size)
    return WEFT_ENOMEM;
  *count = n;
  *nbytes = n * size;
  return 0;
}

int weft_chunk_nbytes(weft_dtype dtype, int ndim, const int64_t *shape,
                      size_t *nbytes) {
  size_t count;
  return nbytes ? measure(dtype, ndim, shape, &count, nbytes) : WEFT_EINVAL;
}

static void free_chunk(weft_obj *o) {
  weft__chunk_obj *c = (weft__chunk_obj *)o;
  if (c->release)
    c->release(c->ud);
  free(o);
}

static void describe(weft__chunk_obj *c, weft_dtype dtype, int ndim,
                     const int64_t *shape, size_t count, size_t nbytes) {
  c->dtype = (uint32_t)dtype;
  c->ndim = ndim;
  c->count = count;
  c->nbytes = nbytes;
  memset(c->shape, 0, sizeof c->shape);
  if (ndim)
    memcpy(c->shape, shape, (size_t)ndim * sizeof *shape);
}

static weft_value chunk_value(weft__chunk_obj *c) {
  weft_value v = {WEFT_T_CHUNK, 0, {.obj = &c->hdr}};
  return v;
}

int weft_chunk_new(weft_value *out, weft_dtype dtype, int ndim,
                   const int64_t *shape, void **data) {
  if (!out)
    return WEFT_EINVAL;
  *out = weft_none();
  size_t count, nbytes;
  int rc = measure(dtype, ndim, shape, &count, &nbytes);
  if (rc)
    return rc;
  weft__chunk_obj *c = calloc(1, sizeof *c + ALIGN + nbytes);
  if (!c)
    return WEFT_ENOMEM;
  weft__obj_init(&c->hdr, WEFT_T_CHUNK, free_chunk);
  describe(c, dtype, ndim, shape, count, nbytes);
  uintptr_t p = (uintptr_t)(c + 1);
  c->data = (void *)((p + ALIGN - 1) / ALIGN * ALIGN);
  if (data)
    *data = (void *)c->data;
  *out = chunk_value(c);
  return 0;
}

int weft_chunk_wrap(weft_value *out, weft_dtype dtype, int ndim,
                    const int64_t *shape, const void *data,
                    void (*release)(void *ud), void *ud) {
  size_t count = 0, nbytes = 0;
  int rc = out ? measure(dtype, ndim, shape, &count, &nbytes) : WEFT_EINVAL;
  if (!rc && nbytes && (!data || (uintptr_t)data % weft_dtype_size(dtype)))
    rc = WEFT_EINVAL; /* no elements, or misaligned for the dtype */
  weft__chunk_obj *c = rc ? NULL : malloc(sizeof *c);
  if (!rc && !c)
    rc = WEFT_ENOMEM;
  if (out)
    *out = weft_none();
  if (rc) {
    if (release)
      release(ud);
    return rc;
  }
  weft__obj_init(&c->hdr, WEFT_T_CHUNK, free_chunk);
  describe(c, dtype, ndim, shape, count, nbytes);
  c->data = data;
  c->release = release;
  c->ud = ud;
  *out = chunk_value(c);
  return 0;
}

int weft_chunk_get(const weft_value *v, weft_chunk_info *info) {
  if (!v || !info)
    return WEFT_EINVAL;
  if (v->type != WEFT_T_CHUNK)
    return WEFT_ETYPE;
  const weft__chunk_obj *c = (const weft__chunk_obj *)v->as.obj;
  info->dtype = (weft_dtype)c->dtype;
  info->ndim = c->ndim;
  info->shape = c->shape;
  info->count = c->count;
  info->nbytes = c->nbytes;
  info->data = c->data;
  return 0;
}

void *weft__chunk_external_ud(const weft_value *v, void (*release)(void *ud)) {
  if (!v || v->type != WEFT_T_CHUNK)
    return NULL;
  const weft__chunk_obj *c = (const weft__chunk_obj *)v->as.obj;
  return c->release == release ? c->ud : NULL;
}

bool weft__chunk_equal(const weft_value *a, const weft_value *b) {
  weft_chunk_info x, y;
  if (weft_chunk_get(a, &x) || weft_chunk_get(b, &y))
    return false;
  if (x.dtype != y.dtype || x.ndim != y.ndim ||
      memcmp(x.shape, y.shape, (size_t)x.ndim * sizeof *x.shape) != 0)
    return false;
  /* floats as numbers (as numpy's array_equal: 0.0 == -0.0, NaN != NaN) */
#define EQUAL_AS(T)                                                            \
  do {                                                                         \
    const T *p = x.data, *q = y.data;                                          \
    for (size_t i = 0; i < x.count; i++)                                       \
      if (!(p[i] == q[i]))                                                     \
        return false;                                                          \
    return true;                                                               \
  } while (0)
  if (x.dtype == WEFT_F64)
    EQUAL_AS(double);
  if (x.dtype == WEFT_F32)
    EQUAL_AS(float);
#undef EQUAL_AS
  return x.nbytes == 0 || memcmp(x.data, y.data, x.nbytes) == 0;
}

int weft__chunk_describe(const weft_value *v, char *buf, size_t size) {
  weft_chunk_info c;
  if (weft_chunk_get(v, &c))
    return snprintf(buf, size, "<chunk?>");
  char shape[WEFT_CHUNK_MAX_NDIM * 22 + 4];
  size_t n = 0;
  n += (size_t)snprintf(shape + n, sizeof shape - n, "(");
  for (int k = 0; k < c.ndim; k++)
    n += (size_t)snprintf(shape + n, sizeof shape - n, "%s%lld", k ? ", " : "",
                          (long long)c.shape[k]);
  snprintf(shape + n, sizeof shape - n, c.ndim == 1 ? ",)" : ")");
  return snprintf(buf, size, "<chunk %s %s>", weft_dtype_name(c.dtype), shape);
}
