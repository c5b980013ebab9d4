/* eval_array.c - `weft eval` for numpy-style array expressions: "(ones((200000,
 * 4000), chunks=(1000, 1000)) * ...).mean()". The text becomes a weft
 * array (weft_array_parse); the command prints its repr, computes it on the
 * chosen scheduler, prints the result as numpy would (scalars in full
 * precision, big arrays summarised) and the wall time, and on request draws
 * the graph (--svg, --dot), stores the result (--npy, through weft_npy_save)
 * and draws a 1-d result (--plot, through weft_plot). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "weft.h"

/* Python's repr of a double: the shortest text that reads back the same. */
static void print_double(double d) {
  char buf[40];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, d);
    if (strtod(buf, NULL) == d)
      break;
  }
  if (!strpbrk(buf, ".eninf"))
    strcat(buf, ".0");
  fputs(buf, stdout);
}

static double element(const void *data, weft_dtype dt, size_t i) {
  switch (dt) {
  case WEFT_BOOL: return ((const uint8_t *)data)[i];
  case WEFT_I32: return ((const int32_t *)data)[i];
  case WEFT_I64: return (double)((const int64_t *)data)[i];
  case WEFT_F32: return ((const float *)data)[i];
  default: return ((const double *)data)[i];
  }
}

static void print_element(const void *data, weft_dtype dt, size_t i) {
  if (dt == WEFT_BOOL)
    fputs(((const uint8_t *)data)[i] ? "True" : "False", stdout);
  else if (dt == WEFT_I32 || dt == WEFT_I64)
    printf("%lld", dt == WEFT_I32 ? (long long)((const int32_t *)data)[i]
                                  : (long long)((const int64_t *)data)[i]);
  else
    printf("%.8g", element(data, dt, i));
}

/* numpy's summary: the first and last three items of each axis past 1000
 * elements in all. */
static void print_axis(const void *data, weft_dtype dt, int ndim,
                       const int64_t *shape, int k, size_t off, bool cut,
                       int indent) {
  size_t inner = 1;
  for (int j = k + 1; j < ndim; j++)
    inner *= (size_t)shape[j];
  putchar('[');
  for (int64_t i = 0; i < shape[k]; i++) {
    if (cut && shape[k] > 6 && i == 3) {
      printf("...,");
      printf(k == ndim - 1 ? " " : "\n%*s", indent + 1, "");
      i = shape[k] - 4;
      continue;
    }
    if (k == ndim - 1)
      print_element(data, dt, off + (size_t)i);
    else
      print_axis(data, dt, ndim, shape, k + 1, off + (size_t)i * inner, cut,
                 indent + 1);
    if (i + 1 < shape[k])
      printf(k == ndim - 1 ? ", " : ",\n%*s", indent + 1, "");
  }
  putchar(']');
}

/* --plot: a 1-d result as a line (plt.plot(y)), through weft_plot. */
static int plot_result(const char *path, const char *text, weft_array *a,
                       const void *buf) {
  if (weft_array_ndim(a) != 1) {
    fprintf(stderr, "weft eval: --plot draws 1-d results; this one has %d "
                    "dimensions\n", weft_array_ndim(a));
    return -1;
  }
  size_t n = (size_t)weft_array_size(a);
  double *y = malloc((n ? n : 1) * sizeof *y);
  if (!y) {
    fprintf(stderr, "weft eval: out of memory for the plot\n");
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    y[i] = element(buf, weft_array_dtype(a), i);
  weft_plot_opts o;
  weft_plot_opts_init(&o);
  o.title = text;
  o.xlabel = "index";
  weft_errmsg e;
  int rc = weft_plot(path, n, NULL, y, &o, &e);
  free(y);
  if (rc)
    fprintf(stderr, "weft eval: %s\n", e.text);
  return rc ? -1 : 0;
}

/* The scheduler and worker count of the compute, from its COMPUTE_BEGIN
 * event (published on the calling thread), for the wall-time line. */
typedef struct array_run {
  int workers;
  const char *scheduler;
} array_run;

static void on_begin(const weft_event *ev, void *ud) {
  array_run *r = ud;
  if (ev->kind == WEFT_EV_COMPUTE_BEGIN) {
    r->workers = ev->workers;
    r->scheduler = ev->scheduler;
  }
}

int cli_eval_array(const char *text, weft_scheduler sched, int workers,
                   const char *svg, const char *dot, const char *rankdir,
                   const char *npy, const char *plot, int quiet) {
  weft_graph *g = weft_graph_new();
  weft_array *a = NULL;
  char err[600];
  int col = 0, status = 1;
  void *buf = NULL;
  if (!g) {
    fprintf(stderr, "weft eval: out of memory\n");
    return 1;
  }
  if (weft_array_parse(g, text, 0, NULL, NULL, &a, err, sizeof err, &col)) {
    fprintf(stderr, "error: %s at column %d\n  %s\n  %*s^\n", err, col, text,
            col > 0 ? col - 1 : 0, "");
    goto out;
  }
  char repr[400];
  weft_array_format(a, repr, sizeof repr);
  if (!quiet)
    printf("%s\n", repr);
  size_t n;
  weft_node *const *nodes;
  if (weft_array_blocks(a, &n, &nodes)) {
    fprintf(stderr, "error: %s\n", weft_graph_error(g));
    goto out;
  }
  weft_visualize_opts vo;
  weft_visualize_opts_init(&vo);
  vo.rankdir = rankdir;
  const char *pics[2] = {dot, svg};
  for (int k = 0; k < 2; k++) {
    if (!pics[k])
      continue;
    vo.format = k ? "svg" : "dot";
    if (weft_array_visualize(a, pics[k], &vo)) {
      fprintf(stderr, "error: %s\n", weft_graph_error(g));
      goto out;
    } else if (!quiet) {
      printf("graph: %s\n", pics[k]);
    }
  }
  weft_compute_opts co;
  weft_compute_opts_init(&co);
  co.scheduler = sched;
  co.workers = workers;
  array_run run = {0, NULL};
  weft_listener lis = {on_begin, &run, NULL};
  co.listener = &lis;
  size_t bytes = (size_t)weft_array_nbytes(a);
  buf = malloc(bytes ? bytes : 1);
  if (!buf) {
    fprintf(stderr, "weft eval: the result (%zu bytes) does not fit in "
                    "memory\n", bytes);
    goto out;
  }
  uint64_t t0 = weft_now_ns();
  if (weft_array_compute_buffer(a, buf, bytes, &co)) {
    fprintf(stderr, "error: %s\n", weft_graph_error(g));
    goto out;
  }
  double wall = (double)(weft_now_ns() - t0) / 1e9;
  weft_dtype dt = weft_array_dtype(a);
  int nd = weft_array_ndim(a);
  if (nd == 0) {
    if (dt == WEFT_F32 || dt == WEFT_F64)
      print_double(element(buf, dt, 0));
    else
      print_element(buf, dt, 0);
    putchar('\n');
  } else {
    fputs("array(", stdout);
    print_axis(buf, dt, nd, weft_array_shape(a), 0, 0,
               weft_array_size(a) > 1000, 6);
    if (dt != WEFT_F64 && dt != WEFT_I64 && dt != WEFT_BOOL)
      printf(", dtype=%s", weft_dtype_name(dt));
    printf(")\n");
  }
  weft_errmsg e;
  if (npy && weft_npy_save(npy, dt, nd, weft_array_shape(a), buf, &e)) {
    fprintf(stderr, "weft eval: %s\n", e.text);
    goto out;
  }
  if (npy && !quiet)
    printf("npy: %s\n", npy);
  if (plot && plot_result(plot, text, a, buf))
    goto out;
  if (plot && !quiet)
    printf("plot: %s\n", plot);
  if (!quiet)
    printf("wall time: %.6f s (%zu chunk%s, %s scheduler, %d worker%s)\n", wall,
           n, n == 1 ? "" : "s", run.scheduler ? run.scheduler : "?",
           run.workers, run.workers == 1 ? "" : "s");
  status = 0;
out:
  free(buf);
  weft_array_free(a);
  weft_graph_free(g);
  return status;
}
