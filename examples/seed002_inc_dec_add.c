/* seed002_inc_dec_add.c - seed 002 (Dask: "annoter les fonctions avec
 * dask.delayed pour les rendre paresseuses"): inc, dec and add sleep 0.1,
 * 0.1 and 0.2 s.
 *
 *   x = inc(1); y = dec(2); z = add(x, y)      # %%time: 0.4 s, one by one
 *   inc = dask.delayed(inc) ...                # now calls only build a graph
 *   z.visualize(rankdir="LR")
 *   z.compute()                                # 0.3 s: inc and dec together
 *
 * The plain C calls run one after the other (about 0.4 s); the same
 * functions wrapped with WEFT_DELAYED build a graph at once, and the threads
 * scheduler runs inc(1) and dec(2) side by side, then add (about 0.3 s).
 * Both give 3, and the graph must take less than the 0.4 s of the sleeps
 * one by one (else the example fails). The picture goes to inc_dec_add.svg
 * (inc_dec_add.dot when this weft has no Graphviz). */
#include <stdio.h>
#include <time.h>

#include "weft.h"

static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0)
    ; /* interrupted: sleep the rest */
}

static long inc(long x) {
  sleep_s(0.1);
  return x + 1;
}
static long dec(long x) {
  sleep_s(0.1);
  return x - 1;
}
static long add(long x, long y) {
  sleep_s(0.2);
  return x + y;
}
/* inc = dask.delayed(inc), and so on. The plain functions stay callable. */
WEFT_DELAYED(inc, long, long);
WEFT_DELAYED(dec, long, long);
WEFT_DELAYED(add, long, long, long);

static double seconds_since(uint64_t t0) {
  return (double)(weft_now_ns() - t0) / 1e9;
}

int weft_example_seed002_inc_dec_add(void) {
  /* Plain calls, in order: nothing notices that inc and dec are independent. */
  uint64_t t0 = weft_now_ns();
  long x = inc(1);
  long y = dec(2);
  long z = add(x, y);
  double t_seq = seconds_since(t0);
  printf("plain calls:   z = %ld in %.3f s (0.1 + 0.1 + 0.2, one by one)\n", z,
         t_seq);

  /* Lazy calls: building the graph is almost free. */
  t0 = weft_now_ns();
  weft_graph *g = weft_graph_new();
  if (!g)
    return 1;
  weft_node *nx = weft_call(g, inc, 1);
  weft_node *ny = weft_call(g, dec, 2);
  weft_node *nz = weft_call(g, add, nx, ny);
  printf("graph built:   %zu tasks in %.6f s, nothing run yet\n",
         weft_graph_size(g), seconds_since(t0));

  /* z.visualize(rankdir="LR") */
  weft_visualize_opts vo;
  weft_visualize_opts_init(&vo);
  vo.rankdir = "LR";
  const char *file = "inc_dec_add.svg";
  int rc = weft_visualize(g, 1, &nz, file, &vo);
  if (rc == WEFT_ENOTSUP) { /* built without Graphviz: DOT text instead */
    file = "inc_dec_add.dot";
    rc = weft_visualize(g, 1, &nz, file, &vo);
  }
  int ok = 1;
  if (rc) {
    fprintf(stderr, "picture failed: %s\n", weft_graph_error(g));
    ok = 0;
  } else {
    printf("graph picture: %s\n", file);
  }

  /* z.compute() on the threads scheduler. Sleeping needs no core, so two
   * workers run inc and dec together even on a single-core machine. */
  weft_compute_opts co;
  weft_compute_opts_init(&co);
  co.scheduler = WEFT_SCHED_THREADS;
  co.workers = 2;
  weft_value zv;
  t0 = weft_now_ns();
  rc = weft_compute1(g, nz, &zv, &co);
  double t_par = seconds_since(t0);
  if (rc) {
    fprintf(stderr, "compute failed: %s\n", weft_graph_error(g));
    weft_graph_free(g);
    return 1;
  }
  printf("z.compute():   z = %ld in %.3f s (inc and dec together, then add)\n",
         (long)zv.as.i, t_par);
  printf("speed-up:      %.2fx\n", t_par > 0 ? t_seq / t_par : 0.0);
  if (z != 3 || zv.type != WEFT_T_INT || zv.as.i != 3) {
    fprintf(stderr, "seed002_inc_dec_add: expected 3 and 3, got %ld and %ld\n",
            z, (long)zv.as.i);
    ok = 0;
  }
  /* The speed-up printed is checked: inc and dec overlapping is the point
   * of the seed. One by one the three sleeps take 0.4 s at the least; the
   * graph must take less (0.3 s when they overlap; sleeping needs no core,
   * so a busy machine leaves 0.1 s of margin). */
  if (t_par >= 0.4) {
    fprintf(stderr,
            "seed002_inc_dec_add: the graph took %.3f s, not less than the "
            "0.4 s of the three sleeps one by one: inc and dec did not run "
            "together\n",
            t_par);
    ok = 0;
  }
  weft_value_release(&zv);
  weft_graph_free(g);
  return ok ? 0 : 1;
}

#ifndef WEFT_EXAMPLE_NO_MAIN
int main(void) { return weft_example_seed002_inc_dec_add(); }
#endif
