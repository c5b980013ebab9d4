/* bench_omp.c - OpenMP (gcc's libgomp) on the four task-overhead shapes,
 * written the natural OpenMP way, with 2 threads (num_threads(2)):
 *   a  `task` per element + `taskwait` + a join task
 *   b  a chain of tasks ordered by depend(inout) on one token
 *   c  recursive task/taskwait: every tree node is a task, inner nodes spawn
 *      their two children and wait for them
 *   d  the wavefront with depend(in: up, left) depend(out: cell), created in
 *      row-major order by one thread
 * OpenMP builds the graph while it runs it, so only run times are reported
 * (build = "-"). Tasks are created by one thread inside `single`; the other
 * thread of the team executes them, as does the creator when it waits.
 *
 *   bench_omp [shapes]     e.g. `bench_omp d`; default abcd */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <omp.h>

#include "bench_common.h"

static void run_a(void) {
#pragma omp parallel num_threads(2)
#pragma omp single
  {
    for (int64_t i = 0; i < N_FAN; i++) {
#pragma omp task firstprivate(i)
      data[i] += 1.0;
    }
#pragma omp taskwait
#pragma omp task
    joinv = bench_join();
  }
}

static void run_b(void) {
  static char token __attribute__((unused)); /* only named in depend() */
#pragma omp parallel num_threads(2)
#pragma omp single
  for (int64_t i = 0; i < N_CHAIN; i++) {
#pragma omp task firstprivate(i) depend(inout : token)
    vals[i] = (i ? vals[i - 1] : 0.0) + 1.0;
  }
}

static void tree(int64_t k) {
  if (k >= N_LEAF) {
    vals[k] = 1.0;
    return;
  }
#pragma omp task firstprivate(k)
  tree(2 * k);
#pragma omp task firstprivate(k)
  tree(2 * k + 1);
#pragma omp taskwait
  vals[k] = vals[2 * k] + vals[2 * k + 1];
}
static void run_c(void) {
#pragma omp parallel num_threads(2)
#pragma omp single
  {
#pragma omp task
    tree(1);
#pragma omp taskwait
  }
}

static void run_d(void) {
#pragma omp parallel num_threads(2)
#pragma omp single
  for (int64_t i = 1; i <= N_WAVE; i++)
    for (int64_t j = 1; j <= N_WAVE; j++) {
      double *up = &vals[i * WV + j - WV], *left = up + WV - 1, *me = up + WV;
#pragma omp task depend(in : up[0], left[0]) depend(out : me[0])
      *me = (*up > *left ? *up : *left) + 1.0;
    }
}

int main(int argc, char **argv) {
  int reps = bench_reps();
  void (*fns[4])(void) = {run_a, run_b, run_c, run_d};
  const char *names[4] = {"task+taskwait", "depend(inout)", "recursive",
                          "depend"};
  bench_alloc_arrays();
  for (const char *p = "abcd"; *p; p++) {
    char s = *p;
    if (!shape_selected(argc, argv, s))
      continue;
    double run[BENCH_MAXREPS];
    int ok = 1;
    bench_reset(s);
    fns[s - 'a'](); /* warm-up: starts the team, touches the task memory */
    ok &= bench_check(s);
    for (int r = 0; r < reps; r++) {
      bench_reset(s);
      double t0 = bench_now();
      fns[s - 'a']();
      run[r] = bench_now() - t0;
      ok &= bench_check(s);
    }
    char extra[96];
    const char *wp = getenv("OMP_WAIT_POLICY");
    snprintf(extra, sizeof extra, "lib=libgomp wait_policy=%s",
             wp ? wp : "default");
    bench_report("openmp", names[s - 'a'], s, 2, NULL, run, reps, ok, extra);
  }
  return 0;
}
