/* array_impl.h - what a weft_array is inside: one node of an expression
 * (a layer, in Dask's words), its shape, dtype and chunks. Internal to weft.
 *
 * Kinds of layers:
 *   GEN     values computed from the element's index (ones, arange, random)
 *   CHUNKS  stored chunks: one graph node per block (from_buffer,
 *           from_blocks, map_blocks, reductions, reshape, concatenate)
 *   ELEM    an elementwise operation of 1 to 3 arrays, broadcast
 *   VIEW    a strided selection of another array's elements: slices,
 *           integer indices, new axes, transposes and rechunks
 * Only CHUNKS layers have tasks of their own: the others are evaluated
 * inside the task of whichever block needs them (src/opt/blockwise.c
 * writes the program such a task runs, src/array/eval.c runs it). */
#ifndef WEFT_ARRAY_IMPL_H
#define WEFT_ARRAY_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../core/graph_impl.h"
#include "weft/array.h"

#define MAXD WEFT_ARRAY_MAX_NDIM

enum { AK_GEN = 1, AK_CHUNKS, AK_ELEM, AK_VIEW };

/* GEN kinds */
enum {
  GEN_FULL = 1, /* pd[0] */
  GEN_ARANGE,   /* pd[0] + i * pd[1] (1-d) */
  GEN_EYE,      /* 1 where j - i == pi[0] */
  GEN_UNIFORM,  /* pd[0] + (pd[1] - pd[0]) * u, key pi[0] */
  GEN_NORMAL,   /* pd[0] + pd[1] * z, key pi[0] */
};

/* ELEM operations beyond weft_array_op / weft_array_fn */
enum {
  EOP_BIN = 0,      /* op = weft_array_op */
  EOP_UN = 1000,    /* op = EOP_UN + weft_array_fn */
  EOP_CAST = 2000,  /* astype (and the casts promotion inserts) */
  EOP_WHERE,
  EOP_CLIP,         /* pd[0], pd[1] bounds (NAN: none) */
};

/* Compute types: how a tile holds a dtype's values while it is evaluated.
 * Every dtype computes in one of three; after each operation the values
 * are rounded back to the node's dtype (int32 wraps, float32 rounds), so
 * the results are those of numpy's loops in that dtype. */
enum { CT_BOOL = 0, CT_I64 = 1, CT_F64 = 2 };
static inline int weft__ctype(weft_dtype dt) {
  return dt == WEFT_BOOL ? CT_BOOL : (dt == WEFT_F32 || dt == WEFT_F64) ? CT_F64 : CT_I64;
}
static inline size_t weft__ctsize(int ct) { return ct == CT_BOOL ? 1 : 8; }

struct weft_array {
  _Atomic int refs;
  weft_graph *g;
  int kind;
  int op;               /* GEN kind or ELEM operation */
  weft_dtype dtype;
  bool weak;            /* a Python scalar, for type promotion */
  int ndim;
  int64_t shape[MAXD];
  int64_t *chunks[MAXD]; /* sizes per axis (owned) */
  int64_t nchunks[MAXD];
  bool regular[MAXD];    /* every chunk of the axis but the last is chunks[k][0] */
  int nkids;
  weft_array *kid[3];
  double pd[4];
  int64_t pi[4];
  /* VIEW: output axis k reads source axis vaxis[k] (-1: a new axis of
   * extent 1) at vstart[k] + i * vstep[k]; source axes no output axis reads
   * are held at fixidx[axis] */
  int vaxis[MAXD];
  int64_t vstart[MAXD], vstep[MAXD];
  int64_t fixidx[MAXD];
  bool fixed[MAXD];
  /* CHUNKS: one node per block, C order of the block grid */
  weft_node **blocks;
  size_t nblocks;
  size_t ntasks;        /* tasks this array's blocks need, inputs included */
  char label[40];       /* what made it, for pictures ("sum", "from_buffer") */
  bool lowering;        /* guards weft__array_lower against re-entry */
};

/* ---- array.c ---- */
/* A new array of g with that kind, dtype and shape (chunks unset); NULL
 * and a sticky graph error when out of memory. */
weft_array *weft__array_new(weft_graph *g, int kind, weft_dtype dt, int ndim,
                            const int64_t *shape);
/* Sets a's chunks from the user's description; 0 or a graph error naming
 * what does not fit. */
int weft__array_set_chunks(weft_array *a, const weft_chunks *c);
/* Sets axis `axis` of a to n sizes (copied). 0 or WEFT_ENOMEM. */
int weft__array_set_axis_chunks(weft_array *a, int axis, size_t n,
                                const int64_t *sizes);
/* Records a sticky error in a's graph and returns NULL. */
weft_array *weft__array_fail(weft_graph *g, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes "(2, 3)" (Python tuple form) into buf. */
void weft__shape_str(int ndim, const int64_t *shape, char *buf, size_t size);
bool weft__dtype_supported(weft_dtype dt);
size_t weft__array_nblocks(const weft_array *a);
/* Block index (per axis) and first element of flat block b. */
void weft__block_coords(const weft_array *a, size_t b, int64_t *idx,
                        int64_t *start, int64_t *extent);

size_t weft__array_task_count(const weft_array *a);
const char *weft__aop_name(int op);
const char *weft__afn_name(int fn);

/* ---- pool.c ---- */
/* A chunk like weft_chunk_new's, whose elements (not zeroed: the caller
 * writes them all) come from the pool of reused buffers when it is 64 KiB
 * or more. */
int weft__chunk_pooled(weft_value *out, weft_dtype dt, int ndim,
                       const int64_t *shape, void **data);

/* ---- lower (src/opt/blockwise.c): tasks for a's blocks ---- */
int weft__array_lower(weft_array *a);

#endif
