/* arrange.c - arrays of stored chunks: from a C buffer, from a function
 * per block, map_blocks, materialize, and the operations that arrange
 * whole chunks (reshape, concatenate, stack). Each of these has one graph
 * node per block from the moment it is made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array_impl.h"
#include "weft/error.h"

static bool bad(weft_array *a) { return !a || weft_graph_status(a->g); }

static weft_array *stored(weft_graph *g, weft_dtype dt, int ndim,
                          const int64_t *shape) {
  weft_array *a = weft__array_new(g, AK_CHUNKS, dt, ndim, shape);
  return a;
}

static int alloc_blocks(weft_array *a) {
  size_t nb = weft__array_nblocks(a);
  a->blocks = calloc(nb ? nb : 1, sizeof *a->blocks);
  if (!a->blocks) {
    weft__array_fail(a->g, WEFT_ENOMEM, "out of memory for %zu blocks", nb);
    return WEFT_ENOMEM;
  }
  a->nblocks = nb;
  a->ntasks = nb;
  return 0;
}

/* ---- checking a block made by a user's function ---- */

static int check_block(weft_task_ctx *ctx, const weft_value *args, size_t n,
                       weft_value *out) {
  /* args: the chunk, its expected dtype, then its expected extents */
  weft_chunk_info c;
  if (n < 2 || args[1].type != WEFT_T_INT)
    return weft_fail(ctx, "array check task: bad arguments");
  if (weft_chunk_get(&args[0], &c))
    return weft_fail(ctx, "a block function returned a %s, not a chunk",
                     weft_type_name(args[0].type));
  bool ok = c.dtype == (weft_dtype)args[1].as.i && c.ndim == (int)(n - 2);
  for (int k = 0; ok && k < c.ndim; k++)
    ok = args[2 + k].type == WEFT_T_INT && c.shape[k] == args[2 + k].as.i;
  if (!ok) {
    int64_t want[MAXD];
    for (size_t k = 2; k < n && k - 2 < MAXD; k++)
      want[k - 2] = args[k].as.i;
    char got[300], exp[300];
    weft__shape_str(c.ndim, c.shape, got, sizeof got);
    weft__shape_str((int)(n - 2), want, exp, sizeof exp);
    return weft_fail(ctx,
                     "a block function returned a %s chunk of shape %s; the "
                     "block is %s %s",
                     weft_dtype_name(c.dtype), got,
                     weft_dtype_name((weft_dtype)args[1].as.i), exp);
  }
  *out = weft_value_retain(&args[0]);
  return 0;
}
static weft_fn_info fn_check = {"weft.array.check", check_block, -1, __FILE__,
                                NULL};
__attribute__((constructor)) static void register_check(void) {
  weft_fn_register(&fn_check);
}

static weft_node *checked(weft_array *a, weft_node *made, const int64_t *ext) {
  if (!made)
    return NULL;
  weft_value args[2 + MAXD];
  args[0] = weft_node_ref(made);
  args[1] = weft_int(a->dtype);
  for (int k = 0; k < a->ndim; k++)
    args[2 + k] = weft_int(ext[k]);
  return weft_call_fn(a->g, &fn_check, (size_t)(2 + a->ndim), args);
}

static weft_value int_list(int n, const int64_t *v) {
  weft_value l;
  if (weft_list_new(&l, (size_t)n))
    return weft_none();
  for (int k = 0; k < n; k++)
    weft_list_set(&l, (size_t)k, weft_int(v[k]));
  return l;
}

weft_array *weft_array_from_blocks(weft_graph *g, const weft_fn_info *fn,
                                   weft_dtype dt, weft_shape shape,
                                   weft_chunks chunks, weft_value extra) {
  weft_array *a = g && fn ? stored(g, dt, shape.ndim, shape.d) : NULL;
  if (g && !fn)
    weft__array_fail(g, WEFT_EINVAL, "from_blocks: NULL function");
  if (!a || weft__array_set_chunks(a, &chunks) || alloc_blocks(a)) {
    weft_value_release(&extra);
    weft_array_free(a);
    return NULL;
  }
  int64_t idx[MAXD], start[MAXD], ext[MAXD];
  for (size_t b = 0; b < a->nblocks; b++) {
    weft__block_coords(a, b, idx, start, ext);
    weft_value args[3] = {int_list(a->ndim, idx), int_list(a->ndim, start),
                          weft_value_retain(&extra)};
    a->blocks[b] = checked(a, weft_call_fn(g, fn, 3, args), ext);
    if (!a->blocks[b]) {
      weft_value_release(&extra);
      weft_array_free(a);
      return NULL;
    }
  }
  a->ntasks = 2 * a->nblocks;
  snprintf(a->label, sizeof a->label, "%s", fn->name);
  weft_value_release(&extra);
  return a;
}

weft_array *weft_array_map_blocks(const weft_fn_info *fn, weft_dtype dt,
                                  size_t n, weft_array *const in[],
                                  weft_value extra) {
  weft_array *a = NULL;
  if (!n || !in || !in[0] || bad(in[0]) || !fn) {
    if (n && in && in[0] && !fn)
      weft__array_fail(in[0]->g, WEFT_EINVAL, "map_blocks: NULL function");
    weft_value_release(&extra);
    return NULL;
  }
  const weft_array *f = in[0];
  for (size_t i = 0; i < n; i++) {
    const weft_array *x = in[i];
    bool same = x && x->ndim == f->ndim && x->g == f->g;
    for (int k = 0; same && k < f->ndim; k++)
      same = x->shape[k] == f->shape[k] && x->nchunks[k] == f->nchunks[k] &&
             !memcmp(x->chunks[k], f->chunks[k],
                     (size_t)f->nchunks[k] * sizeof(int64_t));
    if (!same) {
      weft_value_release(&extra);
      if (!x)
        return NULL;
      char s0[300], s1[300];
      weft__shape_str(f->ndim, f->shape, s0, sizeof s0);
      weft__shape_str(x->ndim, x->shape, s1, sizeof s1);
      if (x->ndim == f->ndim && x->g == f->g &&
          !memcmp(x->shape, f->shape, (size_t)f->ndim * sizeof(int64_t))) {
        /* same shape: name the first axis whose chunks differ */
        int k = 0;
        while (k < f->ndim && x->nchunks[k] == f->nchunks[k] &&
               !memcmp(x->chunks[k], f->chunks[k],
                       (size_t)f->nchunks[k] * sizeof(int64_t)))
          k++;
        char c0[300], c1[300];
        weft__shape_str((int)(f->nchunks[k] < 16 ? f->nchunks[k] : 16),
                        f->chunks[k], c0, sizeof c0);
        weft__shape_str((int)(x->nchunks[k] < 16 ? x->nchunks[k] : 16),
                        x->chunks[k], c1, sizeof c1);
        return weft__array_fail(
            f->g, WEFT_EINVAL,
            "map_blocks: input %zu (shape %s) has chunks %s%s on axis %d, "
            "input 0 %s%s: weft_array_rechunk it to input 0's chunks first",
            i, s1, c1, x->nchunks[k] > 16 ? " ..." : "", k, c0,
            f->nchunks[k] > 16 ? " ..." : "");
      }
      return weft__array_fail(f->g, WEFT_EINVAL,
                              "map_blocks: input %zu (shape %s) does not have "
                              "the shape and chunks of input 0 (shape %s): "
                              "weft_array_rechunk it first",
                              i, s1, s0);
    }
    if (x->kind != AK_CHUNKS && weft__array_lower((weft_array *)x)) {
      weft_value_release(&extra);
      return NULL;
    }
  }
  a = stored(f->g, dt, f->ndim, f->shape);
  bool ok = a != NULL;
  for (int k = 0; ok && k < f->ndim; k++)
    ok = !weft__array_set_axis_chunks(a, k, (size_t)f->nchunks[k],
                                      f->chunks[k]);
  if (!ok || alloc_blocks(a)) {
    weft_value_release(&extra);
    weft_array_free(a);
    return NULL;
  }
  weft_value *args = malloc((n + 1) * sizeof *args);
  if (!args) {
    weft_value_release(&extra);
    weft_array_free(a);
    return weft__array_fail(f->g, WEFT_ENOMEM, "out of memory");
  }
  int64_t idx[MAXD], ext[MAXD];
  for (size_t b = 0; b < a->nblocks; b++) {
    weft__block_coords(a, b, idx, NULL, ext);
    for (size_t i = 0; i < n; i++)
      args[i] = weft_node_ref(in[i]->blocks[b]);
    args[n] = weft_value_retain(&extra);
    a->blocks[b] = checked(a, weft_call_fn(a->g, fn, n + 1, args), ext);
    if (!a->blocks[b]) {
      free(args);
      weft_value_release(&extra);
      weft_array_free(a);
      return NULL;
    }
  }
  free(args);
  size_t t = 2 * a->nblocks;
  for (size_t i = 0; i < n; i++)
    t += in[i]->ntasks;
  a->ntasks = t;
  snprintf(a->label, sizeof a->label, "map_blocks %s", fn->name);
  for (size_t i = 0; i < n && i < 3; i++)
    a->kid[a->nkids++] = weft_array_retain(in[i]);
  weft_value_release(&extra);
  return a;
}

/* ---- from a C buffer ---- */

typedef struct bufsrc {
  const char *data;
  weft_dtype dt;
  int ndim;
  int64_t shape[MAXD];
} bufsrc;

static int copy_block(weft_task_ctx *ctx, const weft_value *args, size_t n,
                      weft_value *out) {
  /* args: the buffer (ptr), then start and extent per axis */
  const bufsrc *s = weft_value_ptr(&args[0]);
  if (!s || n != 1 + 2 * (size_t)s->ndim)
    return weft_fail(ctx, "array buffer task: bad arguments");
  int nd = s->ndim;
  int64_t start[MAXD], ext[MAXD], st[MAXD], sz = 1;
  for (int k = 0; k < nd; k++) {
    start[k] = args[1 + k].as.i;
    ext[k] = args[1 + nd + k].as.i;
  }
  size_t w = weft_dtype_size(s->dt);
  for (int k = nd - 1; k >= 0; k--) {
    st[k] = sz;
    sz *= s->shape[k];
  }
  void *data;
  if (weft__chunk_pooled(out, s->dt, nd, ext, &data))
    return weft_fail(ctx, "out of memory for a chunk");
  size_t cnt = 1;
  for (int k = 0; k < nd; k++)
    cnt *= (size_t)ext[k];
  if (!cnt)
    return 0;
  size_t run = (size_t)ext[nd - 1];
  int64_t idx[MAXD] = {0};
  for (size_t done = 0; done < cnt; done += run) {
    int64_t off = 0;
    for (int k = 0; k < nd; k++)
      off += (start[k] + (k < nd - 1 ? idx[k] : 0)) * st[k];
    memcpy((char *)data + done * w, s->data + (size_t)off * w, run * w);
    for (int k = nd - 2; k >= 0; k--) {
      if (++idx[k] < ext[k])
        break;
      idx[k] = 0;
    }
  }
  return 0;
}
static weft_fn_info fn_copy = {"weft.array.from_buffer", copy_block, -1,
                               __FILE__, NULL};
__attribute__((constructor)) static void register_copy(void) {
  weft_fn_register(&fn_copy);
}

weft_array *weft_array_from_buffer(weft_graph *g, weft_dtype dt,
                                   weft_shape shape, weft_chunks chunks,
                                   const void *data) {
  weft_array *a = stored(g, dt, shape.ndim, shape.d);
  if (!a || weft__array_set_chunks(a, &chunks) || alloc_blocks(a)) {
    weft_array_free(a);
    return NULL;
  }
  if (!data && weft_array_nbytes(a) > 0) {
    weft_array_free(a);
    return weft__array_fail(g, WEFT_EINVAL, "from_buffer: NULL data");
  }
  size_t w = weft_dtype_size(dt);
  if ((uintptr_t)data % w) {
    weft_array_free(a);
    return weft__array_fail(g, WEFT_EINVAL,
                            "from_buffer: data not aligned for %s",
                            weft_dtype_name(dt));
  }
  bufsrc *s = calloc(1, sizeof *s);
  weft_value sv;
  if (!s || weft_ptr_new(&sv, s, free)) {
    free(s);
    weft_array_free(a);
    return weft__array_fail(g, WEFT_ENOMEM, "out of memory");
  }
  s->data = data;
  s->dt = dt;
  s->ndim = a->ndim;
  memcpy(s->shape, a->shape, sizeof s->shape);
  bool rows = true; /* blocks that are whole rows are contiguous */
  for (int k = 1; k < a->ndim; k++)
    rows = rows && a->nchunks[k] == 1;
  int64_t idx[MAXD], start[MAXD], ext[MAXD];
  int64_t rowsize = 1;
  for (int k = 1; k < a->ndim; k++)
    rowsize *= a->shape[k];
  for (size_t b = 0; b < a->nblocks; b++) {
    weft__block_coords(a, b, idx, start, ext);
    weft_node *node;
    if (rows) {
      weft_value c;
      size_t off = a->ndim ? (size_t)(start[0] * rowsize) * w : 0;
      int rc = weft_chunk_wrap(&c, dt, a->ndim, ext, (const char *)data + off,
                               NULL, NULL);
      node = rc ? NULL : weft_literal(g, c);
    } else {
      weft_value args[1 + 2 * MAXD];
      args[0] = weft_value_retain(&sv);
      for (int k = 0; k < a->ndim; k++) {
        args[1 + k] = weft_int(start[k]);
        args[1 + a->ndim + k] = weft_int(ext[k]);
      }
      node = weft_call_fn(g, &fn_copy, (size_t)(1 + 2 * a->ndim), args);
      if (node)
        weft__node_set_local(g, node);
    }
    if (!node) {
      weft_value_release(&sv);
      weft_array_free(a);
      if (!weft_graph_status(g))
        weft__array_fail(g, WEFT_ENOMEM, "out of memory");
      return NULL;
    }
    a->blocks[b] = node;
  }
  weft_value_release(&sv);
  snprintf(a->label, sizeof a->label, "from_buffer");
  return a;
}

/* ---- materialize ---- */

weft_array *weft_array_materialize(weft_array *x) {
  if (bad(x))
    return NULL;
  if (x->kind == AK_CHUNKS)
    return weft_array_retain(x);
  if (weft__array_lower(x))
    return NULL;
  weft_array *a = stored(x->g, x->dtype, x->ndim, x->shape);
  bool ok = a != NULL;
  for (int k = 0; ok && k < x->ndim; k++)
    ok = !weft__array_set_axis_chunks(a, k, (size_t)x->nchunks[k],
                                      x->chunks[k]);
  if (!ok || alloc_blocks(a)) {
    weft_array_free(a);
    return NULL;
  }
  memcpy(a->blocks, x->blocks, x->nblocks * sizeof *a->blocks);
  a->ntasks = x->ntasks;
  snprintf(a->label, sizeof a->label, "materialize");
  a->kid[0] = weft_array_retain(x);
  a->nkids = 1;
  return a;
}

/* ---- reshape ---- */

static int reshape_block(weft_task_ctx *ctx, const weft_value *args,
                         size_t n, weft_value *out) {
  weft_chunk_info c;
  if (n < 1 || weft_chunk_get(&args[0], &c))
    return weft_fail(ctx, "array reshape task: bad arguments");
  int64_t shape[MAXD];
  size_t cnt = 1;
  for (size_t k = 1; k < n && k - 1 < MAXD; k++) {
    shape[k - 1] = args[k].as.i;
    cnt *= (size_t)shape[k - 1];
  }
  if (cnt != c.count)
    return weft_fail(ctx, "array reshape task: %zu elements, not %zu",
                     c.count, cnt);
  void *data;
  if (weft__chunk_pooled(out, c.dtype, (int)(n - 1), shape, &data))
    return weft_fail(ctx, "out of memory for a chunk");
  if (c.nbytes)
    memcpy(data, c.data, c.nbytes);
  return 0;
}
static weft_fn_info fn_reshape = {"weft.array.reshape", reshape_block, -1,
                                  __FILE__, NULL};
__attribute__((constructor)) static void register_reshape(void) {
  weft_fn_register(&fn_reshape);
}

weft_array *weft_array_reshape(weft_array *x, weft_shape shape) {
  if (bad(x))
    return NULL;
  char s0[300], s1[300];
  weft__shape_str(x->ndim, x->shape, s0, sizeof s0);
  int64_t size = weft_array_size(x), known = 1;
  int unknown = -1;
  if (shape.ndim < 0 || shape.ndim > MAXD)
    return weft__array_fail(x->g, WEFT_EINVAL, "reshape: %d dimensions",
                            shape.ndim);
  for (int k = 0; k < shape.ndim; k++) {
    if (shape.d[k] == -1 && unknown < 0)
      unknown = k;
    else if (shape.d[k] < 0)
      return weft__array_fail(x->g, WEFT_EINVAL,
                              "reshape: bad extent %lld (only one -1)",
                              (long long)shape.d[k]);
    else
      known *= shape.d[k];
  }
  if (unknown >= 0)
    shape.d[unknown] = known ? size / known : 0;
  weft__shape_str(shape.ndim, shape.d, s1, sizeof s1);
  int64_t total = 1;
  for (int k = 0; k < shape.ndim; k++)
    total *= shape.d[k];
  if (total != size || (unknown >= 0 && known && size % known))
    return weft__array_fail(x->g, WEFT_EINVAL,
                            "cannot reshape array of size %lld (shape %s) "
                            "into shape %s",
                            (long long)size, s0, s1);
  if (size == 0) /* no values: any chunks will do */
    return weft_zeros(x->g, x->dtype, shape, WEFT_CHUNKS_WHOLE);
  /* only axes of extent 1 added or removed: a view */
  int ia = 0, oa = 0;
  bool ones_only = true;
  int src_of[MAXD];
  while (ones_only) {
    while (ia < x->ndim && x->shape[ia] == 1)
      ia++;
    while (oa < shape.ndim && shape.d[oa] == 1)
      src_of[oa++] = -1;
    if (ia == x->ndim || oa == shape.ndim) {
      ones_only = ia == x->ndim && oa == shape.ndim;
      break;
    }
    if (x->shape[ia] != shape.d[oa])
      ones_only = false;
    else
      src_of[oa++] = ia++;
  }
  if (ones_only) {
    weft_index items[2 * MAXD];
    size_t n = 0;
    /* integer 0 for the source's 1-axes, new axes for the output's */
    int src = 0;
    for (int k = 0; k < shape.ndim; k++) {
      if (src_of[k] < 0) {
        items[n++] = weft_newaxis();
        continue;
      }
      while (src < src_of[k])
        items[n++] = weft_at(0), src++;
      items[n++] = weft_slice(WEFT_IDX_NONE, WEFT_IDX_NONE, 1);
      src++;
    }
    while (src < x->ndim)
      items[n++] = weft_at(0), src++;
    return weft_array_index(x, n, items);
  }
  /* whole rows: each input block along axis 0 makes an output block */
  bool rows = x->ndim >= 1 && shape.ndim >= 1;
  for (int k = 1; rows && k < x->ndim; k++)
    rows = x->nchunks[k] == 1;
  int64_t rin = 1, rout = 1;
  for (int k = 1; k < x->ndim; k++)
    rin *= x->shape[k];
  for (int k = 1; k < shape.ndim; k++)
    rout *= shape.d[k];
  for (int64_t b = 0; rows && b < x->nchunks[0]; b++)
    rows = rout && (x->chunks[0][b] * rin) % rout == 0;
  if (!rows && weft__array_nblocks(x) != 1)
    return weft__array_fail(x->g, WEFT_EINVAL,
                            "reshape from %s to %s: the chunks do not allow "
                            "it (each block must be whole rows of both "
                            "shapes): weft_array_rechunk the array first, "
                            "e.g. to one chunk along every axis but the first",
                            s0, s1);
  if (x->kind != AK_CHUNKS && weft__array_lower(x))
    return NULL;
  weft_array *a = stored(x->g, x->dtype, shape.ndim, shape.d);
  if (!a)
    return NULL;
  int64_t nb = rows ? x->nchunks[0] : 1;
  int64_t *c0 = malloc((size_t)nb * sizeof *c0);
  if (!c0) {
    weft_array_free(a);
    return weft__array_fail(x->g, WEFT_ENOMEM, "out of memory");
  }
  for (int64_t b = 0; b < nb; b++)
    c0[b] = rows ? x->chunks[0][b] * rin / rout : shape.d[0];
  int rc = shape.ndim ? weft__array_set_axis_chunks(a, 0, (size_t)nb, c0) : 0;
  free(c0);
  for (int k = 1; !rc && k < shape.ndim; k++)
    rc = weft__array_set_axis_chunks(a, k, 1, &shape.d[k]);
  if (rc || alloc_blocks(a)) {
    weft_array_free(a);
    return NULL;
  }
  int64_t ext[MAXD];
  for (size_t b = 0; b < a->nblocks; b++) {
    weft__block_coords(a, b, (int64_t[MAXD]){0}, NULL, ext);
    weft_value args[1 + MAXD];
    args[0] = weft_node_ref(x->blocks[b]);
    for (int k = 0; k < shape.ndim; k++)
      args[1 + k] = weft_int(ext[k]);
    a->blocks[b] = weft_call_fn(x->g, &fn_reshape, (size_t)(1 + shape.ndim),
                                args);
    if (!a->blocks[b]) {
      weft_array_free(a);
      return NULL;
    }
  }
  a->ntasks = a->nblocks + x->ntasks;
  snprintf(a->label, sizeof a->label, "reshape");
  a->kid[0] = weft_array_retain(x);
  a->nkids = 1;
  return a;
}

/* ---- concatenate, stack ---- */

weft_array *weft_array_concatenate(size_t n, weft_array *const in[],
                                   int axis) {
  if (!n || !in)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if (bad(in[i]))
      return NULL;
  weft_array *f = in[0];
  int nd = f->ndim;
  if (nd == 0)
    return weft__array_fail(f->g, WEFT_EINVAL,
                            "zero-dimensional arrays cannot be concatenated");
  if (axis < -nd || axis >= nd)
    return weft__array_fail(f->g, WEFT_EINVAL,
                            "concatenate: axis %d is out of bounds for "
                            "array of dimension %d",
                            axis, nd);
  if (axis < 0)
    axis += nd;
  weft_dtype dt = f->dtype;
  int64_t shape[MAXD];
  memcpy(shape, f->shape, sizeof shape);
  shape[axis] = 0;
  for (size_t i = 0; i < n; i++) {
    weft_array *x = in[i];
    bool ok = x->ndim == nd && x->g == f->g;
    for (int k = 0; ok && k < nd; k++)
      ok = k == axis || x->shape[k] == f->shape[k];
    if (!ok) {
      char s0[300], s1[300];
      weft__shape_str(f->ndim, f->shape, s0, sizeof s0);
      weft__shape_str(x->ndim, x->shape, s1, sizeof s1);
      return weft__array_fail(f->g, WEFT_EINVAL,
                              "concatenate: array %zu has shape %s, array 0 "
                              "%s: all extents but axis %d must match",
                              i, s1, s0, axis);
    }
    shape[axis] += x->shape[axis];
  }
  for (size_t i = 1; i < n; i++) {
    weft_dtype d = in[i]->dtype;
    if (d != dt)
      dt = (dt == WEFT_F64 || d == WEFT_F64 ||
            ((dt == WEFT_F32 || d == WEFT_F32) &&
             (dt == WEFT_I32 || d == WEFT_I32 || dt == WEFT_I64 ||
              d == WEFT_I64)))
               ? WEFT_F64
           : (dt == WEFT_F32 || d == WEFT_F32) ? WEFT_F32
           : (dt == WEFT_I64 || d == WEFT_I64) ? WEFT_I64
           : (dt == WEFT_I32 || d == WEFT_I32) ? WEFT_I32
                                               : WEFT_BOOL;
  }
  /* inputs in stored form, with the first's chunks off the axis */
  weft_array **parts = calloc(n, sizeof *parts);
  if (!parts)
    return weft__array_fail(f->g, WEFT_ENOMEM, "out of memory");
  weft_array *a = NULL;
  int64_t total_chunks = 0;
  for (size_t i = 0; i < n; i++) {
    weft_array *x = weft_array_astype(in[i], dt);
    bool same = true;
    for (int k = 0; x && same && k < nd; k++)
      same = k == axis || (x->nchunks[k] == f->nchunks[k] &&
                           !memcmp(x->chunks[k], f->chunks[k],
                                   (size_t)f->nchunks[k] * sizeof(int64_t)));
    if (x && !same) {
      weft_chunks c = {nd, {0}, {0}, {0}};
      for (int k = 0; k < nd; k++) {
        c.sizes[k] = k == axis ? x->chunks[k] : f->chunks[k];
        c.nsizes[k] = (size_t)(k == axis ? x->nchunks[k] : f->nchunks[k]);
      }
      weft_array *y = weft_array_rechunk(x, c);
      weft_array_free(x);
      x = y;
    }
    if (x && x->kind != AK_CHUNKS) {
      weft_array *y = weft_array_materialize(x);
      weft_array_free(x);
      x = y;
    }
    if (!x)
      goto out;
    parts[i] = x;
    total_chunks += x->nchunks[axis];
  }
  a = stored(f->g, dt, nd, shape);
  if (!a)
    goto out;
  for (int k = 0; k < nd; k++) {
    int rc;
    if (k != axis) {
      rc = weft__array_set_axis_chunks(a, k, (size_t)f->nchunks[k],
                                       f->chunks[k]);
    } else {
      int64_t *c = malloc((size_t)total_chunks * sizeof *c);
      int64_t q = 0;
      if (c)
        for (size_t i = 0; i < n; i++)
          for (int64_t j = 0; j < parts[i]->nchunks[axis]; j++)
            c[q++] = parts[i]->chunks[axis][j];
      rc = c ? weft__array_set_axis_chunks(a, k, (size_t)total_chunks, c)
             : WEFT_ENOMEM;
      free(c);
    }
    if (rc) {
      weft_array_free(a);
      a = NULL;
      goto out;
    }
  }
  if (alloc_blocks(a)) {
    weft_array_free(a);
    a = NULL;
    goto out;
  }
  int64_t idx[MAXD];
  for (size_t b = 0; b < a->nblocks; b++) {
    weft__block_coords(a, b, idx, NULL, NULL);
    int64_t j = idx[axis];
    size_t i = 0;
    while (j >= parts[i]->nchunks[axis])
      j -= parts[i++]->nchunks[axis];
    size_t flat = 0;
    for (int k = 0; k < nd; k++)
      flat = flat * (size_t)parts[i]->nchunks[k] + (size_t)(k == axis ? j : idx[k]);
    a->blocks[b] = parts[i]->blocks[flat];
  }
  a->ntasks = 0;
  for (size_t i = 0; i < n; i++)
    a->ntasks += parts[i]->ntasks;
  snprintf(a->label, sizeof a->label, "concatenate");
  for (size_t i = 0; i < n && i < 3; i++)
    a->kid[a->nkids++] = weft_array_retain(parts[i]);
out:
  for (size_t i = 0; i < n; i++)
    weft_array_free(parts[i]);
  free(parts);
  return a;
}

weft_array *weft_array_stack(size_t n, weft_array *const in[], int axis) {
  if (!n || !in)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if (bad(in[i]))
      return NULL;
  weft_array *f = in[0];
  int nd = f->ndim + 1;
  if (axis < -nd || axis >= nd)
    return weft__array_fail(f->g, WEFT_EINVAL,
                            "stack: axis %d is out of bounds for array of "
                            "dimension %d",
                            axis, nd);
  if (axis < 0)
    axis += nd;
  weft_array **ex = calloc(n, sizeof *ex);
  if (!ex)
    return weft__array_fail(f->g, WEFT_ENOMEM, "out of memory");
  weft_array *r = NULL;
  for (size_t i = 0; i < n; i++) {
    bool same = in[i]->ndim == f->ndim;
    for (int k = 0; same && k < f->ndim; k++)
      same = in[i]->shape[k] == f->shape[k];
    if (!same) {
      char s0[300], s1[300];
      weft__shape_str(f->ndim, f->shape, s0, sizeof s0);
      weft__shape_str(in[i]->ndim, in[i]->shape, s1, sizeof s1);
      weft__array_fail(f->g, WEFT_EINVAL,
                       "stack: all input arrays must have the same shape; "
                       "array %zu is %s, array 0 %s",
                       i, s1, s0);
      goto out;
    }
    weft_index items[MAXD + 1];
    size_t q = 0;
    for (int k = 0; k < nd; k++)
      items[q++] = k == axis ? weft_newaxis()
                             : weft_slice(WEFT_IDX_NONE, WEFT_IDX_NONE, 1);
    ex[i] = weft_array_index(in[i], q, items);
    if (!ex[i])
      goto out;
  }
  r = weft_array_concatenate(n, ex, axis);
out:
  for (size_t i = 0; i < n; i++)
    weft_array_free(ex[i]);
  free(ex);
  return r;
}
