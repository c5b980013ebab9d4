/* graph_impl.h - the flat layout of a task graph, shared by the builder
 * (core), the passes (opt), the schedulers (sched) and the pictures (diag).
 * Internal to weft.
 *
 * Nodes live in one flat array (56 bytes each: the build-time description
 * and the run-time state side by side, so running a task touches one place).
 * Arguments live in a second flat array; a node's arguments are contiguous.
 * An argument that refers to another node is stored as WEFT__T_NODE with the
 * producer's index. Successor lists are built while the graph is built: the
 * first successor sits in the node, further ones in a linked edge array, so
 * no pass has to build them at compute time. Node handles given to users
 * encode (graph serial << 32 | index + 1): they cost nothing to create and
 * a node of another graph is recognised exactly. */
#ifndef WEFT_CORE_GRAPH_IMPL_H
#define WEFT_CORE_GRAPH_IMPL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "keys.h"
#include "obj.h"
#include "vec.h"
#include "weft/graph.h"

enum {
  WEFT__NF_KEYED = 1u << 0,       /* has a key in g->keys */
  WEFT__NF_REF = 1u << 1,         /* weft_ref placeholder */
  WEFT__NF_OUTPUT = 1u << 2,      /* requested by the running compute */
  WEFT__NF_OUTPUT_DONE = 1u << 3, /* ... and already computed */
  WEFT__NF_LOCAL = 1u << 4,       /* runs in the process that computes the
                                     graph, never in a worker process */
};

typedef struct weft__node {
  const weft_fn_info *fn;
  uint32_t argoff;    /* first argument in g->args */
  uint32_t nargs;
  uint32_t nrefs;     /* arguments that are nodes: the inputs to wait for */
  uint32_t succ1;     /* first successor's index + 1; 0: none */
  uint32_t succ_more; /* further successors: edge index + 1; 0: none */
  uint32_t flags;
  _Atomic int32_t pending;   /* inputs not yet computed: nrefs between runs */
  _Atomic int32_t consumers; /* run: successors still to read the result */
  weft_value result;
} weft__node;

typedef struct weft__edge {
  uint32_t node; /* successor index */
  uint32_t next; /* next edge index + 1; 0: end */
} weft__edge;

struct weft_graph {
  weft__node *nodes;
  weft_value *args;
  weft__edge *edges;
  uint32_t nnodes;
  uint32_t nedges;
  size_t nargs;
  weft__vec vnodes, vargs, vedges;
  uint32_t serial;
  int status;       /* sticky build error */
  bool running;     /* a compute is in progress */
  bool has_refs;    /* weft_ref was used: index order may not be topological */
  uint32_t nrefs_unresolved; /* weft_ref placeholders not yet resolved */
  uint32_t nsinks;  /* nodes nothing consumes: outputs covering them all
                       need the whole graph, so no cull pass is needed */
  uint32_t nroots;  /* nodes without inputs, in build order in roots */
  uint32_t *roots;
  weft__vec vroots;
  weft__keys keys;
  char err[1024];   /* message of the last error */
  int task_code;    /* last compute: the failing task's own code, or 0 */
  /* scratch reused by every compute of this graph */
  weft__vec scratch_bits, scratch_roots, scratch_stack;
};

#define WEFT__MAX_NODES ((uint32_t)0x7ffffffe)

static inline weft_node *weft__handle(const weft_graph *g, uint32_t idx) {
  return (weft_node *)(uintptr_t)(((uint64_t)g->serial << 32) |
                                  ((uint64_t)idx + 1));
}

/* Index of handle n in g: 0, WEFT_EINVAL (NULL) or WEFT_EGRAPH. */
static inline int weft__node_index(const weft_graph *g, const weft_node *n,
                                   uint32_t *idx) {
  uint64_t h = (uint64_t)(uintptr_t)n;
  if (!h)
    return WEFT_EINVAL;
  uint32_t i = (uint32_t)h;
  if ((uint32_t)(h >> 32) != g->serial || i == 0 || i > g->nnodes)
    return WEFT_EGRAPH;
  *idx = i - 1;
  return 0;
}

/* Iterates over the successors s of node n: `continue` goes to the next
 * successor, `break` leaves. The cursor is 0 at succ1, then edge index + 1;
 * UINT32_MAX ends. */
static inline uint32_t weft__succ_next(const weft__node *n,
                                       const weft__edge *edges, uint32_t cur) {
  uint32_t nx = cur == 0 ? n->succ_more : edges[cur - 1].next;
  return nx ? nx : UINT32_MAX;
}
#define WEFT__FOREACH_SUCC(nodes, edges, n, s, body)                           \
  for (uint32_t s##_cur = (n)->succ1 ? 0 : UINT32_MAX, s = 0;                 \
       s##_cur != UINT32_MAX &&                                                \
       ((s = s##_cur ? (edges)[s##_cur - 1].node : (n)->succ1 - 1), 1);        \
       s##_cur = weft__succ_next((n), (edges), s##_cur)) {                     \
    body;                                                                      \
  }

/* Marks node n of g to run in the computing process (WEFT__NF_LOCAL):
 * internal tasks that work through pointers into the caller's memory. 0,
 * WEFT_EINVAL or WEFT_EGRAPH. */
static inline int weft__node_set_local(weft_graph *g, const weft_node *n) {
  uint32_t i;
  int rc = weft__node_index(g, n, &i);
  if (!rc)
    g->nodes[i].flags |= WEFT__NF_LOCAL;
  return rc;
}

/* Records err as g's message (printf-style); returns err. */
int weft__graph_msg(weft_graph *g, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records a sticky build error (the first one wins); returns NULL. */
weft_node *weft__graph_fail(weft_graph *g, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes node idx's key (set or automatic) into buf, snprintf-style. */
size_t weft__graph_key_of(const weft_graph *g, uint32_t idx, char *buf,
                          size_t size);
/* Adds the edge pred -> succ (the first one sits in the node). 0 or
 * WEFT_ENOMEM. */
int weft__graph_add_edge(weft_graph *g, uint32_t pred, uint32_t succ);
/* The function behind weft_ref placeholders and weft_literal. */
extern weft_fn_info weft__fn_identity;

#endif
