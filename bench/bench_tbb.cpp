// bench_tbb.cpp - oneTBB on the four task-overhead shapes, 2 threads (the
// main thread plus one worker, via global_control), in two styles:
//   flow   tbb::flow::graph of continue_nodes: a broadcast_node starts the
//          sources; building (constructing nodes + make_edge) and running
//          (try_put + wait_for_all) are timed separately; then the graph is
//          destroyed (timed as "free").
//   tg     tbb::task_group, no build phase: (a) run() per element, wait, then
//          a join task; (b) each task runs the next; (c) a nested task_group
//          per inner tree node; (d) atomic predecessor counters, a cell runs
//          a successor whose counter reaches 0.
// Bodies as in bench_common.h. Graph memory of the flow graph: measured over
// the first (cold) build of the process as for weft (bench_mem.h: malloc'd +
// otherwise mapped bytes, and resident growth); later builds reuse memory
// that TBB's allocator keeps, so they would show less.
//
//   bench_tbb [shapes]     e.g. `bench_tbb bc`; default abcd
#include <tbb/flow_graph.h>
#include <tbb/global_control.h>
#include <tbb/task_group.h>
#include <tbb/version.h>

#include <atomic>
#include <new>

#include "bench_common.h"
#include "bench_mem.h"

using namespace tbb::flow;
using node_t = continue_node<continue_msg>;
static const int64_t W = N_WAVE;

// ---- flow graph ----
struct flow_bench {
  graph g;
  broadcast_node<continue_msg> start{g};
  node_t *nodes;
  int64_t n = 0;
  explicit flow_bench(int64_t cap)
      : nodes(static_cast<node_t *>(::operator new(sizeof(node_t) * cap))) {}
  template <class F> node_t &add(F f) {
    return *new (&nodes[n++]) node_t(g, [f](const continue_msg &) {
      f();
      return continue_msg();
    });
  }
  ~flow_bench() {
    for (int64_t i = 0; i < n; i++)
      nodes[i].~node_t();
    ::operator delete(nodes);
  }
};

static flow_bench *flow_build(char s) {
  flow_bench *f = new flow_bench(shape_ntasks(s));
  if (s == 'a') {
    for (int64_t i = 0; i < N_FAN; i++)
      f->add([i] { data[i] += 1.0; });
    node_t &join = f->add([] { joinv = bench_join(); });
    for (int64_t i = 0; i < N_FAN; i++) {
      make_edge(f->start, f->nodes[i]);
      make_edge(f->nodes[i], join);
    }
  } else if (s == 'b') {
    for (int64_t i = 0; i < N_CHAIN; i++)
      f->add([i] { vals[i] = (i ? vals[i - 1] : 0.0) + 1.0; });
    make_edge(f->start, f->nodes[0]);
    for (int64_t i = 0; i + 1 < N_CHAIN; i++)
      make_edge(f->nodes[i], f->nodes[i + 1]);
  } else if (s == 'c') { // node k - 1 is heap index k
    for (int64_t k = 1; k < 2 * N_LEAF; k++) {
      if (k >= N_LEAF)
        f->add([k] { vals[k] = 1.0; });
      else
        f->add([k] { vals[k] = vals[2 * k] + vals[2 * k + 1]; });
    }
    for (int64_t k = 2; k < 2 * N_LEAF; k++)
      make_edge(f->nodes[k - 1], f->nodes[k / 2 - 1]);
    for (int64_t k = N_LEAF; k < 2 * N_LEAF; k++)
      make_edge(f->start, f->nodes[k - 1]);
  } else { // node (i-1)*W + (j-1) is cell (i, j)
    for (int64_t i = 1; i <= W; i++)
      for (int64_t j = 1; j <= W; j++) {
        int64_t k = i * WV + j;
        f->add([k] {
          double up = vals[k - WV], left = vals[k - 1];
          vals[k] = (up > left ? up : left) + 1.0;
        });
      }
    for (int64_t i = 0; i < W; i++)
      for (int64_t j = 0; j < W; j++) {
        if (i + 1 < W)
          make_edge(f->nodes[i * W + j], f->nodes[(i + 1) * W + j]);
        if (j + 1 < W)
          make_edge(f->nodes[i * W + j], f->nodes[i * W + j + 1]);
      }
    make_edge(f->start, f->nodes[0]);
  }
  return f;
}
static void flow_run(flow_bench *f) {
  f->start.try_put(continue_msg());
  f->g.wait_for_all();
}

// ---- task_group ----
static void tg_a() {
  tbb::task_group tg;
  for (int64_t i = 0; i < N_FAN; i++)
    tg.run([i] { data[i] += 1.0; });
  tg.wait();
  tg.run([] { joinv = bench_join(); });
  tg.wait();
}
static tbb::task_group *chain_tg;
struct chain_step {
  int64_t i;
  void operator()() const {
    vals[i] = (i ? vals[i - 1] : 0.0) + 1.0;
    if (i + 1 < N_CHAIN)
      chain_tg->run(chain_step{i + 1});
  }
};
static void tg_b() {
  tbb::task_group tg;
  chain_tg = &tg;
  tg.run(chain_step{0});
  tg.wait();
}
static void tree(int64_t k) {
  if (k >= N_LEAF) {
    vals[k] = 1.0;
    return;
  }
  tbb::task_group tg;
  tg.run([k] { tree(2 * k); });
  tg.run([k] { tree(2 * k + 1); });
  tg.wait();
  vals[k] = vals[2 * k] + vals[2 * k + 1];
}
static void tg_c() {
  tbb::task_group tg;
  tg.run([] { tree(1); });
  tg.wait();
}
static std::atomic<int>
    *wcount; // unfinished predecessors of cell (i, j), index (i-1)*W + (j-1)
static tbb::task_group *wave_tg;
static void cell(int64_t i, int64_t j) {
  int64_t k = i * WV + j;
  double up = vals[k - WV], left = vals[k - 1];
  vals[k] = (up > left ? up : left) + 1.0;
  if (i < W &&
      wcount[i * W + (j - 1)].fetch_sub(1, std::memory_order_acq_rel) == 1)
    wave_tg->run([i, j] { cell(i + 1, j); });
  if (j < W &&
      wcount[(i - 1) * W + j].fetch_sub(1, std::memory_order_acq_rel) == 1)
    wave_tg->run([i, j] { cell(i, j + 1); });
}
static void tg_d() {
  for (int64_t i = 0; i < W; i++)
    for (int64_t j = 0; j < W; j++)
      wcount[i * W + j].store((i > 0) + (j > 0), std::memory_order_relaxed);
  tbb::task_group tg;
  wave_tg = &tg;
  tg.run([] { cell(1, 1); });
  tg.wait();
}
static void tg_run(char s) {
  if (s == 'a')
    tg_a();
  else if (s == 'b')
    tg_b();
  else if (s == 'c')
    tg_c();
  else
    tg_d();
}

int main(int argc, char **argv) {
  tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 2);
  int reps = bench_reps();
  bench_alloc_arrays();
  wcount = new std::atomic<int>[W * W];
  for (const char *p = "abcd"; *p; p++) {
    char s = *p;
    if (!shape_selected(argc, argv, s))
      continue;
    double n = (double)shape_ntasks(s);
    double build[BENCH_MAXREPS], run[BENCH_MAXREPS], fr[BENCH_MAXREPS];
    int ok = 1;

    // warm-up, cold: also measures the graph's memory
    bench_reset(s);
    mem_snap m0 = mem_snapshot();
    double f0 = mem_minflt();
    double c0 = bench_now();
    flow_bench *f = flow_build(s);
    double c1 = bench_now();
    mem_snap m1 = mem_snapshot();
    double f1 = mem_minflt();
    double c2 = bench_now();
    flow_run(f);
    double c3 = bench_now();
    ok &= bench_check(s);
    delete f;
    for (int r = 0; r < reps; r++) {
      bench_reset(s);
      double t0 = bench_now();
      f = flow_build(s);
      double t1 = bench_now();
      flow_run(f);
      double t2 = bench_now();
      delete f;
      double t3 = bench_now();
      build[r] = t1 - t0;
      run[r] = t2 - t1;
      fr[r] = t3 - t2;
      ok &= bench_check(s);
    }
    double fm, fn, fx;
    bench_stats(fr, reps, &fm, &fn, &fx);
    char extra[320];
    snprintf(extra, sizeof extra,
             "lib=oneTBB-%s free_med=%.1f cold_build=%.1f cold_run=%.1f "
             "cold_graph_B=%.1f cold_rss_B=%.1f faults_cold_build=%.3f",
             TBB_VERSION_STRING, fm * 1e9 / n, (c1 - c0) * 1e9 / n,
             (c3 - c2) * 1e9 / n, mem_grown(m0, m1) / n, (m1.rss - m0.rss) / n,
             (f1 - f0) / n);
    bench_report("tbb", "flow-graph", s, 2, build, run, reps, ok, extra);

    ok = 1;
    bench_reset(s);
    tg_run(s); // warm-up
    ok &= bench_check(s);
    for (int r = 0; r < reps; r++) {
      bench_reset(s);
      double t0 = bench_now();
      tg_run(s);
      run[r] = bench_now() - t0;
      ok &= bench_check(s);
    }
    snprintf(extra, sizeof extra, "lib=oneTBB-%s", TBB_VERSION_STRING);
    bench_report("tbb", "task_group", s, 2, NULL, run, reps, ok, extra);
  }
  delete[] wcount;
  return 0;
}
