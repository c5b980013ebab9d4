/* bench_client.c - the futures benchmark of issue 10: what one future costs
 * on a weft_client, measured four ways (bench/run_client.sh runs it beside
 * Dask's Client(processes=False) and concurrent.futures.ThreadPoolExecutor,
 * bench/client_python.py, and prints the table):
 *   latency     submit one trivial future, wait for its result, release it;
 *               the median over batches, in microseconds per future
 *   burst       submit N futures without waiting, then wait for all:
 *               futures per second from the first submit to the last result
 *   sync        submit and wait on each, one after the other: futures/s
 *   as_completed  N futures submitted, then iterated in completion order
 *               with weft_as_completed: futures/s, submits included
 * Prints one line per measurement:
 *   CLIENT impl=weft what=<name> n=<count> value=<number> unit=<unit>
 * Usage: bench_client [N_BURST [N_AC]] (defaults 1000000 and 100000). The
 * client has 2 CPU threads (the machine's cores) unless WEFT_WORKERS says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "weft.h"

static int bc_noop(weft_task_ctx *ctx, const weft_value *a, size_t n,
                   weft_value *out) {
  (void)ctx;
  (void)n;
  *out = a[0];
  return 0;
}
WEFT_REGISTER_ARITY(bc_noop, 1);

static double bc_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  long nburst = argc > 1 ? atol(argv[1]) : 1000000;
  long nac = argc > 2 ? atol(argv[2]) : 100000;
  if (nburst < 1000 || nac < 1000) {
    fprintf(stderr, "usage: bench_client [N_BURST [N_AC]] (each >= 1000)\n");
    return 2;
  }
  weft_client_opts o;
  weft_client_opts_init(&o);
  if (!getenv("WEFT_WORKERS"))
    o.workers = weft_cpu_count();
  o.io_workers = -1;
  weft_client *c;
  if (weft_client_new(&o, &c)) {
    fprintf(stderr, "bench_client: cannot start a client\n");
    return 1;
  }
  int workers = weft_client_workers(c);
  long bad = 0;

  /* latency: 40 batches of 1000 round trips, after a warm-up */
  enum { BATCH = 1000, BATCHES = 40 };
  double per[BATCHES];
  for (int b = -5; b < BATCHES; b++) {
    double t0 = bc_now();
    for (int i = 0; i < BATCH; i++) {
      weft_future *f = weft_submit(c, bc_noop, i);
      weft_value v;
      if (weft_future_result(f, &v, -1) || v.as.i != i)
        bad++;
      weft_future_release(f);
    }
    if (b >= 0)
      per[b] = (bc_now() - t0) / BATCH;
  }
  qsort(per, BATCHES, sizeof *per, cmp_double);
  printf("CLIENT impl=weft what=latency n=%d value=%.3f unit=us workers=%d "
         "min=%.3f max=%.3f\n", BATCH * BATCHES, per[BATCHES / 2] * 1e6,
         workers, per[0] * 1e6, per[BATCHES - 1] * 1e6);

  /* burst: submit all, then wait for all */
  weft_future **fs = malloc((size_t)nburst * sizeof *fs);
  if (!fs)
    return 1;
  double t0 = bc_now();
  for (long i = 0; i < nburst; i++)
    fs[i] = weft_submit(c, bc_noop, i);
  if (weft_wait((size_t)nburst, fs, -1, WEFT_WAIT_ALL))
    bad++;
  double t = bc_now() - t0;
  for (long i = 0; i < nburst; i++) {
    weft_value v;
    if (weft_future_result(fs[i], &v, 0) || v.as.i != i)
      bad++;
    weft_future_release(fs[i]);
  }
  printf("CLIENT impl=weft what=burst n=%ld value=%.0f unit=futures/s\n",
         nburst, (double)nburst / t);

  /* sync: submit and wait on each */
  long nsync = nburst / 5;
  t0 = bc_now();
  for (long i = 0; i < nsync; i++) {
    weft_future *f = weft_submit(c, bc_noop, i);
    weft_value v;
    if (weft_future_result(f, &v, -1) || v.as.i != i)
      bad++;
    weft_future_release(f);
  }
  t = bc_now() - t0;
  printf("CLIENT impl=weft what=sync n=%ld value=%.0f unit=futures/s\n",
         nsync, (double)nsync / t);

  /* as_completed over nac futures */
  t0 = bc_now();
  for (long i = 0; i < nac; i++)
    fs[i] = weft_submit(c, bc_noop, i);
  weft_as_completed *ac;
  if (weft_as_completed_new((size_t)nac, fs, &ac))
    return 1;
  long seen = 0, sum = 0;
  weft_future *f;
  while (weft_as_completed_next(ac, &f, -1) == 1) {
    weft_value v;
    if (weft_future_result(f, &v, 0))
      bad++;
    sum += v.as.i;
    seen++;
    weft_future_release(f);
  }
  t = bc_now() - t0;
  weft_as_completed_free(ac);
  for (long i = 0; i < nac; i++)
    weft_future_release(fs[i]);
  if (seen != nac || sum != nac * (nac - 1) / 2)
    bad++;
  printf("CLIENT impl=weft what=as_completed n=%ld value=%.0f "
         "unit=futures/s\n", nac, (double)nac / t);
  free(fs);
  weft_client_close(c);
  if (bad) {
    printf("FAIL weft: %ld wrong results\n", bad);
    return 1;
  }
  return 0;
}
