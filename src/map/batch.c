/* batch.c - the task functions that run one batch of a parallel map (and
 * of a map-reduce); pack.c packs a batch's items for worker processes.
 *
 * A batch calls the user's function once per item in a tight loop: no task,
 * no allocation and no atomic per item, which is what keeps the cost of a
 * tiny item near that of a plain loop. Each item runs under a context of
 * its own (a copy of the batch's), so that when it fails the batch can
 * report which item it was: the batch fails with "item <i>: <message>",
 * where <message> is what the function gave weft_fail (or the text of the
 * code it returned), and returns the item's own code.
 *
 * The portable batches find the function by its registered name, so they
 * run unchanged in a worker process; the local ones work through a pointer
 * into the caller's memory and check the process id before touching it. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/task.h"
#include "map_impl.h"

/* ---- running items under a context of their own ---- */

typedef struct item_scope {
  weft_task_ctx sub;
  weft_task_ctx *outer;
} item_scope;

static void scope_enter(item_scope *s, weft_task_ctx *ctx) {
  s->outer = ctx;
  if (ctx)
    s->sub = *ctx;
  else
    memset(&s->sub, 0, sizeof s->sub);
  weft__task_reset(&s->sub);
  weft__task_set_current(&s->sub);
}

static void scope_leave(item_scope *s) { weft__task_set_current(s->outer); }

/* Item idx failed with rc (or through weft_fail): fails the batch with a
 * message naming the item; returns the code the batch returns. */
static int item_failed(item_scope *s, int rc, size_t idx,
                       const weft_fn_info *reducer) {
  char own[200];
  const char *why = s->sub.message ? s->sub.message
                                   : weft__task_code_text(rc ? rc : WEFT_ETASK,
                                                          own, sizeof own);
  if (reducer)
    weft_fail(s->outer, "item %zu (reducing with %s): %s", idx, reducer->name,
              why);
  else
    weft_fail(s->outer, "item %zu: %s", idx, why);
  free(s->sub.message);
  weft__task_reset(&s->sub);
  return rc ? rc : WEFT_ETASK;
}

/* Calls fn(arg) into *out. On failure *out is none. */
static inline int call1(item_scope *s, const weft_fn_info *fn,
                        const weft_value *arg, weft_value *out) {
  *out = weft_none();
  int rc = fn->fn(&s->sub, arg, 1, out);
  if (__builtin_expect(rc != 0 || s->sub.failed, 0)) {
    weft_value_release(out);
    return rc ? rc : WEFT_ETASK;
  }
  return 0;
}

/* acc = reduce(acc, m), releasing both inputs. On failure acc is none. */
static inline int fold(item_scope *s, const weft_fn_info *rfn, weft_value *acc,
                       weft_value *m) {
  weft_value pair[2] = {*acc, *m};
  weft_value r = weft_none();
  int rc = rfn->fn(&s->sub, pair, 2, &r);
  weft_value_release(acc);
  weft_value_release(m);
  if (__builtin_expect(rc != 0 || s->sub.failed, 0)) {
    weft_value_release(&r);
    return rc ? rc : WEFT_ETASK;
  }
  *acc = r;
  return 0;
}

/* Item k of a batch's items: from an array, or copied out of packed
 * scalars (whose alignment is unknown: they may come from a socket or
 * shared memory). `owned`: an array unpacked for this batch, released with
 * items_clear. */
typedef struct items {
  const weft_value *arr;
  const unsigned char *packed;
  weft_value *owned;
  size_t count;
} items;

static void items_clear(items *it) {
  if (it->owned) {
    for (size_t k = 0; k < it->count; k++)
      weft_value_release(&it->owned[k]);
    free(it->owned);
  }
  it->owned = NULL;
}

static inline const weft_value *item_at(const items *it, size_t k,
                                        weft_value *tmp) {
  if (it->arr)
    return &it->arr[k];
  memcpy(tmp, it->packed + k * sizeof *tmp, sizeof *tmp);
  return tmp;
}

/* Maps count items into out[0..count). base: index of the first item, for
 * messages. On failure out[0..count) is all none. */
static int map_items(weft_task_ctx *ctx, const weft_fn_info *fn,
                     const items *it, size_t count, size_t base,
                     weft_value *out) {
  item_scope s;
  scope_enter(&s, ctx);
  int rc = 0;
  size_t k = 0;
  for (; k < count; k++) {
    weft_value tmp;
    rc = call1(&s, fn, item_at(it, k, &tmp), &out[k]);
    if (__builtin_expect(rc != 0, 0))
      break;
  }
  if (rc) {
    rc = item_failed(&s, rc, base + k, NULL);
    for (size_t j = 0; j < k; j++)
      weft_value_release(&out[j]);
    for (size_t j = k; j < count; j++)
      out[j] = weft_none();
  }
  scope_leave(&s);
  return rc;
}

/* Maps and folds count items into *acc. On failure *acc is none. */
static int reduce_items(weft_task_ctx *ctx, const weft_fn_info *fn,
                        const weft_fn_info *rfn, const items *it, size_t count,
                        size_t base, weft_value *acc) {
  item_scope s;
  scope_enter(&s, ctx);
  *acc = weft_none();
  int rc = 0;
  const weft_fn_info *failed_in = NULL;
  size_t k = 0;
  for (; k < count; k++) {
    weft_value tmp, m = weft_none();
    rc = call1(&s, fn, item_at(it, k, &tmp), k ? &m : acc);
    if (__builtin_expect(rc != 0, 0))
      break;
    if (k && (rc = fold(&s, rfn, acc, &m)) != 0) {
      failed_in = rfn;
      break;
    }
  }
  if (rc) {
    weft_value_release(acc);
    rc = item_failed(&s, rc, base + k, failed_in);
  }
  scope_leave(&s);
  return rc;
}

/* ---- local batches: (job pointer, begin, end, pid) ---- */

static int local_args(weft_task_ctx *ctx, const weft_value *args, size_t nargs,
                      size_t want, weft__map_job **job, size_t *b, size_t *e) {
  if (nargs != want || args[0].type != WEFT_T_INT ||
      args[1].type != WEFT_T_INT || args[2].type != WEFT_T_INT ||
      args[3].type != WEFT_T_INT ||
      args[0].as.i == 0 || args[1].as.i < 0 || args[2].as.i < args[1].as.i)
    return weft_fail(ctx, "malformed in-process map batch");
  if (args[3].as.i != (int64_t)getpid())
    return weft_fail(ctx, "an in-process map batch cannot run in another "
                          "process");
  *job = (weft__map_job *)(intptr_t)args[0].as.i;
  *b = (size_t)args[1].as.i;
  *e = (size_t)args[2].as.i;
  return 0;
}

static int map_local(weft_task_ctx *ctx, const weft_value *args, size_t nargs,
                     weft_value *out) {
  weft__map_job *job = NULL;
  size_t b = 0, e = 0;
  int rc = local_args(ctx, args, nargs, 4, &job, &b, &e);
  if (rc)
    return rc;
  items it = {job->in + b, NULL, NULL, e - b};
  rc = map_items(ctx, job->fn, &it, e - b, b, job->out + b);
  if (!rc)
    job->done[b / job->batch] = 1;
  *out = weft_none();
  return rc;
}
WEFT_REGISTER_AS(map_local, "weft.map.local", map_local, 4);
const weft_fn_info *const weft__map_local_fn = WEFT_FN(map_local);

/* A portable batch's results, unpacked into the caller's outputs as soon as
 * they come back (the procs scheduler runs this task in the program, while
 * the workers go on), rather than all at the end. Args: job pointer, begin,
 * end, pid, the batch's result. */
static int map_unpack(weft_task_ctx *ctx, const weft_value *args, size_t nargs,
                      weft_value *out) {
  weft__map_job *job = NULL;
  size_t b = 0, e = 0;
  int rc = local_args(ctx, args, nargs, 5, &job, &b, &e);
  if (rc)
    return rc;
  *out = weft_none();
  rc = weft__map_unpack(&args[4], e - b, job->out + b);
  if (rc == WEFT_ENOMEM)
    return weft_fail(ctx, "out of memory unpacking items %zu to %zu", b,
                     e - 1);
  if (rc)
    return weft_fail(ctx,
                     "the results of items %zu to %zu came back malformed "
                     "(a %s)",
                     b, e - 1, weft_type_name(args[4].type));
  return 0;
}
WEFT_REGISTER_AS(map_unpack, "weft.map.unpack", map_unpack, 5);
const weft_fn_info *const weft__map_unpack_fn = WEFT_FN(map_unpack);

static int reduce_local(weft_task_ctx *ctx, const weft_value *args,
                        size_t nargs, weft_value *out) {
  weft__map_job *job = NULL;
  size_t b = 0, e = 0;
  int rc = local_args(ctx, args, nargs, 4, &job, &b, &e);
  if (rc)
    return rc;
  items it = {job->in + b, NULL, NULL, e - b};
  return reduce_items(ctx, job->fn, job->rfn, &it, e - b, b, out);
}
WEFT_REGISTER_AS(reduce_local, "weft.map.reduce_local", reduce_local, 4);
const weft_fn_info *const weft__map_reduce_local_fn =
    WEFT_FN(reduce_local);

/* ---- portable batches: (name(s), first index, items) ---- */

/* Finds a registered function of the given arity by name, or fails ctx. */
static int find_fn(weft_task_ctx *ctx, const weft_value *name, int arity,
                   const weft_fn_info **fn) {
  const char *s = weft_value_str(name);
  if (!s)
    return weft_fail(ctx, "malformed map batch: no function name");
  int rc = weft_fn_find(s, fn);
  if (rc)
    return weft_fail(ctx, "function '%s' %s in this process", s,
                     rc == WEFT_EEXIST ? "is registered twice"
                                       : "is not registered");
  if ((*fn)->arity != -1 && arity != (*fn)->arity &&
      (arity > (*fn)->arity || arity < weft_fn_min_arity(*fn)))
    return weft_fail(ctx, "function '%s' takes %d arguments, not %d", s,
                     (*fn)->arity, arity);
  return 0;
}

/* The items of a payload: packed scalars are read in place, packed lists
 * are unpacked (into it->owned), a list's items are read in place. */
static int payload_items(weft_task_ctx *ctx, const weft_value *p, items *it,
                         size_t *count) {
  memset(it, 0, sizeof *it);
  if (weft__map_payload_count(p, count))
    return weft_fail(ctx,
                     "malformed map batch: its items are a %s that is "
                     "not a batch",
                     weft_type_name(p->type));
  it->count = *count;
  if (p->type == WEFT_T_LIST) {
    it->arr = *count ? weft_list_get(p, 0) : p; /* items are contiguous */
    return 0;
  }
  if ((it->packed = weft__map_packed_scalars(p)))
    return 0;
  it->owned = malloc((*count ? *count : 1) * sizeof *it->owned);
  int rc = it->owned ? weft__map_unpack(p, *count, it->owned) : WEFT_ENOMEM;
  if (rc) {
    free(it->owned);
    it->owned = NULL;
    return weft_fail(ctx, "%s",
                     rc == WEFT_ENOMEM
                         ? "out of memory unpacking a map batch"
                         : "malformed map batch: bad packed items");
  }
  it->arr = it->owned;
  return 0;
}

static int map_batch(weft_task_ctx *ctx, const weft_value *args, size_t nargs,
                     weft_value *out) {
  const weft_fn_info *fn;
  items it;
  size_t count;
  int rc;
  if (nargs != 3 || args[1].type != WEFT_T_INT || args[1].as.i < 0)
    return weft_fail(ctx, "malformed map batch");
  if ((rc = find_fn(ctx, &args[0], 1, &fn)) ||
      (rc = payload_items(ctx, &args[2], &it, &count)))
    return rc;
  weft_value *res = malloc((count ? count : 1) * sizeof *res);
  if (!res) {
    items_clear(&it);
    return weft_fail(ctx, "out of memory for %zu results", count);
  }
  rc = map_items(ctx, fn, &it, count, (size_t)args[1].as.i, res);
  items_clear(&it);
  if (!rc) {
    size_t bad;
    rc = weft__map_pack(res, count, out, &bad);
    if (rc == WEFT_ENOTSUP)
      weft_fail(ctx,
                "item %zu: the result is a %s, which cannot leave the "
                "process",
                (size_t)args[1].as.i + bad, weft_type_name(res[bad].type));
    else if (rc)
      weft_fail(ctx, "out of memory for %zu results", count);
    for (size_t k = 0; k < count; k++)
      weft_value_release(&res[k]);
  }
  free(res);
  return rc;
}
WEFT_REGISTER_AS(map_batch, "weft.map.batch", map_batch, 3);
const weft_fn_info *const weft__map_batch_fn = WEFT_FN(map_batch);

static int reduce_batch(weft_task_ctx *ctx, const weft_value *args,
                        size_t nargs, weft_value *out) {
  const weft_fn_info *fn, *rfn;
  items it;
  size_t count;
  int rc;
  if (nargs != 4 || args[2].type != WEFT_T_INT || args[2].as.i < 0)
    return weft_fail(ctx, "malformed map-reduce batch");
  if ((rc = find_fn(ctx, &args[0], 1, &fn)) ||
      (rc = find_fn(ctx, &args[1], 2, &rfn)) ||
      (rc = payload_items(ctx, &args[3], &it, &count)))
    return rc;
  rc = reduce_items(ctx, fn, rfn, &it, count, (size_t)args[2].as.i, out);
  items_clear(&it);
  return rc;
}
WEFT_REGISTER_AS(reduce_batch, "weft.map.reduce_batch", reduce_batch, 4);
const weft_fn_info *const weft__map_reduce_batch_fn =
    WEFT_FN(reduce_batch);
