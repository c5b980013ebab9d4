/* map_impl.h - what the parallel map's files share: the batch task
 * functions (batch.c) and the set-up of one call (map.c); the packing of
 * batches for worker processes is pack.h's (a leaf). Internal.
 *
 * A weft_map call becomes a graph of batch tasks. Two kinds of batch exist:
 *   local     (threads, sync) args: job pointer, begin, end, pid — the
 *             batch reads inputs and writes outputs in place through the
 *             pointer; the pid makes it refuse to run in another process.
 *   portable  (procs) args: function name(s), index of the first item, the
 *             items (packed scalars or a list) — the result travels back,
 *             and a local unpack task after each batch moves it into the
 *             outputs while the other batches still run.
 * Map-reduce batches fold their items left to right with the reduce
 * function and return the partial result; a tree of reduce nodes above the
 * batches combines the partials (weft_reduce_nodes). */
#ifndef WEFT_MAP_IMPL_H
#define WEFT_MAP_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pack.h"
#include "weft/compute.h"
#include "weft/fn.h"
#include "weft/map.h"
#include "weft/value.h"

/* The shared state of one in-process map or map-reduce call. */
typedef struct weft__map_job {
  const weft_fn_info *fn;  /* the map function */
  const weft_fn_info *rfn; /* the reduce function, or NULL (plain map) */
  const weft_value *in;
  weft_value *out;     /* plain map: the caller's outputs */
  unsigned char *done; /* plain map: done[b] once batch b wrote its range */
  size_t batch;        /* items per batch (batch b starts at b * batch) */
} weft__map_job;

/* The batch task functions, registered as "weft.map.local",
 * "weft.map.batch", "weft.map.reduce_local" and "weft.map.reduce_batch". */
extern const weft_fn_info *const weft__map_local_fn;
extern const weft_fn_info *const weft__map_batch_fn;
/* Unpacks a portable batch's result into job->out in the calling process
 * ("weft.map.unpack"; args: job pointer, begin, end, pid, the result). */
extern const weft_fn_info *const weft__map_unpack_fn;
extern const weft_fn_info *const weft__map_reduce_local_fn;
extern const weft_fn_info *const weft__map_reduce_batch_fn;

/* Resolved settings of one weft_map / weft_map_reduce call. */
typedef struct weft__map_cfg {
  weft_compute_opts copts; /* passed to weft_compute; scheduler resolved */
  int workers;
  bool local;   /* in-process batches (threads, sync) */
  size_t batch; /* items per batch, >= 1 */
  size_t nbatches;
  weft_listener dash; /* WEFT_DASHBOARD's listener, in front of copts' */
} weft__map_cfg;

/* Resolves the options for n items (scheduler, workers, batches) and, on
 * procs, checks that fn (and rfn when not NULL) are registered: workers
 * find them by name. The arities are checked before (weft__map_check_fn).
 * `what` names the call in messages ("weft_map(f)"). Returns 0, or an error
 * with the message, "what: ...", in err. */
int weft__map_setup(const char *what, const weft_fn_info *fn,
                    const weft_fn_info *rfn, size_t n,
                    const weft_map_opts *opts, weft__map_cfg *cfg, char *err,
                    size_t errsize);

/* Writes "what: msg" to opts->errbuf when there is one; returns rc. */
int weft__map_error(const weft_map_opts *opts, int rc, const char *what,
                    const char *msg);

/* The message of a failed batch compute as a map's user reads it: the part
 * a batch wrote ("item 5: ..."); for a batch that killed its worker, "item
 * 3 (f) killed its worker ..." (or "one of items 3 to 9 (f) ..." when the
 * batch held several); else the whole message. May use buf. */
const char *weft__map_item_msg(const char *compute_msg, char *buf, size_t size);

/* Starts a call: "" in opts->errbuf and 0 in *opts->item_code. */
void weft__map_begin(const weft_map_opts *opts);

/* After a batch compute of g failed with rc: writes "what: <message>" to
 * errbuf and the failing item's own code to *opts->item_code. Returns rc. */
int weft__map_compute_error(const weft_map_opts *opts, int rc, const char *what,
                            const weft_graph *g);

/* Checks that fn is a function of `arity` arguments (or any number).
 * Returns 0 or WEFT_EINVAL / WEFT_EARITY with a message in err. */
int weft__map_check_fn(const char *what, const char *role,
                       const weft_fn_info *fn, int arity, char *err,
                       size_t errsize);

#endif
