/* bench_mpi.c - the mpi scheduler's benchmark (issue 14), run by
 * bench/run_mpi.sh under `mpirun -n 3 --oversubscribe` on loopback, beside
 * the threads scheduler in the same process (rank 0, 2 threads):
 *
 *   overhead  empty tasks with real dependencies: chains (one per worker
 *             thread) and a random layered DAG; wall time per task
 *   metg      Task Bench's minimum effective task granularity: tasks that
 *             spin for t us in the random DAG, the smallest t at which the
 *             run keeps 50% efficiency (useful work / (cores x wall))
 *   startup   weft_mpi_init on rank 0 (MPI start, the ranks' facts), and
 *             the first compute after it
 *   rank0     rank 0's CPU time per task and per message inside the
 *             scheduler (fitted from the chains and the DAG: docs/scaling.md
 *             feeds these into its simulation)
 *   replicated  the same overhead workloads and arrays with the mpi
 *             scheduler in its replicated mode (WEFT_MPI_MODE=replicated:
 *             rank 0 sends the graph once, the ranks run what they own),
 *             with rank 0's CPU and messages per task there (rep_*)
 *   arrays    the arrays issue's big mean, (ones * ones[::-1, ::-1]).mean()
 *             over (200000, 4000) float64 in (1000, 1000) chunks, and the
 *             cos**2 row means (cos(ones) ** 2).mean(axis=1), best of reps
 *             on mpi and on threads; the two results must be the same bytes
 *             (ARRAY_ROWS=N shrinks the 200000 rows for a quick look). The
 *             ones are constant runs that the reductions fold, so the same
 *             two over random((rows / 10, 4000), seed=0) (rmean, rcos2)
 *             show the cost of real elements
 * `bench_mpi --arrays` runs only the arrays part; `bench_mpi --rank0 NAME`
 * only the empty tasks on mpi, its lines named NAME_... (run_mpi.sh's
 * central vs groups rows: one mpirun each, WEFT_MPI_MODE set).
 * Prints "BENCH <name> <value>" lines for run_mpi.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched/mpi/impl.h"
#include "weft.h"
#include "weft/mpi.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Spins for args[0] microseconds; adds its inputs. */
static int spin(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  (void)ctx;
  double us = (double)a[0].as.i, t0 = now_s();
  while (us > 0 && (now_s() - t0) * 1e6 < us) {
  }
  int64_t s = 1;
  for (size_t k = 1; k < n; k++)
    s += a[k].type == WEFT_T_INT ? a[k].as.i : 0;
  *out = weft_int(s & 0xffffff);
  return 0;
}
WEFT_REGISTER(spin);

static uint64_t rs = 12345;
static uint32_t rnd(uint32_t n) {
  rs = rs * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)((rs >> 33) % n);
}

/* chains: c chains of len tasks; the outputs are their ends. */
static weft_graph *chains(int c, int len, int us, weft_node **outs) {
  weft_graph *g = weft_graph_new();
  for (int k = 0; k < c; k++) {
    weft_node *x =
        weft_call_fn(g, WEFT_FN(spin), 1, (weft_value[]){weft_int(us)});
    for (int i = 1; i < len; i++)
      x = weft_call_fn(g, WEFT_FN(spin), 2,
                       (weft_value[]){weft_int(us), weft_node_ref(x)});
    outs[k] = x;
  }
  return g;
}

/* A random DAG: layers of `width`, 1-3 inputs from the layer before, and
 * a final join of the last layer. */
static weft_graph *dag(int n, int width, int us, weft_node **out) {
  weft_graph *g = weft_graph_new();
  weft_node **nd = malloc((size_t)n * sizeof *nd);
  rs = 12345;
  for (int i = 0; i < n; i++) {
    weft_value v[4] = {weft_int(us)};
    size_t na = 1;
    if (i >= width)
      for (int k = 0, m = 1 + (int)rnd(3); k < m; k++)
        v[na++] = weft_node_ref(
            nd[(i / width - 1) * width + (int)rnd((uint32_t)width)]);
    nd[i] = weft_call_fn(g, WEFT_FN(spin), na, v);
  }
  int last = n - n % width - (n % width ? 0 : width);
  weft_value *v = malloc((size_t)(n - last + 1) * sizeof *v);
  v[0] = weft_int(0);
  for (int i = last; i < n; i++)
    v[i - last + 1] = weft_node_ref(nd[i]);
  *out = weft_call_fn(g, WEFT_FN(spin), (size_t)(n - last + 1), v);
  free(v);
  free(nd);
  return g;
}

/* The mpi scheduler's mode for the next computes (rank 0 reads it per
 * compute; WEFT_MPI_MODE sets it at weft_mpi_init). */
/* The mode of rank 0's next computes (central and replicated can change
 * per compute: only rank 0 tells them apart; groups is set at start). */
static int base_mode;
static void set_mode(int mode) { weft__mpi_g.mode = mode; }

static weft_compute_opts opts_of(weft_scheduler s) {
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.scheduler = s;
  o.workers = 2;
  o.ignore_env = 1;
  return o;
}

/* The arrays part: best of reps of each workload on mpi then threads;
 * prints BENCH <sched>_<name>_s and BENCH <name>_identical (1: the same
 * bytes on both). */
static void bench_arrays(int reps) {
  long rows = getenv("ARRAY_ROWS") ? atol(getenv("ARRAY_ROWS")) : 200000;
  if (rows < 1000)
    rows = 1000;
  long rrows = rows / 10 < 1000 ? 1000 : rows / 10;
  char mean[300], cos2[200], rmean[300], rcos2[200];
  snprintf(rmean, sizeof rmean,
           "(random((%ld, 4000), chunks=(1000, 1000), seed=0) * "
           "random((%ld, 4000), chunks=(1000, 1000), seed=0)[::-1, ::-1])"
           ".mean()",
           rrows, rrows);
  snprintf(rcos2, sizeof rcos2,
           "(cos(random((%ld, 4000), chunks=(1000, 1000), seed=0)) ** 2)"
           ".mean(axis=1)",
           rrows);
  snprintf(mean, sizeof mean,
           "(ones((%ld, 4000), chunks=(1000, 1000)) * ones((%ld, 4000), "
           "chunks=(1000, 1000))[::-1, ::-1]).mean()",
           rows, rows);
  snprintf(cos2, sizeof cos2,
           "(cos(ones((%ld, 4000), chunks=(1000, 1000))) ** 2).mean(axis=1)",
           rows);
  const char *names[4] = {"mean", "cos2", "rmean", "rcos2"},
             *texts[4] = {mean, cos2, rmean, rcos2};
  printf("BENCH array_rows %ld\nBENCH array_random_rows %ld\n", rows, rrows);
  for (int w = 0; w < 4; w++) {
    weft_graph *g = weft_graph_new();
    weft_array *a = NULL;
    char err[256];
    int col;
    if (weft_array_parse(g, texts[w], 0, NULL, NULL, &a, err, sizeof err,
                         &col)) {
      fprintf(stderr, "bench_mpi: %s: %s\n", texts[w], err);
      exit(1);
    }
    size_t nb = (size_t)weft_array_nbytes(a);
    void *out[3] = {malloc(nb), malloc(nb), malloc(nb)};
    /* mpi (central), threads, mpi replicated */
    weft_scheduler sch[3] = {WEFT_SCHED_MPI, WEFT_SCHED_THREADS,
                             WEFT_SCHED_MPI};
    const char *sn[3] = {"mpi", "threads", "rep"};
    for (int s = 0; s < 3; s++) {
      weft_compute_opts o = opts_of(sch[s]);
      double best = 1e30;
      set_mode(s == 2 ? WEFT__MM_REPLICATED : base_mode);
      weft__mstats m0, m1;
      weft__mpi_stats(&m0);
      for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        if (!out[s] || weft_array_compute_buffer(a, out[s], nb, &o)) {
          fprintf(stderr, "bench_mpi: %s: %s\n", texts[w], weft_graph_error(g));
          exit(1);
        }
        double t = now_s() - t0;
        best = t < best ? t : best;
      }
      weft__mpi_stats(&m1);
      set_mode(base_mode);
      printf("BENCH %s_%s_s %.4f\n", sn[s], names[w], best);
      if (s == 2 && m1.tasks > m0.tasks)
        printf("BENCH rep_%s_rank0_cpu_per_task_us %.3f\n"
               "BENCH rep_%s_msgs_per_task %.4f\n"
               "BENCH rep_%s_ran_replicated %d\n",
               names[w], (double)(m1.cpu_ns - m0.cpu_ns) / 1e3 /
                             (double)(m1.tasks - m0.tasks),
               names[w],
               (double)(m1.msgs_in + m1.msgs_out - m0.msgs_in - m0.msgs_out) /
                   (double)(m1.tasks - m0.tasks),
               names[w], m1.rep_computes - m0.rep_computes == (uint64_t)reps);
      fflush(stdout);
    }
    printf("BENCH %s_identical %d\n", names[w],
           memcmp(out[0], out[1], nb) == 0);
    printf("BENCH %s_rep_identical %d\n", names[w],
           memcmp(out[2], out[1], nb) == 0);
    free(out[0]);
    free(out[1]);
    free(out[2]);
    weft_array_free(a);
    weft_graph_free(g);
  }
}

/* Best of reps: seconds of one compute of the n outputs. */
static double timed(weft_graph *g, size_t n, weft_node **outs, weft_scheduler s,
                    int reps) {
  weft_compute_opts o = opts_of(s);
  weft_value vals[64];
  weft_value *pv[64];
  for (size_t k = 0; k < n; k++)
    pv[k] = &vals[k];
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    double t0 = now_s();
    if (weft_compute(g, n, outs, pv, &o)) {
      fprintf(stderr, "bench_mpi: %s\n", weft_graph_error(g));
      exit(1);
    }
    double t = now_s() - t0;
    best = t < best ? t : best;
    for (size_t k = 0; k < n; k++)
      weft_value_release(&vals[k]);
  }
  return best;
}

/* Empty tasks in chains and in the random DAG on scheduler sch: wall time
 * per task, and on mpi rank 0's CPU and messages per task and the fit
 * cpu = a x tasks + b x messages. Lines named NAME_... */
static void overhead(const char *name, weft_scheduler sch, int threads,
                     int reps) {
  weft__mstats a0, a1, b1;
  int nchain = threads > 0 ? threads : 2, len = 1000, ndag = 8000;
  if (nchain > 64)
    nchain = 64;
  weft_node *co[64], *dout;
  weft_graph *gc = chains(nchain, len, 0, co);
  weft_graph *gd = dag(ndag, 64, 0, &dout);
  weft__mpi_stats(&a0);
  double tc = timed(gc, (size_t)nchain, co, sch, reps);
  weft__mpi_stats(&a1);
  double td = timed(gd, 1, &dout, sch, reps);
  weft__mpi_stats(&b1);
  printf("BENCH %s_chain_us %.3f\nBENCH %s_dag_us %.3f\n", name,
         tc * 1e6 / (nchain * len), name, td * 1e6 / (ndag + 1));
  if (sch == WEFT_SCHED_MPI) { /* rank 0's costs */
    double c1 = (double)(a1.cpu_ns - a0.cpu_ns),
           t1 = (double)(a1.tasks - a0.tasks),
           m1 = (double)(a1.msgs_out + a1.msgs_in - a0.msgs_out - a0.msgs_in);
    double c2 = (double)(b1.cpu_ns - a1.cpu_ns),
           t2 = (double)(b1.tasks - a1.tasks),
           m2 = (double)(b1.msgs_out + b1.msgs_in - a1.msgs_out - a1.msgs_in);
    double det = t1 * m2 - t2 * m1;
    double per_task = det != 0 ? (c1 * m2 - c2 * m1) / det : c2 / t2;
    double per_msg = det != 0 ? (t1 * c2 - t2 * c1) / det : 0;
    const char *p = strcmp(name, "mpi") == 0 ? "" : name;
    const char *sep = *p ? "_" : "";
    printf("BENCH %s%srank0_cpu_per_task_chain_us %.3f\n"
           "BENCH %s%srank0_cpu_per_task_dag_us %.3f\n"
           "BENCH %s%smsgs_per_task_chain %.4f\n"
           "BENCH %s%smsgs_per_task_dag %.4f\n"
           "BENCH %s%srank0_fit_task_us %.3f\n"
           "BENCH %s%srank0_fit_msg_us %.3f\n",
           p, sep, c1 / t1 / 1e3, p, sep, c2 / t2 / 1e3, p, sep, m1 / t1, p,
           sep, m2 / t2, p, sep, per_task / 1e3, p, sep, per_msg / 1e3);
  }
  weft_graph_free(gc);
  weft_graph_free(gd);
}

int main(int argc, char **argv) {
  double t0 = now_s();
  setenv("WEFT_MPI_STATS", "1", 1); /* rank 0's CPU time per round */
  if (weft_mpi_init(&argc, &argv))
    return 1;
  double t_init = now_s() - t0;
  base_mode = weft__mpi_g.mode;
  int reps = getenv("REPS") ? atoi(getenv("REPS")) : 3;
  if (reps < 1)
    reps = 1;
  int cores = weft_cpu_count();
  int threads = 0;
  for (int k = 1; k < weft_mpi_size(); k++)
    threads += weft__mpi_g.ranks[k].threads;
  printf("BENCH ranks %d\nBENCH worker_threads %d\nBENCH cores %d\n",
         weft_mpi_size(), threads, cores);
  {
    weft_node *o;
    weft_graph *g = dag(8, 4, 0, &o);
    double t1 = now_s();
    timed(g, 1, &o, WEFT_SCHED_MPI, 1);
    printf("BENCH startup_init_s %.4f\nBENCH startup_first_s %.4f\n", t_init,
           now_s() - t1);
    weft_graph_free(g);
  }
  if (argc > 1 && strcmp(argv[1], "--startup") == 0)
    return 0; /* run_mpi.sh times the whole mpirun of this */
  if (argc > 1 && strcmp(argv[1], "--arrays") == 0) {
    bench_arrays(reps);
    return 0;
  }
  if (argc > 2 && strcmp(argv[1], "--rank0") == 0) {
    overhead(argv[2], WEFT_SCHED_MPI, threads, reps);
    return 0;
  }
  /* mpi in the mode chosen at start (central unless asked), threads, and
     the replicated mode (not from groups mode: its ranks answer leaders) */
  const char *names[3] = {"mpi", "threads", "rep"};
  weft_scheduler sch[3] = {WEFT_SCHED_MPI, WEFT_SCHED_THREADS, WEFT_SCHED_MPI};
  /* overhead: empty tasks */
  for (int s = 0; s < 3; s++) {
    if (s == 2 && base_mode == WEFT__MM_GROUPS)
      continue;
    weft__mstats r0, r1;
    weft__mpi_stats(&r0);
    set_mode(s == 2 ? WEFT__MM_REPLICATED : base_mode);
    overhead(names[s], sch[s], threads, reps);
    set_mode(base_mode);
    weft__mpi_stats(&r1);
    if (s == 2)
      printf("BENCH rep_ran_replicated %d\n",
             r1.rep_computes - r0.rep_computes == (uint64_t)(2 * reps));
  }
  /* METG: the random DAG of spinning tasks */
  static const int grid[] = {1,   2,   5,    10,   20,   50,   100,
                             200, 500, 1000, 2000, 5000, 10000};
  for (int s = 0; s < 2; s++) {
    int metg = -1;
    for (size_t k = 0; k < sizeof grid / sizeof grid[0]; k++) {
      int us = grid[k];
      int n = (int)(0.15e6 * 2 / us);
      n = n < 200 ? 200 : n > 20000 ? 20000 : n;
      weft_node *o;
      weft_graph *g = dag(n, 64, us, &o);
      double t = timed(g, 1, &o, sch[s], reps);
      weft_graph_free(g);
      double eff = (double)n * us * 1e-6 / (2 * t);
      printf("BENCH %s_eff_%dus %.3f\n", names[s], us, eff);
      if (eff >= 0.5) {
        metg = us;
        break;
      }
    }
    printf("BENCH %s_metg_us %d\n", names[s], metg);
  }
  bench_arrays(reps);
  return 0;
}
