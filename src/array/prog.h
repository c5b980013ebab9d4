/* prog.h - the program an array task runs: the fused expression of a block,
 * as position-independent bytes (a weft bytes value shared by every task of
 * a layer, so it travels to worker processes like any argument). Internal.
 *
 * Layout: a prog_hdr, then nnodes pnodes (kids before parents, the root
 * last), then npool int64 values (chunk boundaries). The root's chunk grid
 * says which region a block index means; each CHUNKS leaf's grid says which
 * of the task's arguments hold the elements a region reads.
 *
 * Leaves are visited depth first from the root, kids in order; a CHUNKS
 * leaf reached at visit v with region R takes, as arguments of the task,
 * the blocks of the leaf's grid that the bounding box of R meets, in C
 * order. Build (src/opt/blockwise.c) and run (eval.c) use the same walk
 * (weft__prog_walk), so they agree on the order. */
#ifndef WEFT_ARRAY_PROG_H
#define WEFT_ARRAY_PROG_H

#include <stdbool.h>
#include <stdint.h>

#include "array_impl.h"

#define PROG_MAGIC 0x77617270u /* "warp" */

typedef struct pnode {
  int32_t kind, op, dtype, ndim;
  int32_t nkids, kid[3];
  int32_t vaxis[MAXD];
  uint8_t fixed[MAXD];
  int64_t shape[MAXD];
  int64_t vstart[MAXD], vstep[MAXD], fixidx[MAXD];
  double pd[4];
  int64_t pi[4];
  int64_t cb[MAXD]; /* grid: offset in the pool of nc + 1 boundaries */
  int64_t nc[MAXD]; /* chunks per axis; 0: no grid stored */
} pnode;

/* What a reduction task does with the root's values (red_op < 0: none). */
typedef struct prog_red {
  int32_t op;           /* weft_reduce_op */
  int32_t ct;           /* compute type of the states */
  int32_t out_dtype;    /* of the final chunks */
  int32_t keepdims, ddof;
  uint8_t axes[MAXD];   /* reduced axes of the root */
  double count;         /* elements reduced into each output element */
} prog_red;

typedef struct prog_hdr {
  uint32_t magic;
  int32_t nnodes;
  int64_t npool;
  prog_red red;
} prog_hdr;

typedef struct prog {
  const prog_hdr *h;
  const pnode *nodes;
  const int64_t *pool;
} prog;

/* A strided region of a node: along axis k, count[k] elements at
 * start[k] + i * step[k]. */
typedef struct region {
  int nd;
  int64_t start[MAXD], step[MAXD], count[MAXD];
} region;

/* Reads a program from bytes: 0 or WEFT_EWIRE (malformed). */
int weft__prog_open(const void *data, size_t len, prog *p);
/* The region of block b of the root's grid. */
void weft__prog_block_region(const prog *p, int64_t b, region *r);
/* The region of kid k of node n read when n is evaluated over r. */
void weft__prog_kid_region(const prog *p, const pnode *n, int k,
                           const region *r, region *kr);
/* The blocks of leaf's grid the bounding box of r meets: lo[k] and
 * cnt[k] per axis; returns their number. */
int64_t weft__prog_leaf_blocks(const prog *p, const pnode *leaf,
                               const region *r, int64_t *lo, int64_t *cnt);
/* Depth-first walk over the CHUNKS leaves from the root over region r:
 * fn(leaf, its region, ud) per visit, in the order arguments follow.
 * Returns the first nonzero fn result. */
int weft__prog_walk(const prog *p, const region *r,
                    int (*fn)(const pnode *leaf, const region *lr, void *ud),
                    void *ud);
static inline const pnode *weft__prog_root(const prog *p) {
  return &p->nodes[p->h->nnodes - 1];
}
static inline int64_t weft__region_size(const region *r) {
  int64_t n = 1;
  for (int k = 0; k < r->nd; k++)
    n *= r->count[k];
  return n;
}

#endif
