/* weft/compute.h - running graphs: schedulers, executors, compute.
 *
 * The same graph gives the same results on every scheduler:
 *   sync     one thread, in a fixed order; for debugging.
 *   threads  (default) one worker per core with work-stealing deques.
 *   procs    worker processes (weft/procs.h).
 *   mpi      MPI ranks under mpirun/srun (weft/mpi.h); the default when
 *            weft_mpi_init found several ranks.
 * The scheduler and worker count come from weft_compute_opts, else from the
 * environment (WEFT_SCHEDULER=sync|threads|procs|mpi, WEFT_WORKERS=N), else the
 * defaults (threads, all cores).
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

typedef struct weft_compute_opts {
  weft_scheduler scheduler;
  int workers;                     /* <= 0: WEFT_WORKERS, else all cores */
  weft_executor *executor;         /* threads: reuse this pool (workers ignored) */
  weft_procs *procs;               /* procs: reuse this pool (workers ignored) */
  const weft_listener *listener;   /* events of this compute, or NULL */
  int retries;                     /* procs: reruns of a task whose worker died (-1: default) */
  int ignore_env;                  /* nonzero: do not read WEFT_* variables */
} weft_compute_opts;

/* Sets every field to its default (scheduler DEFAULT, workers 0, ...). */
void weft_compute_opts_init(weft_compute_opts *opts);

/* Computes n nodes of g at once, like dask.compute(z, x): work they share
 * runs once, and only what they need runs (the rest of g is culled).
 * On success outs[i] receives node i's result (the caller owns it).
 * Errors: the graph's sticky build error; WEFT_EINVAL (NULL graph, node or
 * out); WEFT_EGRAPH; WEFT_ENOTFOUND (a weft_ref to an undefined key);
 * WEFT_ECYCLE (the message names the cycle); WEFT_ETASK (a task failed: the
 * message names its key, function and message); WEFT_EKILLED (procs: a
 * worker died); WEFT_ENOMEM. On error, outputs that were computed before the
 * failure are still returned in outs; the others are none; tasks not yet
 * started are cancelled; nothing leaks. weft_graph_error(g) gives the
 * message. A graph may be computed many times, not concurrently. */
int weft_compute(weft_graph *g, size_t n, weft_node *const nodes[],
                 weft_value *const outs[], const weft_compute_opts *opts);

/* One node: weft_compute(g, 1, &node, &out, opts). */
int weft_compute1(weft_graph *g, weft_node *node, weft_value *out,
                  const weft_compute_opts *opts);

/* WEFT_NODES(z, x) and WEFT_OUT(&zv, &xv) spell the lists of weft_compute:
 *   weft_compute(g, WEFT_NODES(z, x), WEFT_OUT(&zv, &xv), NULL);          */
#define WEFT_NODES(...)                                                        \
  (sizeof((weft_node *[]){__VA_ARGS__}) / sizeof(weft_node *)),                \
      (weft_node *const[]){__VA_ARGS__}
#define WEFT_OUT(...) (weft_value *const[]){__VA_ARGS__}

/* The scheduler's name ("sync", "threads", "procs", "mpi"), and the reverse
 * (WEFT_EINVAL for an unknown name). */
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
 * shared by threads. weft_executor_free waits for a running compute. */
int weft_executor_new(int workers, weft_executor **out);
void weft_executor_free(weft_executor *ex);
int weft_executor_workers(const weft_executor *ex);

#ifdef __cplusplus
}
#endif
#endif
