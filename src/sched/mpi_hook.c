/* mpi_hook.c - libweft's side of the mpi scheduler: the entry points that
 * weft_mpi_init (libweft_mpi) installs, so that libweft itself never links
 * MPI. See sched/mpi/hook.h. */
#include <stdatomic.h>
#include <stdio.h>

#include "mpi/hook.h"
#include "run.h"

/* Process-wide, like MPI itself: set once by weft_mpi_init. */
static _Atomic(const weft__mpi_hooks *) hooks;

void weft__mpi_set_hooks(const weft__mpi_hooks *h) { atomic_store(&hooks, h); }

int weft__mpi_available(void) { return atomic_load(&hooks) != NULL; }

int weft__mpi_is_default(void) {
  const weft__mpi_hooks *h = atomic_load(&hooks);
  return h && h->is_default && h->is_default();
}

int weft__mpi_workers(int threads) {
  const weft__mpi_hooks *h = atomic_load(&hooks);
  int n = h && h->ranks ? h->ranks() : 0;
  return n > 1 ? n : threads;
}

int weft__mpi_threads(void) {
  const weft__mpi_hooks *h = atomic_load(&hooks);
  int n = h && h->threads ? h->threads() : 1;
  return n > 1 ? n : 1;
}

int weft__sched_mpi(weft__run *r, const struct weft__config *cfg,
                    const weft_compute_opts *opts) {
  const weft__mpi_hooks *h = atomic_load(&hooks);
  if (h && h->sched)
    return h->sched(r, cfg, opts);
  snprintf(r->msg, sizeof r->msg,
           "the mpi scheduler needs weft_mpi_init(&argc, &argv) at the start "
           "of main (weft/mpi.h, library weft_mpi)");
  return WEFT_ENOTSUP;
}
