/* weft/procs.h - a pool of worker processes: the `procs` scheduler (the
 * role of loky / multiprocessing.Pool / Dask's process scheduler).
 *
 * Tasks run in separate processes, so a task that crashes (SIGSEGV, abort,
 * exit) or is killed takes down its worker, not the program: the worker is
 * replaced and the task retried (`retries` times), and a task that keeps
 * killing workers fails the compute with WEFT_EKILLED and a message like
 *   task 'crash-3' (crash) killed its worker 2 times (last: signal 11,
 *   Segmentation fault)
 * A death is seen from the process itself (a pidfd; without one, it is
 * asked every 50 ms), at once, even while a program the task started in
 * the background (`system("helper &")`) still runs: every descriptor weft
 * opens is close-on-exec, and the worker's socket is not what tells. How
 * it died comes from the worker itself (a handler of its fatal signals,
 * an exit() hook) or from waitpid, so it stays right when the program
 * ignores SIGCHLD; only a SIGKILL (or _exit) in such a program cannot be
 * told, and the message then says that the SIGCHLD setting hid it.
 * Arguments and results travel through the wire format (weft/wire.h);
 * big bytes values through shared memory (a sealed memfd passed over the
 * worker's socket) instead of being copied through it.
 *
 *   weft_procs *pool;
 *   if (weft_procs_new(-1, NULL, &pool) == 0) {      // one worker per core
 *     weft_compute_opts o;
 *     weft_compute_opts_init(&o);
 *     o.scheduler = WEFT_SCHED_PROCS;
 *     o.procs = pool;                                // reuse between computes
 *     rc = weft_compute1(g, z, &zv, &o);
 *     weft_procs_free(pool);
 *   }
 * Without a pool in the options, a compute with WEFT_SCHED_PROCS (or
 * WEFT_SCHEDULER=procs) starts its own pool and stops it at the end.
 *
 * How workers start: not by fork() (unsafe in a multithreaded program) but
 * by posix_spawn() of a fresh copy of the program (/proc/self/exe). A
 * constructor in libweft recognises the copy as a worker before main() runs
 * and serves tasks until the pool closes: main() never runs in a worker.
 * So:
 *   - the program must link libweft (a program that dlopen()s it cannot
 *     have workers: they fail to start within start_timeout_ms);
 *   - task functions must be registered under their name (WEFT_REGISTER,
 *     WEFT_DELAYED or weft_fn_register: see weft_fn_registered) and in
 *     static storage of the program or of a shared library. A function
 *     that is not is refused with WEFT_ENOTFOUND and a message that says
 *     how to register it - by a graph's compute and by weft_map alike. The
 *     pool tells each worker where every registered function is, so
 *     weft_fn_find() works in tasks as in the program;
 *   - in a worker, the program's own constructors (C++ static initialisers
 *     of the program included) have not run: a task may not rely on them;
 *   - values of type ptr (user pointers) cannot reach a worker: a task that
 *     needs one fails with WEFT_ENOTSUP, naming it, as does one whose
 *     lists and dicts nest deeper than the wire format's 64 levels; what
 *     a task changes in memory (a global counter) changes in the worker,
 *     not the program;
 *   - in a worker, the fatal signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE,
 *     SIGABRT, SIGTRAP, SIGSYS, SIGTERM) have a handler that reports the
 *     death and re-raises it; a task may install its own;
 *   - a pool belongs to the process that made it: not usable in a child
 *     made by fork();
 *   - workers never outlive the program: each exits when its pool's socket
 *     closes, and is killed (PR_SET_PDEATHSIG) when the pool's own spawning
 *     thread ends - when the pool is freed or the program dies, even in the
 *     middle of a task. Any thread may create, use or free a pool. Workers
 *     are in their own process group, so Ctrl-C in a terminal interrupts
 *     the program only, which then takes them down.
 *
 * Thread-safety: a pool may be shared by threads; computes on one pool run
 * one at a time (a second waits for the first). A pool holds one thread
 * of its own, asleep except while it starts a worker. */
#ifndef WEFT_PROCS_H
#define WEFT_PROCS_H

#include <stddef.h>

#include "compute.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct weft_procs_opts {
  /* How many times a task that killed its worker is run again before the
   * compute fails with WEFT_EKILLED (0: never). < 0: default, 1. A compute's
   * weft_compute_opts.retries (when >= 0) overrides it for that compute.
   * A worker may have several tiny tasks queued; when it dies with more
   * than one, none is charged: all are run again one at a time, alone on a
   * worker, so that the one that kills is known for sure. */
  int retries;
  /* How long a worker may take to start, in milliseconds. <= 0: default,
   * 10000 (sanitizer builds start slowly). */
  int start_timeout_ms;
  /* Bytes values of at least this many bytes travel through shared memory
   * rather than inside the messages. 0: default (64 KiB); SIZE_MAX: never. */
  size_t shm_threshold;
} weft_procs_opts;

/* Sets every field to its default. NULL: no-op. */
void weft_procs_opts_init(weft_procs_opts *opts);

/* Starts `workers` worker processes (<= 0: one per logical core) and waits
 * until each is ready (about a millisecond each, started in parallel).
 * opts may be NULL (defaults). On success *out owns the pool: free it with
 * weft_procs_free. Errors: WEFT_EINVAL (NULL out, workers > 4096),
 * WEFT_ENOMEM, WEFT_ESYS (socketpair, posix_spawn... failed, or a worker did
 * not start in time or died while starting); then *out is NULL and nothing
 * is left behind (no process, no descriptor). Thread-safe. */
int weft_procs_new(int workers, const weft_procs_opts *opts, weft_procs **out);

/* Stops every worker (SIGKILL: a running task is abandoned), waits for each
 * so that none is left a zombie, and frees the pool, its thread and every
 * descriptor it held. Waits for a compute running on the pool to end
 * first (so not from a listener of such a compute). NULL: no-op. */
void weft_procs_free(weft_procs *pool);

/* The number of worker processes of the pool (a dead worker is replaced,
 * so this does not change). 0 for NULL. Thread-safe. */
int weft_procs_workers(const weft_procs *pool);

#ifdef __cplusplus
}
#endif
#endif
