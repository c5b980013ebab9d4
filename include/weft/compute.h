/* weft/compute.h - running graphs: schedulers, executors, compute.
 *
 * The same graph gives the same results on every scheduler:
 *   sync     one thread, in a fixed order; for debugging.
 *   threads  (default) one worker per core with work-stealing deques.
 *   procs    worker processes (weft/procs.h).
 *   mpi      MPI ranks under mpirun/srun (weft/mpi.h); the default when
 *            weft_mpi_init found several ranks.
 * The scheduler and worker count come from weft_compute_opts, else from the
 * environment (WEFT_SCHEDULER=sync|threads|procs|mpi in any case, or Dask's
 * threading|processes|synchronous; WEFT_WORKERS=N from 1 to 4096, or -1
 * for all cores as joblib's n_jobs=-1), else the defaults (threads, all
 * cores). A bad value fails the compute with WEFT_EINVAL naming it.
 * WEFT_PROGRESS, WEFT_TRACE and WEFT_PROFILE switch diagnostics on
 * (weft/diag.h).
 *
 * An executor is a pool of worker threads kept between computes (Taskflow's
 * tf::Executor): pass one in the options to run many graphs without starting
 * threads each time. Without one, a compute starts and stops its own pool. */
#ifndef WEFT_COMPUTE_H
#define WEFT_COMPUTE_H

#include <stddef.h>

#include "events.h"
#include "graph.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum weft_scheduler {
  WEFT_SCHED_DEFAULT = 0, /* WEFT_SCHEDULER, else threads */
  WEFT_SCHED_SYNC,
  WEFT_SCHED_THREADS,
  WEFT_SCHED_PROCS,
  WEFT_SCHED_MPI, /* MPI ranks: weft/mpi.h */
  WEFT_SCHED__COUNT
} weft_scheduler;

typedef struct weft_executor weft_executor;
typedef struct weft_procs weft_procs; /* a pool of worker processes: weft/procs.h */
typedef struct weft_client weft_client; /* a long-lived client: weft/client.h */

typedef struct weft_compute_opts {
  weft_scheduler scheduler;
  int workers;                     /* <= 0: WEFT_WORKERS, else all cores */
  weft_executor *executor;         /* threads: reuse this pool (workers ignored) */
  weft_procs *procs;               /* procs: reuse this pool (workers ignored) */
  const weft_listener *listener;   /* events of this compute, or NULL */
  int retries;                     /* procs: reruns of a task whose worker died (< 0: the pool's, 1 by default) */
  int ignore_env;                  /* nonzero: do not read WEFT_* variables */
  /* Diagnostics (weft/diag.h), also switched on by WEFT_PROGRESS=1,
   * WEFT_TRACE=file.json and WEFT_PROFILE=1 for computes that do not run
   * inside a task: */
  int progress;      /* nonzero: a progress bar on stderr */
  const char *trace; /* a Chrome trace of the compute written there; "%n"
                        in it becomes the compute's number in the process */
  int profile;       /* nonzero: a per-function profile on stderr at the end */
  /* Run on this client's executor or procs pool (weft/client.h), started
   * once and kept; scheduler DEFAULT then means the client's. */
  weft_client *client;
} weft_compute_opts;

/* Sets every field to its default (scheduler DEFAULT, workers 0, ...). */
void weft_compute_opts_init(weft_compute_opts *opts);

/* Computes n nodes of g at once, like dask.compute(z, x): work they share
 * runs once, and only what they need runs (the rest of g is culled).
 * On success outs[i] receives node i's result (the caller owns it).
 * Errors: the graph's sticky build error; WEFT_EINVAL (NULL graph, node or
 * out: the message counts nodes from 0, as keys do); WEFT_EGRAPH;
 * WEFT_ENOTFOUND (a weft_ref to an undefined key); WEFT_ECYCLE (the message
 * names the cycle); WEFT_ETASK (a task failed); WEFT_EKILLED (procs: a
 * worker died running a task, retries exhausted); WEFT_ENOTSUP (procs: an
 * argument cannot be sent to a worker); WEFT_ENOMEM.
 *
 * One rule for failing tasks: whatever code a task function returns
 * (WEFT_EINVAL, WEFT_ETYPE, ... or WEFT_ETASK through weft_fail), and also
 * when its result cannot come back from a worker process, the compute
 * returns WEFT_ETASK, so a task's code is never mistaken for an error of
 * the call itself. The message names the task's key, its function and its
 * message (or the text of its code), and weft_graph_task_code(g) gives the
 * task's own code.
 *
 * On error, outputs that were computed before the failure are still
 * returned in outs; the others are none; tasks not yet started are
 * cancelled; nothing leaks. weft_graph_error(g) gives the message; after a
 * compute that succeeds it is "". A graph may be computed many times, not
 * concurrently. */
int weft_compute(weft_graph *g, size_t n, weft_node *const nodes[],
                 weft_value *const outs[], const weft_compute_opts *opts);

/* After a weft_compute of g that returned WEFT_ETASK: the code the failing
 * task's function returned (WEFT_ETASK when it failed through weft_fail, or
 * its own code, e.g. WEFT_EINVAL). 0 after any other outcome (success, or a
 * failure that was not a task's), and for a NULL graph. */
int weft_graph_task_code(const weft_graph *g);

/* One node: weft_compute(g, 1, &node, &out, opts). */
int weft_compute1(weft_graph *g, weft_node *node, weft_value *out,
                  const weft_compute_opts *opts);

/* WEFT_NODES(z, x) and WEFT_OUT(&zv, &xv) spell the lists of weft_compute:
 *   weft_compute(g, WEFT_NODES(z, x), WEFT_OUT(&zv, &xv), NULL);          */
#define WEFT_NODES(...)                                                        \
  (sizeof((weft_node *[]){__VA_ARGS__}) / sizeof(weft_node *)),                \
      (weft_node *const[]){__VA_ARGS__}
#define WEFT_OUT(...) (weft_value *const[]){__VA_ARGS__}

/* The scheduler's name ("sync", "threads", "procs", "mpi"), and the reverse: any
 * case, blanks around ignored, Dask's names too (WEFT_EINVAL for an
 * unknown name). */
const char *weft_scheduler_name(weft_scheduler s);
int weft_scheduler_parse(const char *name, weft_scheduler *out);
/* Whether this build has scheduler s. */
int weft_scheduler_available(weft_scheduler s);

/* Number of online CPUs (logical), at least 1. */
int weft_cpu_count(void);
/* Number of physical cores (psutil.cpu_count(logical=False)), at least 1. */
int weft_physical_cpu_count(void);

/* A pool of `workers` threads (<= 0: all cores), the calling thread of each
 * compute being one of them. Returns 0, WEFT_ENOMEM or WEFT_ESYS. Computes
 * on one executor run one at a time (a second waits); the executor may be
 * shared by threads. weft_executor_free waits for a running compute;
 * from a task running on that executor it would wait for itself, so there
 * it does nothing but write a line on stderr. */
int weft_executor_new(int workers, weft_executor **out);
void weft_executor_free(weft_executor *ex);
int weft_executor_workers(const weft_executor *ex);

#ifdef __cplusplus
}
#endif
#endif
