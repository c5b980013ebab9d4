/* bench_common.h - shapes, timing and the result line shared by weft's
 * task-overhead benchmarks (bench_weft.c, bench_omp.c, bench_tbb.cpp,
 * bench_serial.c).
 *
 * The four shapes are those of /work/shared/anchors/native.md, with the same
 * task bodies, so the numbers compare with the anchors and with each other:
 *   a  fan-out: N_FAN independent tasks `data[i] += 1` and one join task
 *               (it samples data[], so the check sees it ran last)
 *   b  chain:   N_CHAIN tasks `x[i] = x[i-1] + 1`, each after the previous
 *   c  tree:    binary reduction over N_LEAF leaves (heap numbering 1..2L-1):
 *               leaves `v[k] = 1`, inner nodes `v[k] = v[2k] + v[2k+1]`
 *   d  wavefront: N_WAVE x N_WAVE cells
 *               `g[i][j] = max(g[i-1][j], g[i][j-1]) + 1` (zero halo row/col)
 *
 * Every program takes the shape letters to run as its first argument
 * (e.g. `bench_weft a`), times each repetition with CLOCK_MONOTONIC (process
 * start-up and thread-pool creation are outside the timings), checks the
 * result after every repetition, and prints one machine-readable line per
 * (runtime, variant, shape):
 *
 *   BENCH rt=<runtime> var=<variant> shape=<a-d> n=<tasks> thr=<threads>
 *         reps=<r> ok=<0|1> build_med= build_min= build_max= run_med= run_min=
 *         run_max= total_med= total_min= total_max= [key=value ...]
 *
 * All times are nanoseconds per task; build_* is "-" for runtimes without a
 * separate construction phase (then total = run). total is build + run of
 * the same repetition, so total_med is the median of the sums. Repetitions:
 * REPS (environment, default 7), after one untimed warm-up. Works from C and
 * C++. */
#ifndef WEFT_BENCH_COMMON_H
#define WEFT_BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_FAN 1000000L   /* (a) independent tasks, plus 1 join          */
#define N_CHAIN 1000000L /* (b) chain length                            */
#define N_LEAF 1048576L  /* (c) leaves: 2 * N_LEAF - 1 tasks             */
#define N_WAVE 1000L     /* (d) grid side: N_WAVE * N_WAVE tasks         */
#define WV (N_WAVE + 1)  /* row stride of the wavefront grid (with halo) */
#define N_VALS (2 * N_LEAF + WV * WV)
#define BENCH_MAXREPS 64

/* The global arrays the task bodies work on, by index (as in the anchors). */
static double *data; /* (a): N_FAN */
static double *vals; /* (b) x, (c) v, (d) g: N_VALS, shared */
static volatile double joinv;

static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline long shape_ntasks(char s) {
  switch (s) {
  case 'a':
    return N_FAN + 1;
  case 'b':
    return N_CHAIN;
  case 'c':
    return 2 * N_LEAF - 1;
  case 'd':
    return N_WAVE * N_WAVE;
  }
  return 0;
}

static inline int bench_reps(void) {
  const char *r = getenv("REPS");
  int n = r ? atoi(r) : 7;
  if (n < 1)
    n = 1;
  if (n > BENCH_MAXREPS)
    n = BENCH_MAXREPS;
  return n;
}

static inline int shape_selected(int argc, char **argv, char s) {
  return argc < 2 || strchr(argv[1], s) != NULL;
}

static void bench_alloc_arrays(void) {
  data = (double *)calloc(N_FAN, sizeof(double));
  vals = (double *)calloc(N_VALS, sizeof(double));
  if (!data || !vals) {
    fprintf(stderr, "bench: out of memory\n");
    exit(1);
  }
  /* touch every page once, so no repetition pays for fresh array pages */
  memset(data, 1, N_FAN * sizeof(double));
  memset(vals, 1, N_VALS * sizeof(double));
}

/* (a) the join's body: counts how many of 1,001 fan-out slots (every
 * 1000th, and the last) already hold 1, so that bench_check sees whether
 * the join ran after the fan-out. A sample, not all 1,000,000: reading them
 * all would add about a millisecond to every runtime's join. */
#define BENCH_JOIN_STRIDE 1000L
#define BENCH_JOIN_SAMPLES (N_FAN / BENCH_JOIN_STRIDE + 1)
static inline double bench_join(void) {
  double seen = 0;
  for (long i = 0; i < N_FAN; i += BENCH_JOIN_STRIDE)
    seen += data[i] == 1.0;
  return seen + (data[N_FAN - 1] == 1.0);
}

/* Zeroes what the bodies read and write (outside the timed part). */
static inline void bench_reset(char s) {
  if (s == 'a')
    memset(data, 0, N_FAN * sizeof(double));
  else
    memset(vals, 0, N_VALS * sizeof(double));
  joinv = 0;
}

static inline int bench_check(char s) {
  int ok = 1;
  if (s == 'a') {
    for (long i = 0; i < N_FAN; i++)
      ok &= data[i] == 1.0;
    ok &= joinv == (double)BENCH_JOIN_SAMPLES; /* the join came last */
  }
  if (s == 'b')
    ok = vals[N_CHAIN - 1] == (double)N_CHAIN;
  if (s == 'c')
    ok = vals[1] == (double)N_LEAF;
  if (s == 'd')
    ok = vals[N_WAVE * WV + N_WAVE] == (double)(2 * N_WAVE - 1);
  return ok;
}

static int bench_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median, min and max of v[0..n) (sorts a copy). */
static void bench_stats(const double *v, int n, double *med, double *mn,
                        double *mx) {
  double s[BENCH_MAXREPS];
  memcpy(s, v, (size_t)n * sizeof(double));
  qsort(s, (size_t)n, sizeof(double), bench_cmp);
  *med = (n % 2) ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  *mn = s[0];
  *mx = s[n - 1];
}

/* Prints the BENCH line. build may be NULL (no construction phase); times in
 * seconds per repetition; extra ("key=value ...") may be NULL. */
static void bench_report(const char *rt, const char *var, char shape, int thr,
                         const double *build, const double *run, int reps,
                         int ok, const char *extra) {
  double k = 1e9 / (double)shape_ntasks(shape), tot[BENCH_MAXREPS];
  double bm = 0, bn = 0, bx = 0, rm, rn, rx, tm, tn, tx;
  for (int r = 0; r < reps; r++)
    tot[r] = run[r] + (build ? build[r] : 0);
  if (build)
    bench_stats(build, reps, &bm, &bn, &bx);
  bench_stats(run, reps, &rm, &rn, &rx);
  bench_stats(tot, reps, &tm, &tn, &tx);
  printf("BENCH rt=%s var=%s shape=%c n=%ld thr=%d reps=%d ok=%d", rt, var,
         shape, shape_ntasks(shape), thr, reps, ok);
  if (build)
    printf(" build_med=%.1f build_min=%.1f build_max=%.1f", bm * k, bn * k,
           bx * k);
  else
    printf(" build_med=- build_min=- build_max=-");
  printf(" run_med=%.1f run_min=%.1f run_max=%.1f", rm * k, rn * k, rx * k);
  printf(" total_med=%.1f total_min=%.1f total_max=%.1f", tm * k, tn * k,
         tx * k);
  if (extra && *extra)
    printf(" %s", extra);
  printf("\n");
  fflush(stdout);
}

#endif
