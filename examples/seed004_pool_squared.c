/* seed004_pool_squared.c - seed 004 (multiprocessing): squaring an array
 * in one process, then with a pool of one process per physical core, each
 * run timed by the seed's @benchmark decorator:
 *
 *   def squared(x):
 *       return x**2
 *   @benchmark
 *   def array_squared_sp(array):
 *       return [squared(x) for x in array]
 *   @benchmark
 *   def array_squared_mp(array):
 *       with mp.Pool(psutil.cpu_count(logical=False)) as pool:
 *           out = pool.map(squared, array)
 *       return out
 *   numbers = np.random.uniform(0, 1, size=10)
 *
 * In C: benchmark() below is the decorator (a title box, the call timed,
 * "func: NAME executed in Xs."), weft_procs_new(weft_physical_cpu_count())
 * is mp.Pool(psutil.cpu_count(logical=False)) and weft_map with that pool
 * is pool.map. As in the seed, the pool is started and stopped inside the
 * timed function, so the time shows that a pool costs more than squaring
 * ten numbers; without the procs scheduler in the build, threads stand in
 * (said so). The results are checked against x*x. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "weft.h"
#if __has_include("weft/procs.h")
#include "weft/procs.h"
#define SEED004_HAVE_PROCS_H 1
#else
#define SEED004_HAVE_PROCS_H 0
#endif

static double seed004_squared(double x) { return x * x; }
WEFT_DELAYED(seed004_squared, double, double);

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The @benchmark decorator (box_length=50): prints a title box around the
 * call and its wall time. Returns what func returns. */
typedef int (*array_fn)(const double *array, size_t n, double *out);
static int benchmark(const char *name, array_fn func, const double *array,
                     size_t n, double *out) {
  const int box_length = 50;
  char bar[64];
  memset(bar, '-', (size_t)box_length);
  bar[box_length] = '\0';
  int title_len = printf("%s %s %s\n", bar, name, bar) - 1;
  fflush(stdout);
  double start_time = now_s();
  int rc = func(array, n, out);
  printf("func: %s executed in %.5fs.\n", name, now_s() - start_time);
  for (int i = 0; i < title_len; i++)
    putchar('-');
  putchar('\n');
  return rc;
}

static int array_squared_sp(const double *array, size_t n, double *out) {
  for (size_t i = 0; i < n; i++)
    out[i] = seed004_squared(array[i]);
  return 0;
}

static int array_squared_mp(const double *array, size_t n, double *out) {
  weft_value *in = malloc(n * sizeof *in), *res = malloc(n * sizeof *res);
  if (!in || !res) {
    free(in);
    free(res);
    return WEFT_ENOMEM;
  }
  for (size_t i = 0; i < n; i++)
    in[i] = weft_double(array[i]);
  char err[512];
  weft_map_opts o;
  weft_map_opts_init(&o);
  o.errbuf = err;
  o.errbuf_size = sizeof err;
  int rc = 0;
  int cores = weft_physical_cpu_count();
#if SEED004_HAVE_PROCS_H
  weft_procs *pool = NULL;
  if (weft_scheduler_available(WEFT_SCHED_PROCS)) {
    /* with mp.Pool(psutil.cpu_count(logical=False)) as pool: */
    rc = weft_procs_new(cores, NULL, &pool);
    if (rc)
      snprintf(err, sizeof err, "weft_procs_new: %s", weft_strerror(rc));
    o.procs = pool; /* pool.map(squared, array) */
  }
#endif
  if (!o.procs) {
    o.scheduler = WEFT_SCHED_THREADS;
    o.workers = cores;
  }
  if (!rc)
    rc = weft_map(WEFT_FN(seed004_squared), n, in, res, &o);
#if SEED004_HAVE_PROCS_H
  weft_procs_free(pool);
#endif
  if (rc)
    fprintf(stderr, "seed004: %s\n", err);
  for (size_t i = 0; i < n && !rc; i++)
    out[i] = res[i].as.d;
  free(in);
  free(res);
  return rc;
}

static void print_array(const char *label, const double *v, size_t n) {
  printf("%s[", label);
  for (size_t i = 0; i < n; i++)
    printf("%s%.8f", i ? " " : "", v[i]);
  printf("]\n");
}

int weft_example_seed004_pool_squared(void);
int weft_example_seed004_pool_squared(void) {
  enum { N = 10 };
  /* numbers = np.random.uniform(0, 1, size=10), from a fixed seed */
  double numbers[N], sp[N], mp[N];
  uint64_t s = 0x5eed0004u;
  for (int i = 0; i < N; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    numbers[i] = (double)(s >> 11) * 0x1.0p-53;
  }
  int cores = weft_physical_cpu_count();
  printf("seed004: squaring %d numbers in one process, then with a pool of "
         "%d process%s (psutil.cpu_count(logical=False))%s\n",
         N, cores, cores == 1 ? "" : "es",
         weft_scheduler_available(WEFT_SCHED_PROCS)
             ? ""
             : " - this build has no procs scheduler: threads instead");
  print_array("numbers = ", numbers, N);
  if (benchmark("array_squared_sp", array_squared_sp, numbers, N, sp) ||
      benchmark("array_squared_mp", array_squared_mp, numbers, N, mp))
    return 1;
  print_array("array_squared_mp(numbers) = ", mp, N);
  int ok = 1;
  for (int i = 0; i < N; i++)
    if (sp[i] != numbers[i] * numbers[i] || mp[i] != sp[i]) {
      fprintf(stderr, "seed004: item %d: %.17g and %.17g, expected %.17g\n", i,
              sp[i], mp[i], numbers[i] * numbers[i]);
      ok = 0;
    }
  printf("seed004: %s\n", ok ? "results check: OK" : "results WRONG");
  return ok ? 0 : 1;
}

#ifndef WEFT_EXAMPLE_NO_MAIN
int main(void) { return weft_example_seed004_pool_squared(); }
#endif
