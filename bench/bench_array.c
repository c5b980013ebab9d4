/* bench_array.c - weft's side of the array benchmark (issue 8): the seed's
 * two big workloads over a (200000, 4000) float64 array in (1000, 1000)
 * chunks, over ones and over uniform random values, as weft array
 * expressions (the text weft eval takes), and the building of a graph of a
 * million chunks. bench/run_array.sh runs each case in its own process and
 * puts these lines in one table with Dask's (array_dask.py) and the
 * hand-fused C loops' (bench_array_omp.c).
 *
 *   bench_array [CASE...]      (default: the four array cases)
 *
 * CASE: mulrev_ones    (ones * ones[::-1, ::-1]).mean()
 *       cos2_ones      (cos(ones) ** 2).mean(axis=1)
 *       mulrev_random  the same over random((200000, 4000), seed=SEED)
 *       cos2_random    the same over random
 *       build1m        ones((1000, 1000), chunks=(1, 1)).sum(): a graph of
 *                      a million chunk tasks and its sum tree, built (the
 *                      parse, the array layers, the tasks) then computed
 *
 * Environment: REPS (timed repetitions after one untimed warm-up, default
 * 3), ROWS (default 200000), SEED (default 0), WORKERS (threads; default
 * weft's: WEFT_WORKERS or all cores), WEFT_SCHEDULER (default threads).
 * One line per case, in bench/README.md's format:
 *
 *   ARRAY sys=weft var=<v> case=<case> threads=<n> reps=<r> seconds=<median>
 *         min=<s> max=<s> cpu=<s> peak_rss=<bytes> result=<value>
 *         first=<value> build=<s> tasks=<n>
 *
 * seconds: a whole repetition (parse, graph, compute, result in memory);
 * build: the median of its graph-building part. var=fused for the array
 * cases; build1m prints var=build (seconds: building the graph only) and
 * var=total (building and computing). cpu: the median CPU seconds of a
 * repetition, all threads. result: the scalar (mulrev, build1m) or the
 * mean of the row means (cos2); first: the first row mean (cos2) or the
 * scalar again. peak_rss: the process's VmHWM, reset before the case. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <weft.h>

#include "bench_mem.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
static double cpu(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) * 1e-6;
}
static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return v[n / 2];
}

/* The expression of a case, into buf; -1 for an unknown case. */
static int expr_of(const char *c, long rows, unsigned long long seed,
                   char *buf, size_t size) {
  char src[200];
  bool random = strstr(c, "_random") != NULL;
  if (random)
    snprintf(src, sizeof src,
             "random((%ld, 4000), chunks=(1000, 1000), seed=%llu)", rows,
             seed);
  else
    snprintf(src, sizeof src, "ones((%ld, 4000), chunks=(1000, 1000))", rows);
  if (!strncmp(c, "mulrev_", 7) && (random || !strcmp(c + 7, "ones")))
    snprintf(buf, size, "(%s * %s[::-1, ::-1]).mean()", src, src);
  else if (!strncmp(c, "cos2_", 5) && (random || !strcmp(c + 5, "ones")))
    snprintf(buf, size, "(cos(%s) ** 2).mean(axis=1)", src);
  else if (!strcmp(c, "build1m"))
    snprintf(buf, size, "ones((1000, 1000), chunks=(1, 1)).sum()");
  else
    return -1;
  return 0;
}

typedef struct rep {
  double wall, build, cpu, result, first;
  size_t tasks;
} rep;

static int run_once(const char *text, const weft_compute_opts *co, rep *r) {
  double c0 = cpu(), t0 = now();
  weft_graph *g = weft_graph_new();
  weft_array *a = NULL;
  char err[256];
  int col, rc = 1;
  double *out = NULL;
  if (!g || weft_array_parse(g, text, 0, NULL, NULL, &a, err, sizeof err,
                             &col)) {
    fprintf(stderr, "bench_array: %s\n", g ? err : "out of memory");
    goto done;
  }
  size_t n;
  weft_node *const *nodes;
  if (weft_array_blocks(a, &n, &nodes))
    goto fail;
  r->build = now() - t0;
  r->tasks = weft_graph_size(g);
  size_t cnt = (size_t)weft_array_size(a);
  out = malloc((cnt ? cnt : 1) * sizeof *out);
  if (!out || weft_array_compute_buffer(a, out, cnt * sizeof *out, co))
    goto fail;
  double s = 0;
  for (size_t i = 0; i < cnt; i++)
    s += out[i];
  r->result = cnt ? s / (double)cnt : 0;
  r->first = cnt ? out[0] : 0;
  r->wall = now() - t0;
  r->cpu = cpu() - c0;
  rc = 0;
  goto done;
fail:
  fprintf(stderr, "bench_array: %s\n", weft_graph_error(g));
done:
  free(out);
  weft_array_free(a);
  weft_graph_free(g);
  return rc;
}

static void print_line(const char *c, const char *var, int threads, int reps,
                       const double *secs, const rep *last, double build,
                       double cpus) {
  double s[64];
  memcpy(s, secs, (size_t)reps * sizeof *s);
  double med = median(s, reps);
  printf("ARRAY sys=weft var=%s case=%s threads=%d reps=%d seconds=%.6f "
         "min=%.6f max=%.6f cpu=%.6f peak_rss=%.0f result=%.17g first=%.17g "
         "build=%.6f tasks=%zu\n",
         var, c, threads, reps, med, s[0], s[reps - 1], cpus,
         mem_peak_bytes(), last->result, last->first, build, last->tasks);
}

static int run_case(const char *c, int reps, long rows,
                    unsigned long long seed, const weft_compute_opts *co,
                    int threads) {
  char text[600];
  if (expr_of(c, rows, seed, text, sizeof text)) {
    fprintf(stderr, "bench_array: unknown case '%s' (mulrev_ones, cos2_ones, "
                    "mulrev_random, cos2_random, build1m)\n", c);
    return 2;
  }
  mem_peak_reset();
  rep r, w;
  if (run_once(text, co, &w)) /* warm-up */
    return 1;
  double wall[64], build[64], cpus[64];
  for (int k = 0; k < reps; k++) {
    if (run_once(text, co, &r))
      return 1;
    wall[k] = r.wall;
    build[k] = r.build;
    cpus[k] = r.cpu;
  }
  double b[64];
  memcpy(b, build, (size_t)reps * sizeof *b);
  double bmed = median(b, reps), cmed = median(cpus, reps);
  if (!strcmp(c, "build1m"))
    print_line(c, "build", threads, reps, build, &r, bmed, cmed);
  print_line(c, !strcmp(c, "build1m") ? "total" : "fused", threads, reps,
             wall, &r, bmed, cmed);
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  const char *e;
  int reps = (e = getenv("REPS")) ? atoi(e) : 3;
  if (reps < 1 || reps > 64)
    reps = 3;
  long rows = (e = getenv("ROWS")) && atol(e) >= 1000 ? atol(e) / 1000 * 1000
                                                       : 200000;
  unsigned long long seed = (e = getenv("SEED")) ? strtoull(e, NULL, 10) : 0;
  weft_compute_opts co;
  weft_compute_opts_init(&co);
  if ((e = getenv("WORKERS")) && atoi(e) > 0)
    co.workers = atoi(e);
  int threads = co.workers;
  if (threads <= 0)
    threads = (e = getenv("WEFT_WORKERS")) && atoi(e) > 0
                  ? atoi(e)
                  : (int)sysconf(_SC_NPROCESSORS_ONLN);
  static const char *all[] = {"mulrev_ones", "cos2_ones", "mulrev_random",
                              "cos2_random"};
  const char **cases = argc > 1 ? (const char **)argv + 1 : all;
  int ncases = argc > 1 ? argc - 1 : 4;
  for (int i = 0; i < ncases; i++) {
    int rc = run_case(cases[i], reps, rows, seed, &co, threads);
    if (rc)
      return rc;
  }
  return 0;
}
