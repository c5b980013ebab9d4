/* bench_array.c - weft's side of the array benchmark (issue 8, point 11):
 * the seed's two big workloads over (200000, 4000) float64 in (1000, 1000)
 * chunks, and the same over random arrays, each timed in its own process.
 *
 *   bench_array WORKLOAD [REPS]
 *
 * WORKLOAD: mean   (ones * ones[::-1, ::-1]).mean()
 *           cos2   (cos(ones) ** 2).mean(axis=1)
 *           rmean  the same as mean over random((200000, 4000), seed=0)
 *           rcos2  the same as cos2 over random
 *           build1m  ones((1000, 1000), chunks=(1, 1)).sum(): building the
 *                    graph of a million chunks (and computing it once)
 * Prints one line: ARRAY workload=... prog=weft best_s=... med_s=...
 * cpu_s=... peak_rss_kb=... result=... (best and median of REPS, default 5;
 * peak RSS: VmHWM of the process; the default threads scheduler unless
 * WEFT_SCHEDULER/WEFT_WORKERS say otherwise). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <weft.h>

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
static long peak_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmHWM:", 6))
      kb = atol(line + 6);
  if (f)
    fclose(f);
  return kb;
}
static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static const char *expr_of(const char *w) {
  if (!strcmp(w, "mean"))
    return "(ones((200000, 4000), chunks=(1000, 1000)) * ones((200000, 4000), "
           "chunks=(1000, 1000))[::-1, ::-1]).mean()";
  if (!strcmp(w, "cos2"))
    return "(cos(ones((200000, 4000), chunks=(1000, 1000))) ** 2).mean(axis=1)";
  if (!strcmp(w, "rmean"))
    return "(random((200000, 4000), chunks=(1000, 1000), seed=0) * "
           "random((200000, 4000), chunks=(1000, 1000), seed=0)[::-1, ::-1])"
           ".mean()";
  if (!strcmp(w, "rcos2"))
    return "(cos(random((200000, 4000), chunks=(1000, 1000), seed=0)) ** 2)"
           ".mean(axis=1)";
  if (!strcmp(w, "build1m"))
    return "ones((1000, 1000), chunks=(1, 1)).sum()";
  return NULL;
}

int main(int argc, char **argv) {
  const char *w = argc > 1 ? argv[1] : "mean";
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  if (reps < 1 || reps > 50)
    reps = 5;
  const char *text = expr_of(w);
  if (!text) {
    fprintf(stderr, "bench_array: unknown workload '%s' (mean, cos2, rmean, "
                    "rcos2, build1m)\n", w);
    return 2;
  }
  double t[50], build[50], c0 = cpu(), result = 0;
  for (int r = 0; r < reps; r++) {
    weft_graph *g = weft_graph_new();
    double t0 = now();
    weft_array *a;
    char err[256];
    int col;
    if (weft_array_parse(g, text, 0, NULL, NULL, &a, err, sizeof err, &col)) {
      fprintf(stderr, "bench_array: %s\n", err);
      return 1;
    }
    size_t n;
    weft_node *const *nodes;
    if (weft_array_blocks(a, &n, &nodes)) {
      fprintf(stderr, "bench_array: %s\n", weft_graph_error(g));
      return 1;
    }
    build[r] = now() - t0;
    size_t bytes = (size_t)weft_array_nbytes(a);
    double *out = malloc(bytes + 8);
    int rc = weft_array_compute_buffer(a, out, bytes + 8, NULL);
    t[r] = now() - t0;
    if (rc) {
      fprintf(stderr, "bench_array: %s\n", weft_graph_error(g));
      return 1;
    }
    result = out[0];
    free(out);
    weft_array_free(a);
    weft_graph_free(g);
  }
  double per = (cpu() - c0) / reps;
  qsort(t, (size_t)reps, sizeof *t, cmp);
  qsort(build, (size_t)reps, sizeof *build, cmp);
  printf("ARRAY workload=%s prog=weft best_s=%.4f med_s=%.4f cpu_s=%.3f "
         "build_s=%.4f peak_rss_kb=%ld result=%.17g\n",
         w, t[0], t[reps / 2], per, build[reps / 2], peak_kb(), result);
  return 0;
}
