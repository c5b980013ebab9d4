/* mpi_kill.c - a program whose worker rank 2 (or MPI_KILL_RANK: in groups
 * mode a member or a leader) dies in the middle of a
 * compute (its task SIGKILLs the rank), for tests/mpi/kill.sh: rank 0 must
 * report it in one line naming the rank, its host and the tasks lost, and
 * exit non-zero, without hanging, and publish WORKER_LOST for it (the
 * dashboard's log, the trace: it once published none) and TASK_FAIL for
 * a task it ran (the progress bar counted it as cancelled). With --ok it computes the same graph
 * without dying (the baseline). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"
#include "weft/mpi.h"

static int die = 1, victim = 2;

/* Sleeps 30 ms; the third task that the victim runs kills it. */
static int nap(weft_task_ctx *ctx, const weft_value *a, size_t n,
               weft_value *out) {
  (void)ctx;
  static _Atomic int ran;
  struct timespec ts = {0, 30000000};
  nanosleep(&ts, NULL);
  if (die && weft_mpi_rank() == victim && ++ran == 3)
    kill(getpid(), SIGKILL);
  int64_t s = 0;
  for (size_t k = 0; k < n; k++)
    s += a[k].type == WEFT_T_INT ? a[k].as.i : 0;
  *out = weft_int(s + 1);
  return 0;
}
WEFT_REGISTER(nap);

static _Atomic int lost_rank = -1, nlost, failed_on = -1;
static void on_event(const weft_event *ev, void *ud) {
  (void)ud;
  if (ev->kind == WEFT_EV_TASK_FAIL && ev->status == WEFT_EKILLED)
    failed_on = ev->worker; /* a task it ran fails, as under procs */
  if (ev->kind == WEFT_EV_WORKER_LOST && ev->pid > 0 && ev->message) {
    lost_rank = ev->worker;
    nlost++;
  }
}

int main(int argc, char **argv) {
  die = !(argc > 1 && strcmp(argv[1], "--ok") == 0);
  const char *vs = getenv("MPI_KILL_RANK");
  if (vs && *vs)
    victim = atoi(vs);
  if (weft_mpi_init(&argc, &argv))
    return 2;
  if (victim < 1 || weft_mpi_size() <= victim) {
    fprintf(stderr, "mpi_kill: run me with mpirun -n %d or more\n",
            victim < 2 ? 3 : victim + 1);
    return 2;
  }
  weft_graph *g = weft_graph_new();
  weft_node *leaf[40];
  for (int i = 0; i < 40; i++)
    leaf[i] = weft_call_fn(g, WEFT_FN(nap), 1, (weft_value[]){weft_int(i)});
  weft_node *sum = weft_call_fn(g, WEFT_FN(nap), 0, NULL);
  for (int i = 0; i < 40; i += 8) {
    weft_value v[8];
    for (int k = 0; k < 8; k++)
      v[k] = weft_node_ref(leaf[i + k]);
    weft_node *part = weft_call_fn(g, WEFT_FN(nap), 8, v);
    sum = weft_call_fn(g, WEFT_FN(nap), 2,
                       (weft_value[]){weft_node_ref(sum), weft_node_ref(part)});
  }
  weft_value out;
  weft_listener l = {on_event, NULL, NULL};
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.listener = &l;
  int rc = weft_compute1(g, sum, &out, &o);
  if (nlost)
    printf("worker lost: %d (%d event%s)\n", (int)lost_rank, (int)nlost,
           nlost == 1 ? "" : "s");
  if (failed_on >= 0)
    printf("task failed on: %d\n", (int)failed_on);
  if (rc) {
    fprintf(stderr, "mpi_kill: %s\n", weft_graph_error(g));
    weft_graph_free(g);
    return 1;
  }
  /* 40 leaves i+1, five parts sum+1, a chain of six +1 */
  printf("sum %lld\n", (long long)out.as.i);
  weft_graph_free(g);
  return 0;
}
