/* weft/array.h - chunked n-d arrays bigger than memory (dask.array for C).
 *
 * A weft_array is lazy: a shape, a dtype and chunks per axis, and the
 * expression that makes it. Nothing is computed until weft_array_compute_*
 * (or weft_compute on the nodes of weft_array_blocks) runs; then each chunk
 * is a task of the array's weft_graph, so the sync, threads, procs and mpi
 * schedulers run array graphs unchanged and weft_visualize draws them.
 *
 *   weft_graph *g = weft_graph_new();
 *   weft_array *a = weft_ones(g, WEFT_F64, WEFT_SHAPE(200000, 4000),
 *                             WEFT_CHUNKS(1000, 1000));
 *   weft_array *r = weft_array_slice(a, "::-1, ::-1");   // numpy syntax
 *   weft_array *m = weft_array_mean(weft_array_mul(a, r), WEFT_AXES_ALL);
 *   double v;
 *   weft_array_compute_scalar(m, &v, NULL);                // 1.0
 *   weft_array_free(m); ...
 *
 * Fusion: elementwise operations, type casts, slices, transposes, rechunks
 * and generated inputs (ones, zeros, full, arange, linspace, eye, random)
 * are not tasks of their own. Each task of an array evaluates the whole
 * expression for its block in tiles of about 16,000 elements that stay in
 * the L2 cache, generating inputs inside the tile; a reduction's first
 * level does the same and reduces each tile at once, so
 * `(ones * ones[::-1, ::-1]).mean()` stores no chunk at all. Arrays that are
 * stored chunks (weft_array_from_buffer, from_blocks, map_blocks, the
 * results of reductions, reshape, concatenate, stack and
 * weft_array_materialize) are read chunk by chunk.
 *
 * Reproducibility: a result is bit-for-bit the same on every scheduler and
 * for any number of workers. Floating-point sums and products use 16
 * accumulators, lane k taking the elements k, k + 16, ... of each run of a
 * tile (so they vectorise), combined in a fixed order; the tiles of a block,
 * then the blocks (in groups of split_every, in block order) are combined in
 * a fixed order too. Random arrays come from Philox-4x32-10 keyed by the
 * seed and counted by the element's index in the whole array, so their
 * values do not depend on the chunks either. Results agree with numpy 1.24
 * exactly for integer and + - * / arithmetic, and to rounding for sums and
 * transcendental functions (numpy sums pairwise, in another order).
 *
 * Errors: a call that cannot make its array returns NULL and records a
 * sticky error in the graph (weft_graph_status, weft_graph_error) naming
 * the shapes, axes, chunks or text at fault; a NULL array given to another
 * call returns NULL again, so a chain of calls is checked once, at the end.
 *
 * Lifetime: arrays are reference-counted. Every call that takes arrays
 * borrows them (it keeps its own references); free each array you got with
 * weft_array_free. Arrays refer to their graph, which must outlive them.
 * Thread-safety: as for the graph, one thread builds a graph's arrays. */
#ifndef WEFT_ARRAY_H
#define WEFT_ARRAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chunk.h"
#include "compute.h"
#include "graph.h"
#include "visualize.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WEFT_ARRAY_MAX_NDIM 16

typedef struct weft_array weft_array;

/* A shape: WEFT_SHAPE(200000, 4000); WEFT_SHAPE0 for a 0-d array. */
typedef struct weft_shape {
  int ndim;
  int64_t d[WEFT_ARRAY_MAX_NDIM];
} weft_shape;
#define WEFT_SHAPE(...)                                                        \
  ((weft_shape){WEFT__NARG(__VA_ARGS__), {__VA_ARGS__}})
#define WEFT_SHAPE0 ((weft_shape){0, {0}})

/* Chunks per axis. Regular: WEFT_CHUNKS(1000, 1000), each chunk that size
 * but the last of an axis, smaller when the size does not divide the axis;
 * -1 takes the whole axis. Irregular (Dask's ((1000, 1000, 500), (4000,))):
 * weft_chunks_axis sets one axis to explicit sizes that must add up to the
 * axis' extent. WEFT_CHUNKS_WHOLE (ndim 0): one chunk for the whole array. */
typedef struct weft_chunks {
  int ndim;
  int64_t size[WEFT_ARRAY_MAX_NDIM];
  const int64_t *sizes[WEFT_ARRAY_MAX_NDIM]; /* explicit sizes, or NULL */
  size_t nsizes[WEFT_ARRAY_MAX_NDIM];
} weft_chunks;
#define WEFT_CHUNKS(...)                                                       \
  ((weft_chunks){WEFT__NARG(__VA_ARGS__), {__VA_ARGS__}, {0}, {0}})
#define WEFT_CHUNKS_WHOLE ((weft_chunks){0, {0}, {0}, {0}})
/* Sets axis `axis` of c to the n explicit sizes (borrowed until the array
 * is made); grows c->ndim to axis + 1 if needed (earlier axes unset: -1). */
void weft_chunks_axis(weft_chunks *c, int axis, size_t n,
                      const int64_t *sizes);

/* Axes of a reduction: WEFT_AXES(0), WEFT_AXES(0, 2), WEFT_AXES_ALL.
 * Negative axes count from the end, as in numpy. */
typedef struct weft_axes {
  int n; /* -1: every axis */
  int ax[WEFT_ARRAY_MAX_NDIM];
} weft_axes;
#define WEFT_AXES(...) ((weft_axes){WEFT__NARG(__VA_ARGS__), {__VA_ARGS__}})
#define WEFT_AXES_ALL ((weft_axes){-1, {0}})

/* ---- creation ----
 * dtypes: bool, int32, int64, float32, float64 (others are refused with an
 * error naming them). Values are made inside the tasks that need them. */
weft_array *weft_ones(weft_graph *g, weft_dtype dt, weft_shape shape,
                      weft_chunks chunks);
weft_array *weft_zeros(weft_graph *g, weft_dtype dt, weft_shape shape,
                       weft_chunks chunks);
/* numpy's empty: the values are unspecified; weft gives zeros. */
weft_array *weft_empty(weft_graph *g, weft_dtype dt, weft_shape shape,
                       weft_chunks chunks);
weft_array *weft_full(weft_graph *g, weft_dtype dt, weft_shape shape,
                      weft_chunks chunks, double value);
/* numpy.arange(start, stop, step, dtype): ceil((stop - start) / step)
 * elements start + i * step (computed in the dtype's kind). */
weft_array *weft_arange(weft_graph *g, weft_dtype dt, double start,
                        double stop, double step, weft_chunks chunks);
/* numpy.linspace(start, stop, num, endpoint), float64. */
weft_array *weft_linspace(weft_graph *g, double start, double stop,
                          int64_t num, bool endpoint, weft_chunks chunks);
/* numpy.eye(n, m, k): ones on the k-th diagonal of an n x m array. */
weft_array *weft_eye(weft_graph *g, weft_dtype dt, int64_t n, int64_t m,
                     int64_t k, weft_chunks chunks);
/* float64 values, uniform in [low, high), or normal (mean, stddev):
 * element i (C order in the whole array) comes from Philox-4x32-10 with key
 * `seed`, so values depend only on the seed and the element's index.
 * Uniform: counter {i / 2, 0} (as two 64-bit words), its 64-bit half i % 2,
 * top 53 bits times 2^-53 = u, low + (high - low) * u. Normal: counter
 * {i, 1 << 32}, Box-Muller of its halves, u1 = (top 53 bits + 1) 2^-53 and
 * u2 = top 53 bits times 2^-53: mean + stddev * sqrt(-2 ln u1)
 * cos(2 pi u2), cos and log being glibc's vector versions (libmvec) where
 * weft was built with them. */
weft_array *weft_random_uniform(weft_graph *g, uint64_t seed, double low,
                                double high, weft_shape shape,
                                weft_chunks chunks);
weft_array *weft_random_normal(weft_graph *g, uint64_t seed, double mean,
                               double stddev, weft_shape shape,
                               weft_chunks chunks);
/* Over the caller's elements (C order, aligned for the dtype), without a
 * copy: they must stay valid and unchanged while computes that use the
 * array run. Chunks that are whole rows of the buffer are handed on as they
 * are; others are copied out of it by their task (a task that reads the
 * caller's memory, so it runs in the computing process under procs). */
weft_array *weft_array_from_buffer(weft_graph *g, weft_dtype dt,
                                   weft_shape shape, weft_chunks chunks,
                                   const void *data);
/* numpy's np.load(path, mmap_mode='r') then da.from_array(x, chunks): the
 * .npy file (weft/npy.h) is opened and mapped once, here; each chunk is a
 * task that takes its block with weft_npy_block, a view of the mapping
 * without a copy when the block is contiguous in the file (whole rows of a
 * C-order file in this byte order), a copy otherwise (Fortran order, other
 * byte order, a block narrower than a row). The mapping lives while the
 * array or any chunk viewing it does. The tasks read this process' mapping,
 * so they run in the computing process under procs. Errors (the graph's,
 * naming the file): an unreadable or invalid .npy, a dtype arrays do not
 * have (int8, uint16, ...: WEFT_ENOTSUP), chunks that do not fit. */
weft_array *weft_array_from_npy(weft_graph *g, const char *path,
                                weft_chunks chunks);
/* Dask's from_delayed / map_blocks with no input: each chunk is made by the
 * registered task fn, called with three arguments: a list of the block's
 * indices (ints), a list of the block's first element per axis, and
 * `extra` (the array takes over its reference). fn returns a chunk of the
 * array's dtype and of the block's shape; anything else fails the compute
 * naming the block. */
weft_array *weft_array_from_blocks(weft_graph *g, const weft_fn_info *fn,
                                   weft_dtype dt, weft_shape shape,
                                   weft_chunks chunks, weft_value extra);
/* A 0-d array holding a Python-like scalar: it promotes as numpy 1.24
 * promotes Python numbers, by value beside an array of 1 dimension or more
 * (an int keeps an int32 array int32 when it fits int32, a float32 array
 * float32 within -32768..65535; a float keeps a float32 array float32
 * within (-3.4e38, 3.4e38)) and by dtype beside a 0-d array (int64,
 * float64, bool), as numpy's scalars. */
weft_array *weft_array_scalar(weft_graph *g, double v);
weft_array *weft_array_scalar_int(weft_graph *g, int64_t v);
weft_array *weft_array_scalar_bool(weft_graph *g, bool v);

/* ---- elementwise (numpy broadcasting and type promotion) ---- */
typedef enum weft_array_op {
  WEFT_AOP_ADD, WEFT_AOP_SUB, WEFT_AOP_MUL, WEFT_AOP_DIV, WEFT_AOP_FLOORDIV,
  WEFT_AOP_MOD, WEFT_AOP_POW, WEFT_AOP_MAXIMUM, WEFT_AOP_MINIMUM,
  WEFT_AOP_EQ, WEFT_AOP_NE, WEFT_AOP_LT, WEFT_AOP_LE, WEFT_AOP_GT,
  WEFT_AOP_GE, WEFT_AOP_AND, WEFT_AOP_OR, WEFT_AOP_XOR, WEFT_AOP_ATAN2,
  WEFT_AOP__COUNT
} weft_array_op;
typedef enum weft_array_fn {
  WEFT_AFN_NEG, WEFT_AFN_ABS, WEFT_AFN_SQRT, WEFT_AFN_SQUARE, WEFT_AFN_EXP,
  WEFT_AFN_EXPM1, WEFT_AFN_LOG, WEFT_AFN_LOG1P, WEFT_AFN_LOG2,
  WEFT_AFN_LOG10, WEFT_AFN_SIN, WEFT_AFN_COS, WEFT_AFN_TAN, WEFT_AFN_ARCSIN,
  WEFT_AFN_ARCCOS, WEFT_AFN_ARCTAN, WEFT_AFN_SINH, WEFT_AFN_COSH,
  WEFT_AFN_TANH, WEFT_AFN_FLOOR, WEFT_AFN_CEIL, WEFT_AFN_TRUNC,
  WEFT_AFN_RINT, WEFT_AFN_SIGN, WEFT_AFN_NOT, WEFT_AFN_ISNAN,
  WEFT_AFN_ISINF, WEFT_AFN_ISFINITE,
  WEFT_AFN__COUNT
} weft_array_fn;

weft_array *weft_array_op2(weft_array_op op, weft_array *a, weft_array *b);
/* a op s and s op a with a Python number s: an integral s is a Python int
 * (int32 * 2 stays int32, as in numpy), any other a Python float. */
weft_array *weft_array_op2s(weft_array_op op, weft_array *a, double s);
weft_array *weft_array_rop2s(weft_array_op op, double s, weft_array *a);
weft_array *weft_array_op1(weft_array_fn fn, weft_array *a);
/* numpy.where(cond, a, b): cond is cast to bool. */
weft_array *weft_array_where(weft_array *cond, weft_array *a, weft_array *b);
/* numpy.clip(a, lo, hi); NAN for no bound. */
weft_array *weft_array_clip(weft_array *a, double lo, double hi);
/* a.astype(dt): C casts, floats to ints truncating toward 0. */
weft_array *weft_array_astype(weft_array *a, weft_dtype dt);

static inline weft_array *weft_array_add(weft_array *a, weft_array *b) {
  return weft_array_op2(WEFT_AOP_ADD, a, b);
}
static inline weft_array *weft_array_sub(weft_array *a, weft_array *b) {
  return weft_array_op2(WEFT_AOP_SUB, a, b);
}
static inline weft_array *weft_array_mul(weft_array *a, weft_array *b) {
  return weft_array_op2(WEFT_AOP_MUL, a, b);
}
static inline weft_array *weft_array_div(weft_array *a, weft_array *b) {
  return weft_array_op2(WEFT_AOP_DIV, a, b);
}
static inline weft_array *weft_array_cos(weft_array *a) {
  return weft_array_op1(WEFT_AFN_COS, a);
}
static inline weft_array *weft_array_sin(weft_array *a) {
  return weft_array_op1(WEFT_AFN_SIN, a);
}
static inline weft_array *weft_array_exp(weft_array *a) {
  return weft_array_op1(WEFT_AFN_EXP, a);
}
static inline weft_array *weft_array_sqrt(weft_array *a) {
  return weft_array_op1(WEFT_AFN_SQRT, a);
}

/* A user's registered kernel applied block by block (Dask's map_blocks):
 * the n inputs must have the same shape and chunks (weft_array_rechunk
 * otherwise); fn is called with the n input chunks and `extra` (taken
 * over) and returns a chunk of dtype dt and of the block's shape. */
weft_array *weft_array_map_blocks(const weft_fn_info *fn, weft_dtype dt,
                                  size_t n, weft_array *const in[],
                                  weft_value extra);

/* ---- slicing and shape ---- */
/* numpy basic indexing written as in Python, without the brackets:
 * "::-1, ::-1", "10:20, :", "-5:", "..., 0", "None, :, 3". Integer indices
 * drop their axis; out-of-range indices and bad text are errors naming the
 * text, its column and the shape. */
weft_array *weft_array_slice(weft_array *a, const char *spec);

typedef enum weft_index_kind {
  WEFT_IDX_SLICE, WEFT_IDX_INT, WEFT_IDX_NEWAXIS, WEFT_IDX_ELLIPSIS
} weft_index_kind;
#define WEFT_IDX_NONE INT64_MIN /* an omitted start or stop */
typedef struct weft_index {
  weft_index_kind kind;
  int64_t start, stop, step; /* SLICE: start/stop may be WEFT_IDX_NONE;
                                INT: start is the index */
} weft_index;
/* The same from n index items (weft_slice(...), weft_at(i), ...). */
weft_array *weft_array_index(weft_array *a, size_t n, const weft_index *idx);
static inline weft_index weft_slice(int64_t start, int64_t stop,
                                    int64_t step) {
  weft_index i = {WEFT_IDX_SLICE, start, stop, step};
  return i;
}
static inline weft_index weft_at(int64_t i) {
  weft_index x = {WEFT_IDX_INT, i, 0, 1};
  return x;
}
static inline weft_index weft_newaxis(void) {
  weft_index x = {WEFT_IDX_NEWAXIS, 0, 0, 1};
  return x;
}
static inline weft_index weft_ellipsis(void) {
  weft_index x = {WEFT_IDX_ELLIPSIS, 0, 0, 1};
  return x;
}

/* perm: a permutation of the axes, or NULL to reverse them (a.T). */
weft_array *weft_array_transpose(weft_array *a, const int *perm);
/* Where each new chunk is a whole old chunk read in C order (every axis
 * after the first in one chunk, before and after, or only axes of size 1
 * added or removed); otherwise an error that names weft_array_rechunk. One
 * extent may be -1. */
weft_array *weft_array_reshape(weft_array *a, weft_shape shape);
weft_array *weft_array_rechunk(weft_array *a, weft_chunks chunks);
/* Along axis (negative counts from the end); the other extents must agree
 * (their chunks are those of the first array). stack adds the axis. */
weft_array *weft_array_concatenate(size_t n, weft_array *const a[], int axis);
weft_array *weft_array_stack(size_t n, weft_array *const a[], int axis);

/* ---- reductions ---- */
typedef enum weft_reduce_op {
  WEFT_RED_SUM, WEFT_RED_PROD, WEFT_RED_MEAN, WEFT_RED_MIN, WEFT_RED_MAX,
  WEFT_RED_VAR, WEFT_RED_STD, WEFT_RED_ANY, WEFT_RED_ALL, WEFT_RED_ARGMIN,
  WEFT_RED_ARGMAX, WEFT_RED__COUNT
} weft_reduce_op;
typedef struct weft_reduce_opts {
  bool keepdims;
  int split_every; /* blocks combined per tree node; <= 1: 8 */
  int ddof;        /* var, std: divide by N - ddof */
} weft_reduce_opts;
/* Result dtypes as numpy's: sum/prod of bool and ints int64, mean/var/std
 * of ints float64, any/all bool, argmin/argmax int64 (one axis, or all:
 * the index in the flattened array). NaN propagates through min and max;
 * argmin/argmax take the first NaN. opts may be NULL. */
weft_array *weft_array_reduce(weft_reduce_op op, weft_array *a,
                              weft_axes axes, const weft_reduce_opts *opts);
static inline weft_array *weft_array_sum(weft_array *a, weft_axes axes) {
  return weft_array_reduce(WEFT_RED_SUM, a, axes, NULL);
}
static inline weft_array *weft_array_mean(weft_array *a, weft_axes axes) {
  return weft_array_reduce(WEFT_RED_MEAN, a, axes, NULL);
}

/* ---- computing ---- */
/* A new array with the same values whose chunks are tasks of their own:
 * its consumers read those chunks instead of fusing the expression (what
 * Dask does for every operation). */
weft_array *weft_array_materialize(weft_array *a);
/* The graph nodes of a's chunks, in C order of the block grid (adds the
 * tasks to the graph on first use): for weft_compute, weft_visualize. The
 * array owns the list. 0 or a WEFT_E* code (message in the graph). */
int weft_array_blocks(weft_array *a, size_t *n, weft_node *const **nodes);
/* A 0-d array (or an array of one element) as a double. */
int weft_array_compute_scalar(weft_array *a, double *out,
                              const weft_compute_opts *opts);
/* The whole array into buf (C order, a's dtype, size bytes at least). */
int weft_array_compute_buffer(weft_array *a, void *buf, size_t size,
                              const weft_compute_opts *opts);
/* Chunk by chunk: fn receives each chunk as it is made (blocks in any
 * order, possibly from several threads at once), with its block index and
 * its first element per axis; the chunk is freed when fn returns, so the
 * whole array never sits in memory. A nonzero return of fn stops the
 * compute with WEFT_ECANCELED. */
typedef struct weft_array_block {
  const int64_t *index; /* ndim block indices */
  const int64_t *start; /* ndim first elements */
  weft_chunk_info chunk;
} weft_array_block;
typedef int (*weft_array_block_fn)(const weft_array_block *blk, void *ud);
int weft_array_compute_blocks(weft_array *a, weft_array_block_fn fn, void *ud,
                              const weft_compute_opts *opts);

/* Stores a into path as a .npy (np.save's format: C order, this machine's
 * byte order) chunk by chunk: weft_npy_create sizes the file, then each
 * block is written with weft_npy_write_block by the weft_array_compute_blocks
 * callback as soon as it is made, so the array is never whole in memory.
 * 0, or the compute's error, or WEFT_EIO / WEFT_ESYS for the file (message
 * in the graph, naming the file); on any error the file is removed. */
int weft_array_to_npy(weft_array *a, const char *path,
                      const weft_compute_opts *opts);

/* ---- numpy-style text ----
 * Builds the array an expression describes, as numpy and dask.array spell
 * it: creation (ones, zeros, empty, full, arange, linspace, eye, random,
 * uniform, normal, with shape, chunks=, dtype=, seed=), operators with
 * Python's precedence (+ - * / // % ** == != < <= > >= & | ^ ~; & | ^ ~
 * on bools only: numpy's are bitwise on ints, which is refused), math
 * functions (cos, exp, ..., where, clip, maximum, ...), slices ("a[::-1,
 * 1:5]"), methods (.sum(axis=, keepdims=, split_every=), .mean(), ...,
 * .astype(), .reshape(), .transpose(), .T, .rechunk()), concatenate and
 * stack, and the named arrays vars[i] (names[i]). An "np." or "da." prefix
 * is accepted. Nothing is computed. Returns 0 and *out (yours to free), or
 * an error with the message in err and the 1-based column in *col. */
int weft_array_parse(weft_graph *g, const char *text, size_t nvars,
                     const char *const *names, weft_array *const *vars,
                     weft_array **out, char *err, size_t errsize, int *col);

/* ---- pictures ----
 * a.visualize(): arrays of at most WEFT_ARRAY_PICTURE_TASKS tasks are drawn
 * task by task (weft_visualize of their blocks: the seed's 4-chunk ones,
 * its sum tree); bigger ones one box per layer, with its shape, dtype and
 * chunk count, fused layers dashed. Format from path or opts (DOT, SVG, PNG,
 * PDF; all but DOT need Graphviz). Errors as weft_visualize's. */
#define WEFT_ARRAY_PICTURE_TASKS 500
int weft_array_visualize(weft_array *a, const char *path,
                         const weft_visualize_opts *opts);

/* ---- what an array is ---- */
weft_graph *weft_array_graph(const weft_array *a);
weft_dtype weft_array_dtype(const weft_array *a);
int weft_array_ndim(const weft_array *a);
const int64_t *weft_array_shape(const weft_array *a);
int64_t weft_array_size(const weft_array *a);    /* elements */
double weft_array_nbytes(const weft_array *a);   /* bytes, as a double */
/* Chunks along axis: their number, and their sizes (borrowed). */
size_t weft_array_numblocks(const weft_array *a, int axis);
const int64_t *weft_array_chunk_sizes(const weft_array *a, int axis);
/* Dask's repr: "weft_array<shape=(200000, 4000) float64 chunks=(1000,
 * 1000) 800 chunks 800 tasks 6.40 GB (chunk 8.00 MB)>", snprintf-style. */
size_t weft_array_format(const weft_array *a, char *buf, size_t size);

weft_array *weft_array_retain(weft_array *a);
void weft_array_free(weft_array *a);

#ifdef __cplusplus
}
#endif
#endif
