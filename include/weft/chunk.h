/* weft/chunk.h - array chunks: n-d blocks of numbers as task values.
 *
 * A chunk is one block of a chunked array (Dask's numpy block): a dtype, a
 * shape of up to WEFT_CHUNK_MAX_NDIM extents and its elements in C order
 * (row-major, contiguous), the data aligned on 64 bytes. It is a weft_value
 * like a string or a list (type WEFT_T_CHUNK): reference-counted, released
 * by weft_value_release, passed between tasks without a copy, serialised by
 * the wire format (weft/wire.h) and sent to worker processes through shared
 * memory when big (weft/procs.h).
 *
 *   int64_t shape[2] = {1000, 1000};
 *   double *d;
 *   weft_value c;
 *   if (weft_chunk_new(&c, WEFT_F64, 2, shape, (void **)&d) == 0)
 *     for (size_t i = 0; i < 1000 * 1000; i++) d[i] = 1.0;   // then share
 *
 * Like bytes, a chunk's elements must not change once another owner can see
 * it: fill it right after weft_chunk_new, before returning or sharing it.
 * Thread-safety: as for every value (weft/value.h). */
#ifndef WEFT_CHUNK_H
#define WEFT_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WEFT_CHUNK_MAX_NDIM 16

/* Element types, with numpy's names (weft_dtype_name). */
typedef enum weft_dtype {
  WEFT_BOOL = 1, /* one byte, 0 or 1 */
  WEFT_I8,
  WEFT_I16,
  WEFT_I32,
  WEFT_I64,
  WEFT_U8,
  WEFT_U16,
  WEFT_U32,
  WEFT_U64,
  WEFT_F32,
  WEFT_F64,
  WEFT_DTYPE__END
} weft_dtype;

/* Bytes per element, or 0 for a value that is not a dtype. */
size_t weft_dtype_size(weft_dtype dtype);
/* "bool", "int8", ..., "float64"; "?" for a value that is not a dtype. */
const char *weft_dtype_name(weft_dtype dtype);

/* The bytes the elements of a chunk of that dtype and shape take (0 when
 * an extent is 0), checked as weft_chunk_new checks them: 0, WEFT_EINVAL
 * (a bad description) or WEFT_ENOMEM (more than memory can hold). */
int weft_chunk_nbytes(weft_dtype dtype, int ndim, const int64_t *shape,
                      size_t *nbytes);

/* A new chunk of the given dtype and shape (ndim extents, each >= 0; ndim
 * 0 is one element), zero-filled. When data is not NULL, *data receives
 * its elements, writable until the chunk is shared. Returns 0 (*out owns
 * one reference), WEFT_EINVAL (NULL out, unknown dtype, ndim outside 0 to
 * WEFT_CHUNK_MAX_NDIM, NULL shape with ndim > 0, a negative extent) or
 * WEFT_ENOMEM (also when the size does not fit in memory); on error *out is
 * none. */
int weft_chunk_new(weft_value *out, weft_dtype dtype, int ndim,
                   const int64_t *shape, void **data);

/* A chunk over elements the caller already has, without a copy: data holds
 * the elements in C order, aligned for the dtype, and must stay valid and
 * unchanged until release(ud) runs, when the last reference goes (release
 * may be NULL). On error release(ud) also runs, so the caller's memory is
 * never left owned by nobody. Errors as weft_chunk_new, and WEFT_EINVAL for
 * NULL data with elements. */
int weft_chunk_wrap(weft_value *out, weft_dtype dtype, int ndim,
                    const int64_t *shape, const void *data,
                    void (*release)(void *ud), void *ud);

/* What a chunk is. The pointers are borrowed: valid while v holds its
 * reference. */
typedef struct weft_chunk_info {
  weft_dtype dtype;
  int ndim;
  const int64_t *shape; /* ndim extents */
  size_t count;         /* elements: the product of the extents */
  size_t nbytes;        /* count * weft_dtype_size(dtype) */
  const void *data;     /* the elements, C order */
} weft_chunk_info;

/* Fills *info: 0, WEFT_ETYPE when v is not a chunk, WEFT_EINVAL (NULL). */
int weft_chunk_get(const weft_value *v, weft_chunk_info *info);

#ifdef __cplusplus
}
#endif
#endif
