/* consumer.c - a program that uses an installed weft as a user's would: it
 * includes the umbrella header, links the library, prints its version
 * (checked against the header's), then builds and computes a real graph
 * on the threads and procs schedulers and maps over worker processes,
 * checking every result against a plain loop. The install smoke test
 * (smoke.sh) builds it with pkg-config and with find_package. */
#include <stdio.h>
#include <string.h>

#include <weft.h>

static long square(long x) { return x * x; }
WEFT_DELAYED(square, long, long);

static int cube(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  (void)ctx, (void)n;
  *out = weft_int(a[0].as.i * a[0].as.i * a[0].as.i);
  return 0;
}
WEFT_REGISTER(cube);

enum { N = 50 };

/* sum of square(i), i < N, as a graph: N tasks and a tree of additions */
static int graph_sum(weft_scheduler sched, long long *got) {
  weft_graph *g = weft_graph_new();
  weft_node *sum = weft_call(g, square, 0);
  for (long i = 1; i < N; i++)
    sum = weft_add(g, sum, weft_call(g, square, i));
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.scheduler = sched;
  o.workers = 2;
  weft_value v;
  int rc = weft_compute1(g, sum, &v, &o);
  if (rc)
    fprintf(stderr, "consumer: compute: %s\n", weft_graph_error(g));
  else
    *got = (long long)v.as.i;
  weft_graph_free(g);
  return rc;
}

int main(void) {
  const char *v = weft_version();
  printf("%s\n", v);
  if (strcmp(v, WEFT_VERSION_STRING) != 0) {
    fprintf(stderr, "consumer: library %s, header %s\n", v,
            WEFT_VERSION_STRING);
    return 1;
  }
  long long want = 0, got = 0;
  for (long i = 0; i < N; i++)
    want += i * i;
  const weft_scheduler scheds[] = {WEFT_SCHED_THREADS, WEFT_SCHED_PROCS};
  for (int s = 0; s < 2; s++) {
    if (graph_sum(scheds[s], &got))
      return 1;
    if (got != want) {
      fprintf(stderr, "consumer: scheduler %d: sum %lld, not %lld\n", s, got,
              want);
      return 1;
    }
  }
  weft_value in[N], out[N];
  for (int i = 0; i < N; i++)
    in[i] = weft_int(i);
  weft_map_opts mo;
  weft_map_opts_init(&mo);
  mo.scheduler = WEFT_SCHED_PROCS;
  mo.workers = 2;
  char err[256];
  mo.errbuf = err;
  mo.errbuf_size = sizeof err;
  if (weft_map(WEFT_FN(cube), N, in, out, &mo)) {
    fprintf(stderr, "consumer: weft_map: %s\n", err);
    return 1;
  }
  for (int i = 0; i < N; i++)
    if (out[i].as.i != (int64_t)i * i * i) {
      fprintf(stderr, "consumer: cube(%d) gave %lld\n", i,
              (long long)out[i].as.i);
      return 1;
    }
  printf("graph %lld ok, map ok\n", want);
  return 0;
}
