/* compute.c - computing arrays: their blocks as graph nodes, a scalar, the
 * whole array into a C buffer, or chunk by chunk to a callback. The
 * callback runs in a task of its own per block (in the computing process
 * under procs), so each chunk is released as soon as it was delivered and
 * the whole array never sits in memory. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "array_impl.h"
#include "weft/error.h"

int weft_array_blocks(weft_array *a, size_t *n, weft_node *const **nodes) {
  if (!a)
    return WEFT_EINVAL;
  int st = weft_graph_status(a->g);
  if (st)
    return st;
  if (!a->blocks && weft__array_lower(a))
    return weft_graph_status(a->g) ? weft_graph_status(a->g) : WEFT_ENOMEM;
  if (n)
    *n = a->nblocks;
  if (nodes)
    *nodes = a->blocks;
  return 0;
}

int weft_array_compute_scalar(weft_array *a, double *out,
                              const weft_compute_opts *opts) {
  if (!a || !out)
    return WEFT_EINVAL;
  if (weft_array_size(a) != 1) {
    char s[300];
    weft__shape_str(a->ndim, a->shape, s, sizeof s);
    return weft__graph_msg(a->g, WEFT_EINVAL,
                           "compute_scalar: the array has shape %s, not one "
                           "element",
                           s);
  }
  size_t n;
  weft_node *const *nodes;
  int rc = weft_array_blocks(a, &n, &nodes);
  if (rc)
    return rc;
  weft_value v;
  rc = weft_compute1(a->g, nodes[0], &v, opts);
  if (rc)
    return rc;
  weft_chunk_info c;
  if (weft_chunk_get(&v, &c) || c.count != 1) {
    weft_value_release(&v);
    return weft__graph_msg(a->g, WEFT_ETYPE, "compute_scalar: not a chunk");
  }
  switch (c.dtype) {
  case WEFT_BOOL: *out = *(const uint8_t *)c.data; break;
  case WEFT_I32: *out = *(const int32_t *)c.data; break;
  case WEFT_I64: *out = (double)*(const int64_t *)c.data; break;
  case WEFT_F32: *out = *(const float *)c.data; break;
  case WEFT_F64: *out = *(const double *)c.data; break;
  default: break;
  }
  weft_value_release(&v);
  return 0;
}

/* ---- chunk by chunk ---- */

typedef struct deliver_ud {
  weft_array *a;
  weft_array_block_fn fn;
  void *ud;
  atomic_int stopped;
} deliver_ud;

static int deliver(weft_task_ctx *ctx, const weft_value *args, size_t n,
                   weft_value *out) {
  (void)out;
  deliver_ud *d = weft_value_ptr(&args[0]);
  if (n != 3 || !d || args[2].type != WEFT_T_INT)
    return weft_fail(ctx, "array delivery task: bad arguments");
  if (!d->fn)
    return weft_fail(ctx, "the delivery task of a finished "
                          "weft_array_compute_blocks cannot run again");
  if (atomic_load(&d->stopped))
    return weft_fail(ctx, "stopped by the block callback");
  int64_t idx[MAXD], start[MAXD];
  weft__block_coords(d->a, (size_t)args[2].as.i, idx, start, NULL);
  weft_array_block blk;
  blk.index = idx;
  blk.start = start;
  if (weft_chunk_get(&args[1], &blk.chunk))
    return weft_fail(ctx, "array delivery task: not a chunk");
  if (d->fn(&blk, d->ud)) {
    atomic_store(&d->stopped, 1);
    return weft_fail(ctx, "stopped by the block callback");
  }
  return 0;
}
static weft_fn_info fn_deliver = {"weft.array.deliver", deliver, 3, __FILE__,
                                  NULL};
__attribute__((constructor)) static void register_deliver(void) {
  weft_fn_register(&fn_deliver);
}

int weft_array_compute_blocks(weft_array *a, weft_array_block_fn fn, void *ud,
                              const weft_compute_opts *opts) {
  if (!a || !fn)
    return WEFT_EINVAL;
  size_t n;
  weft_node *const *nodes;
  int rc = weft_array_blocks(a, &n, &nodes);
  if (rc)
    return rc;
  deliver_ud *d = calloc(1, sizeof *d);
  weft_node **sinks = malloc((n ? n : 1) * sizeof *sinks);
  weft_value dv;
  if (!d || !sinks || weft_ptr_new(&dv, d, free)) {
    free(d);
    free(sinks);
    return weft__graph_msg(a->g, WEFT_ENOMEM, "out of memory");
  }
  d->a = a;
  d->fn = fn;
  d->ud = ud;
  atomic_init(&d->stopped, 0);
  for (size_t b = 0; b < n; b++) {
    weft_value args[3] = {weft_value_retain(&dv), weft_node_ref(nodes[b]),
                          weft_int((int64_t)b)};
    sinks[b] = weft_call_fn(a->g, &fn_deliver, 3, args);
    if (!sinks[b]) {
      weft_value_release(&dv);
      free(sinks);
      return weft_graph_status(a->g);
    }
    weft__node_set_local(a->g, sinks[b]);
  }
  weft_node *all = weft_list(a->g, n, sinks);
  free(sinks);
  weft_value res = weft_none();
  rc = all ? weft_compute1(a->g, all, &res, opts) : weft_graph_status(a->g);
  weft_value_release(&res);
  if (rc && atomic_load(&d->stopped))
    rc = weft__graph_msg(a->g, WEFT_ECANCELED,
                         "compute_blocks: stopped by the block callback");
  d->fn = NULL; /* the graph keeps d (its nodes do) */
  weft_value_release(&dv);
  return rc;
}

typedef struct to_buf {
  char *buf;
  int nd;
  size_t w;
  int64_t stride[MAXD];
} to_buf;

static int copy_out(const weft_array_block *blk, void *ud) {
  to_buf *t = ud;
  const weft_chunk_info *c = &blk->chunk;
  if (!c->count)
    return 0;
  if (t->nd == 0) {
    memcpy(t->buf, c->data, t->w);
    return 0;
  }
  size_t run = (size_t)c->shape[t->nd - 1];
  int64_t idx[MAXD] = {0};
  for (size_t done = 0; done < c->count; done += run) {
    int64_t off = 0;
    for (int k = 0; k < t->nd; k++)
      off += (blk->start[k] + (k < t->nd - 1 ? idx[k] : 0)) * t->stride[k];
    memcpy(t->buf + (size_t)off * t->w, (const char *)c->data + done * t->w,
           run * t->w);
    for (int k = t->nd - 2; k >= 0; k--) {
      if (++idx[k] < c->shape[k])
        break;
      idx[k] = 0;
    }
  }
  return 0;
}

int weft_array_compute_buffer(weft_array *a, void *buf, size_t size,
                              const weft_compute_opts *opts) {
  if (!a || (!buf && weft_array_nbytes(a) > 0))
    return WEFT_EINVAL;
  if ((double)size < weft_array_nbytes(a))
    return weft__graph_msg(a->g, WEFT_EINVAL,
                           "compute_buffer: %zu bytes given, the array takes "
                           "%.0f",
                           size, weft_array_nbytes(a));
  to_buf t = {buf, a->ndim, weft_dtype_size(a->dtype), {0}};
  int64_t s = 1;
  for (int k = a->ndim - 1; k >= 0; k--) {
    t.stride[k] = s;
    s *= a->shape[k];
  }
  return weft_array_compute_blocks(a, copy_out, &t, opts);
}
