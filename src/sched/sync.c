/* sync.c - the single-threaded scheduler: every task on the calling thread,
 * in the same order every time, for debugging and as the reference the
 * parallel schedulers are tested against.
 *
 * Depth-first: a finished task's first ready successor runs next, so a
 * result is consumed (and freed) soon after it is made. */
#include <stdlib.h>

#include "run.h"

int weft__sched_sync(weft__run *r) {
  size_t cap = r->plan.nroots + 64, sp = 0;
  uint32_t *stack = malloc(cap * sizeof *stack);
  if (!stack)
    return WEFT_ENOMEM;
  for (size_t k = r->plan.nroots; k-- > 0;) /* first root on top */
    stack[sp++] = r->plan.roots[k];
  weft_task_ctx ctx = {r->g, NULL, 0, 0, false, NULL, NULL};
  weft__scratch sc = {NULL, 0, 0, 0, 0, 1};
  weft_task_ctx *outer = weft_task_current();
  weft__task_set_current(&ctx);
  int rc = 0;
  while (sp && !atomic_load_explicit(&r->stop, memory_order_relaxed)) {
    uint32_t i = stack[--sp];
    for (;;) {
      int st = weft__run_task(r, &ctx, &sc, i);
      if (st)
        break;
      weft__node *n = &r->nodes[i];
      uint32_t next = UINT32_MAX;
      WEFT__FOREACH_SUCC(r->nodes, r->edges, n, s, {
        if (!weft__run_needs(r, s))
          continue;
        if (!weft__run_ready(r, s))
          continue;
        if (next == UINT32_MAX) {
          next = s;
          continue;
        }
        if (sp == cap) {
          uint32_t *bigger = realloc(stack, 2 * cap * sizeof *stack);
          if (!bigger) {
            weft__run_fail(r, &ctx, s, WEFT_ENOMEM);
            break;
          }
          stack = bigger;
          cap *= 2;
        }
        stack[sp++] = s;
      });
      if (next == UINT32_MAX ||
          atomic_load_explicit(&r->stop, memory_order_relaxed))
        break;
      i = next;
    }
  }
  if (r->listener) /* the last group of tasks ends here */
    weft__run_pause(r, &sc, 0);
  weft__task_set_current(outer);
  free(sc.args);
  free(stack);
  return rc;
}
