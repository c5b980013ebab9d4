/* bench_weft.c - weft's per-task overhead on the four shapes of
 * bench_common.h (issue 2: < 50 ns per task, build + run, with 2 threads;
 * < 64 bytes per task node).
 *
 * Each task is a function registered with WEFT_REGISTER, in weft's generic
 * form; its arguments are a literal index (weft_int) and references to the
 * nodes it depends on (weft_node_ref): the dependencies are the arguments,
 * as in Dask. Bodies work on global arrays by index, as in the anchors, and
 * return none. One repetition:
 *   build  weft_graph_new + weft_call_fn per node          (timed)
 *   run    weft_compute1 of the last node                  (timed)
 *   rerun  weft_compute1 of the same graph again           (timed, extra)
 *   free   weft_graph_free                                 (timed, extra)
 * and the result is checked after each compute. The threads scheduler runs
 * on one weft_executor of 2 workers made once (the calling thread is one of
 * them); the sync scheduler runs on the calling thread alone.
 *
 * Memory, per task (bench_mem.h says how each is measured):
 *   cold_graph_B bytes the first build of the process allocated: malloc'd
 *                (mallinfo2) + mapped outside malloc (VmSize growth not
 *                from malloc), capacity included. Each (program, shape)
 *                runs in its own process and the threads scheduler goes
 *                first, so nothing a freed graph left behind (weft's cache
 *                of mappings) can hide it; cold_rss_B: the pages touched;
 *   lib_B        the same by the library's count (weft_graph_inspect),
 *                need_B its nodes and argument slots without spare
 *                capacity, node_B one node record;
 *   warm_graph_B the delta over each timed build (median): 0 when the
 *                library reuses memory of the previous graph;
 *   kept_B       bytes still allocated after a compute beyond the graph's
 *                (results, scheduler state kept for the next compute);
 *   peak_B       the peak-RSS growth over the first build + compute;
 *   faults_*     minor page faults per task in the build / the run.
 * The first repetition of the process (cold: fresh pages, ~1.8 us per 4 KiB
 * page on the project VM) is a warm-up; its times are given as cold_*.
 *
 * WEFT_BENCH_LISTENER=noop|trace|profile runs every compute with that
 * listener (see compute() below): bench/run.sh's overhead rows.
 *
 *   bench_weft [shapes [threads|sync|both]]     default: abcd both */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <weft.h>

#include "bench_common.h"
#include "bench_mem.h"

/* ---- the task functions ---- */

static int fan(weft_task_ctx *ctx, const weft_value *a, size_t n,
               weft_value *out) {
  (void)ctx, (void)n;
  data[a[0].as.i] += 1.0;
  *out = weft_none();
  return 0;
}
WEFT_REGISTER(fan);

static int join(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  (void)ctx, (void)a, (void)n;
  joinv = bench_join();
  *out = weft_none();
  return 0;
}
WEFT_REGISTER(join);

static int chain(weft_task_ctx *ctx, const weft_value *a, size_t n,
                 weft_value *out) {
  (void)ctx, (void)n;
  int64_t i = a[0].as.i;
  vals[i] = (i ? vals[i - 1] : 0.0) + 1.0;
  *out = weft_none();
  return 0;
}
WEFT_REGISTER(chain);

static int leaf(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  (void)ctx, (void)n;
  vals[a[0].as.i] = 1.0;
  *out = weft_none();
  return 0;
}
WEFT_REGISTER(leaf);

static int inner(weft_task_ctx *ctx, const weft_value *a, size_t n,
                 weft_value *out) {
  (void)ctx, (void)n;
  int64_t k = a[0].as.i;
  vals[k] = vals[2 * k] + vals[2 * k + 1];
  *out = weft_none();
  return 0;
}
WEFT_REGISTER(inner);

/* cell (i, j) at flat index k = i * WV + j */
static int cell(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  (void)ctx, (void)n;
  int64_t k = a[0].as.i;
  double up = vals[k - WV], left = vals[k - 1];
  vals[k] = (up > left ? up : left) + 1.0;
  *out = weft_none();
  return 0;
}
WEFT_REGISTER(cell);

/* ---- building the graphs ---- */

/* Scratch the builders need, allocated and touched once (not per graph):
 * the join's argument list, the tree's node handles, one wavefront row. */
static weft_value *join_args;  /* N_FAN */
static weft_node **tree_nodes; /* 2 * N_LEAF, by heap index */
static weft_node **wave_row;   /* N_WAVE + 1: row i-1 of the grid */

static weft_node *build(weft_graph *g, char s) {
  weft_value v[3];
  switch (s) {
  case 'a':
    for (int64_t i = 0; i < N_FAN; i++) {
      v[0] = weft_int(i);
      join_args[i] = weft_node_ref(weft_call_fn(g, WEFT_FN(fan), 1, v));
    }
    return weft_call_fn(g, WEFT_FN(join), N_FAN, join_args);
  case 'b': {
    v[0] = weft_int(0);
    weft_node *prev = weft_call_fn(g, WEFT_FN(chain), 1, v);
    for (int64_t i = 1; i < N_CHAIN; i++) {
      v[0] = weft_int(i);
      v[1] = weft_node_ref(prev);
      prev = weft_call_fn(g, WEFT_FN(chain), 2, v);
    }
    return prev;
  }
  case 'c':
    for (int64_t k = N_LEAF; k < 2 * N_LEAF; k++) {
      v[0] = weft_int(k);
      tree_nodes[k] = weft_call_fn(g, WEFT_FN(leaf), 1, v);
    }
    for (int64_t k = N_LEAF - 1; k >= 1; k--) {
      v[0] = weft_int(k);
      v[1] = weft_node_ref(tree_nodes[2 * k]);
      v[2] = weft_node_ref(tree_nodes[2 * k + 1]);
      tree_nodes[k] = weft_call_fn(g, WEFT_FN(inner), 3, v);
    }
    return tree_nodes[1];
  case 'd': {
    weft_node *last = NULL;
    for (int64_t i = 1; i <= N_WAVE; i++) {
      weft_node *left = NULL;
      for (int64_t j = 1; j <= N_WAVE; j++) {
        size_t n = 0;
        v[n++] = weft_int(i * WV + j);
        if (i > 1)
          v[n++] = weft_node_ref(wave_row[j]);
        if (j > 1)
          v[n++] = weft_node_ref(left);
        left = wave_row[j] = weft_call_fn(g, WEFT_FN(cell), n, v);
      }
      last = left;
    }
    return last;
  }
  }
  return NULL;
}

static void die(const char *what, weft_graph *g, int rc) {
  fprintf(stderr, "bench_weft: %s: %s (%s)%s%s\n", what, weft_strerror(rc),
          weft_err_name(rc), g ? ": " : "", g ? weft_graph_error(g) : "");
  exit(1);
}

/* The listener every compute runs with (WEFT_BENCH_LISTENER): none, noop
 * (a function that does nothing: the cost of publishing), trace (a
 * weft_trace recording every task, made and freed around each compute) or
 * profile (a weft_profile, likewise). */
static const char *listen_mode = "none";
static void noop_listener(const weft_event *ev, void *ud) { (void)ev, (void)ud; }

static void compute(weft_graph *g, weft_node *root,
                    const weft_compute_opts *opts) {
  weft_value out = weft_none();
  weft_compute_opts o = *opts;
  weft_trace *t = NULL;
  weft_profile *p = NULL;
  weft_listener noop = {noop_listener, NULL, NULL};
  int rc = 0;
  if (strcmp(listen_mode, "noop") == 0)
    o.listener = &noop;
  else if (strcmp(listen_mode, "trace") == 0 && !(rc = weft_trace_new(&t)))
    o.listener = weft_trace_listener(t);
  else if (strcmp(listen_mode, "profile") == 0 && !(rc = weft_profile_new(&p)))
    o.listener = weft_profile_listener(p);
  if (!rc)
    rc = weft_compute1(g, root, &out, &o);
  if (rc)
    die("weft_compute1", g, rc);
  weft_value_release(&out);
  weft_trace_free(t);
  weft_profile_free(p);
}

/* One scheduler on one shape: warm-up (cold) + reps, then the BENCH line. */
static void bench_sched(char s, const char *name, int thr,
                        const weft_compute_opts *opts, int reps, int cold_mem) {
  double n = (double)shape_ntasks(s);
  double build_t[BENCH_MAXREPS], run_t[BENCH_MAXREPS], rerun_t[BENCH_MAXREPS],
      free_t[BENCH_MAXREPS], graph_b[BENCH_MAXREPS], kept_b[BENCH_MAXREPS],
      rss_b[BENCH_MAXREPS], flt_b[BENCH_MAXREPS], flt_r[BENCH_MAXREPS];
  int ok = 1;

  /* warm-up: the first build and run of this shape (cold when cold_mem) */
  bench_reset(s);
  if (cold_mem)
    mem_peak_reset();
  mem_snap m0 = mem_snapshot();
  double peak0 = mem_peak_bytes(), cf0 = mem_minflt();
  double c0 = bench_now();
  weft_graph *g = weft_graph_new();
  if (!g)
    die("weft_graph_new", NULL, WEFT_ENOMEM);
  weft_node *root = build(g, s);
  double c1 = bench_now();
  if (weft_graph_status(g))
    die("build", g, weft_graph_status(g));
  mem_snap m1 = mem_snapshot();
  double cf1 = mem_minflt();
  double c2 = bench_now();
  compute(g, root, opts);
  double c3 = bench_now();
  double peak1 = mem_peak_bytes();
  ok &= bench_check(s);
  weft_graph_free(g);

  for (int r = 0; r < reps; r++) {
    bench_reset(s);
    mem_snap s0 = mem_snapshot();
    double f0 = mem_minflt();
    double t0 = bench_now();
    g = weft_graph_new();
    if (!g)
      die("weft_graph_new", NULL, WEFT_ENOMEM);
    root = build(g, s);
    double t1 = bench_now();
    if (weft_graph_status(g))
      die("build", g, weft_graph_status(g));
    mem_snap s1 = mem_snapshot();
    double f1 = mem_minflt();
    double t2 = bench_now();
    compute(g, root, opts);
    double t3 = bench_now();
    mem_snap s2 = mem_snapshot();
    double f2 = mem_minflt();
    ok &= bench_check(s);
    bench_reset(s);
    double t4 = bench_now();
    compute(g, root, opts);
    double t5 = bench_now();
    ok &= bench_check(s);
    double t6 = bench_now();
    weft_graph_free(g);
    double t7 = bench_now();
    build_t[r] = t1 - t0;
    run_t[r] = t3 - t2;
    rerun_t[r] = t5 - t4;
    free_t[r] = t7 - t6;
    graph_b[r] = mem_grown(s0, s1) / n;
    kept_b[r] = mem_grown(s1, s2) / n;
    rss_b[r] = (s1.rss - s0.rss) / n;
    flt_b[r] = (f1 - f0) / n;
    flt_r[r] = (f2 - f1) / n;
  }

  /* what one built graph holds, by the library's own count */
  bench_reset(s);
  g = weft_graph_new();
  if (!g)
    die("weft_graph_new", NULL, WEFT_ENOMEM);
  build(g, s);
  if (weft_graph_status(g))
    die("build", g, weft_graph_status(g));
  weft_graph_info gi;
  int rc = weft_graph_inspect(g, &gi);
  if (rc)
    die("weft_graph_inspect", g, rc);
  weft_graph_free(g);
  double need_b = ((double)gi.nodes * (double)gi.node_bytes +
                   (double)gi.args * sizeof(weft_value)) / n;

  double rm, fm, gm, km, rsm, fbm, frm, lo, hi;
  bench_stats(rerun_t, reps, &rm, &lo, &hi);
  bench_stats(free_t, reps, &fm, &lo, &hi);
  bench_stats(graph_b, reps, &gm, &lo, &hi);
  bench_stats(kept_b, reps, &km, &lo, &hi);
  bench_stats(rss_b, reps, &rsm, &lo, &hi);
  bench_stats(flt_b, reps, &fbm, &lo, &hi);
  bench_stats(flt_r, reps, &frm, &lo, &hi);
  char extra[512];
  int len = snprintf(
      extra, sizeof extra,
      "listener=%s lib=weft-%s rerun_med=%.1f free_med=%.1f lib_B=%.1f need_B=%.1f "
      "node_B=%zu warm_graph_B=%.1f warm_rss_B=%.1f "
      "kept_B=%.1f faults_build=%.4f faults_run=%.4f cold_build=%.1f "
      "cold_run=%.1f",
      listen_mode, weft_version(), rm * 1e9 / n, fm * 1e9 / n, (double)gi.bytes / n,
      need_b, gi.node_bytes, gm, rsm, km, fbm, frm, (c1 - c0) * 1e9 / n,
      (c3 - c2) * 1e9 / n);
  if (cold_mem && len > 0 && (size_t)len < sizeof extra)
    snprintf(extra + len, sizeof extra - (size_t)len,
             " cold_graph_B=%.1f cold_rss_B=%.1f cold_faults_build=%.4f"
             " peak_B=%.1f",
             mem_grown(m0, m1) / n, (m1.rss - m0.rss) / n, (cf1 - cf0) / n,
             (peak1 - peak0) / n);
  bench_report("weft", name, s, thr, build_t, run_t, reps, ok, extra);
}

int main(int argc, char **argv) {
  int reps = bench_reps();
  const char *which = argc > 2 ? argv[2] : "both";
  int do_threads = strcmp(which, "sync") != 0;
  int do_sync = strcmp(which, "threads") != 0;
  int workers = 2;
  const char *lm = getenv("WEFT_BENCH_LISTENER");
  if (lm && *lm) {
    if (strcmp(lm, "none") && strcmp(lm, "noop") && strcmp(lm, "trace") &&
        strcmp(lm, "profile")) {
      fprintf(stderr, "bench_weft: WEFT_BENCH_LISTENER='%s' is not none, "
                      "noop, trace or profile\n", lm);
      return 2;
    }
    listen_mode = lm;
  }
  const char *w = getenv("WEFT_BENCH_WORKERS");
  if (w && atoi(w) > 0)
    workers = atoi(w);

  bench_alloc_arrays();
  join_args = calloc(N_FAN, sizeof *join_args);
  tree_nodes = calloc(2 * N_LEAF, sizeof *tree_nodes);
  wave_row = calloc(N_WAVE + 1, sizeof *wave_row);
  if (!join_args || !tree_nodes || !wave_row)
    die("calloc", NULL, WEFT_ENOMEM);
  memset(join_args, 1, N_FAN * sizeof *join_args); /* touch the pages once */
  memset(tree_nodes, 1, 2 * N_LEAF * sizeof *tree_nodes);

  weft_executor *ex = NULL;
  int rc = weft_executor_new(workers, &ex);
  if (rc)
    die("weft_executor_new", NULL, rc);

  weft_compute_opts thr_opts, sync_opts;
  weft_compute_opts_init(&thr_opts);
  thr_opts.scheduler = WEFT_SCHED_THREADS;
  thr_opts.executor = ex;
  thr_opts.workers = workers;
  thr_opts.ignore_env = 1;
  weft_compute_opts_init(&sync_opts);
  sync_opts.scheduler = WEFT_SCHED_SYNC;
  sync_opts.workers = 1;
  sync_opts.ignore_env = 1;

  for (const char *p = "abcd"; *p; p++) {
    char s = *p;
    if (!shape_selected(argc, argv, s))
      continue;
    int first = 1;
    if (do_threads) {
      bench_sched(s, "threads", weft_executor_workers(ex), &thr_opts, reps,
                  first);
      first = 0;
    }
    if (do_sync)
      bench_sched(s, "sync", 1, &sync_opts, reps, first);
  }
  weft_executor_free(ex);
  return 0;
}
