/* bench_serial.c - the body-cost reference for the task-overhead benchmark:
 * the same task bodies as the schedulers run, called one by one through a
 * function pointer in a topological order on one thread, with no scheduler.
 * What a runtime spends per task above this is its overhead.
 *
 *   bench_serial [shapes]     e.g. `bench_serial ac`; default abcd */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bench_common.h"

typedef void (*body_fn)(int64_t);

/* (a) ids 0..N_FAN-1 are the fan-out tasks, id N_FAN the join */
static void body_a(int64_t i) {
  if (i < N_FAN)
    data[i] += 1.0;
  else
    joinv = bench_join();
}
static void body_b(int64_t i) { vals[i] = (i ? vals[i - 1] : 0.0) + 1.0; }
/* (c) heap index k: leaves k >= N_LEAF */
static void body_c(int64_t k) {
  if (k >= N_LEAF)
    vals[k] = 1.0;
  else
    vals[k] = vals[2 * k] + vals[2 * k + 1];
}
/* (d) flat index k = i * WV + j of cell (i, j), 1 <= i, j <= N_WAVE */
static void body_d(int64_t k) {
  double up = vals[k - WV], left = vals[k - 1];
  vals[k] = (up > left ? up : left) + 1.0;
}

/* volatile: the bodies stay real calls, as a scheduler makes them */
static body_fn volatile bodies[4] = {body_a, body_b, body_c, body_d};

static void run_shape(char s) {
  body_fn f = bodies[s - 'a'];
  switch (s) {
  case 'a':
    for (int64_t i = 0; i <= N_FAN; i++)
      f(i);
    break;
  case 'b':
    for (int64_t i = 0; i < N_CHAIN; i++)
      f(i);
    break;
  case 'c':
    for (int64_t k = 2 * N_LEAF - 1; k >= 1; k--)
      f(k);
    break;
  case 'd':
    for (int64_t i = 1; i <= N_WAVE; i++)
      for (int64_t j = 1; j <= N_WAVE; j++)
        f(i * WV + j);
    break;
  }
}

int main(int argc, char **argv) {
  int reps = bench_reps();
  bench_alloc_arrays();
  for (const char *p = "abcd"; *p; p++) {
    char s = *p;
    if (!shape_selected(argc, argv, s))
      continue;
    double run[BENCH_MAXREPS];
    int ok = 1;
    bench_reset(s);
    run_shape(s); /* warm-up */
    for (int r = 0; r < reps; r++) {
      bench_reset(s);
      double t0 = bench_now();
      run_shape(s);
      run[r] = bench_now() - t0;
      ok &= bench_check(s);
    }
    bench_report("serial", "direct-call", s, 1, NULL, run, reps, ok, NULL);
  }
  return 0;
}
