/* bench_map.c - the weft side of the parallel-map benchmark of issue 3
 * (bench/run_map.sh runs it beside Python's joblib and multiprocessing,
 * bench/map_python.py, and prints one table).
 *
 * Units, chosen by the arguments (all when none):
 *   threads  per-item overhead of weft_map over threads, for 10,000 and
 *            1,000,000 trivial items (inc: x + 1), on a kept executor and
 *            on a fresh pool per call;
 *   procs    the same over worker processes, on a kept pool;
 *   typed    the same trivial map on a kept executor through a typed
 *            function (WEFT_DELAYED: long inc_t(long)) beside the generic
 *            one (inc), 1,000,000 items: what the typed path costs;
 *   start    procs pool start-up: weft_procs_new and the first tiny map;
 *   factors  trial-division factorisation of 10,000 (and 100,000) random
 *            integers in [20000, 100000000] (Python's random.Random(0), the
 *            anchor's numbers): a plain C loop, weft_map over threads,
 *            weft_map over processes; the speedups.
 * Overhead per item = (median map time - median plain loop time) / n, where
 * the plain loop calls the same task function on every item in one thread:
 * what the map adds to the work. Every result is checked after every
 * repetition; a wrong one prints a FAIL line and exits non-zero.
 *
 * Output: one line per measurement, "MAP sys=<system> what=<measure>
 * key=value ...", times in ns per item or in ms. REPS (environment,
 * default 5) repetitions after a warm-up; medians. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "weft.h"
#if __has_include("weft/procs.h")
#include "weft/procs.h"
#define BENCH_MAP_HAVE_PROCS 1
#else
#define BENCH_MAP_HAVE_PROCS 0
#endif

#define MAXREPS 64

static int reps = 5;
static int failures;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void fail(const char *what, const char *msg) {
  printf("FAIL %s: %s\n", what, msg);
  failures++;
}

/* ---- trivial items ---- */

static int inc(weft_task_ctx *ctx, const weft_value *a, size_t n,
               weft_value *out) {
  (void)ctx;
  (void)n;
  *out = weft_int(a[0].as.i + 1);
  return 0;
}
WEFT_REGISTER_ARITY(inc, 1);

static int check_inc(const weft_value *out, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (out[i].type != WEFT_T_INT || out[i].as.i != (int64_t)i + 1)
      return 0;
  return 1;
}

/* The same as a plain typed C function, made a task by WEFT_DELAYED. */
static long inc_t(long x) { return x + 1; }
WEFT_DELAYED(inc_t, long, long);

/* Median seconds of the plain loop over n items. */
static double loop_time(const weft_value *in, weft_value *out, size_t n) {
  double t[MAXREPS];
  for (int r = -1; r < reps; r++) {
    double t0 = now_s();
    for (size_t i = 0; i < n; i++)
      inc(NULL, &in[i], 1, &out[i]);
    if (r >= 0)
      t[r] = now_s() - t0;
  }
  return median(t, reps);
}

/* Median seconds of weft_map over n items with options o. */
static double map_fn_time(const weft_fn_info *fn, const char *what,
                          const weft_value *in, weft_value *out, size_t n,
                          weft_map_opts *o) {
  double t[MAXREPS];
  char err[512];
  o->errbuf = err;
  o->errbuf_size = sizeof err;
  for (int r = -1; r < reps; r++) {
    double t0 = now_s();
    int rc = weft_map(fn, n, in, out, o);
    double dt = now_s() - t0;
    if (rc) {
      fail(what, err);
      return -1;
    }
    if (!check_inc(out, n)) {
      fail(what, "wrong results");
      return -1;
    }
    if (r >= 0)
      t[r] = dt;
  }
  return median(t, reps);
}

static double map_time(const char *what, const weft_value *in, weft_value *out,
                       size_t n, weft_map_opts *o) {
  return map_fn_time(WEFT_FN(inc), what, in, out, n, o);
}

static void overhead_line(const char *sys, size_t n, double loop, double map,
                          int workers) {
  printf("MAP sys=%s what=overhead n=%zu workers=%d loop_ns=%.2f map_ns=%.2f "
         "over_ns=%.2f reps=%d\n",
         sys, n, workers, loop / (double)n * 1e9, map / (double)n * 1e9,
         (map - loop) / (double)n * 1e9, reps);
  fflush(stdout);
}

static const size_t sizes[] = {10000, 1000000};

static void unit_threads(const weft_value *in, weft_value *out) {
  int workers = weft_cpu_count();
  weft_executor *ex;
  if (weft_executor_new(workers, &ex)) {
    fail("threads", "weft_executor_new failed");
    return;
  }
  for (int k = 0; k < 2; k++) {
    size_t n = sizes[k];
    double loop = loop_time(in, out, n);
    weft_map_opts o;
    weft_map_opts_init(&o);
    o.ignore_env = 1;
    o.executor = ex;
    double m = map_time("threads", in, out, n, &o);
    if (m >= 0)
      overhead_line("weft-threads", n, loop, m, workers);
    weft_map_opts_init(&o);
    o.ignore_env = 1;
    o.scheduler = WEFT_SCHED_THREADS;
    o.workers = workers;
    m = map_time("threads-fresh", in, out, n, &o);
    if (m >= 0)
      overhead_line("weft-threads-fresh", n, loop, m, workers);
  }
  weft_executor_free(ex);
}

/* Typed (WEFT_DELAYED) against generic, same run, same executor. */
static void unit_typed(const weft_value *in, weft_value *out) {
  int workers = weft_cpu_count();
  weft_executor *ex;
  if (weft_executor_new(workers, &ex)) {
    fail("typed", "weft_executor_new failed");
    return;
  }
  size_t n = sizes[1];
  double loop = loop_time(in, out, n);
  weft_map_opts o;
  weft_map_opts_init(&o);
  o.ignore_env = 1;
  o.executor = ex;
  double gen = map_fn_time(WEFT_FN(inc), "typed/generic", in, out, n, &o);
  double typ = map_fn_time(WEFT_FN(inc_t), "typed", in, out, n, &o);
  if (gen >= 0 && typ >= 0)
    printf("MAP sys=weft-threads what=typed n=%zu workers=%d loop_ms=%.3f "
           "generic_ms=%.3f typed_ms=%.3f typed_over_generic=%.2f reps=%d\n",
           n, workers, loop * 1e3, gen * 1e3, typ * 1e3, typ / gen, reps);
  fflush(stdout);
  weft_executor_free(ex);
}

static void unit_procs(const weft_value *in, weft_value *out) {
#if BENCH_MAP_HAVE_PROCS
  if (!weft_scheduler_available(WEFT_SCHED_PROCS)) {
    printf("SKIP procs: this build has no procs scheduler\n");
    return;
  }
  int workers = weft_cpu_count();
  weft_procs *pool;
  if (weft_procs_new(workers, NULL, &pool)) {
    fail("procs", "weft_procs_new failed");
    return;
  }
  for (int k = 0; k < 2; k++) {
    size_t n = sizes[k];
    double loop = loop_time(in, out, n);
    weft_map_opts o;
    weft_map_opts_init(&o);
    o.ignore_env = 1;
    o.procs = pool;
    double m = map_time("procs", in, out, n, &o);
    if (m >= 0)
      overhead_line("weft-procs", n, loop, m, workers);
  }
  weft_procs_free(pool);
#else
  (void)in;
  (void)out;
  printf("SKIP procs: this build has no weft/procs.h\n");
#endif
}

static void unit_start(void) {
#if BENCH_MAP_HAVE_PROCS
  if (!weft_scheduler_available(WEFT_SCHED_PROCS)) {
    printf("SKIP start: this build has no procs scheduler\n");
    return;
  }
  int workers = weft_cpu_count();
  double tn[MAXREPS], tf[MAXREPS];
  for (int r = -1; r < reps; r++) {
    weft_procs *pool;
    double t0 = now_s();
    if (weft_procs_new(workers, NULL, &pool)) {
      fail("start", "weft_procs_new failed");
      return;
    }
    double t1 = now_s();
    weft_value in[2] = {weft_int(0), weft_int(1)}, out[2];
    weft_map_opts o;
    weft_map_opts_init(&o);
    o.procs = pool;
    int rc = weft_map(WEFT_FN(inc), 2, in, out, &o);
    double t2 = now_s();
    weft_procs_free(pool);
    if (rc || !check_inc(out, 2)) {
      fail("start", "first map failed");
      return;
    }
    if (r >= 0) {
      tn[r] = t1 - t0;
      tf[r] = t2 - t0;
    }
  }
  printf("MAP sys=weft-procs what=start workers=%d new_ms=%.3f first_ms=%.3f "
         "reps=%d\n",
         workers, median(tn, reps) * 1e3, median(tf, reps) * 1e3, reps);
#else
  printf("SKIP start: this build has no weft/procs.h\n");
#endif
}

/* ---- factorisation (the numbers of anchors/py/factors_bench.py) ---- */

typedef struct mt19937 {
  uint32_t mt[624];
  int i;
} mt19937;

/* Python's random.seed(n) for a small int n (init_by_array([n])). */
static void mt_seed_py(mt19937 *m, uint32_t n) {
  m->mt[0] = 19650218u;
  for (int i = 1; i < 624; i++)
    m->mt[i] =
        1812433253u * (m->mt[i - 1] ^ (m->mt[i - 1] >> 30)) + (uint32_t)i;
  int i = 1;
  for (int k = 624; k; k--) {
    m->mt[i] =
        (m->mt[i] ^ ((m->mt[i - 1] ^ (m->mt[i - 1] >> 30)) * 1664525u)) + n;
    if (++i >= 624) {
      m->mt[0] = m->mt[623];
      i = 1;
    }
  }
  for (int k = 623; k; k--) {
    m->mt[i] =
        (m->mt[i] ^ ((m->mt[i - 1] ^ (m->mt[i - 1] >> 30)) * 1566083941u)) -
        (uint32_t)i;
    if (++i >= 624) {
      m->mt[0] = m->mt[623];
      i = 1;
    }
  }
  m->mt[0] = 0x80000000u;
  m->i = 624;
}

static uint32_t mt_next(mt19937 *m) {
  if (m->i >= 624) {
    for (int k = 0; k < 624; k++) {
      uint32_t y =
          (m->mt[k] & 0x80000000u) | (m->mt[(k + 1) % 624] & 0x7fffffffu);
      m->mt[k] = m->mt[(k + 397) % 624] ^ (y >> 1) ^ (y & 1 ? 0x9908b0dfu : 0);
    }
    m->i = 0;
  }
  uint32_t y = m->mt[m->i++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  return y ^ (y >> 18);
}

static int64_t py_randint(mt19937 *m, int64_t a, int64_t b) {
  uint64_t n = (uint64_t)(b - a + 1);
  int k = 64 - __builtin_clzll(n);
  uint64_t r;
  do
    r = mt_next(m) >> (32 - k);
  while (r >= n);
  return a + (int64_t)r;
}

/* calculate_prime_factors(n): an int in, a list of ints out. */
static int prime_factors(weft_task_ctx *ctx, const weft_value *args,
                         size_t nargs, weft_value *out) {
  (void)ctx;
  (void)nargs;
  int64_t n = args[0].as.i, f[64];
  int c = 0;
  for (int64_t d = 2; d * d <= n; d++)
    while (n % d == 0) {
      f[c++] = d;
      n /= d;
    }
  if (n > 1)
    f[c++] = n;
  int rc = weft_list_new(out, (size_t)c);
  for (int k = 0; k < c && !rc; k++)
    rc = weft_list_set(out, (size_t)k, weft_int(f[k]));
  return rc;
}
WEFT_REGISTER_ARITY(prime_factors, 1);

/* Number and sum of all factors; -1 when a list does not multiply back. */
static void factor_sums(const weft_value *in, const weft_value *res, size_t n,
                        int64_t *count, int64_t *sum) {
  *count = *sum = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t prod = 1;
    for (size_t k = 0; k < weft_value_len(&res[i]); k++) {
      int64_t f = weft_list_get(&res[i], k)->as.i;
      prod *= f;
      ++*count;
      *sum += f;
    }
    if (res[i].type != WEFT_T_LIST || prod != in[i].as.i) {
      *count = *sum = -1;
      return;
    }
  }
}

static void release_all(weft_value *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    weft_value_release(&v[i]);
}

static void unit_factors(size_t n) {
  weft_value *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
  if (!in || !out) {
    fail("factors", "out of memory");
    free(in);
    free(out);
    return;
  }
  mt19937 rng;
  mt_seed_py(&rng, 0);
  int64_t sum_in = 0;
  for (size_t i = 0; i < n; i++) {
    in[i] = weft_int(py_randint(&rng, 20000, 100000000));
    sum_in += in[i].as.i;
  }
  int workers = weft_cpu_count();
  double ts[MAXREPS], tt[MAXREPS], tp[MAXREPS];
  int64_t c0 = 0, s0 = 0, c, s;
  char err[512];
  /* sequential C loop: the same task function on every item */
  for (int r = -1; r < reps; r++) {
    double t0 = now_s();
    for (size_t i = 0; i < n; i++)
      prime_factors(NULL, &in[i], 1, &out[i]);
    double dt = now_s() - t0;
    factor_sums(in, out, n, &c0, &s0);
    release_all(out, n);
    if (r >= 0)
      ts[r] = dt;
  }
  double seq = median(ts, reps);
  printf("MAP sys=c-seq what=factors n=%zu workers=1 wall_ms=%.3f "
         "sum_inputs=%" PRId64 " n_factors=%" PRId64 " sum_factors=%" PRId64
         " reps=%d\n",
         n, seq * 1e3, sum_in, c0, s0, reps);
  if (c0 < 0)
    fail("factors", "sequential results do not multiply back");
  /* weft_map over threads: a fresh pool per call, as a call is written */
  weft_map_opts o;
  weft_map_opts_init(&o);
  o.ignore_env = 1;
  o.scheduler = WEFT_SCHED_THREADS;
  o.workers = workers;
  o.errbuf = err;
  o.errbuf_size = sizeof err;
  for (int r = -1; r < reps; r++) {
    double t0 = now_s();
    int rc = weft_map(WEFT_FN(prime_factors), n, in, out, &o);
    double dt = now_s() - t0;
    if (rc) {
      fail("factors threads", err);
      goto done;
    }
    factor_sums(in, out, n, &c, &s);
    release_all(out, n);
    if (c != c0 || s != s0) {
      fail("factors threads", "results differ from the sequential loop");
      goto done;
    }
    if (r >= 0)
      tt[r] = dt;
  }
  printf("MAP sys=weft-threads what=factors n=%zu workers=%d wall_ms=%.3f "
         "speedup=%.3f reps=%d\n",
         n, workers, median(tt, reps) * 1e3, seq / median(tt, reps), reps);
#if BENCH_MAP_HAVE_PROCS
  if (weft_scheduler_available(WEFT_SCHED_PROCS)) {
    /* weft_map over processes, on a pool started before the clock */
    weft_procs *pool;
    double t0 = now_s();
    if (weft_procs_new(workers, NULL, &pool)) {
      fail("factors procs", "weft_procs_new failed");
      goto done;
    }
    double start = now_s() - t0;
    weft_map_opts_init(&o);
    o.ignore_env = 1;
    o.procs = pool;
    o.errbuf = err;
    o.errbuf_size = sizeof err;
    int bad = 0;
    for (int r = -1; r < reps && !bad; r++) {
      t0 = now_s();
      int rc = weft_map(WEFT_FN(prime_factors), n, in, out, &o);
      double dt = now_s() - t0;
      if (rc) {
        fail("factors procs", err);
        bad = 1;
        break;
      }
      factor_sums(in, out, n, &c, &s);
      release_all(out, n);
      if (c != c0 || s != s0) {
        fail("factors procs", "results differ from the sequential loop");
        bad = 1;
      }
      if (r >= 0)
        tp[r] = dt;
    }
    weft_procs_free(pool);
    if (!bad)
      printf("MAP sys=weft-procs what=factors n=%zu workers=%d wall_ms=%.3f "
             "speedup=%.3f start_ms=%.3f reps=%d\n",
             n, workers, median(tp, reps) * 1e3, seq / median(tp, reps),
             start * 1e3, reps);
  }
#endif
done:
  fflush(stdout);
  free(in);
  free(out);
}

int main(int argc, char **argv) {
  const char *r = getenv("REPS");
  if (r && atoi(r) > 0)
    reps = atoi(r) < MAXREPS ? atoi(r) : MAXREPS;
  bool all = argc < 2;
  bool want[6] = {all, all, all, all, all, all};
  for (int k = 1; k < argc; k++) {
    const char *names[6] = {"threads", "procs", "start", "factors",
                            "factors100k", "typed"};
    int found = 0;
    for (int u = 0; u < 6; u++)
      if (strcmp(argv[k], names[u]) == 0)
        want[u] = (found = 1);
    if (!found) {
      fprintf(stderr, "usage: bench_map [threads] [procs] [start] [factors] "
                      "[factors100k] [typed]\n");
      return 2;
    }
  }
  size_t nmax = sizes[1];
  weft_value *in = malloc(nmax * sizeof *in), *out = malloc(nmax * sizeof *out);
  if (!in || !out)
    return 1;
  for (size_t i = 0; i < nmax; i++)
    in[i] = weft_int((int64_t)i);
  printf("# bench_map: %d CPUs, REPS=%d\n", weft_cpu_count(), reps);
  if (want[0])
    unit_threads(in, out);
  if (want[1])
    unit_procs(in, out);
  if (want[2])
    unit_start();
  if (want[3])
    unit_factors(10000);
  if (want[4])
    unit_factors(100000);
  if (want[5])
    unit_typed(in, out);
  free(in);
  free(out);
  return failures ? 1 : 0;
}
