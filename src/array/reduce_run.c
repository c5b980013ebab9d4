/* reduce_run.c - the tasks of a reduction tree: a partial task evaluates
 * its input block tile by tile (eval.c) and reduces each tile at once into
 * the block's state; a combine task merges the states of up to split_every
 * blocks in their order; the last one writes the output chunk.
 *
 * States are 1-d chunks of `planes` planes of nout values (nout: the
 * block's output elements): a sum, product, minimum, maximum or truth
 * value (1 plane), count/mean/M2 for var and std (Chan's parallel update),
 * value/index for argmin and argmax. Every order is fixed: tiles in C
 * order, runs within a tile in C order, 16-lane sums (kern.c), partials in
 * block order - hence the same bits on any scheduler. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "kern.h"
#include "weft/error.h"

int weft__red_planes(int op) {
  switch (op) {
  case WEFT_RED_VAR:
  case WEFT_RED_STD:
    return 3;
  case WEFT_RED_ARGMIN:
  case WEFT_RED_ARGMAX:
    return 2;
  }
  return 1;
}

typedef struct rstate {
  const prog_red *red;
  int nd;
  int64_t nout;
  int64_t ostride[MAXD]; /* block-local output strides (0: reduced axis) */
  int64_t bstart[MAXD];  /* the block's first element */
  int64_t gstride[MAXD]; /* C strides of the whole input */
  int arg_axis;          /* argmin/argmax: the axis, or -1 for flattened */
  int64_t nred;          /* elements of the block reduced into each output */
  void *st;              /* planes * nout values */
  bool constant;         /* the run is const_val repeated */
  double const_val;
  double *conv;          /* a tile converted to double, or to int64 */
} rstate;

static inline bool f_better(int op, double v, double cur) {
  if (op == WEFT_RED_ARGMAX || op == WEFT_RED_MAX)
    return v > cur || (v != v && cur == cur);
  return v < cur || (v != v && cur == cur);
}

static void init_state(rstate *s) {
  int op = s->red->op;
  int64_t n = s->nout;
  if (s->red->ct == CT_F64) {
    double *d = s->st;
    double init = op == WEFT_RED_PROD ? 1.0
                  : op == WEFT_RED_MIN ? INFINITY
                  : op == WEFT_RED_MAX ? -INFINITY
                                       : 0.0;
    for (int64_t i = 0; i < n * weft__red_planes(op); i++)
      d[i] = init;
    if (op == WEFT_RED_ARGMIN || op == WEFT_RED_ARGMAX)
      for (int64_t i = 0; i < n; i++)
        d[n + i] = -1; /* no element yet */
  } else {
    int64_t *d = s->st;
    int64_t init = op == WEFT_RED_PROD || op == WEFT_RED_ALL ? 1
                   : op == WEFT_RED_MIN ? INT64_MAX
                   : op == WEFT_RED_MAX ? INT64_MIN
                                        : 0;
    for (int64_t i = 0; i < n * weft__red_planes(op); i++)
      d[i] = init;
    if (op == WEFT_RED_ARGMIN || op == WEFT_RED_ARGMAX)
      for (int64_t i = 0; i < n; i++)
        d[n + i] = -1;
  }
}

/* argmin/argmax: the global index of a run's first element, and its step
 * along the run (flattened index, or index along the one reduced axis). */
static void arg_index(const rstate *s, const int64_t *m, int64_t *g,
                      int64_t *gstep) {
  *g = 0;
  if (s->arg_axis < 0) {
    for (int k = 0; k < s->nd; k++)
      *g += (s->bstart[k] + m[k]) * s->gstride[k];
    *gstep = 1;
  } else {
    *g = s->bstart[s->arg_axis] + m[s->arg_axis];
    *gstep = s->arg_axis == s->nd - 1 ? 1 : 0;
  }
}

/* Reduces one run of L values (state compute type) whose first element
 * is at block-local index m into the state; pass 2 of var uses means. */
static void reduce_run(rstate *s, const void *run, int64_t L,
                       const int64_t *m, int pass) {
  int op = s->red->op, nd = s->nd;
  bool lr = nd == 0 || s->red->axes[nd - 1];
  int64_t o = 0;
  for (int k = 0; k < nd; k++)
    o += m[k] * s->ostride[k];
  if (s->red->ct == CT_F64) {
    const double *x = run;
    double *st = s->st;
    switch (op) {
    case WEFT_RED_SUM:
    case WEFT_RED_MEAN:
      if (s->constant)
        st[o] += weft__kern_sum_const_f64(s->const_val, (size_t)L);
      else if (lr)
        st[o] += weft__kern_sum_f64(x, (size_t)L);
      else
        weft__kern_acc_f64(0, st + o, x, (size_t)L);
      return;
    case WEFT_RED_PROD:
      if (lr)
        st[o] *= weft__kern_prod_f64(x, (size_t)L);
      else
        weft__kern_acc_f64(1, st + o, x, (size_t)L);
      return;
    case WEFT_RED_VAR:
    case WEFT_RED_STD:
      if (pass == 0) { /* sums into the mean plane */
        if (s->constant)
          st[s->nout + o] += weft__kern_sum_const_f64(s->const_val, (size_t)L);
        else if (lr)
          st[s->nout + o] += weft__kern_sum_f64(x, (size_t)L);
        else
          weft__kern_acc_f64(0, st + s->nout + o, x, (size_t)L);
      } else if (lr) {
        st[2 * s->nout + o] += weft__kern_sqdev_f64(x, (size_t)L, st[s->nout + o]);
      } else {
        weft__kern_sqdev_acc_f64(st + 2 * s->nout + o, x, st + s->nout + o,
                                 (size_t)L);
      }
      return;
    case WEFT_RED_MIN:
    case WEFT_RED_MAX:
      for (int64_t i = 0; i < L; i++) {
        double *a = &st[o + (lr ? 0 : i)];
        if (f_better(op, x[i], *a))
          *a = x[i];
      }
      return;
    case WEFT_RED_ARGMIN:
    case WEFT_RED_ARGMAX: {
      int64_t g, gstep;
      arg_index(s, m, &g, &gstep);
      for (int64_t i = 0; i < L; i++) {
        int64_t oi = o + (lr ? 0 : i);
        if (st[s->nout + oi] < 0 || f_better(op, x[i], st[oi])) {
          st[oi] = x[i];
          st[s->nout + oi] = (double)(g + i * gstep);
        }
      }
      return;
    }
    }
    return;
  }
  const int64_t *x = run;
  int64_t *st = s->st;
  switch (op) {
  case WEFT_RED_SUM:
  case WEFT_RED_PROD:
    if (lr) {
      int64_t v = op == WEFT_RED_SUM ? weft__kern_sum_i64(x, (size_t)L)
                                     : weft__kern_prod_i64(x, (size_t)L);
      st[o] = op == WEFT_RED_SUM ? (int64_t)((uint64_t)st[o] + (uint64_t)v)
                                 : (int64_t)((uint64_t)st[o] * (uint64_t)v);
    } else {
      weft__kern_acc_i64(op == WEFT_RED_PROD, st + o, x, (size_t)L);
    }
    return;
  case WEFT_RED_MIN:
  case WEFT_RED_MAX:
    for (int64_t i = 0; i < L; i++) {
      int64_t *a = &st[o + (lr ? 0 : i)];
      if (op == WEFT_RED_MAX ? x[i] > *a : x[i] < *a)
        *a = x[i];
    }
    return;
  case WEFT_RED_ANY:
  case WEFT_RED_ALL:
    for (int64_t i = 0; i < L; i++) {
      int64_t *a = &st[o + (lr ? 0 : i)];
      if (op == WEFT_RED_ANY)
        *a |= x[i] != 0;
      else
        *a &= x[i] != 0;
    }
    return;
  case WEFT_RED_ARGMIN:
  case WEFT_RED_ARGMAX: {
    int64_t g, gstep;
    arg_index(s, m, &g, &gstep);
    for (int64_t i = 0; i < L; i++) {
      int64_t oi = o + (lr ? 0 : i);
      bool better = op == WEFT_RED_ARGMAX ? x[i] > st[oi] : x[i] < st[oi];
      if (st[s->nout + oi] < 0 || better) {
        st[oi] = x[i];
        st[s->nout + oi] = g + i * gstep;
      }
    }
    return;
  }
  }
}

/* The output block's shape (keepdims or not) and element count. */
static int64_t out_block_shape(const prog *p, int64_t oblock, int64_t *shape,
                               int *ndim, int64_t *counts_keep) {
  const pnode *root = weft__prog_root(p);
  const prog_red *red = &p->h->red;
  int nd = root->ndim, q = 0;
  int64_t idx[MAXD];
  /* oblock is C order over the kept axes' blocks */
  for (int k = nd - 1; k >= 0; k--) {
    if (red->axes[k]) {
      idx[k] = 0;
      continue;
    }
    idx[k] = oblock % root->nc[k];
    oblock /= root->nc[k];
  }
  int64_t n = 1;
  for (int k = 0; k < nd; k++) {
    const int64_t *bnd = p->pool + root->cb[k];
    int64_t c = red->axes[k] ? 1 : bnd[idx[k] + 1] - bnd[idx[k]];
    counts_keep[k] = c;
    n *= c;
    if (!red->axes[k] || red->keepdims)
      shape[q++] = c;
  }
  *ndim = q;
  return n;
}

static int finalize(weft_task_ctx *ctx, const prog *p, int64_t oblock,
                    const void *st, weft_value *out) {
  const prog_red *red = &p->h->red;
  int64_t shape[MAXD], ck[MAXD];
  int ndim;
  int64_t n = out_block_shape(p, oblock, shape, &ndim, ck);
  int oct = weft__ctype((weft_dtype)red->out_dtype);
  void *tmp = malloc((size_t)(n ? n : 1) * 8);
  if (!tmp)
    return weft_fail(ctx, "out of memory");
  int op = red->op;
  for (int64_t i = 0; i < n; i++) {
    double d = 0;
    int64_t v = 0;
    if (red->ct == CT_F64) {
      const double *s = st;
      switch (op) {
      case WEFT_RED_MEAN: d = s[i] / red->count; break;
      case WEFT_RED_VAR:
      case WEFT_RED_STD:
        /* numpy: M2 / max(count - ddof, 0) (inf or nan when ddof >= count) */
        d = s[2 * n + i] / fmax(s[i] - red->ddof, 0.0);
        if (op == WEFT_RED_STD)
          d = sqrt(d);
        break;
      case WEFT_RED_ARGMIN:
      case WEFT_RED_ARGMAX: v = (int64_t)s[n + i]; break;
      default: d = s[i];
      }
      if (oct == CT_I64 && op != WEFT_RED_ARGMIN && op != WEFT_RED_ARGMAX)
        v = (int64_t)d;
    } else {
      const int64_t *s = st;
      v = (op == WEFT_RED_ARGMIN || op == WEFT_RED_ARGMAX) ? s[n + i] : s[i];
      d = (double)v;
    }
    if (oct == CT_F64)
      ((double *)tmp)[i] = d;
    else if (oct == CT_I64)
      ((int64_t *)tmp)[i] = v;
    else
      ((uint8_t *)tmp)[i] = v != 0;
  }
  weft__kern_normalize(red->out_dtype, tmp, (size_t)n);
  void *data;
  if (weft_chunk_new(out, (weft_dtype)red->out_dtype, ndim, shape, &data)) {
    free(tmp);
    return weft_fail(ctx, "out of memory for a chunk");
  }
  weft__kern_store(red->out_dtype, data, tmp, (size_t)n);
  free(tmp);
  return 0;
}

/* Converts a tile to the state's compute type. */
static const void *as_state_ct(rstate *s, int xct, const void *buf,
                               size_t cnt) {
  int sct = s->red->ct;
  if (s->red->op == WEFT_RED_ANY || s->red->op == WEFT_RED_ALL) {
    if (xct == CT_I64)
      return buf;
    weft__kern_cast(xct, CT_I64, WEFT_I64, s->conv, buf, cnt);
    return s->conv;
  }
  if (xct == sct)
    return buf;
  weft__kern_cast(xct, sct, sct == CT_F64 ? WEFT_F64 : WEFT_I64, s->conv,
                  buf, cnt);
  return s->conv;
}

static int array_partial(weft_task_ctx *ctx, const weft_value *args,
                         size_t n, weft_value *out) {
  if (n < 4 || args[1].type != WEFT_T_INT || args[2].type != WEFT_T_INT ||
      args[3].type != WEFT_T_INT)
    return weft_fail(ctx, "array partial task: bad arguments");
  ectx e;
  int rc = weft__ectx_open(&e, ctx, args, n, 4, args[1].as.i);
  if (rc) {
    weft__ectx_close(&e);
    return rc;
  }
  const prog *p = e.p;
  const pnode *root = weft__prog_root(p);
  rstate s;
  memset(&s, 0, sizeof s);
  s.red = &p->h->red;
  s.nd = root->ndim;
  int planes = weft__red_planes(s.red->op);
  s.nout = 1;
  s.nred = 1;
  for (int k = s.nd - 1; k >= 0; k--) {
    s.ostride[k] = s.red->axes[k] ? 0 : s.nout;
    if (!s.red->axes[k])
      s.nout *= e.region.count[k];
    else
      s.nred *= e.region.count[k];
  }
  int64_t gs = 1;
  for (int k = s.nd - 1; k >= 0; k--) {
    s.gstride[k] = gs;
    gs *= root->shape[k];
    s.bstart[k] = e.region.start[k];
  }
  int nred_axes = 0, the_axis = -1;
  for (int k = 0; k < s.nd; k++)
    if (s.red->axes[k]) {
      nred_axes++;
      the_axis = k;
    }
  s.arg_axis = nred_axes == 1 && s.nd > 1 ? the_axis : -1;
  s.st = malloc((size_t)(s.nout ? s.nout : 1) * (size_t)planes * 8);
  s.conv = malloc((size_t)TILE * 8);
  if (!s.st || !s.conv) {
    free(s.st);
    free(s.conv);
    weft__ectx_close(&e);
    return weft_fail(ctx, "out of memory");
  }
  init_state(&s);
  int xct = weft__ctype((weft_dtype)root->dtype);
  int passes = (s.red->op == WEFT_RED_VAR || s.red->op == WEFT_RED_STD) ? 2 : 1;
  for (int pass = 0; pass < passes && !e.err; pass++) {
    if (pass == 1) { /* block means, counts */
      double *st = s.st;
      for (int64_t i = 0; i < s.nout; i++) {
        st[i] = (double)s.nred;
        st[s.nout + i] = s.nred ? st[s.nout + i] / (double)s.nred : 0;
      }
    }
    tiler t;
    weft__tiles_init(&t, &e.region);
    region tile;
    int64_t pos[MAXD];
    while (weft__tiles_next(&t, &tile, pos)) {
      size_t cnt = (size_t)weft__region_size(&tile);
      if (!cnt)
        continue;
      bool constant;
      const void *buf = weft__eval_tile(&e, &tile, &constant);
      if (!buf)
        break;
      if (constant) {
        /* a sum of a constant along whole runs: the same additions in the
         * same order, without reading memory */
        const void *one = as_state_ct(&s, xct, buf, 1);
        if (s.red->ct == CT_F64 && pass == 0 && (s.nd == 0 || s.red->axes[s.nd - 1]) &&
            (s.red->op == WEFT_RED_SUM || s.red->op == WEFT_RED_MEAN ||
             s.red->op == WEFT_RED_VAR || s.red->op == WEFT_RED_STD)) {
          s.const_val = *(const double *)one;
          s.constant = true;
        } else {
          buf = weft__widen(&e, buf, cnt, xct);
          if (!buf)
            break;
          s.constant = false;
        }
      } else {
        s.constant = false;
      }
      if (!s.constant)
        buf = as_state_ct(&s, xct, buf, cnt);
      size_t w = 8;
      int64_t L = s.nd ? tile.count[s.nd - 1] : 1;
      int64_t m[MAXD], idx[MAXD] = {0};
      for (size_t done = 0; done < cnt; done += (size_t)L) {
        for (int k = 0; k < s.nd; k++)
          m[k] = pos[k] + (k < s.nd - 1 ? idx[k] : 0);
        reduce_run(&s, (const char *)buf + done * w, L, m, pass);
        for (int k = s.nd - 2; k >= 0; k--) {
          if (++idx[k] < tile.count[k])
            break;
          idx[k] = 0;
        }
      }
    }
  }
  rc = e.err;
  if (!rc) {
    if (args[2].as.i) {
      rc = finalize(ctx, p, args[3].as.i, s.st, out);
    } else {
      int64_t len = s.nout * planes;
      void *data;
      if (weft_chunk_new(out, s.red->ct == CT_F64 ? WEFT_F64 : WEFT_I64, 1,
                         &len, &data))
        rc = weft_fail(ctx, "out of memory for a chunk");
      else
        memcpy(data, s.st, (size_t)len * 8);
    }
  }
  free(s.st);
  free(s.conv);
  weft__ectx_close(&e);
  return rc;
}
weft_fn_info weft__fn_array_partial = {"weft.array.partial", array_partial,
                                       -1, __FILE__, NULL};
__attribute__((constructor)) static void register_partial(void) {
  weft_fn_register(&weft__fn_array_partial);
}

/* Merges state b into a (n outputs). */
static void merge(int op, int ct, void *a, const void *b, int64_t n) {
  if (ct == CT_F64) {
    double *x = a;
    const double *y = b;
    for (int64_t i = 0; i < n; i++) {
      switch (op) {
      case WEFT_RED_SUM:
      case WEFT_RED_MEAN: x[i] += y[i]; break;
      case WEFT_RED_PROD: x[i] *= y[i]; break;
      case WEFT_RED_MIN:
      case WEFT_RED_MAX:
        if (f_better(op, y[i], x[i]))
          x[i] = y[i];
        break;
      case WEFT_RED_VAR:
      case WEFT_RED_STD: {
        double na = x[i], nb = y[i];
        if (nb == 0)
          break;
        if (na == 0) {
          x[i] = nb;
          x[n + i] = y[n + i];
          x[2 * n + i] = y[2 * n + i];
          break;
        }
        double nt = na + nb, delta = y[n + i] - x[n + i];
        x[n + i] += delta * nb / nt;
        x[2 * n + i] += y[2 * n + i] + delta * delta * na * nb / nt;
        x[i] = nt;
        break;
      }
      case WEFT_RED_ARGMIN:
      case WEFT_RED_ARGMAX: {
        double ia = x[n + i], ib = y[n + i];
        if (ib < 0)
          break;
        bool take = ia < 0 || f_better(op, y[i], x[i]) ||
                    (!f_better(op, x[i], y[i]) && ib < ia &&
                     !(x[i] != x[i] && y[i] == y[i]));
        if (take) {
          x[i] = y[i];
          x[n + i] = ib;
        }
        break;
      }
      }
    }
    return;
  }
  int64_t *x = a;
  const int64_t *y = b;
  for (int64_t i = 0; i < n; i++) {
    switch (op) {
    case WEFT_RED_SUM: x[i] = (int64_t)((uint64_t)x[i] + (uint64_t)y[i]); break;
    case WEFT_RED_PROD: x[i] = (int64_t)((uint64_t)x[i] * (uint64_t)y[i]); break;
    case WEFT_RED_MIN: if (y[i] < x[i]) x[i] = y[i]; break;
    case WEFT_RED_MAX: if (y[i] > x[i]) x[i] = y[i]; break;
    case WEFT_RED_ANY: x[i] |= y[i]; break;
    case WEFT_RED_ALL: x[i] &= y[i]; break;
    case WEFT_RED_ARGMIN:
    case WEFT_RED_ARGMAX: {
      int64_t ia = x[n + i], ib = y[n + i];
      if (ib < 0)
        break;
      bool better = op == WEFT_RED_ARGMAX ? y[i] > x[i] : y[i] < x[i];
      if (ia < 0 || better || (y[i] == x[i] && ib < ia)) {
        x[i] = y[i];
        x[n + i] = ib;
      }
      break;
    }
    }
  }
}

static int array_combine(weft_task_ctx *ctx, const weft_value *args,
                         size_t n, weft_value *out) {
  if (n < 4 || args[1].type != WEFT_T_INT || args[2].type != WEFT_T_INT)
    return weft_fail(ctx, "array combine task: bad arguments");
  ectx e;
  int rc = weft__ectx_open(&e, ctx, args, n, 3, -1);
  if (rc) {
    weft__ectx_close(&e);
    return rc;
  }
  const prog_red *red = &e.p->h->red;
  int planes = weft__red_planes(red->op);
  weft_chunk_info c0;
  if (weft_chunk_get(&args[3], &c0) || c0.ndim != 1 ||
      c0.count % (size_t)planes) {
    weft__ectx_close(&e);
    return weft_fail(ctx, "array combine task: bad partial state");
  }
  int64_t nout = (int64_t)c0.count / planes;
  void *st = malloc(c0.nbytes ? c0.nbytes : 8);
  if (!st) {
    weft__ectx_close(&e);
    return weft_fail(ctx, "out of memory");
  }
  if (c0.nbytes)
    memcpy(st, c0.data, c0.nbytes);
  for (size_t j = 4; j < n; j++) {
    weft_chunk_info c;
    if (weft_chunk_get(&args[j], &c) || c.count != c0.count ||
        c.dtype != c0.dtype) {
      free(st);
      weft__ectx_close(&e);
      return weft_fail(ctx, "array combine task: partial states differ");
    }
    merge(red->op, red->ct, st, c.data, nout);
  }
  if (args[1].as.i) {
    rc = finalize(ctx, e.p, args[2].as.i, st, out);
  } else {
    int64_t len = (int64_t)c0.count;
    void *data;
    if (weft_chunk_new(out, c0.dtype, 1, &len, &data))
      rc = weft_fail(ctx, "out of memory for a chunk");
    else if (c0.nbytes)
      memcpy(data, st, c0.nbytes);
  }
  free(st);
  weft__ectx_close(&e);
  return rc;
}
weft_fn_info weft__fn_array_combine = {"weft.array.combine", array_combine,
                                       -1, __FILE__, NULL};
__attribute__((constructor)) static void register_combine(void) {
  weft_fn_register(&weft__fn_array_combine);
}
