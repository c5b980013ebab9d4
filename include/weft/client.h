/* weft/client.h - a long-lived client: a pool that stays up across many
 * computations, and futures (Dask's Client / concurrent.futures).
 *
 *   weft_client_opts o;
 *   weft_client_opts_init(&o);                 // all cores, I/O threads on demand
 *   weft_client *c;
 *   if (weft_client_new(&o, &c)) ...
 *   weft_future *x = weft_submit(c, inc, 1);    // starts at once
 *   weft_future *y = weft_submit(c, inc, x);    // a future as an argument: chains
 *   weft_value v;
 *   if (weft_future_result(y, &v, -1) == 0) ...  // 3
 *   weft_future_release(x);
 *   weft_future_release(y);
 *   weft_client_close(c);
 *
 * A client holds:
 *  - a CPU pool of `workers` threads that runs futures (weft_submit) and
 *    completion callbacks (weft_future_then);
 *  - an I/O pool of up to `io_workers` threads, started on demand, for
 *    blocking work (weft_submit_io: downloads, sleeps, reads), so a hundred
 *    blocking calls do not starve the CPU pool;
 *  - for whole-graph computes and maps, a weft_executor (threads) or a
 *    weft_procs pool (procs), started on first use and kept: pass the client
 *    in weft_compute_opts.client, or its executor/pool to weft_map
 *    (weft_client_executor, weft_client_procs).
 * Futures always run on the client's threads, whatever `scheduler` says.
 * Two clients in one process share nothing.
 *
 * Futures. A future is a reference-counted handle: weft_submit gives the
 * caller one reference, weft_future_release gives it up (the work is not
 * cancelled by that: use weft_cancel). A future as an argument of a later
 * submit (or, through weft_future_node, of a graph node) makes the later
 * task wait for it without blocking any thread; its result is passed as the
 * argument. Errors are delivered on the future: a task that fails makes its
 * future fail with the task's code and a message naming the task, its
 * function and the task's own message ("task 'div-4' (div) failed: division
 * by zero"), and every future that needs it fails with the same code and
 * message. Submitting never blocks, so a task or a callback may submit more
 * work; a task that waits for another future (weft_future_result, weft_wait,
 * weft_gather) runs queued work of its pool while it waits, so waiting in a
 * task cannot deadlock the pool.
 *
 * Cancellation (weft_cancel): a future that has not started never starts;
 * a running one finishes as cancelled at once (its task runs to its end,
 * weft_task_cancelled() tells it to hurry, and its result is dropped);
 * futures that need a cancelled one are cancelled too; a finished one is
 * left as it is.
 *
 * Thread-safety: every function here may be called from any thread,
 * including tasks and callbacks of the client, except weft_client_close
 * (not from a task or callback of that client). */
#ifndef WEFT_CLIENT_H
#define WEFT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compute.h"
#include "events.h"
#include "fn.h"
#include "graph.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct weft_client weft_client;
typedef struct weft_future weft_future;

typedef struct weft_client_opts {
  /* CPU threads for futures and callbacks; <= 0: WEFT_WORKERS, else one
   * per logical core. At most 4096. */
  int workers;
  /* Most threads of the I/O pool, started when work waits for one and kept
   * until close; 0: default (64); < 0: no I/O pool (weft_submit_io then
   * runs on the CPU pool). At most 4096. */
  int io_workers;
  /* What graph computes and maps through the client use: WEFT_SCHED_THREADS
   * (DEFAULT: WEFT_SCHEDULER, else threads) or WEFT_SCHED_PROCS (worker
   * processes: weft/procs.h). Futures run on threads either way. */
  weft_scheduler scheduler;
  int ignore_env; /* nonzero: do not read WEFT_* variables */
  /* Serve the live web dashboard (weft/dash.h) for the graph computes made
   * through this client (weft_compute_opts.client): "host:port"
   * ("127.0.0.1:8787"; port 0: any free one). NULL (default): none. The
   * link is printed on stderr and given by weft_client_dashboard_link.
   * Futures (weft_submit, weft_client_compute) publish no events, so they
   * do not show there; for a weft_map, put weft_dash_listener's listener
   * in its options. */
  const char *dashboard;
  const char *dashboard_token; /* required in its URLs; NULL: none on
                                  loopback, a random one elsewhere */
} weft_client_opts;

/* Sets every field to its default. NULL: no-op. */
void weft_client_opts_init(weft_client_opts *opts);

/* Starts a client (opts NULL: defaults). Returns 0 and sets *out, or
 * WEFT_EINVAL (NULL out, bad option or variable such as WEFT_WORKERS=abc:
 * weft_client_new_msg says which), WEFT_ENOMEM, WEFT_ESYS (a thread could
 * not start); then *out is NULL and nothing is left behind. */
int weft_client_new(const weft_client_opts *opts, weft_client **out);
/* Same, writing a message into errbuf (size > 0) on failure. */
int weft_client_new_msg(const weft_client_opts *opts, weft_client **out,
                        char *errbuf, size_t errbuf_size);

/* Closes the client: every future not finished is cancelled (queued ones
 * never start; running tasks are waited for, their results dropped), the
 * callbacks of those futures still run, then every thread, the executor, the
 * procs pool, persisted results and streams (weft/stream.h) are freed.
 * Future handles stay valid until released (they report WEFT_ECANCELED or
 * their result); submitting to a closed client gives a cancelled future.
 * Not from a task or callback of this client: such a call would wait for
 * its own thread, so it is refused with a line on stderr and does
 * nothing. NULL: no-op. */
void weft_client_close(weft_client *c);

/* The client's dashboard link ("http://127.0.0.1:8787/", with ?token=
 * when one is needed), or NULL when it serves none (or c is NULL). */
const char *weft_client_dashboard_link(const weft_client *c);
/* Its dashboard's listener, or NULL (for weft_compute). */
const weft_listener *weft__client_dash_listener(weft_client *c);

int weft_client_workers(const weft_client *c);    /* CPU threads; 0 for NULL */
int weft_client_io_workers(const weft_client *c); /* I/O threads at most */

/* The client's executor (threads) / procs pool, started on first call and
 * kept until close, for weft_map_opts.executor / .procs. NULL when it
 * cannot start (or the build has no procs) or c is NULL. */
weft_executor *weft_client_executor(weft_client *c);
weft_procs *weft_client_procs(weft_client *c);

/* Fills a compute's executor/procs/scheduler from the client (called by
 * weft_compute when weft_compute_opts.client is set). */
int weft__client_compute_opts(weft_client *c, weft_compute_opts *o);

/* ---- submitting ---- */

/* Runs fn(args) on the CPU pool (weft_submit_io_fn: the I/O pool) as soon
 * as the futures among args are finished. args[i] is a value (the call
 * takes over its reference, also on failure) or weft_future_arg(f) (f is
 * borrowed: the caller keeps its handle). Returns a new future; NULL only
 * for a NULL client, NULL args with nargs > 0, or out of memory (args are
 * released then too). Bad requests give a future that has
 * already failed, with a message: WEFT_EINVAL (NULL fn, a future of another
 * client), WEFT_EARITY (fn's declared arity differs); a closed client gives
 * a cancelled one. Never blocks. */
weft_future *weft_submit_fn(weft_client *c, const weft_fn_info *fn,
                            size_t nargs, const weft_value *args);
weft_future *weft_submit_io_fn(weft_client *c, const weft_fn_info *fn,
                               size_t nargs, const weft_value *args);

/* An argument that stands for f's result (f borrowed). */
static inline weft_value weft_future_arg(weft_future *f) {
  weft_value v = {70 /* internal future tag */, 0,
                  {.obj = (weft_obj *)(void *)f}};
  return v;
}

/* weft_submit(c, f, args...): f registered in this unit (WEFT_REGISTER /
 * WEFT_DELAYED); each argument a weft_future *, a number, a string (copied)
 * or a weft_value (taken over). 1 to 16 arguments; weft_submit0 for none. */
#define weft_submit(c, f, ...)                                                 \
  weft_submit_fn((c), WEFT_FN(f), WEFT__NARG(__VA_ARGS__),                     \
                 (const weft_value[]){WEFT__CARGS(__VA_ARGS__)})
#define weft_submit0(c, f) weft_submit_fn((c), WEFT_FN(f), 0, NULL)
#define weft_submit_io(c, f, ...)                                              \
  weft_submit_io_fn((c), WEFT_FN(f), WEFT__NARG(__VA_ARGS__),                  \
                    (const weft_value[]){WEFT__CARGS(__VA_ARGS__)})

/* ---- futures ---- */

typedef enum weft_future_state {
  WEFT_FUTURE_PENDING = 0, /* waiting for inputs or for a thread */
  WEFT_FUTURE_RUNNING,
  WEFT_FUTURE_FINISHED,    /* has a result */
  WEFT_FUTURE_ERROR,       /* failed (its task, or one it needed) */
  WEFT_FUTURE_CANCELLED
} weft_future_state;

weft_future *weft_future_retain(weft_future *f); /* returns f */
void weft_future_release(weft_future *f);        /* NULL: no-op */

weft_future_state weft_future_get_state(const weft_future *f);
/* True once finished, failed or cancelled. */
bool weft_future_done(const weft_future *f);
/* The future's key: "<function>-<n>" (n counts the client's futures), or
 * the graph key of the node it computes. Returns the full length. */
size_t weft_future_key(const weft_future *f, char *buf, size_t size);
/* The client a future belongs to (NULL for NULL). */
weft_client *weft_future_client(const weft_future *f);

/* Waits up to timeout_s seconds (< 0: for ever; 0: do not wait) for f,
 * then: 0 and *out = a new reference to its result; the task's code
 * (WEFT_ETASK, ...) or WEFT_ECANCELED with *out none; WEFT_ETIMEDOUT when
 * it is not finished in time; WEFT_EINVAL for NULL or a NaN timeout. A
 * timeout too long for the clock (1e30, INFINITY) is for ever. */
int weft_future_result(weft_future *f, weft_value *out, double timeout_s);
/* The code of a finished future: 0 (result), its error, WEFT_ECANCELED;
 * 1 while it is not finished. */
int weft_future_status(const weft_future *f);
/* The message of a failed or cancelled future ("" otherwise). Valid while
 * the caller holds f. */
const char *weft_future_error(const weft_future *f);

/* Cancels f (see the top of this file). Returns 0 when cancelled by this
 * call, 1 when f had already finished, failed or was cancelled (nothing
 * changes), WEFT_EINVAL for NULL. */
int weft_cancel(weft_future *f);

/* Calls cb(f, ud) once f is finished, failed or cancelled, on a thread of
 * the client's CPU pool, with no weft lock held (so cb may submit, wait,
 * cancel). Callbacks of one future run in the order they were added when
 * the pool has one thread; otherwise they may overlap. On a future that is
 * already done cb is queued at once; on a closed client it runs in the
 * calling thread. Returns 0, WEFT_EINVAL (NULL f or cb) or WEFT_ENOMEM
 * (then cb is never called). The future is held until cb returns. */
typedef void (*weft_future_cb)(weft_future *f, void *ud);
int weft_future_then(weft_future *f, weft_future_cb cb, void *ud);

/* In a future's task, weft_task_worker() is the pool thread's number (CPU
 * threads 0 to workers-1, I/O threads after them) and weft_task_key() the
 * future's key. */

/* True when the future the calling task runs for has been cancelled (or
 * its client is closing): a long task may stop early. False outside a
 * future's task. */
bool weft_task_cancelled(const weft_task_ctx *ctx);

/* ---- many futures ---- */

typedef enum weft_wait_mode {
  WEFT_WAIT_ALL = 0,   /* every future done */
  WEFT_WAIT_FIRST = 1, /* at least one done */
  WEFT_WAIT_FIRST_ERROR = 2 /* one failed or cancelled, or every one done */
} weft_wait_mode;

/* Waits up to timeout_s seconds (< 0: for ever) until `mode` holds for the
 * n futures. Returns 0, WEFT_ETIMEDOUT, or WEFT_EINVAL (NULL array or
 * future, NaN timeout). The futures' own errors are not returned: look at
 * each. */
int weft_wait(size_t n, weft_future *const futs[], double timeout_s,
              weft_wait_mode mode);

/* Waits for every future, then on success outs[i] = a new reference to
 * futs[i]'s result and 0 is returned. When one failed or was cancelled,
 * its code is returned (the first in the array), *bad (when not NULL) is
 * its index (weft_future_error(futs[*bad]) says why) and every outs[i] is
 * none. WEFT_EINVAL for NULL arrays or futures. */
int weft_gather(size_t n, weft_future *const futs[], weft_value outs[],
                size_t *bad);

/* Iterating over futures in the order they finish
 * (concurrent.futures.as_completed / distributed.as_completed):
 *   weft_as_completed *ac;
 *   weft_as_completed_new(n, futs, &ac);
 *   weft_future *f;
 *   while (weft_as_completed_next(ac, &f, -1) == 1) {
 *     ... weft_future_result(f, &v, 0) ...
 *     weft_future_release(f);
 *   }
 *   weft_as_completed_free(ac);
 * Each future given is yielded exactly once (a future given twice, twice),
 * as soon as it is finished, failed or cancelled. */
typedef struct weft_as_completed weft_as_completed;
/* n may be 0 (add later). 0, WEFT_EINVAL (NULL out, array or future),
 * WEFT_ENOMEM. The iterator holds its own references. */
int weft_as_completed_new(size_t n, weft_future *const futs[],
                          weft_as_completed **out);
/* Adds one more future to iterate over (f borrowed). 0, WEFT_EINVAL,
 * WEFT_ENOMEM. */
int weft_as_completed_add(weft_as_completed *ac, weft_future *f);
/* 1 and *f = the next future to finish (a reference the caller releases);
 * 0 when every future added has been yielded; WEFT_ETIMEDOUT after
 * timeout_s seconds (< 0: for ever) without one; WEFT_EINVAL (NULL, NaN
 * timeout). */
int weft_as_completed_next(weft_as_completed *ac, weft_future **f,
                           double timeout_s);
/* Frees the iterator (futures it has still to yield are not cancelled). */
void weft_as_completed_free(weft_as_completed *ac);

/* ---- graphs and futures ---- */

/* A node of g whose result is f's result (f borrowed; the graph holds it
 * until freed): a future as an argument of graph nodes. Computed through
 * the client (weft_client_compute) the node just waits for f; computed by
 * weft_compute it blocks a worker until f is done, and fails with f's error.
 * NULL on error (sticky in g, as weft/graph.h says). */
weft_node *weft_future_node(weft_graph *g, weft_future *f);

/* client.compute: starts the n nodes of g (and what they need) on the
 * client's CPU pool, one future per task, and sets futs[i] to the future of
 * nodes[i] (the caller releases each). Returns at once. The graph is not
 * needed afterwards (free it or compute it again). Errors: as weft_compute
 * before anything runs (build error, NULL or foreign node, unknown key,
 * cycle: the message in weft_graph_error(g)), WEFT_EBUSY (g is being
 * computed), WEFT_ENOMEM; then every futs[i] is NULL. */
int weft_client_compute(weft_client *c, weft_graph *g, size_t n,
                        weft_node *const nodes[], weft_future *futs[]);

/* client.persist: as weft_client_compute, and the client also keeps each
 * output's future under its node's key (weft_node_key), so later graphs
 * use it by key: weft_client_get + weft_future_node. A key persisted again
 * is replaced. futs may be NULL (then only the client keeps them). */
int weft_client_persist(weft_client *c, weft_graph *g, size_t n,
                        weft_node *const nodes[], weft_future *futs[]);
/* The persisted future under key: 0 and a new reference in *out, or
 * WEFT_ENOTFOUND / WEFT_EINVAL. */
int weft_client_get(weft_client *c, const char *key, weft_future **out);
/* Forgets a persisted key (the future lives on while others hold it).
 * 0 or WEFT_ENOTFOUND / WEFT_EINVAL. */
int weft_client_unpersist(weft_client *c, const char *key);

/* ---- argument conversion for weft_submit (not part of the API) ---- */
#define WEFT_CARG(x)                                                           \
  _Generic((x),                                                                \
      weft_future *: weft_future_arg,                                          \
      WEFT__ARG_LITERALS)(x)
#define WEFT__CARGS(...)                                                       \
  WEFT__CAT(WEFT__CARGS_, WEFT__NARG(__VA_ARGS__))(__VA_ARGS__)
#define WEFT__CARGS_1(a) WEFT_CARG(a)
#define WEFT__CARGS_2(a, ...) WEFT_CARG(a), WEFT__CARGS_1(__VA_ARGS__)
#define WEFT__CARGS_3(a, ...) WEFT_CARG(a), WEFT__CARGS_2(__VA_ARGS__)
#define WEFT__CARGS_4(a, ...) WEFT_CARG(a), WEFT__CARGS_3(__VA_ARGS__)
#define WEFT__CARGS_5(a, ...) WEFT_CARG(a), WEFT__CARGS_4(__VA_ARGS__)
#define WEFT__CARGS_6(a, ...) WEFT_CARG(a), WEFT__CARGS_5(__VA_ARGS__)
#define WEFT__CARGS_7(a, ...) WEFT_CARG(a), WEFT__CARGS_6(__VA_ARGS__)
#define WEFT__CARGS_8(a, ...) WEFT_CARG(a), WEFT__CARGS_7(__VA_ARGS__)
#define WEFT__CARGS_9(a, ...) WEFT_CARG(a), WEFT__CARGS_8(__VA_ARGS__)
#define WEFT__CARGS_10(a, ...) WEFT_CARG(a), WEFT__CARGS_9(__VA_ARGS__)
#define WEFT__CARGS_11(a, ...) WEFT_CARG(a), WEFT__CARGS_10(__VA_ARGS__)
#define WEFT__CARGS_12(a, ...) WEFT_CARG(a), WEFT__CARGS_11(__VA_ARGS__)
#define WEFT__CARGS_13(a, ...) WEFT_CARG(a), WEFT__CARGS_12(__VA_ARGS__)
#define WEFT__CARGS_14(a, ...) WEFT_CARG(a), WEFT__CARGS_13(__VA_ARGS__)
#define WEFT__CARGS_15(a, ...) WEFT_CARG(a), WEFT__CARGS_14(__VA_ARGS__)
#define WEFT__CARGS_16(a, ...) WEFT_CARG(a), WEFT__CARGS_15(__VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
