/* weft/map.h - the parallel map and map-reduce: joblib's
 * Parallel(n_jobs=-1)(delayed(f)(x) for x in xs), multiprocessing's
 * Pool.map, and Dask's "map-reduce is a special case" of a task graph.
 *
 *   static double slow_square(double a) { sleep(1); return a * a; }
 *   WEFT_DELAYED(slow_square, double, double);
 *   ...
 *   weft_value in[4], out[4];            // in[i] = weft_double(...)
 *   weft_map_opts o;
 *   weft_map_opts_init(&o);              // all cores, threads, auto batches
 *   o.scheduler = WEFT_SCHED_PROCS;      // or threads (default), sync
 *   if (weft_map(WEFT_FN(slow_square), 4, in, out, &o)) ...
 *
 * The function is any task function (weft/fn.h) that takes one argument
 * (or more, when the others have defaults: WEFT_DEFAULTS);
 * item i is fn(inputs[i]) and results come back in input order. Items are
 * grouped into batches, one task per batch, so that a million tiny items
 * cost about as much as a plain loop (batch_size 0 picks the size: about 8
 * batches per worker, at least one item each). On the threads and sync
 * schedulers the batches read the inputs and write the outputs in place;
 * on procs they carry the function's registered name and the items (scalars
 * packed in one byte buffer, other values as a list) to the workers, so
 * there the function must be registered (WEFT_REGISTER / WEFT_DELAYED; the
 * same rule as a procs compute: weft/procs.h) and inputs and results must
 * be values that can leave the process (not WEFT_T_PTR). The results of a
 * procs batch that are lists of numbers come back in one block per batch:
 * each is an ordinary list (read it, set it, release it in any order), and
 * the block is freed with the last of its lists. A typed (WEFT_DELAYED)
 * function costs about what a generic one does per item.
 *
 * Errors are returned as negative WEFT_E* codes; with opts->errbuf set, a
 * message is written there too. A failing item (its function returned an
 * error or called weft_fail) makes the whole call fail, as in joblib: its
 * batch stops there, batches not yet started never start, and every result
 * already made is released. The call then returns WEFT_ETASK, whatever code
 * the item's function returned (the same rule as weft_compute: a task's
 * code is never mistaken for an error of the call); the item's own code goes
 * to opts->item_code. The message names the item's index and the
 * function's own message (or the text of its code), e.g.
 *   "weft_map(slow_square): item 5: bad input 5".
 * On procs, an item that kills its worker process (crash, abort, exit) is
 * retried with its batch (opts->retries); past that the call returns
 * WEFT_EKILLED with e.g. "item 3 (crash) killed its worker 2 times (last:
 * signal 11, Segmentation fault)" ("one of items 3 to 9 (crash) ..." when
 * the batch held several items).
 * A task function sees a context of its own per item (weft_task_current()
 * works in WEFT_DELAYED functions); weft_task_key gives its batch's key,
 * "<function>[<first>:<end>]" (e.g. "slow_square[0:2]", the items 0 and 1;
 * maps of more than 65,536 batches keep automatic keys).
 *
 * Thread-safety: weft_map and weft_map_reduce may be called from several
 * threads at once; calls sharing one executor (or procs pool) run one at a
 * time. Calling them from a task that runs on the same executor fails with
 * WEFT_EBUSY (use another executor, or none). The lazy forms build into a
 * graph and follow weft/graph.h's rule: one graph, one thread at a time. */
#ifndef WEFT_MAP_H
#define WEFT_MAP_H

#include <stddef.h>

#include "compute.h"
#include "events.h"
#include "fn.h"
#include "graph.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct weft_map_opts {
  /* DEFAULT: procs when `procs` is set, threads when `executor` is set,
   * else WEFT_SCHEDULER, else threads. */
  weft_scheduler scheduler;
  /* Workers; <= 0 (joblib's n_jobs=-1): all cores (WEFT_WORKERS when set).
   * Ignored when an executor or procs pool is given. */
  int workers;
  /* Nonzero with workers <= 0: one worker per physical core, like
   * psutil.cpu_count(logical=False) (weft_physical_cpu_count); this option
   * wins over WEFT_WORKERS. */
  int physical;
  weft_executor *executor; /* threads: run on this pool (kept), or NULL */
  weft_procs *procs;       /* procs: run on this pool (kept), or NULL */
  /* Items per task; 0: automatic (ceil(n / (8 * workers)), at least 1). */
  size_t batch_size;
  const weft_listener *listener; /* events of the compute, or NULL */
  int retries;    /* procs: reruns of a batch whose worker died (< 0: the pool's, 1 by default) */
  int ignore_env; /* nonzero: do not read WEFT_* variables */
  /* When not NULL, receives the message of a failure (always terminated,
   * truncated to errbuf_size), and "" on success. */
  char *errbuf;
  size_t errbuf_size;
  /* When not NULL, receives the failing item's own code when the call
   * returns WEFT_ETASK (WEFT_ETASK when it failed through weft_fail, else
   * what its function returned, e.g. WEFT_EINVAL), and 0 otherwise. */
  int *item_code;
  /* Diagnostics of the call (weft/diag.h), also switched on by
   * WEFT_PROGRESS=1, WEFT_TRACE=file.json, WEFT_PROFILE=1: a progress bar
   * counting items, a Chrome trace of its batches, a profile at the end. */
  int progress;
  const char *trace;
  int profile;
} weft_map_opts;

/* Sets every field to its default: scheduler DEFAULT, all cores, automatic
 * batches, retries -1, no executor, pool or errbuf. NULL: no-op. */
void weft_map_opts_init(weft_map_opts *opts);

/* outputs[i] = fn(inputs[i]) for i < n, in parallel (opts NULL: defaults).
 * inputs are borrowed (never changed or released) and may be NULL when n is
 * 0; outputs must not overlap inputs. On success each outputs[i] holds one
 * owned result (release it with weft_value_release). On error every
 * outputs[i] is none: results already computed are released, none leaks.
 * Errors: WEFT_EINVAL (NULL fn, NULL inputs/outputs with n > 0, overlapping
 * arrays, bad option); WEFT_EARITY (fn does not take exactly one argument);
 * WEFT_ENOTFOUND (procs: fn is not registered under its name, so workers
 * could not find it); WEFT_ENOTSUP (procs: not in this build, or an input
 * is a ptr value, which cannot leave the process); WEFT_ETASK (an item
 * failed, or its result is a ptr value that cannot come back from a worker
 * process: its own code in opts->item_code); WEFT_EKILLED (procs: a worker
 * died, retries exhausted); WEFT_EBUSY; WEFT_ENOMEM; WEFT_ESYS. */
int weft_map(const weft_fn_info *fn, size_t n, const weft_value *inputs,
             weft_value *outputs, const weft_map_opts *opts);

/* Map then reduce, at once: every input is mapped with map_fn (one
 * argument) and the results are combined with reduce_fn (two arguments) into
 * *out, which the caller then owns. reduce_fn must be associative; it is
 * never asked to commute: results are combined in input order, folded left
 * inside each batch and then pairwise as a balanced tree over the batches
 * (like Dask's tree reductions), so string or list concatenation works.
 * Each intermediate result is released as soon as it has been combined.
 * n == 0 gives none. Errors and options as weft_map (a failing reduce names
 * the item it was combining); on error *out is none. */
int weft_map_reduce(const weft_fn_info *map_fn, const weft_fn_info *reduce_fn,
                    size_t n, const weft_value *inputs, weft_value *out,
                    const weft_map_opts *opts);

/* ---- lazy forms: add tasks to a graph, compute later ---- */

/* out[i] = a new node of g running fn on nodes[i]'s result (one task per
 * node: Dask's client.map over futures, or [delayed(f)(x) for x in xs]).
 * Returns 0, or the graph's sticky build error (weft/graph.h: WEFT_EINVAL
 * for a NULL graph, fn, array or node, WEFT_EARITY, WEFT_EGRAPH,
 * WEFT_ENOMEM) with the message in weft_graph_error(g); then every out[i] is
 * NULL. out may be the same array as nodes (in place). */
int weft_map_nodes(weft_graph *g, const weft_fn_info *fn, size_t n,
                   weft_node *const nodes[], weft_node *out[]);

/* Adds map_fn over nodes[i] and a balanced tree of reduce_fn nodes combining
 * the results in order to g; returns the tree's root (for n == 1 the single
 * map node; for n == 0 a node whose result is none), or NULL on a sticky
 * build error (as weft_map_nodes, plus WEFT_EARITY for a reduce_fn that does
 * not take two arguments). Nothing runs until the root is computed; on the
 * procs scheduler map_fn and reduce_fn must be registered. */
weft_node *weft_map_reduce_nodes(weft_graph *g, const weft_fn_info *map_fn,
                                 const weft_fn_info *reduce_fn, size_t n,
                                 weft_node *const nodes[]);

/* Just the tree: nodes combined pairwise in order by reduce_fn (n == 1: the
 * node itself; n == 0: a node whose result is none). Errors as above. */
weft_node *weft_reduce_nodes(weft_graph *g, const weft_fn_info *reduce_fn,
                             size_t n, weft_node *const nodes[]);

#ifdef __cplusplus
}
#endif
#endif
