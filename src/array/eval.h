/* eval.h - evaluating block programs tile by tile (eval.c), shared with the
 * reduction tasks (reduce_run.c). Internal to weft. */
#ifndef WEFT_ARRAY_EVAL_H
#define WEFT_ARRAY_EVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "prog.h"
#include "weft/fn.h"

/* Elements per tile: 8192 values of 8 bytes (64 KiB) per buffer, so the few
 * buffers of an expression stay in the 1 MiB L2 cache. */
#define TILE 8192

typedef struct leafinfo {
  int64_t base;          /* first argument (after the fixed ones) */
  int64_t n;             /* blocks */
  int64_t lo[MAXD], cnt[MAXD];
} leafinfo;

typedef struct ectx {
  prog prog;
  const prog *p;
  const weft_value *args; /* the stored input chunks */
  size_t nargs;
  region region;          /* the task's block */
  leafinfo *leaves;
  int nleaves, capleaves, visit;
  char *arena;            /* this thread's scratch */
  size_t used, cap;
  void *own;              /* an aligned copy of the program, if needed */
  weft_task_ctx *ctx;
  int err;
  bool sc;                /* the last node evaluated is a constant tile */
} ectx;

/* Opens the program in args[0]; the input chunks follow args[nfixed - 1].
 * block >= 0: the task's block of the root grid (sets e->region and checks
 * the inputs). Returns 0 or the task's failure; close in both cases. */
int weft__ectx_open(ectx *e, weft_task_ctx *ctx, const weft_value *args,
                    size_t nargs, size_t nfixed, int64_t block);
void weft__ectx_close(ectx *e);
/* The root's values over tile (in its compute type), in e's scratch until
 * the next tile; NULL on failure (e->err set). *constant: the tile is one
 * value repeated (generated constants and what is computed from them
 * only), and the buffer holds that one value. */
void *weft__eval_tile(ectx *e, const region *tile, bool *constant);
/* cnt copies of the one value at `one` (compute type ct), in e's scratch. */
void *weft__widen(ectx *e, const void *one, size_t cnt, int ct);

/* Cuts a region into tiles contiguous in its C order. */
typedef struct tiler {
  region r;
  int axis;
  int64_t len, total;
  int64_t idx[MAXD];
  bool done;
} tiler;
void weft__tiles_init(tiler *t, const region *r);
/* The next tile and its position (index offsets within r); false at the
 * end. A region without elements gives one empty tile. */
bool weft__tiles_next(tiler *t, region *tile, int64_t *pos);

#endif
