/* ready.h - the ready tasks of a scheduler that sends work away (internal).
 *
 * The procs and mpi schedulers run one loop in the program that hands
 * tasks to workers (processes, ranks) and runs a few itself: literals,
 * resolved weft_refs and tasks marked to run in the program, which would
 * only cost a round trip. Both keep their ready tasks the same way: two
 * stacks, one for the workers and one for the program, and when a task
 * ends its newly ready successors are pushed with the first one on top, so
 * it runs next (depth first, as sync.c does), which keeps few results
 * alive at once. */
#ifndef WEFT_SCHED_READY_H
#define WEFT_SCHED_READY_H

#include <stdbool.h>
#include <stdint.h>

#include "run.h"

typedef struct weft__ready {
  uint32_t *stack; /* ready tasks for the workers, next on top */
  size_t sp, cap;
  uint32_t *local; /* ready tasks that run here, in the program */
  size_t lsp, lcap;
} weft__ready;

/* Whether task i runs in the program rather than in a worker. */
bool weft__ready_runs_here(const weft__run *r, uint32_t i);
/* Task i is ready: onto the stack where it runs. WEFT_ENOMEM. */
int weft__ready_push(weft__ready *q, const weft__run *r, uint32_t i);
/* Task i is done: pushes its successors that are now ready, the first one
 * for the workers on top. Returns UINT32_MAX, or the successor that could
 * not be pushed (out of memory). */
uint32_t weft__ready_successors(weft__ready *q, weft__run *r, uint32_t i);
void weft__ready_free(weft__ready *q);

#endif
