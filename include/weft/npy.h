/* weft/npy.h - numpy's .npy files: read memory-mapped, written block by block.
 *
 * The .npy format (numpy's np.save / np.load) is one header — a magic
 * string, a version and a Python dict literal giving the dtype, the order
 * and the shape — then the elements, contiguous. weft reads format versions
 * 1.0, 2.0 and 3.0, dtypes bool, int8..int64, uint8..uint64, float32 and
 * float64, either byte order, C or Fortran order, up to WEFT_CHUNK_MAX_NDIM
 * dimensions. Anything else (complex, strings, objects, structured dtypes,
 * float16, more dimensions) is refused with a message naming it.
 *
 * Reading maps the file read-only (weft_npy_open): the elements are never
 * read whole; weft_npy_block gives a rectangular block as a chunk (a view of
 * the mapping when the block is contiguous in the file, a copy otherwise),
 * so a chunked array reads its chunks straight from the file.
 *
 * Writing (weft_npy_create) sizes the file first, then takes blocks —
 * hyper-rectangles given by an offset and an extent — in any order, each
 * written with pwrite, so an array bigger than memory is stored chunk by
 * chunk. Files are written as format 1.0 (2.0 when the header needs it), C
 * order, in this machine's byte order, and np.load reads them.
 *
 *   weft_errmsg err;
 *   weft_npy_writer *w;
 *   int64_t shape[2] = {200000, 4000};
 *   int64_t off[2] = {1000, 0}, ext[2] = {1000, 1000};
 *   if (weft_npy_create("big.npy", WEFT_F64, 2, shape, &w, &err) == 0) {
 *     weft_npy_write_block(w, off, ext, block, &err);   // ... every block
 *     weft_npy_writer_close(w, &err);
 *   }
 *
 * Errors: every fallible call returns 0 or a negative WEFT_E* code and, when
 * err is not NULL, a message in err->text naming the file and what was wrong
 * ("x.npy: truncated: 800 bytes of data, shape (10, 20) float64 needs 1600").
 * Codes: WEFT_EINVAL (bad arguments: a block outside the shape, a wrong
 * dtype), WEFT_EIO (a file that is not a valid .npy, truncated, a failed
 * read or write), WEFT_ENOTSUP (a valid .npy weft does not read),
 * WEFT_ESYS (open, mmap), WEFT_ENOMEM.
 *
 * Thread-safety: a weft_npy and a weft_npy_writer may be used from several
 * threads at once (blocks read or written concurrently), but not while
 * being closed. A file changed or truncated by someone else while mapped is
 * undefined (SIGBUS), as for any mapping. */
#ifndef WEFT_NPY_H
#define WEFT_NPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chunk.h"
#include "error.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a .npy header says. */
typedef struct weft_npy_info {
  weft_dtype dtype;
  int ndim;
  int64_t shape[WEFT_CHUNK_MAX_NDIM];
  bool fortran_order; /* elements in Fortran (column-major) order */
  bool swapped;       /* elements in the other byte order than this machine's */
  int version;        /* format major version: 1, 2 or 3 */
  size_t data_offset; /* bytes before the elements: magic, version, header */
  size_t count;       /* elements: the product of the shape */
  size_t nbytes;      /* bytes of elements */
} weft_npy_info;

/* Parses the header at the start of a .npy file (buf holds its first len
 * bytes; the whole header must be there). 0 and *info, or WEFT_EIO (not a
 * .npy, a malformed or cut header), WEFT_ENOTSUP (a dtype, version or
 * number of dimensions weft does not read), WEFT_EINVAL (NULL). */
int weft_npy_parse_header(const void *buf, size_t len, weft_npy_info *info,
                          weft_errmsg *err);

/* ---- reading: a memory-mapped .npy ---- */

typedef struct weft_npy weft_npy;

/* Opens path read-only and maps it. Checks the header and that the file
 * holds all the elements the shape needs (bytes after them are ignored, as
 * np.load does). */
int weft_npy_open(const char *path, weft_npy **out, weft_errmsg *err);

/* Closes the handle; the mapping stays while chunks viewing it live. NULL
 * is ignored. */
void weft_npy_close(weft_npy *f);

/* The header of an open file (borrowed, valid until weft_npy_close). */
const weft_npy_info *weft_npy_get_info(const weft_npy *f);

/* The elements as stored: the file's byte order and order (see info's
 * swapped and fortran_order), aligned as the file's header length allows
 * (np.save pads it to 64 bytes). NULL for an empty array. Valid until
 * weft_npy_close. */
const void *weft_npy_data(const weft_npy *f);

/* The block [offset, offset + extent) (ndim values each, ndim as the file's;
 * extents may be 0) as a chunk of shape extent, C order, this machine's
 * byte order. When the file is C order in this byte order, the block is
 * contiguous in it (its extents equal the shape on every axis after the
 * first one longer than 1) and the data aligned, the chunk is a view of the
 * mapping, without a copy, that keeps it alive; otherwise a copy. *out owns
 * one reference. WEFT_EINVAL for a block outside the shape. */
int weft_npy_block(weft_npy *f, const int64_t *offset, const int64_t *extent,
                   weft_value *out, weft_errmsg *err);

/* Copies the same block into dst (the product of extent elements, C order,
 * this machine's byte order). */
int weft_npy_read_into(weft_npy *f, const int64_t *offset,
                       const int64_t *extent, void *dst, weft_errmsg *err);

/* The whole file as a new chunk (a copy: C order, this byte order). */
int weft_npy_load(const char *path, weft_value *out, weft_errmsg *err);

/* ---- writing: block by block ---- */

typedef struct weft_npy_writer weft_npy_writer;

/* Creates (or truncates) path as a .npy of that dtype and shape: writes the
 * header and sizes the file to hold every element (a sparse file: nothing
 * is written yet; unwritten elements read as zero). */
int weft_npy_create(const char *path, weft_dtype dtype, int ndim,
                    const int64_t *shape, weft_npy_writer **out,
                    weft_errmsg *err);

/* Writes the block [offset, offset + extent) from data (the product of
 * extent elements of the writer's dtype, C order, this byte order). Blocks
 * may come in any order and from several threads; a block written twice
 * keeps its last contents. */
int weft_npy_write_block(weft_npy_writer *w, const int64_t *offset,
                         const int64_t *extent, const void *data,
                         weft_errmsg *err);

/* weft_npy_write_block with a chunk: its shape is the extent and its dtype
 * must be the writer's (WEFT_EINVAL otherwise; WEFT_ETYPE if not a chunk). */
int weft_npy_write_chunk(weft_npy_writer *w, const int64_t *offset,
                         const weft_value *chunk, weft_errmsg *err);

/* Closes the file and frees the writer (always, even on error). Fails with
 * WEFT_EIO when closing fails or when the blocks written hold fewer
 * elements than the array (a block forgotten; blocks written twice count
 * twice, so this catches gaps only when blocks do not overlap). NULL is
 * ignored (0). */
int weft_npy_writer_close(weft_npy_writer *w, weft_errmsg *err);

/* The whole of data (dtype, shape, C order, this byte order) as a .npy. */
int weft_npy_save(const char *path, weft_dtype dtype, int ndim,
                  const int64_t *shape, const void *data, weft_errmsg *err);

/* A chunk as a .npy (np.save). WEFT_ETYPE when v is not a chunk. */
int weft_npy_save_chunk(const char *path, const weft_value *v,
                        weft_errmsg *err);

#ifdef __cplusplus
}
#endif
#endif
