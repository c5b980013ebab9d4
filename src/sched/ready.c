/* ready.c - the ready tasks of the procs and mpi schedulers (ready.h). */
#include "ready.h"

#include <stdlib.h>

#include "core/graph_impl.h"
#include "core/task.h"

static int push_on(uint32_t **stack, size_t *sp, size_t *cap, uint32_t i) {
  if (*sp == *cap) {
    size_t c = *cap ? 2 * *cap : 64;
    uint32_t *p = realloc(*stack, c * sizeof *p);
    if (!p)
      return WEFT_ENOMEM;
    *stack = p;
    *cap = c;
  }
  (*stack)[(*sp)++] = i;
  return 0;
}

bool weft__ready_runs_here(const weft__run *r, uint32_t i) {
  const weft__node *n = &r->nodes[i];
  return (n->flags & WEFT__NF_LOCAL) || n->fn == &weft__fn_identity;
}

int weft__ready_push(weft__ready *q, const weft__run *r, uint32_t i) {
  if (weft__ready_runs_here(r, i))
    return push_on(&q->local, &q->lsp, &q->lcap, i);
  return push_on(&q->stack, &q->sp, &q->cap, i);
}

uint32_t weft__ready_successors(weft__ready *q, weft__run *r, uint32_t i) {
  weft__node *n = &r->nodes[i];
  size_t first = SIZE_MAX;
  uint32_t failed = UINT32_MAX;
  WEFT__FOREACH_SUCC(r->nodes, r->edges, n, s, {
    if (!weft__run_needs(r, s))
      continue;
    if (atomic_fetch_sub_explicit(&r->nodes[s].pending, 1,
                                  memory_order_relaxed) != 1)
      continue;
    if (first == SIZE_MAX && !weft__ready_runs_here(r, s))
      first = q->sp;
    if (weft__ready_push(q, r, s)) {
      failed = s;
      break;
    }
  });
  if (failed == UINT32_MAX && first != SIZE_MAX && first != q->sp - 1) {
    uint32_t t = q->stack[first];
    q->stack[first] = q->stack[q->sp - 1];
    q->stack[q->sp - 1] = t;
  }
  return failed;
}

void weft__ready_free(weft__ready *q) {
  free(q->stack);
  free(q->local);
  q->stack = q->local = NULL;
  q->sp = q->cap = q->lsp = q->lcap = 0;
}
