/* prog.c - reading a block program and walking it: which region of each
 * input a region of the output reads, and which stored blocks that is. The
 * builder of tasks (src/opt/blockwise.c) and the evaluator (eval.c) share
 * these functions, so both agree on the arguments of every task. */
#include <string.h>

#include "prog.h"
#include "weft/error.h"

int weft__prog_open(const void *data, size_t len, prog *p) {
  if (!data || len < sizeof(prog_hdr) || (uintptr_t)data % 8)
    return WEFT_EWIRE;
  const prog_hdr *h = data;
  if (h->magic != PROG_MAGIC || h->nnodes < 1 || h->npool < 0 ||
      len != sizeof *h + (size_t)h->nnodes * sizeof(pnode) +
                 (size_t)h->npool * sizeof(int64_t))
    return WEFT_EWIRE;
  p->h = h;
  p->nodes = (const pnode *)(h + 1);
  p->pool = (const int64_t *)(p->nodes + h->nnodes);
  for (int i = 0; i < h->nnodes; i++) {
    const pnode *n = &p->nodes[i];
    if (n->ndim < 0 || n->ndim > MAXD || n->nkids < 0 || n->nkids > 3)
      return WEFT_EWIRE;
    for (int k = 0; k < n->nkids; k++)
      if (n->kid[k] < 0 || n->kid[k] >= i)
        return WEFT_EWIRE;
    for (int k = 0; k < n->ndim; k++)
      if (n->nc[k] < 0 || n->cb[k] < 0 || n->cb[k] + n->nc[k] + 1 > h->npool + (n->nc[k] ? 0 : 1))
        return WEFT_EWIRE;
  }
  return 0;
}

void weft__prog_block_region(const prog *p, int64_t b, region *r) {
  const pnode *n = weft__prog_root(p);
  r->nd = n->ndim;
  for (int k = n->ndim - 1; k >= 0; k--) {
    int64_t nc = n->nc[k];
    int64_t bk = b % nc;
    b /= nc;
    const int64_t *bnd = p->pool + n->cb[k];
    r->start[k] = bnd[bk];
    r->step[k] = 1;
    r->count[k] = bnd[bk + 1] - bnd[bk];
  }
}

void weft__prog_kid_region(const prog *p, const pnode *n, int k,
                           const region *r, region *kr) {
  const pnode *kid = &p->nodes[n->kid[k]];
  kr->nd = kid->ndim;
  if (n->kind == AK_VIEW) {
    for (int j = 0; j < kid->ndim; j++) {
      kr->start[j] = n->fixidx[j];
      kr->step[j] = 1;
      kr->count[j] = 1;
    }
    for (int q = 0; q < n->ndim; q++) {
      int s = n->vaxis[q];
      if (s < 0)
        continue;
      kr->start[s] = n->vstart[q] + n->vstep[q] * r->start[q];
      kr->step[s] = n->vstep[q] * r->step[q];
      kr->count[s] = r->count[q];
    }
    return;
  }
  int off = n->ndim - kid->ndim; /* ELEM: broadcasting */
  for (int j = 0; j < kid->ndim; j++) {
    if (kid->shape[j] == 1) {
      kr->start[j] = 0;
      kr->step[j] = 1;
      kr->count[j] = r->count[j + off] ? 1 : 0;
    } else {
      kr->start[j] = r->start[j + off];
      kr->step[j] = r->step[j + off];
      kr->count[j] = r->count[j + off];
    }
  }
}

/* The block of boundaries bnd[0..nc] holding index x. */
static int64_t find_block(const int64_t *bnd, int64_t nc, int64_t x) {
  int64_t lo = 0, hi = nc; /* bnd[lo] <= x < bnd[hi] */
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    if (bnd[mid] <= x)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

int64_t weft__prog_leaf_blocks(const prog *p, const pnode *leaf,
                               const region *r, int64_t *lo, int64_t *cnt) {
  int64_t total = 1;
  for (int k = 0; k < leaf->ndim; k++)
    if (r->count[k] == 0) {
      for (int j = 0; j < leaf->ndim; j++)
        lo[j] = cnt[j] = 0;
      return 0;
    }
  for (int k = 0; k < leaf->ndim; k++) {
    int64_t a = r->start[k], b = r->start[k] + (r->count[k] - 1) * r->step[k];
    if (a > b) {
      int64_t t = a;
      a = b;
      b = t;
    }
    const int64_t *bnd = p->pool + leaf->cb[k];
    int64_t ba = find_block(bnd, leaf->nc[k], a);
    int64_t bb = find_block(bnd, leaf->nc[k], b);
    lo[k] = ba;
    cnt[k] = bb - ba + 1;
    total *= cnt[k];
  }
  return total;
}

static int walk(const prog *p, const pnode *n, const region *r,
                int (*fn)(const pnode *, const region *, void *), void *ud) {
  if (n->kind == AK_CHUNKS)
    return fn(n, r, ud);
  for (int k = 0; k < n->nkids; k++) {
    region kr;
    weft__prog_kid_region(p, n, k, r, &kr);
    int rc = walk(p, &p->nodes[n->kid[k]], &kr, fn, ud);
    if (rc)
      return rc;
  }
  return 0;
}

int weft__prog_walk(const prog *p, const region *r,
                    int (*fn)(const pnode *leaf, const region *lr, void *ud),
                    void *ud) {
  return walk(p, weft__prog_root(p), r, fn, ud);
}
