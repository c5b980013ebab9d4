/* mpi/lost.c - the one line that tells a dead worker rank, the same in
 * every mode (mpi/sched.c for central and groups, mpi/replica_root.c for
 * replicated): rank, host, pid, how long it was silent, how many tasks
 * were lost and the first four of them by key; listeners get it as
 * WEFT_EV_WORKER_LOST (the dashboard's log, the trace) and the compute
 * fails with WEFT_EKILLED. */
#include <stdio.h>
#include <string.h>

#include "impl.h"
#include "sched/run.h"

void weft__mlost_add(weft__mlost *l, const weft_graph *g, uint32_t node,
                     bool running) {
  if (running && l->first == UINT32_MAX)
    l->first = node; /* a task it was running: its TASK_FAIL */
  if (l->n++ >= 4)
    return;
  char key[128];
  weft__graph_key_of(g, node, key, sizeof key);
  int w = snprintf(l->list + l->len, sizeof l->list - l->len, "%s'%s'",
                   l->len ? ", " : "", key);
  if (w > 0 && (size_t)w < sizeof l->list - l->len)
    l->len += (size_t)w;
}

void weft__mlost_report(struct weft__run *r, int k, double silent,
                        const weft__mlost *l, const char *more) {
  const weft__mrank *rk = &weft__mpi_g.ranks[k];
  char line[900];
  snprintf(line, sizeof line,
           "rank %d (host %s, pid %d) died or stopped answering (silent for "
           "%.1f s); %d task%s lost%s%s%s%s",
           k, rk->host, rk->pid, silent, l->n, l->n == 1 ? "" : "s",
           l->n ? ": " : "", l->list, l->n > 4 ? ", ..." : "",
           more ? more : "");
  if (r->listener) { /* as procs does for a worker process */
    weft_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = WEFT_EV_WORKER_LOST;
    ev.worker = k;
    ev.pid = rk->pid;
    ev.message = line;
    weft__run_publish(r, &ev);
  }
  weft__run_failf(r, l->first, k, WEFT_EKILLED, "%s", line);
}
