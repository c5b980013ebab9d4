/* blockwise.c - fusion of array layers into block tasks (Dask's Blockwise
 * fusion, done before any task exists).
 *
 * An array expression is a small graph of layers (src/array/array_impl.h).
 * Every layer that is not stored chunks - generated values, elementwise
 * operations, casts, slices, transposes, rechunks - is fused into the tasks
 * of its consumer: this pass writes the whole expression down to the
 * stored inputs as one program (src/array/prog.h), shared by every task of
 * the layer, and adds one task per block whose arguments are the program,
 * the block's index and the stored input blocks that block reads. So the
 * cost of fusion is per layer, not per chunk, and adding a task is one
 * weft_call_fn: a million-chunk array is a few hundred milliseconds.
 *
 * Reductions fuse too: their first level evaluates the input's program
 * over each input block in tiles and reduces the tiles at once; then the
 * partial results of an output block are combined split_every at a time,
 * in block order, so the tree (and a float result's rounding) is the same
 * whatever runs it. Tasks are added output block by output block, each
 * block's partials followed by its combines, so the schedulers, which start
 * ready tasks in the order they were added, finish one output block's tree
 * before starting many others: few partial states are alive at once. */
#include <stdlib.h>
#include <string.h>

#include "../array/array_impl.h"
#include "../array/prog.h"
#include "weft/error.h"

extern weft_fn_info weft__fn_array_block, weft__fn_array_partial,
    weft__fn_array_combine;

typedef struct builder {
  weft_array **arrs; /* arrs[i] made pnode i */
  pnode *nodes;
  int n, cap;
  int64_t *pool;
  int64_t npool, poolcap;
  int err;
} builder;

static int pool_grid(builder *b, pnode *pn, const weft_array *a) {
  int64_t need = 0;
  for (int k = 0; k < a->ndim; k++)
    need += a->nchunks[k] + 1;
  if (b->npool + need > b->poolcap) {
    int64_t cap = (b->npool + need) * 2;
    int64_t *p = realloc(b->pool, (size_t)cap * sizeof *p);
    if (!p)
      return WEFT_ENOMEM;
    b->pool = p;
    b->poolcap = cap;
  }
  for (int k = 0; k < a->ndim; k++) {
    pn->cb[k] = b->npool;
    pn->nc[k] = a->nchunks[k];
    int64_t s = 0;
    b->pool[b->npool++] = 0;
    for (int64_t i = 0; i < a->nchunks[k]; i++) {
      s += a->chunks[k][i];
      b->pool[b->npool++] = s;
    }
  }
  return 0;
}

static int add(builder *b, weft_array *a, bool root) {
  for (int i = 0; i < b->n; i++)
    if (b->arrs[i] == a && !root)
      return i;
  int kids[3] = {0, 0, 0};
  bool leaf = a->kind == AK_CHUNKS;
  if (!leaf)
    for (int k = 0; k < a->nkids; k++) {
      kids[k] = add(b, a->kid[k], false);
      if (kids[k] < 0)
        return -1;
    }
  if (b->n == b->cap) {
    int cap = b->cap ? b->cap * 2 : 8;
    pnode *nn = realloc(b->nodes, (size_t)cap * sizeof *nn);
    weft_array **na = nn ? realloc(b->arrs, (size_t)cap * sizeof *na) : NULL;
    if (nn)
      b->nodes = nn;
    if (!na)
      return b->err = WEFT_ENOMEM, -1;
    b->arrs = na;
    b->cap = cap;
  }
  pnode *pn = &b->nodes[b->n];
  memset(pn, 0, sizeof *pn);
  pn->kind = a->kind;
  pn->op = a->op;
  pn->dtype = (int32_t)a->dtype;
  pn->ndim = a->ndim;
  memcpy(pn->shape, a->shape, sizeof pn->shape);
  pn->nkids = leaf ? 0 : a->nkids;
  memcpy(pn->kid, kids, sizeof kids);
  for (int k = 0; k < MAXD; k++) {
    pn->vaxis[k] = a->vaxis[k];
    pn->fixed[k] = a->fixed[k];
  }
  memcpy(pn->vstart, a->vstart, sizeof pn->vstart);
  memcpy(pn->vstep, a->vstep, sizeof pn->vstep);
  memcpy(pn->fixidx, a->fixidx, sizeof pn->fixidx);
  memcpy(pn->pd, a->pd, sizeof pn->pd);
  memcpy(pn->pi, a->pi, sizeof pn->pi);
  if ((leaf || root) && pool_grid(b, pn, a))
    return b->err = WEFT_ENOMEM, -1;
  b->arrs[b->n] = a;
  return b->n++;
}

/* Writes the program of root (with reduction spec red, or none) into a
 * new bytes value. */
static int build(weft_array *root, const prog_red *red, builder *b,
                 weft_value *out) {
  memset(b, 0, sizeof *b);
  *out = weft_none();
  if (add(b, root, true) < 0)
    return b->err ? b->err : WEFT_ENOMEM;
  size_t len = sizeof(prog_hdr) + (size_t)b->n * sizeof(pnode) +
               (size_t)b->npool * sizeof(int64_t);
  void *data;
  if (weft_bytes_alloc(out, len, &data))
    return WEFT_ENOMEM;
  prog_hdr h;
  memset(&h, 0, sizeof h);
  h.magic = PROG_MAGIC;
  h.nnodes = b->n;
  h.npool = b->npool;
  if (red)
    h.red = *red;
  else
    h.red.op = -1;
  memcpy(data, &h, sizeof h);
  memcpy((char *)data + sizeof h, b->nodes, (size_t)b->n * sizeof(pnode));
  if (b->npool)
    memcpy((char *)data + sizeof h + (size_t)b->n * sizeof(pnode), b->pool,
           (size_t)b->npool * sizeof(int64_t));
  return 0;
}

static void builder_free(builder *b) {
  free(b->arrs);
  free(b->nodes);
  free(b->pool);
}

/* Argument lists: a growing array of values. */
typedef struct argv_ {
  weft_value *v;
  size_t n, cap;
  const prog *p;
  const builder *b;
  int err;
} argv_;

static int push(argv_ *a, weft_value v) {
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 16;
    weft_value *nv = realloc(a->v, cap * sizeof *nv);
    if (!nv)
      return a->err = WEFT_ENOMEM;
    a->v = nv;
    a->cap = cap;
  }
  a->v[a->n++] = v;
  return 0;
}

static int leaf_args(const pnode *leaf, const region *lr, void *ud) {
  argv_ *a = ud;
  const weft_array *arr = a->b->arrs[leaf - a->p->nodes];
  int64_t lo[MAXD], cnt[MAXD], idx[MAXD];
  int64_t n = weft__prog_leaf_blocks(a->p, leaf, lr, lo, cnt);
  for (int k = 0; k < leaf->ndim; k++)
    idx[k] = 0;
  for (int64_t q = 0; q < n; q++) {
    size_t flat = 0;
    for (int k = 0; k < leaf->ndim; k++)
      flat = flat * (size_t)arr->nchunks[k] + (size_t)(lo[k] + idx[k]);
    if (push(a, weft_node_ref(arr->blocks[flat])))
      return a->err;
    for (int k = leaf->ndim - 1; k >= 0; k--) {
      if (++idx[k] < cnt[k])
        break;
      idx[k] = 0;
    }
  }
  return 0;
}

/* Tasks of the stored inputs, each counted once. */
static size_t input_tasks(const builder *b) {
  size_t n = 0;
  for (int i = 0; i < b->n; i++)
    if (b->arrs[i]->kind == AK_CHUNKS)
      n += b->arrs[i]->ntasks;
  return n;
}

/* One node of fn with args prefix[0..np) then the leaf blocks region r of
 * the program reads. */
static weft_node *task(weft_graph *g, const weft_fn_info *fn, argv_ *av,
                       const weft_value *prefix, size_t np, const region *r) {
  av->n = 0;
  for (size_t i = 0; i < np; i++)
    if (push(av, prefix[i]))
      return NULL;
  if (weft__prog_walk(av->p, r, leaf_args, av))
    return NULL;
  return weft_call_fn(g, fn, av->n, av->v);
}

int weft__array_lower(weft_array *a) {
  if (a->blocks)
    return 0;
  if (a->kind == AK_CHUNKS)
    return weft__graph_msg(a->g, WEFT_EINVAL, "stored array without blocks");
  size_t nb = weft__array_nblocks(a);
  weft_node **blocks = malloc((nb ? nb : 1) * sizeof *blocks);
  builder b;
  weft_value pv;
  int rc = blocks ? build(a, NULL, &b, &pv) : WEFT_ENOMEM;
  if (rc) {
    free(blocks);
    if (!blocks)
      memset(&b, 0, sizeof b);
    builder_free(&b);
    weft__array_fail(a->g, WEFT_ENOMEM, "out of memory lowering an array");
    return WEFT_ENOMEM;
  }
  prog p;
  weft__prog_open(weft_value_bytes(&pv), weft_value_len(&pv), &p);
  argv_ av = {NULL, 0, 0, &p, &b, 0};
  for (size_t i = 0; i < nb && !rc; i++) {
    region r;
    weft__prog_block_region(&p, (int64_t)i, &r);
    weft_value pre[2] = {weft_value_retain(&pv), weft_int((int64_t)i)};
    blocks[i] = task(a->g, &weft__fn_array_block, &av, pre, 2, &r);
    if (!blocks[i])
      rc = weft_graph_status(a->g) ? weft_graph_status(a->g) : WEFT_ENOMEM;
  }
  a->ntasks = nb + input_tasks(&b);
  weft_value_release(&pv);
  free(av.v);
  builder_free(&b);
  if (rc) {
    free(blocks);
    if (!weft_graph_status(a->g))
      weft__array_fail(a->g, rc, "out of memory adding array tasks");
    return rc;
  }
  a->blocks = blocks;
  a->nblocks = nb;
  return 0;
}

/* Blocks of the reduction of x into out (an AK_CHUNKS array whose grid is
 * x's grid without, or with size-1, reduced axes). */
int weft__array_lower_reduce(weft_array *out, weft_array *x,
                             const prog_red *red, int split_every) {
  size_t nout = weft__array_nblocks(out);
  weft_node **blocks = malloc((nout ? nout : 1) * sizeof *blocks);
  builder b;
  weft_value pv;
  int rc = blocks ? build(x, red, &b, &pv) : WEFT_ENOMEM;
  if (rc) {
    free(blocks);
    if (!blocks)
      memset(&b, 0, sizeof b);
    builder_free(&b);
    weft__array_fail(out->g, WEFT_ENOMEM, "out of memory lowering a reduction");
    return WEFT_ENOMEM;
  }
  prog p;
  weft__prog_open(weft_value_bytes(&pv), weft_value_len(&pv), &p);
  argv_ av = {NULL, 0, 0, &p, &b, 0};
  /* the reduced axes' block grid, walked for every output block */
  int nd = x->ndim, nred = 0, red_axes[MAXD], keep_axes[MAXD], nkeep = 0;
  size_t per = 1;
  for (int k = 0; k < nd; k++) {
    if (red->axes[k]) {
      red_axes[nred++] = k;
      per *= (size_t)x->nchunks[k];
    } else {
      keep_axes[nkeep++] = k;
    }
  }
  weft_node **level = malloc((per ? per : 1) * sizeof *level);
  size_t ntasks = 0;
  if (!level)
    rc = WEFT_ENOMEM;
  int64_t xi[MAXD];
  for (size_t o = 0; o < nout && !rc; o++) {
    /* output block o: indices of the kept axes, C order */
    size_t rest = o;
    for (int q = nkeep - 1; q >= 0; q--) {
      int64_t nc = x->nchunks[keep_axes[q]];
      xi[keep_axes[q]] = (int64_t)(rest % (size_t)nc);
      rest /= (size_t)nc;
    }
    for (int q = 0; q < nred; q++)
      xi[red_axes[q]] = 0;
    size_t n = 0;
    for (size_t r = 0; r < per && !rc; r++) {
      size_t flat = 0;
      for (int k = 0; k < nd; k++)
        flat = flat * (size_t)x->nchunks[k] + (size_t)xi[k];
      region reg;
      weft__prog_block_region(&p, (int64_t)flat, &reg);
      weft_value pre[4] = {weft_value_retain(&pv), weft_int((int64_t)flat),
                           weft_int(per == 1), weft_int((int64_t)o)};
      level[n] = task(out->g, &weft__fn_array_partial, &av, pre, 4, &reg);
      if (!level[n++])
        rc = WEFT_ENOMEM;
      for (int q = nred - 1; q >= 0; q--) {
        if (++xi[red_axes[q]] < x->nchunks[red_axes[q]])
          break;
        xi[red_axes[q]] = 0;
      }
    }
    ntasks += n;
    while (n > 1 && !rc) {
      size_t m = 0;
      for (size_t i = 0; i < n && !rc; i += (size_t)split_every) {
        size_t take = n - i < (size_t)split_every ? n - i : (size_t)split_every;
        bool final = n <= (size_t)split_every;
        av.n = 0;
        push(&av, weft_value_retain(&pv));
        push(&av, weft_int(final));
        push(&av, weft_int((int64_t)o));
        for (size_t j = 0; j < take; j++)
          push(&av, weft_node_ref(level[i + j]));
        if (av.err) {
          rc = av.err;
          break;
        }
        level[m] = weft_call_fn(out->g, &weft__fn_array_combine, av.n, av.v);
        if (!level[m++])
          rc = WEFT_ENOMEM;
        ntasks++;
      }
      n = m;
    }
    if (!rc)
      blocks[o] = level[0];
  }
  out->ntasks = ntasks + input_tasks(&b);
  free(level);
  weft_value_release(&pv);
  free(av.v);
  builder_free(&b);
  if (rc) {
    free(blocks);
    if (!weft_graph_status(out->g))
      weft__array_fail(out->g, rc, "out of memory adding reduction tasks");
    return rc;
  }
  out->blocks = blocks;
  out->nblocks = nout;
  return 0;
}
