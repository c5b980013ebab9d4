/* mpi/rank.c - what a worker rank does the same way in every mode
 * (mpi/worker.c for central and groups, mpi/replica_worker.c for
 * replicated): run one task on a compute thread, tell whether rank 0 is
 * still there, and sleep until a deadline while idle. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/task.h"
#include "impl.h"

int weft__mrun_task(const weft_fn_info *fn, uint32_t task, const char *key,
                    weft_value *args, size_t nargs, weft_value *out,
                    uint32_t *us, uint64_t *end_ns, char *msg,
                    size_t msgsize) {
  weft_task_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.fn = fn;
  ctx.task = task;
  ctx.worker = weft__mpi_g.rank;
  ctx.key = key;
  weft__task_set_current(&ctx);
  uint64_t t0 = weft__mnow();
  int rc = fn->fn(&ctx, args, nargs, out);
  uint64_t t1 = weft__mnow();
  *us = (uint32_t)((t1 - t0) / 1000);
  if (end_ns)
    *end_ns = t1;
  weft__task_set_current(NULL);
  int status = 0;
  if (rc || ctx.failed) {
    weft_value_release(out);
    status = rc < 0 ? rc : WEFT_ETASK;
    char own[200];
    snprintf(msg, msgsize, "%s",
             ctx.message ? ctx.message
                         : weft__task_code_text(rc ? rc : WEFT_ETASK, own,
                                                sizeof own));
  }
  free(ctx.message);
  for (size_t i = 0; i < nargs; i++) /* inputs are not needed now */
    weft_value_release(&args[i]);
  return status;
}

bool weft__mrank0_gone(void) {
  const weft__mrank *r0 = &weft__mpi_g.ranks[0],
                    *me = &weft__mpi_g.ranks[weft__mpi_g.rank];
  bool gone = strcmp(r0->host, me->host) == 0 && r0->pid > 0 &&
              kill(r0->pid, 0) != 0 && errno == ESRCH;
  if (gone)
    fprintf(stderr, "weft: worker rank %d: rank 0 (pid %d) is gone; exiting\n",
            weft__mpi_g.rank, r0->pid);
  return gone;
}

struct timespec weft__mdeadline(uint64_t ns) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t at = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + ns;
  ts.tv_sec = (time_t)(at / 1000000000ull);
  ts.tv_nsec = (long)(at % 1000000000ull);
  return ts;
}
