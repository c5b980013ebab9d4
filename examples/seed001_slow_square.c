/* seed001_slow_square.c - seed 001 (joblib): a slow function mapped over
 * np.linspace(0, 10, 4), first in a plain loop, then in parallel over
 * worker processes with all cores:
 *
 *   def slow_square(a):
 *       print(f"squaring {a:g}...")
 *       time.sleep(1)
 *       squared_a = a ** 2
 *       print(f"{a:g} squared! result: {squared_a:g}")
 *       return squared_a
 *   squared = list(map(slow_square, np.linspace(0, 10, 4)))       # ~4 s
 *   with parallel_backend("loky", n_jobs=-1):
 *       result = Parallel()(delayed(slow_square)(a) for a in ...)   # ~2 s
 *   result  ->  [0.0, 11.111111111111112, 44.44444444444445, 100.0]
 *
 * In C: WEFT_DELAYED turns slow_square into a task function, and weft_map
 * with the procs scheduler and workers = -1 is Parallel(n_jobs=-1) over the
 * loky backend (one process per core; each item its own task here, since
 * batches are sized n / (8 * workers)). When this build has no procs
 * scheduler the example says so and uses threads.
 *
 * The sleep is the seed's 1 s. WEFT_DEMO_FAST=1 makes it 0.1 s, and inside
 * the `weft demo` tool it is 0.1 s unless WEFT_DEMO_FAST=0, to keep the demo
 * short. The worker processes read the same variable (they inherit the
 * environment). The example checks the results against a*a and returns
 * non-zero when one differs. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "weft.h"

#ifdef WEFT_EXAMPLE_NO_MAIN
#define SLOW_SQUARE_FAST_DEFAULT 1 /* inside `weft demo` */
#else
#define SLOW_SQUARE_FAST_DEFAULT 0
#endif

static double sleep_seconds(void) {
  const char *f = getenv("WEFT_DEMO_FAST");
  int fast = f && *f ? strcmp(f, "0") != 0 : SLOW_SQUARE_FAST_DEFAULT;
  return fast ? 0.1 : 1.0;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The seed's function, line for line (it may run in a worker process:
 * flush, so that its lines are not held in its buffer). */
static double slow_square(double a) {
  printf("squaring %g...\n", a);
  fflush(stdout);
  double s = sleep_seconds();
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
  double squared_a = a * a;
  printf("%g squared! result: %g\n", a, squared_a);
  fflush(stdout);
  return squared_a;
}
WEFT_DELAYED(slow_square, double, double);

/* Python's repr of a float: the shortest text that reads back the same,
 * with an exponent only below 1e-4 or from 1e16 on. */
static void py_float(char *buf, size_t size, double x) {
  double ax = x < 0 ? -x : x;
  bool sci = ax != 0 && (ax < 1e-4 || ax >= 1e16);
  for (int p = 1; p <= 17; p++) {
    snprintf(buf, size, "%.*g", p, x);
    if (strtod(buf, NULL) == x && (sci || !strchr(buf, 'e')))
      break;
  }
  if (!strpbrk(buf, ".en"))
    strncat(buf, ".0", size - strlen(buf) - 1);
}

static void print_list(const char *label, const double *v, size_t n) {
  printf("%s[", label);
  for (size_t i = 0; i < n; i++) {
    char b[32];
    py_float(b, sizeof b, v[i]);
    printf("%s%s", i ? ", " : "", b);
  }
  printf("]\n");
}

/* np.linspace(start, stop, num): start + i * step, the last one exactly
 * stop. */
static void linspace(double start, double stop, size_t num, double *out) {
  double step = (stop - start) / (double)(num - 1);
  for (size_t i = 0; i < num; i++)
    out[i] = start + (double)i * step;
  out[num - 1] = stop;
}

int weft_example_seed001_slow_square(void);
int weft_example_seed001_slow_square(void) {
  enum { N = 4 };
  double xs[N], seq[N], par[N];
  linspace(0, 10, N, xs);
  printf("seed001: slow_square over np.linspace(0, 10, 4), sleeping %.1f s "
         "per item\n",
         sleep_seconds());

  printf("\n-- squared = list(map(slow_square, np.linspace(0, 10, 4)))\n");
  fflush(stdout);
  double t0 = now_s();
  for (int i = 0; i < N; i++)
    seq[i] = slow_square(xs[i]);
  double t_seq = now_s() - t0;

  weft_map_opts o;
  weft_map_opts_init(&o);
  o.workers = -1; /* n_jobs=-1 */
  o.scheduler = WEFT_SCHED_PROCS;
  const char *how = "worker processes (the loky backend's role)";
  if (!weft_scheduler_available(WEFT_SCHED_PROCS)) {
    o.scheduler = WEFT_SCHED_THREADS;
    how = "threads: this build has no procs scheduler";
  }
  char err[512];
  o.errbuf = err;
  o.errbuf_size = sizeof err;
  printf("\n-- Parallel(n_jobs=-1)(delayed(slow_square)(a) for a in ...): "
         "weft_map over %s\n",
         how);
  fflush(stdout);
  weft_value in[N], out[N];
  for (int i = 0; i < N; i++)
    in[i] = weft_double(xs[i]);
  t0 = now_s();
  int rc = weft_map(WEFT_FN(slow_square), N, in, out, &o);
  double t_par = now_s() - t0;
  if (rc) {
    fprintf(stderr, "seed001: %s\n", err);
    return 1;
  }
  int ok = 1;
  for (int i = 0; i < N; i++) {
    par[i] = out[i].type == WEFT_T_DOUBLE ? out[i].as.d : -1;
    if (seq[i] != xs[i] * xs[i] || par[i] != xs[i] * xs[i]) {
      fprintf(stderr, "seed001: item %d: %g and %g, expected %g\n", i, seq[i],
              par[i], xs[i] * xs[i]);
      ok = 0;
    }
  }
  int workers = o.workers > 0 ? o.workers : weft_cpu_count();
  printf("\n");
  print_list("sequential result: ", seq, N);
  print_list("weft_map result:   ", par, N);
  printf("sequential: %.2f s; weft_map on %d %s: %.2f s (%.1fx)\n", t_seq,
         workers, o.scheduler == WEFT_SCHED_PROCS ? "processes" : "threads",
         t_par, t_seq / t_par);
  printf("seed001: %s\n", ok ? "results check: OK" : "results WRONG");
  return ok ? 0 : 1;
}

#ifndef WEFT_EXAMPLE_NO_MAIN
int main(void) { return weft_example_seed001_slow_square(); }
#endif
