/* eval.c - running a block program (prog.h) over one region, tile by tile.
 *
 * A task's region (its block) is cut into tiles of about TILE elements
 * that are contiguous in the block's C order: some leading indices fixed,
 * a range of one axis, every later axis whole. For each tile the
 * expression is evaluated bottom-up into scratch buffers of TILE values
 * that stay in the L2 cache: generated inputs are produced in place,
 * stored inputs are read from the chunks the task got as arguments,
 * elementwise operations run their kern.c loop, views only change which
 * elements their input is asked for. The tile then goes to its consumer:
 * copied into the output chunk (the block task), or reduced at once into
 * the block's partial state (reduce_run.c). */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "kern.h"
#include "weft/error.h"

/* ---- per-thread scratch ---- */

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
typedef struct scratch {
  size_t cap;
  char *mem;
} scratch;
static void scratch_free(void *p) {
  scratch *s = p;
  if (s) {
    free(s->mem);
    free(s);
  }
}
static void scratch_init(void) { pthread_key_create(&scratch_key, scratch_free); }

/* At least n bytes of this thread's scratch, 64-byte aligned, kept for the
 * next task: tiles never pay for fresh pages twice. */
static char *scratch_get(size_t n) {
  pthread_once(&scratch_once, scratch_init);
  scratch *s = pthread_getspecific(scratch_key);
  if (!s) {
    s = calloc(1, sizeof *s);
    if (!s || pthread_setspecific(scratch_key, s)) {
      free(s);
      return NULL;
    }
  }
  if (s->cap < n) {
    free(s->mem);
    s->mem = aligned_alloc(64, (n + 63) / 64 * 64);
    s->cap = s->mem ? n : 0;
  }
  return s->mem;
}

/* ---- setup ---- */

typedef struct rec_ud {
  ectx *e;
  int64_t base;
} rec_ud;

static int record_leaf(const pnode *leaf, const region *lr, void *ud) {
  rec_ud *r = ud;
  ectx *e = r->e;
  if (e->nleaves == e->capleaves) {
    int cap = e->capleaves ? e->capleaves * 2 : 8;
    leafinfo *nl = realloc(e->leaves, (size_t)cap * sizeof *nl);
    if (!nl)
      return WEFT_ENOMEM;
    e->leaves = nl;
    e->capleaves = cap;
  }
  leafinfo *li = &e->leaves[e->nleaves++];
  li->base = r->base;
  li->n = weft__prog_leaf_blocks(e->p, leaf, lr, li->lo, li->cnt);
  r->base += li->n;
  return 0;
}

/* Visits of an evaluation (a node used twice is evaluated twice). */
static int64_t visits(const prog *p, const pnode *n) {
  int64_t v = 1;
  for (int k = 0; k < n->nkids && v < 100000; k++)
    v += visits(p, &p->nodes[n->kid[k]]);
  return v;
}

int weft__ectx_open(ectx *e, weft_task_ctx *ctx, const weft_value *args,
                    size_t nargs, size_t nfixed, int64_t block) {
  memset(e, 0, sizeof *e);
  e->ctx = ctx;
  const weft_value *pv = &args[0];
  if (pv->type != WEFT_T_BYTES)
    return weft_fail(ctx, "array task: argument 0 is not a program");
  const void *data = weft_value_bytes(pv);
  size_t len = weft_value_len(pv);
  if ((uintptr_t)data % 8) { /* received unaligned: copy */
    e->own = malloc(len);
    if (!e->own)
      return weft_fail(ctx, "out of memory");
    memcpy(e->own, data, len);
    data = e->own;
  }
  if (weft__prog_open(data, len, &e->prog))
    return weft_fail(ctx, "array task: malformed program");
  e->p = &e->prog;
  e->args = args + nfixed;
  e->nargs = nargs - nfixed;
  if (block >= 0) {
    const pnode *root = weft__prog_root(e->p);
    int64_t nb = 1;
    for (int k = 0; k < root->ndim; k++)
      nb *= root->nc[k];
    if (block >= nb)
      return weft_fail(ctx, "array task: block %lld of %lld",
                       (long long)block, (long long)nb);
    weft__prog_block_region(e->p, block, &e->region);
    rec_ud r = {e, 0};
    if (weft__prog_walk(e->p, &e->region, record_leaf, &r))
      return weft_fail(ctx, "out of memory");
    if ((size_t)r.base != e->nargs)
      return weft_fail(ctx,
                       "array task: %zu input chunks given, %lld expected",
                       e->nargs, (long long)r.base);
  }
  size_t tile_bytes = (size_t)TILE * 8 + 64;
  int64_t v = visits(e->p, weft__prog_root(e->p));
  if (v >= 100000)
    return weft_fail(ctx, "array task: expression too large (%lld uses of "
                     "its inputs): materialize a part of it", (long long)v);
  e->cap = (size_t)(v * 3 + 6) * tile_bytes;
  e->arena = scratch_get(e->cap);
  if (!e->arena)
    return weft_fail(ctx, "out of memory for tile buffers");
  return 0;
}

void weft__ectx_close(ectx *e) {
  free(e->leaves);
  free(e->own);
}

static void *arena_alloc(ectx *e, size_t bytes) {
  size_t b = (bytes + 63) / 64 * 64;
  if (e->used + b > e->cap)
    return NULL;
  void *p = e->arena + e->used;
  e->used += b;
  return p;
}

/* ---- evaluation of one node over a tile region ---- */

static void *eval(ectx *e, const pnode *n, const region *r);

static int fail(ectx *e, const char *msg) {
  if (!e->err)
    e->err = weft_fail(e->ctx, "%s", msg);
  return e->err;
}

static void gen_eval(ectx *e, const pnode *n, const region *r, void *out,
                     size_t cnt) {
  int ct = weft__ctype((weft_dtype)n->dtype);
  (void)e;
  switch (n->op) {
  case GEN_FULL: {
    double d = n->pd[0];
    int64_t iv = n->pi[3];
    if (n->dtype == WEFT_F32)
      d = (double)(float)d;
    if (n->dtype == WEFT_I32)
      iv = (int32_t)(uint32_t)(uint64_t)iv;
    if (ct == CT_BOOL)
      iv = d != 0;
    weft__kern_fill(ct, out, cnt, d, iv);
    return;
  }
  case GEN_ARANGE: {
    double start = n->pd[0], step = n->pd[1];
    for (size_t q = 0; q < cnt; q++) {
      int64_t i = r->start[0] + (int64_t)q * r->step[0];
      if (ct == CT_F64) {
        double v;
        if (n->pi[1]) { /* linspace */
          v = (double)i * step + start;
          if (i == n->shape[0] - 1 && !isnan(n->pd[2]))
            v = n->pd[2];
        } else {
          double delta = (start + step) - start;
          v = start + (double)i * delta;
        }
        ((double *)out)[q] = v;
      } else if (ct == CT_I64) {
        ((int64_t *)out)[q] = (int64_t)start + i * (int64_t)step;
      } else {
        ((uint8_t *)out)[q] = (start + (double)i * step) != 0;
      }
    }
    weft__kern_normalize(n->dtype, out, cnt);
    return;
  }
  case GEN_EYE: {
    size_t q = 0;
    for (int64_t a = 0; a < r->count[0]; a++)
      for (int64_t b = 0; b < r->count[1]; b++, q++) {
        int64_t row = r->start[0] + a * r->step[0];
        int64_t col = r->start[1] + b * r->step[1];
        int on = col - row == n->pi[0];
        if (ct == CT_F64)
          ((double *)out)[q] = on;
        else if (ct == CT_I64)
          ((int64_t *)out)[q] = on;
        else
          ((uint8_t *)out)[q] = (uint8_t)on;
      }
    return;
  }
  case GEN_UNIFORM:
  case GEN_NORMAL: {
    /* global C-order index of the region's elements, run by run */
    int nd = n->ndim;
    int64_t gstride[MAXD], idx[MAXD] = {0};
    int64_t s = 1;
    for (int k = nd - 1; k >= 0; k--) {
      gstride[k] = s;
      s *= n->shape[k];
    }
    if (nd == 0) {
      if (n->op == GEN_UNIFORM)
        weft__kern_uniform(out, 1, (uint64_t)n->pi[0], 0, 1, n->pd[0], n->pd[1]);
      else
        weft__kern_normal(out, 1, (uint64_t)n->pi[0], 0, 1, n->pd[0], n->pd[1]);
      return;
    }
    size_t run = (size_t)r->count[nd - 1];
    int64_t rstep = r->step[nd - 1] * gstride[nd - 1];
    double *o = out;
    for (size_t done = 0; done < cnt && run; done += run) {
      int64_t first = 0;
      for (int k = 0; k < nd; k++)
        first += (r->start[k] + (k == nd - 1 ? 0 : idx[k]) * r->step[k]) *
                 gstride[k];
      if (n->op == GEN_UNIFORM)
        weft__kern_uniform(o + done, run, (uint64_t)n->pi[0], first, rstep,
                           n->pd[0], n->pd[1]);
      else
        weft__kern_normal(o + done, run, (uint64_t)n->pi[0], first, rstep,
                          n->pd[0], n->pd[1]);
      for (int k = nd - 2; k >= 0; k--) {
        if (++idx[k] < r->count[k])
          break;
        idx[k] = 0;
      }
    }
    return;
  }
  }
}

/* Elements of a stored leaf over region r, from the task's chunks. */
static int chunks_eval(ectx *e, const pnode *n, const region *r, void *out) {
  if (e->visit >= e->nleaves)
    return fail(e, "array task: more stored inputs than recorded");
  const leafinfo *li = &e->leaves[e->visit++];
  int nd = n->ndim, ct = weft__ctype((weft_dtype)n->dtype);
  size_t w = weft__ctsize(ct);
  if (weft__region_size(r) == 0)
    return 0;
  if (nd == 0) {
    weft_chunk_info c;
    if (weft_chunk_get(&e->args[li->base], &c) || c.dtype != (weft_dtype)n->dtype || c.count != 1)
      return fail(e, "array task: an input is not the chunk expected");
    weft__kern_load(n->dtype, out, c.data, 1, 1);
    return 0;
  }
  /* per axis: block (relative to the leaf's range) and offset of each index */
  int64_t *blk[MAXD], *off[MAXD];
  int64_t total = 0;
  for (int k = 0; k < nd; k++)
    total += r->count[k];
  int64_t *mem = malloc((size_t)total * 2 * sizeof *mem);
  if (!mem)
    return fail(e, "out of memory");
  int64_t *p = mem;
  for (int k = 0; k < nd; k++) {
    blk[k] = p;
    off[k] = p + r->count[k];
    p += 2 * r->count[k];
    const int64_t *bnd = e->p->pool + n->cb[k];
    int64_t b = li->lo[k];
    for (int64_t i = 0; i < r->count[k]; i++) {
      int64_t x = r->start[k] + i * r->step[k];
      while (b > 0 && x < bnd[b])
        b--;
      while (b + 1 < n->nc[k] && x >= bnd[b + 1])
        b++;
      blk[k][i] = b - li->lo[k];
      off[k][i] = x - bnd[b];
    }
  }
  int64_t idx[MAXD] = {0};
  int64_t cnt_inner = r->count[nd - 1];
  char *o = out;
  size_t done = 0, total_el = (size_t)weft__region_size(r);
  int rc = 0;
  while (done < total_el && !rc) {
    /* the flat block (relative) and offset of the outer indices */
    int64_t rb = 0, inner_stride = 1;
    int64_t boff_outer[MAXD];
    (void)boff_outer;
    for (int k = 0; k < nd - 1; k++)
      rb = rb * li->cnt[k] + blk[k][idx[k]];
    int64_t i = 0;
    while (i < cnt_inner) {
      int64_t bl = blk[nd - 1][i];
      int64_t flat = rb * li->cnt[nd - 1] + bl;
      weft_chunk_info c;
      if (flat >= li->n ||
          weft_chunk_get(&e->args[li->base + flat], &c) ||
          c.dtype != (weft_dtype)n->dtype || c.ndim != nd) {
        rc = fail(e, "array task: an input is not the chunk expected");
        break;
      }
      /* offset of the outer indices in that chunk */
      int64_t base = 0;
      inner_stride = 1;
      for (int k = 0; k < nd; k++) {
        base = base * c.shape[k] + (k < nd - 1 ? off[k][idx[k]] : 0);
      }
      int64_t j = i;
      while (j < cnt_inner && blk[nd - 1][j] == bl)
        j++;
      int64_t first = off[nd - 1][i];
      int64_t step = j - i > 1 ? off[nd - 1][i + 1] - first : 1;
      const char *src = (const char *)c.data +
                        (size_t)(base + first) * weft_dtype_size(c.dtype);
      weft__kern_load(n->dtype, o + (done + (size_t)i) * w, src, step * inner_stride,
                      (size_t)(j - i));
      i = j;
    }
    done += (size_t)cnt_inner;
    for (int k = nd - 2; k >= 0; k--) {
      if (++idx[k] < r->count[k])
        break;
      idx[k] = 0;
    }
    if (nd == 1)
      break;
  }
  free(mem);
  return rc;
}

/* Buffer of region r's size holding kid buffer kb (kid region kr)
 * broadcast to r (axes aligned on the right). */
static void *expand(ectx *e, const void *kb, const region *kr, const region *r,
                    size_t w) {
  size_t cnt = (size_t)weft__region_size(r);
  char *out = arena_alloc(e, cnt * w);
  if (!out)
    return NULL;
  int nd = r->nd, off = nd - kr->nd;
  int64_t kst[MAXD], s = 1;
  for (int k = nd - 1; k >= 0; k--) {
    int j = k - off;
    kst[k] = (j >= 0 && kr->count[j] == r->count[k]) ? s : 0;
    if (j >= 0)
      s *= kr->count[j];
  }
  int64_t idx[MAXD] = {0};
  for (size_t q = 0; q < cnt; q++) {
    int64_t ko = 0;
    for (int k = 0; k < nd; k++)
      ko += idx[k] * kst[k];
    memcpy(out + q * w, (const char *)kb + (size_t)ko * w, w);
    for (int k = nd - 1; k >= 0; k--) {
      if (++idx[k] < r->count[k])
        break;
      idx[k] = 0;
    }
  }
  return out;
}

static void *elem_eval(ectx *e, const pnode *n, const region *r, size_t cnt) {
  int ct = weft__ctype((weft_dtype)n->dtype);
  void *kb[3];
  size_t ks[3];
  int kct[3];
  for (int k = 0; k < n->nkids; k++) {
    region kr;
    weft__prog_kid_region(e->p, n, k, r, &kr);
    const pnode *kid = &e->p->nodes[n->kid[k]];
    kb[k] = eval(e, kid, &kr);
    if (!kb[k])
      return NULL;
    kct[k] = weft__ctype((weft_dtype)kid->dtype);
    size_t kc = (size_t)weft__region_size(&kr);
    ks[k] = 1;
    if (e->sc) {
      ks[k] = 0; /* a constant tile: the loops read it in place */
    } else if (kc != cnt) {
      if (kc == 1)
        ks[k] = 0; /* a scalar: the loops read it in place */
      else if (!(kb[k] = expand(e, kb[k], &kr, r, weft__ctsize(kct[k]))))
        return NULL;
    }
  }
  /* constant inputs make a constant tile: computed once */
  bool sc = true;
  for (int k = 0; k < n->nkids; k++)
    sc = sc && ks[k] == 0;
  if (sc)
    cnt = 1;
  void *out = arena_alloc(e, (cnt ? cnt : 1) * weft__ctsize(ct));
  if (!out) {
    fail(e, "array task: tile scratch exhausted");
    return NULL;
  }
  if (sc)
    for (int k = 0; k < n->nkids; k++)
      ks[k] = 1;
  int op = n->op;
  if (op < EOP_UN) {
    if (weft__kern_bin(op, kct[0], out, kb[0], ks[0], kb[1], ks[1], cnt)) {
      fail(e, "Integers to negative integer powers are not allowed.");
      return NULL;
    }
  } else if (op < EOP_CAST) {
    if (ks[0] == 0) { /* scalar input: compute once, then fill */
      char one[8];
      weft__kern_un(op - EOP_UN, kct[0], one, kb[0], 1);
      for (size_t q = 0; q < cnt; q++)
        memcpy((char *)out + q * weft__ctsize(ct), one, weft__ctsize(ct));
    } else {
      weft__kern_un(op - EOP_UN, kct[0], out, kb[0], cnt);
    }
  } else if (op == EOP_CAST) {
    if (ks[0] == 0) {
      char one[8];
      weft__kern_cast(kct[0], ct, n->dtype, one, kb[0], 1);
      for (size_t q = 0; q < cnt; q++)
        memcpy((char *)out + q * weft__ctsize(ct), one, weft__ctsize(ct));
    } else {
      weft__kern_cast(kct[0], ct, n->dtype, out, kb[0], cnt);
    }
  } else if (op == EOP_WHERE) {
    weft__kern_where(ct, out, kb[0], ks[0], kb[1], ks[1], kb[2], ks[2], cnt);
  } else if (op == EOP_CLIP) {
    for (size_t q = 0; q < cnt; q++)
      memcpy((char *)out + q * weft__ctsize(ct),
             (char *)kb[0] + q * ks[0] * weft__ctsize(ct), weft__ctsize(ct));
    weft__kern_clip(ct, out, cnt, n->pd[0], n->pd[1]);
  }
  weft__kern_normalize(n->dtype, out, cnt);
  e->sc = sc;
  return out;
}

static void *view_eval(ectx *e, const pnode *n, const region *r, size_t cnt) {
  region kr;
  weft__prog_kid_region(e->p, n, 0, r, &kr);
  const pnode *kid = &e->p->nodes[n->kid[0]];
  void *kb = eval(e, kid, &kr);
  if (!kb || e->sc)
    return kb;
  /* the same memory order when the read axes (of more than one element)
   * keep their order */
  int last = -1;
  bool same = true;
  for (int k = 0; k < n->ndim; k++) {
    if (n->vaxis[k] < 0 || r->count[k] <= 1)
      continue;
    if (n->vaxis[k] < last)
      same = false;
    last = n->vaxis[k];
  }
  if (same)
    return kb;
  size_t w = weft__ctsize(weft__ctype((weft_dtype)n->dtype));
  char *out = arena_alloc(e, cnt * w);
  if (!out) {
    fail(e, "array task: tile scratch exhausted");
    return NULL;
  }
  int64_t kst[MAXD], s = 1;
  for (int j = kid->ndim - 1; j >= 0; j--) {
    kst[j] = s;
    s *= kr.count[j];
  }
  int64_t ost[MAXD];
  for (int k = 0; k < n->ndim; k++)
    ost[k] = n->vaxis[k] < 0 ? 0 : kst[n->vaxis[k]];
  int64_t idx[MAXD] = {0};
  e->sc = false;
  for (size_t q = 0; q < cnt; q++) {
    int64_t ko = 0;
    for (int k = 0; k < n->ndim; k++)
      ko += idx[k] * ost[k];
    memcpy(out + q * w, (char *)kb + (size_t)ko * w, w);
    for (int k = n->ndim - 1; k >= 0; k--) {
      if (++idx[k] < r->count[k])
        break;
      idx[k] = 0;
    }
  }
  return out;
}

static void *eval(ectx *e, const pnode *n, const region *r) {
  if (e->err)
    return NULL;
  size_t cnt = (size_t)weft__region_size(r);
  int ct = weft__ctype((weft_dtype)n->dtype);
  e->sc = false;
  switch (n->kind) {
  case AK_GEN: {
    bool sc = n->op == GEN_FULL; /* a constant tile */
    if (sc)
      cnt = 1;
    void *out = arena_alloc(e, (cnt ? cnt : 1) * weft__ctsize(ct));
    if (!out) {
      fail(e, "array task: tile scratch exhausted");
      return NULL;
    }
    gen_eval(e, n, r, out, cnt);
    e->sc = sc;
    return out;
  }
  case AK_CHUNKS: {
    void *out = arena_alloc(e, (cnt ? cnt : 1) * weft__ctsize(ct));
    if (!out) {
      fail(e, "array task: tile scratch exhausted");
      return NULL;
    }
    return chunks_eval(e, n, r, out) ? NULL : out;
  }
  case AK_ELEM:
    return elem_eval(e, n, r, cnt);
  case AK_VIEW:
    return view_eval(e, n, r, cnt);
  }
  fail(e, "array task: unknown layer");
  return NULL;
}

void *weft__eval_tile(ectx *e, const region *tile, bool *constant) {
  e->used = 0;
  e->visit = 0;
  void *r = eval(e, weft__prog_root(e->p), tile);
  *constant = r && e->sc;
  return r;
}

void *weft__widen(ectx *e, const void *one, size_t cnt, int ct) {
  size_t w = weft__ctsize(ct);
  char *out = arena_alloc(e, cnt * w);
  if (!out) {
    fail(e, "array task: tile scratch exhausted");
    return NULL;
  }
  if (ct == CT_F64)
    weft__kern_fill(ct, out, cnt, *(const double *)one, 0);
  else if (ct == CT_I64)
    weft__kern_fill(ct, out, cnt, 0, *(const int64_t *)one);
  else
    weft__kern_fill(ct, out, cnt, 0, *(const uint8_t *)one);
  return out;
}

/* ---- tiling ---- */

void weft__tiles_init(tiler *t, const region *r) {
  memset(t, 0, sizeof *t);
  t->r = *r;
  int nd = r->nd;
  t->total = weft__region_size(r);
  if (nd == 0) {
    t->axis = -1;
    t->len = 1;
    return;
  }
  int64_t inner = 1;
  int ax = nd - 1;
  while (ax > 0 && inner * r->count[ax] <= TILE) {
    inner *= r->count[ax];
    ax--;
  }
  /* axis ax is cut; axes after it are whole */
  if (inner * r->count[ax] <= TILE) {
    inner *= r->count[ax];
    t->axis = ax;
    t->len = r->count[ax];
  } else {
    t->axis = ax;
    int64_t len = TILE / (inner ? inner : 1);
    t->len = len < 1 ? 1 : len;
  }
}

bool weft__tiles_next(tiler *t, region *tile, int64_t *pos) {
  const region *r = &t->r;
  int nd = r->nd;
  if (t->done || t->total == 0) {
    if (t->total == 0 && !t->done) { /* one empty tile */
      t->done = true;
      *tile = *r;
      for (int k = 0; k < nd; k++)
        pos[k] = 0;
      return true;
    }
    return false;
  }
  *tile = *r;
  if (nd == 0) {
    t->done = true;
    return true;
  }
  int ax = t->axis;
  for (int k = 0; k < nd; k++) {
    pos[k] = k < ax ? t->idx[k] : 0;
    if (k < ax) {
      tile->start[k] = r->start[k] + t->idx[k] * r->step[k];
      tile->count[k] = 1;
    }
  }
  int64_t a = t->idx[ax];
  int64_t len = r->count[ax] - a < t->len ? r->count[ax] - a : t->len;
  tile->start[ax] = r->start[ax] + a * r->step[ax];
  tile->count[ax] = len;
  pos[ax] = a;
  /* advance */
  t->idx[ax] += len;
  if (t->idx[ax] >= r->count[ax]) {
    t->idx[ax] = 0;
    int k = ax - 1;
    for (; k >= 0; k--) {
      if (++t->idx[k] < r->count[k])
        break;
      t->idx[k] = 0;
    }
    if (k < 0)
      t->done = true;
  }
  return true;
}

/* ---- the block task ---- */

static int array_block(weft_task_ctx *ctx, const weft_value *args, size_t n,
                       weft_value *out) {
  if (n < 2 || args[1].type != WEFT_T_INT)
    return weft_fail(ctx, "array block task: bad arguments");
  ectx e;
  int rc = weft__ectx_open(&e, ctx, args, n, 2, args[1].as.i);
  if (rc) {
    weft__ectx_close(&e);
    return rc;
  }
  region r = e.region;
  const pnode *root = weft__prog_root(e.p);
  void *data;
  weft_value chunk;
  if (weft__chunk_pooled(&chunk, (weft_dtype)root->dtype, r.nd, r.count,
                         &data)) {
    weft__ectx_close(&e);
    return weft_fail(ctx, "out of memory for a chunk");
  }
  size_t dsz = weft_dtype_size((weft_dtype)root->dtype);
  tiler t;
  weft__tiles_init(&t, &r);
  region tile;
  int64_t pos[MAXD];
  size_t off = 0;
  while (weft__tiles_next(&t, &tile, pos)) {
    size_t cnt = (size_t)weft__region_size(&tile);
    if (!cnt)
      continue;
    bool constant;
    void *buf = weft__eval_tile(&e, &tile, &constant);
    if (!buf)
      break;
    if (constant)
      buf = weft__widen(&e, buf, cnt, weft__ctype((weft_dtype)root->dtype));
    if (!buf)
      break;
    weft__kern_store(root->dtype, (char *)data + off * dsz, buf, cnt);
    off += cnt;
  }
  rc = e.err;
  weft__ectx_close(&e);
  if (rc) {
    weft_value_release(&chunk);
    return rc;
  }
  *out = chunk;
  return 0;
}
weft_fn_info weft__fn_array_block = {"weft.array.block", array_block, -1,
                                     __FILE__, NULL};
__attribute__((constructor)) static void register_block(void) {
  weft_fn_register(&weft__fn_array_block);
}
