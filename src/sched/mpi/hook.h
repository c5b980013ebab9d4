/* mpi/hook.h - how libweft reaches the mpi scheduler without linking MPI.
 * Internal.
 *
 * The mpi scheduler lives in its own library (libweft_mpi, built when MPI
 * is found), so that programs that do not use it never load libmpi.
 * A constructor of that library installs its entry points here; libweft
 * (sched/mpi_hook.c) only calls through them. */
#ifndef WEFT_SCHED_MPI_HOOK_H
#define WEFT_SCHED_MPI_HOOK_H

#include "weft/compute.h"

struct weft__run;
struct weft__config;

typedef struct weft__mpi_hooks {
  /* Runs one compute (sched/compute.c's switch). */
  int (*sched)(struct weft__run *r, const struct weft__config *cfg,
               const weft_compute_opts *opts);
  /* Nonzero when the default scheduler should be mpi (several ranks). */
  int (*is_default)(void);
  /* The number of ranks when computes run across them, else 0. Events
   * then name ranks as workers: 1 .. ranks - 1. */
  int (*ranks)(void);
  /* The most compute threads of a worker rank (events' `thread` is below
   * it), 1 when computes do not run across ranks. */
  int (*threads)(void);
} weft__mpi_hooks;

/* Installed by libweft_mpi (NULL: no mpi scheduler in this process). */
void weft__mpi_set_hooks(const weft__mpi_hooks *h);
/* The compute's entry: through the hooks, or WEFT_ENOTSUP with a message
 * saying weft_mpi_init was not called. */
int weft__sched_mpi(struct weft__run *r, const struct weft__config *cfg,
                    const weft_compute_opts *opts);
/* Whether the mpi scheduler is there, and whether it is the default. */
int weft__mpi_available(void);
int weft__mpi_is_default(void);
/* The workers an mpi compute reports in its events: the ranks, or
 * `threads` when it will run on threads (no launcher). */
int weft__mpi_workers(int threads);
/* The most compute threads of a worker rank, else 1 (diag/trace.c: its
 * tracks per rank and thread). */
int weft__mpi_threads(void);

#endif
