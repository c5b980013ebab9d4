/* plan.h - what a compute will run: the pass between building and
 * scheduling. Internal to weft.
 *
 * weft__plan_build culls the graph to what the outputs need, resolves
 * weft_ref forward references, detects cycles (naming them), and lists the
 * roots (needed nodes with no inputs) in build order. When the outputs cover
 * every sink of the graph nothing is culled and this costs O(outputs). When
 * no weft_ref was used, node indices are a topological order, so culling is
 * one reverse sweep with a bitmap. Pending counts are nrefs between computes
 * (set at build, restored as each task completes, reset after a failure). */
#ifndef WEFT_OPT_PLAN_H
#define WEFT_OPT_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "../core/graph_impl.h"

typedef struct weft__plan {
  const uint64_t *needed; /* bitmap of needed nodes; NULL: every node */
  const uint32_t *roots;  /* needed nodes without inputs, build order */
  size_t nroots;
  size_t ntasks;          /* needed nodes */
  uint32_t noutputs;      /* distinct output nodes */
} weft__plan;

/* Prepares g to compute the nodes outs[0..n) (indices, validated). Marks
 * them WEFT__NF_OUTPUT. Errors (message in g->err): WEFT_ENOTFOUND (undefined
 * key of a weft_ref), WEFT_ECYCLE, WEFT_ENOMEM. Scratch memory belongs to g. */
int weft__plan_build(weft_graph *g, size_t n, const uint32_t *outs,
                     weft__plan *plan);

/* Clears the output marks left by weft__plan_build. */
void weft__plan_clear_outputs(weft_graph *g, size_t n, const uint32_t *outs);

static inline int weft__plan_needs(const weft__plan *p, uint32_t i) {
  return !p->needed || ((p->needed[i >> 6] >> (i & 63)) & 1);
}

#endif
