/* npy_array.c - chunked arrays and .npy files: an array whose chunks are
 * blocks of a memory-mapped .npy (numpy's np.load(mmap_mode='r') then
 * da.from_array), and an array stored to a .npy chunk by chunk (da.to_npy
 * stacks, here one file written block by block), so neither side ever holds
 * the whole array in memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include "array_impl.h"
#include "weft/error.h"
#include "weft/npy.h"

/* ---- reading ---- */

static void close_npy(void *p) { weft_npy_close(p); }

static int npy_block_task(weft_task_ctx *ctx, const weft_value *args,
                          size_t n, weft_value *out) {
  /* args: the open file (ptr), then start and extent per axis */
  weft_npy *f = weft_value_ptr(&args[0]);
  const weft_npy_info *in = f ? weft_npy_get_info(f) : NULL;
  if (!in || n != 1 + 2 * (size_t)in->ndim)
    return weft_fail(ctx, "array npy task: bad arguments");
  int64_t start[MAXD], ext[MAXD];
  for (int k = 0; k < in->ndim; k++) {
    start[k] = args[1 + k].as.i;
    ext[k] = args[1 + in->ndim + k].as.i;
  }
  weft_errmsg err;
  if (weft_npy_block(f, start, ext, out, &err))
    return weft_fail(ctx, "%s", err.text);
  return 0;
}
static weft_fn_info fn_npy = {"weft.array.from_npy", npy_block_task, -1,
                              __FILE__, NULL};
__attribute__((constructor)) static void register_npy(void) {
  weft_fn_register(&fn_npy);
}

weft_array *weft_array_from_npy(weft_graph *g, const char *path,
                                weft_chunks chunks) {
  if (!g)
    return NULL;
  if (weft_graph_status(g))
    return NULL;
  if (!path)
    return weft__array_fail(g, WEFT_EINVAL, "from_npy: NULL path");
  weft_errmsg err;
  weft_npy *f;
  int rc = weft_npy_open(path, &f, &err);
  if (rc)
    return weft__array_fail(g, rc, "from_npy: %s", err.text);
  const weft_npy_info *in = weft_npy_get_info(f);
  if (!weft__dtype_supported(in->dtype)) {
    weft__array_fail(g, WEFT_ENOTSUP,
                     "from_npy: %s holds %s; weft arrays are bool, int32, "
                     "int64, float32 or float64",
                     path, weft_dtype_name(in->dtype));
    weft_npy_close(f);
    return NULL;
  }
  if (in->ndim > MAXD) {
    weft__array_fail(g, WEFT_ENOTSUP, "from_npy: %s has %d dimensions, "
                     "arrays at most %d", path, in->ndim, MAXD);
    weft_npy_close(f);
    return NULL;
  }
  weft_value fv;
  if (weft_ptr_new(&fv, f, close_npy)) {
    weft_npy_close(f);
    return weft__array_fail(g, WEFT_ENOMEM, "out of memory");
  }
  weft_array *a = weft__array_new(g, AK_CHUNKS, in->dtype, in->ndim, in->shape);
  bool ok = a && !weft__array_set_chunks(a, &chunks);
  size_t nb = ok ? weft__array_nblocks(a) : 0;
  if (ok) {
    a->blocks = calloc(nb ? nb : 1, sizeof *a->blocks);
    ok = a->blocks != NULL;
    if (!ok)
      weft__array_fail(g, WEFT_ENOMEM, "out of memory for %zu blocks", nb);
    else
      a->nblocks = a->ntasks = nb;
  }
  int64_t idx[MAXD], start[MAXD], ext[MAXD];
  for (size_t b = 0; ok && b < nb; b++) {
    weft__block_coords(a, b, idx, start, ext);
    weft_value args[1 + 2 * MAXD];
    args[0] = weft_value_retain(&fv);
    for (int k = 0; k < a->ndim; k++) {
      args[1 + k] = weft_int(start[k]);
      args[1 + a->ndim + k] = weft_int(ext[k]);
    }
    /* the handle is this process' mapping: the task runs here (under procs
     * its chunk, a view of the mapping, is what travels) */
    weft_node *node = weft_call_fn(g, &fn_npy, (size_t)(1 + 2 * a->ndim), args);
    if (node)
      weft__node_set_local(g, node);
    else if (!weft_graph_status(g))
      weft__array_fail(g, WEFT_ENOMEM, "out of memory");
    a->blocks[b] = node;
    ok = node != NULL;
  }
  weft_value_release(&fv);
  if (!ok) {
    weft_array_free(a);
    return NULL;
  }
  snprintf(a->label, sizeof a->label, "from_npy");
  return a;
}

/* ---- writing ---- */

typedef struct to_npy {
  weft_npy_writer *w;
  pthread_mutex_t mu;
  int failed;
  weft_errmsg err;
} to_npy;

static int write_block(const weft_array_block *blk, void *ud) {
  to_npy *t = ud;
  weft_errmsg err;
  if (!weft_npy_write_block(t->w, blk->start, blk->chunk.shape,
                            blk->chunk.data, &err))
    return 0;
  pthread_mutex_lock(&t->mu);
  if (!t->failed) {
    t->failed = 1;
    t->err = err;
  }
  pthread_mutex_unlock(&t->mu);
  return 1;
}

int weft_array_to_npy(weft_array *a, const char *path,
                      const weft_compute_opts *opts) {
  if (!a)
    return WEFT_EINVAL;
  int st = weft_graph_status(a->g);
  if (st)
    return st;
  if (!path)
    return weft__graph_msg(a->g, WEFT_EINVAL, "to_npy: NULL path");
  to_npy t;
  memset(&t, 0, sizeof t);
  int rc = weft_npy_create(path, a->dtype, a->ndim, a->shape, &t.w, &t.err);
  if (rc)
    return weft__graph_msg(a->g, rc, "to_npy: %s", t.err.text);
  pthread_mutex_init(&t.mu, NULL);
  rc = weft_array_compute_blocks(a, write_block, &t, opts);
  weft_errmsg cerr;
  int crc = weft_npy_writer_close(t.w, &cerr);
  pthread_mutex_destroy(&t.mu);
  if (t.failed)
    rc = weft__graph_msg(a->g, WEFT_EIO, "to_npy: %s", t.err.text);
  else if (!rc && crc)
    rc = weft__graph_msg(a->g, crc, "to_npy: %s", cerr.text);
  if (rc)
    unlink(path); /* no half-written file left behind */
  return rc;
}
