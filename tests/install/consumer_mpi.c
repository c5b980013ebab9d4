/* consumer_mpi.c - a program that uses an installed weft's mpi scheduler as
 * a user's would: weft_mpi_init first thing, then a graph computed on the
 * ranks and checked against a plain loop. The install smoke test
 * (smoke.sh) builds it with pkg-config (weft-mpi) and with find_package
 * (weft::weft_mpi), runs it alone (one process, one warning line) and under
 * mpirun -n 2. It prints the number of ranks and the sum. */
#include <stdio.h>

#include <weft.h>
#include <weft/mpi.h>

static long square(long x) { return x * x; }
WEFT_DELAYED(square, long, long);

enum { N = 50 };

int main(int argc, char **argv) {
  if (weft_mpi_init(&argc, &argv))
    return 1;
  weft_graph *g = weft_graph_new();
  weft_node *sum = weft_call(g, square, 0);
  for (long i = 1; i < N; i++)
    sum = weft_add(g, sum, weft_call(g, square, i));
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.scheduler = WEFT_SCHED_MPI;
  weft_value v;
  if (weft_compute1(g, sum, &v, &o)) {
    fprintf(stderr, "consumer_mpi: compute: %s\n", weft_graph_error(g));
    weft_graph_free(g);
    return 1;
  }
  long long want = 0;
  for (long i = 0; i < N; i++)
    want += i * i;
  int ok = v.type == WEFT_T_INT && v.as.i == want;
  printf("ranks %d sum %lld %s\n", weft_mpi_size(), (long long)v.as.i,
         ok ? "ok" : "WRONG");
  weft_graph_free(g);
  return ok ? 0 : 1;
}
