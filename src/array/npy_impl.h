/* npy_impl.h - what the .npy reader (npy.c) and writer (npy_write.c) share:
 * error messages, the header text numpy writes, and the copy of a block
 * between a strided layout and a contiguous one. Internal to weft. */
#ifndef WEFT_ARRAY_NPY_IMPL_H
#define WEFT_ARRAY_NPY_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "weft/npy.h"

/* Formats the message into err (when not NULL) and returns code. */
int weft__npy_fail(weft_errmsg *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* weft_npy_parse_header, naming the file `what` in messages. */
int weft__npy_parse_named(const void *buf, size_t len, weft_npy_info *info,
                          const char *what, weft_errmsg *err);

/* "(3, 4)", "(5,)", "()" into buf. */
void weft__npy_shape_str(char *buf, size_t size, int ndim,
                         const int64_t *shape);

/* The header (magic, version, length, dict, padding to 64 bytes) of a C
 * order file of this machine's byte order, in a malloc'd buffer of *len
 * bytes. WEFT_ENOMEM. */
int weft__npy_format_header(weft_dtype dtype, int ndim, const int64_t *shape,
                            char **out, size_t *len);

/* Checks that [offset, offset + extent) lies in shape; message names the
 * file (what) and the axis. */
int weft__npy_check_block(const char *what, int ndim, const int64_t *shape,
                          const int64_t *offset, const int64_t *extent,
                          size_t *count, weft_errmsg *err);

/* A block as runs of contiguous elements: after merging the axes the
 * block spans whole, `ndim` loops of `extent` with `stride` (in elements,
 * of the strided side) around runs of `run` elements whose elements are
 * `step` apart (1: contiguous) on the strided side. */
typedef struct weft__npy_runs {
  int ndim;                            /* outer axes */
  int64_t extent[WEFT_CHUNK_MAX_NDIM]; /* outer extents */
  int64_t stride[WEFT_CHUNK_MAX_NDIM]; /* outer strides, strided side */
  int64_t run;                         /* elements per run */
  int64_t step;                        /* stride inside a run */
  int64_t base;                        /* first element, strided side */
} weft__npy_runs;

/* The runs of block [offset, offset + extent) of an array stored with
 * element strides `strides`. */
void weft__npy_runs_make(int ndim, const int64_t *strides,
                         const int64_t *offset, const int64_t *extent,
                         weft__npy_runs *r);

#endif
