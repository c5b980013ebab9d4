/* mpi_trace.c - a traced compute under mpirun for tests/mpi/trace.sh: 36
 * tasks that sleep 4 ms each (24 leaves, 6 parts, a chain of 6 sums),
 * with a trace whose
 * JSON (argv[1]) the script reads: one slice per task, on tracks named per
 * rank and compute thread, none overlapping on a track. Prints the tasks
 * that ran on worker ranks ("tasks N") and the sum, checked by the script
 * against its own arithmetic. */
#include <stdio.h>
#include <time.h>

#include "sched/mpi/impl.h" /* weft__mpi_stats: which mode ran */
#include "weft.h"
#include "weft/diag.h"
#include "weft/mpi.h"

static int nap(weft_task_ctx *ctx, const weft_value *a, size_t n,
               weft_value *out) {
  (void)ctx;
  struct timespec ts = {0, 4000000};
  nanosleep(&ts, NULL);
  int64_t s = 0;
  for (size_t k = 0; k < n; k++)
    s += a[k].type == WEFT_T_INT ? a[k].as.i : 0;
  *out = weft_int(s + 1);
  return 0;
}
WEFT_REGISTER(nap);

int main(int argc, char **argv) {
  if (weft_mpi_init(&argc, &argv))
    return 2;
  if (argc < 2 || weft_mpi_size() < 2) {
    fprintf(stderr, "mpi_trace: mpirun -n 3 mpi_trace TRACE.json\n");
    return 2;
  }
  weft_graph *g = weft_graph_new();
  weft_node *sum = NULL;
  int tasks = 0;
  for (int j = 0; j < 6; j++) { /* 6 parts of 4 leaves, a chain of sums */
    weft_value v[4];
    for (int k = 0; k < 4; k++)
      v[k] = weft_node_ref(
          weft_call_fn(g, WEFT_FN(nap), 1, (weft_value[]){weft_int(4 * j + k)}));
    weft_node *part = weft_call_fn(g, WEFT_FN(nap), 4, v);
    weft_value w[2] = {weft_node_ref(part), sum ? weft_node_ref(sum) : weft_int(0)};
    sum = weft_call_fn(g, WEFT_FN(nap), 2, w);
    tasks += 6;
  }
  weft_trace *t;
  if (weft_trace_new(&t))
    return 2;
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.listener = weft_trace_listener(t);
  o.scheduler = WEFT_SCHED_MPI;
  weft_value out;
  int rc = weft_compute1(g, sum, &out, &o);
  if (rc) {
    fprintf(stderr, "mpi_trace: %s\n", weft_graph_error(g));
    return 1;
  }
  char err[300];
  if (weft_trace_write(t, argv[1], err, sizeof err)) {
    fprintf(stderr, "mpi_trace: %s\n", err);
    return 1;
  }
  weft__mstats st;
  weft__mpi_stats(&st);
  printf("tasks %d\nsum %lld\nreplicated %llu\n", tasks, (long long)out.as.i,
         (unsigned long long)st.rep_computes);
  weft_trace_free(t);
  weft_graph_free(g);
  return 0;
}
