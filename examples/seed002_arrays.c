/* seed002_arrays.c - seed 002's dask.array cells, in order, with weft
 * arrays; each prints its result, its wall time and the peak memory
 * (resident set) it reached.
 *
 *   ones_np = np.ones((1000, 4000)); "%.1f Mo" % (ones_np.nbytes / 1e6)
 *   ones = da.ones(shape); ones = da.ones(shape, chunks=(1000, 1000))
 *   ones.compute(); ones.visualize(); ones.sum().visualize()
 *   big_ones = da.ones((200000, 4000), chunks=(1000, 1000))      # 6.4 GB
 *   (big_ones * big_ones[::-1, ::-1]).mean()                     # 1.0
 *   (np.cos(big_ones) ** 2).mean(axis=1)        # every row 0.2919265817264288
 *
 *   plt.plot(big_ones_reduce)                   # weft_plot (PLplot)
 *
 * The pictures go to ones.svg, ones_sum.svg and big_mean.svg (one box per
 * layer: 916 tasks are too many to draw; .dot without Graphviz), the plot
 * of the row means to big_ones_reduce.png, in the current directory
 * (without PLplot the cell says so and is skipped). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft.h"

static double since(uint64_t t0) {
  return (double)(weft_now_ns() - t0) / 1e9;
}

/* Peak resident memory since the last reset, in MB (VmHWM). */
static void reset_peak(void) {
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (f) {
    fputs("5", f);
    fclose(f);
  }
}
static double peak_mb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  double kb = 0;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmHWM:", 6))
      kb = atof(line + 6);
  if (f)
    fclose(f);
  return kb / 1024;
}

static void cell(const char *what, uint64_t t0) {
  printf("   [%s: %.3f s, peak memory %.1f MB]\n", what, since(t0), peak_mb());
}

/* a.visualize(): task by task when small, layer by layer when big */
static int picture(weft_array *a, const char *base) {
  char path[64];
  snprintf(path, sizeof path, "%s.svg", base);
  weft_graph *g = weft_array_graph(a);
  int rc = weft_array_visualize(a, path, NULL);
  if (rc == WEFT_ENOTSUP) {
    snprintf(path, sizeof path, "%s.dot", base);
    rc = weft_array_visualize(a, path, NULL);
  }
  if (rc)
    fprintf(stderr, "picture failed: %s\n", weft_graph_error(g));
  else
    printf("%s.visualize() -> %s\n", base, path);
  return rc != 0;
}

int weft_example_seed002_arrays(void) {
  int bad = 0;
  char repr[256];
  weft_graph *g = weft_graph_new();
  if (!g)
    return 1;

  /* ones_np = np.ones(shape): all in memory */
  reset_peak();
  uint64_t t0 = weft_now_ns();
  weft_array *whole = weft_ones(g, WEFT_F64, WEFT_SHAPE(1000, 4000), WEFT_CHUNKS_WHOLE);
  size_t nbytes = (size_t)weft_array_nbytes(whole);
  double *buf = malloc(nbytes);
  if (!buf || weft_array_compute_buffer(whole, buf, nbytes, NULL)) {
    fprintf(stderr, "ones failed: %s\n", weft_graph_error(g));
    free(buf);
    weft_graph_free(g);
    return 1;
  }
  printf("ones_np = [[%g, %g, ..., %g], ...]\n%.1f Mo\n", buf[0], buf[1],
         buf[nbytes / 8 - 1], (double)nbytes / 1e6);
  cell("np.ones", t0);

  /* ones = da.ones(shape): one chunk; then chunks=(1000, 1000) */
  weft_array_format(whole, repr, sizeof repr);
  printf("da.ones(shape) = %s\n", repr);
  weft_array *ones = weft_ones(g, WEFT_F64, WEFT_SHAPE(1000, 4000), WEFT_CHUNKS(1000, 1000));
  weft_array_format(ones, repr, sizeof repr);
  printf("da.ones(shape, chunks=(1000, 1000)) = %s\n", repr);

  /* ones.compute(): 4 tasks, gathered into one buffer */
  reset_peak();
  t0 = weft_now_ns();
  memset(buf, 0, nbytes);
  if (weft_array_compute_buffer(ones, buf, nbytes, NULL))
    bad = 1;
  double s = 0;
  for (size_t i = 0; i < nbytes / 8; i++)
    s += buf[i];
  printf("ones.compute() = [[%g, %g, ..., %g], ...] (%zu ones)\n", buf[0],
         buf[1], buf[nbytes / 8 - 1], (size_t)s);
  cell("compute", t0);
  bad |= s != 4e6;
  free(buf);

  /* ones.visualize(), ones.sum().visualize() */
  bad |= picture(ones, "ones");
  weft_array *sum = weft_array_sum(ones, WEFT_AXES_ALL);
  bad |= picture(sum, "ones_sum");
  double v = 0;
  bad |= weft_array_compute_scalar(sum, &v, NULL) != 0 || v != 4e6;
  printf("ones.sum().compute() = %.1f\n", v);

  /* big_ones: 6.4 GB that never exist */
  weft_array *big = weft_ones(g, WEFT_F64, WEFT_SHAPE(200000, 4000), WEFT_CHUNKS(1000, 1000));
  weft_array_format(big, repr, sizeof repr);
  printf("big_ones = %s\n", repr);

  /* (big_ones * big_ones[::-1, ::-1]).mean() */
  reset_peak();
  t0 = weft_now_ns();
  weft_array *rev = weft_array_slice(big, "::-1, ::-1");
  weft_array *prod = weft_array_mul(big, rev);
  weft_array *mean = weft_array_mean(prod, WEFT_AXES_ALL);
  v = 0;
  if (weft_array_compute_scalar(mean, &v, NULL))
    fprintf(stderr, "big mean failed: %s\n", weft_graph_error(g));
  printf("(big_ones * big_ones[::-1, ::-1]).mean() = %.17g\n", v);
  cell("big mean", t0);
  bad |= picture(mean, "big_mean"); /* too many tasks: one box per layer */
  bad |= v != 1.0;

  /* (np.cos(big_ones) ** 2).mean(axis=1) */
  weft_array *c = weft_array_cos(big);
  weft_array *c2 = weft_array_op2s(WEFT_AOP_POW, c, 2);
  weft_array *rows = weft_array_mean(c2, WEFT_AXES(1));
  weft_array_format(rows, repr, sizeof repr);
  printf("big_ones_reduce = %s\n", repr);
  reset_peak();
  t0 = weft_now_ns();
  double *r = malloc(200000 * sizeof *r);
  if (!r || weft_array_compute_buffer(rows, r, 200000 * sizeof *r, NULL)) {
    fprintf(stderr, "row means failed: %s\n", weft_graph_error(g));
    bad = 1;
  } else {
    size_t same = 0;
    for (size_t i = 0; i < 200000; i++)
      same += r[i] == r[0];
    printf("big_ones_reduce.compute() = [%.16g, %.16g, ..., %.16g] (%zu of "
           "200000 rows equal)\n",
           r[0], r[1], r[199999], same);
    bad |= same != 200000 || r[0] < 0.2919265817264 || r[0] > 0.2919265817265;
  }
  cell("cos^2 row means", t0);

  /* plt.plot(big_ones_reduce): the 200,000 row means as a line, by PLplot */
  if (r && !bad) {
    weft_plot_opts po;
    weft_plot_opts_init(&po);
    po.title = "(cos(big_ones) ** 2).mean(axis=1)";
    po.xlabel = "row";
    po.ylabel = "mean";
    weft_errmsg perr;
    int rc = weft_plot("big_ones_reduce.png", 200000, NULL, r, &po, &perr);
    if (rc == 0)
      printf("plt.plot(big_ones_reduce) -> big_ones_reduce.png\n");
    else if (rc == WEFT_ENOTSUP) /* no PLplot here: said, not a failure */
      printf("plt.plot(big_ones_reduce) skipped: %s\n", perr.text);
    else {
      fprintf(stderr, "plot failed: %s\n", perr.text);
      bad = 1;
    }
  }
  free(r);

  weft_array *all[] = {whole, ones, sum, big, rev, prod, mean, c, c2, rows};
  for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
    weft_array_free(all[k]);
  weft_graph_free(g);
  return bad;
}

#ifndef WEFT_EXAMPLE_NO_MAIN
int main(void) { return weft_example_seed002_arrays(); }
#endif
