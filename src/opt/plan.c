/* plan.c - culling, reference resolution, cycle detection and the reset of
 * run-time counters before a compute (see plan.h). */
#include "plan.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "weft/error.h"

static void set_bit(uint64_t *b, uint32_t i) { b[i >> 6] |= 1ull << (i & 63); }
static int get_bit(const uint64_t *b, uint32_t i) {
  return (b[i >> 6] >> (i & 63)) & 1;
}

static int reserve(weft__vec *v, size_t bytes) {
  return weft__vec_reserve(v, bytes ? bytes : 1);
}

/* Replaces a weft_ref placeholder's key by a reference to the node it
 * names, once and for good. */
static int resolve_ref(weft_graph *g, uint32_t i) {
  weft__node *n = &g->nodes[i];
  weft_value *arg = &g->args[n->argoff];
  if (arg->type != WEFT__T_KEYREF)
    return 0;
  weft_value key = *arg;
  key.type = WEFT_T_STR;
  uint32_t target;
  if (weft__keys_find(&g->keys, weft_value_str(&key), &target))
    return weft__graph_msg(g, WEFT_ENOTFOUND,
                           "key '%s' is not defined (a weft_ref to it is "
                           "needed by this compute)",
                           weft_value_str(&key));
  if (weft__graph_add_edge(g, target, i))
    return weft__graph_msg(g, WEFT_ENOMEM, "out of memory resolving a key");
  weft_value_release(&key);
  arg->type = WEFT__T_NODE;
  arg->as.i = target;
  n->nrefs = 1;
  g->nrefs_unresolved--;
  return 0;
}

/* Cycle messages name the tasks a user made: weft_ref placeholders (the
 * internal forwarding nodes behind a key reference, unless the user keyed
 * one) are left out, as "a -> b" already says that a needs b. */
static bool shown_in_cycle(const weft_graph *g, uint32_t i) {
  uint32_t f = g->nodes[i].flags;
  return !(f & WEFT__NF_REF) || (f & WEFT__NF_KEYED);
}

/* n with a comma every three digits: "99,936". */
static void grouped(size_t n, char *buf, size_t size) {
  char digits[32];
  int len = snprintf(digits, sizeof digits, "%zu", n), o = 0;
  for (int k = 0; k < len && (size_t)o + 2 < size; k++) {
    if (k && (len - k) % 3 == 0)
      buf[o++] = ',';
    buf[o++] = digits[k];
  }
  buf[o] = '\0';
}

/* Appends like snprintf at *len, tracking the full length. */
static void add(char *m, size_t room, size_t *len, const char *fmt,
                const char *arg) {
  *len += (size_t)snprintf(m + (*len < room ? *len : room),
                           *len < room ? room - *len : 0, fmt, arg);
}

/* Writes into m the cycle through pick[0..np): all of them when left_out
 * is 0, else the first `head` of them, how many are left out, and the
 * rest; then pick[0] again. Returns the length (snprintf-style). */
static size_t cycle_text(const weft_graph *g, const uint32_t *pick, size_t np,
                         size_t head, size_t left_out, char *m, size_t room) {
  size_t len = 0;
  add(m, room, &len, "%s", "cycle in graph: ");
  char key[128];
  for (size_t k = 0; k < np; k++) {
    if (left_out && k == head) {
      char more[32];
      grouped(left_out, more, sizeof more);
      add(m, room, &len, "... (%s more) ... -> ", more);
    }
    weft__graph_key_of(g, pick[k], key, sizeof key);
    add(m, room, &len, "%s -> ", key);
  }
  weft__graph_key_of(g, pick[0], key, sizeof key);
  add(m, room, &len, "%s (each task needs the next)", key);
  return len;
}

/* The cycle is the stack's nodes from `from` to `sp` (each needs the next;
 * the last needs the first). At most 64 are named (the first 32 and the
 * last 32), fewer if long keys would not fit g->err, and the message says
 * how many are left out: it never shows an edge that is not in the graph. */
static int cycle_error(weft_graph *g, const uint32_t *stack, size_t from,
                       size_t sp) {
  size_t nvis = 0;
  for (size_t s = from; s <= sp; s++)
    nvis += shown_in_cycle(g, stack[2 * s]);
  bool all = nvis == 0; /* cannot happen: a ref resolves to a keyed node */
  if (all)
    nvis = sp - from + 1;
  uint32_t vis[64]; /* the first 32 shown nodes, then the last 32 */
  size_t nv = 0, seen = 0;
  for (size_t s = from; s <= sp; s++) {
    uint32_t i = stack[2 * s];
    if (!all && !shown_in_cycle(g, i))
      continue;
    if (nvis <= 64 || seen < 32 || seen >= nvis - 32)
      vis[nv++] = i;
    seen++;
  }
  size_t head = (nv + 1) / 2, tail = nv - head; /* 32 and 32 when long */
  for (;;) {
    uint32_t pick[64] = {0};
    size_t np = 0;
    for (size_t k = 0; k < head; k++)
      pick[np++] = vis[k];
    for (size_t k = nv - tail; k < nv; k++)
      pick[np++] = vis[k];
    size_t len =
        cycle_text(g, pick, np, head, nvis - np, g->err, sizeof g->err);
    if (len < sizeof g->err || np <= 2)
      break;
    if (head > tail) /* too long for the message: name fewer */
      head--;
    else
      tail--;
  }
  return WEFT_ECYCLE;
}

/* General path: depth-first search from the outputs with three colours, for
 * graphs whose references may point forward. */
static int plan_dfs(weft_graph *g, size_t n, const uint32_t *outs,
                    uint64_t *bits, uint32_t *roots, weft__plan *plan) {
  uint32_t N = g->nnodes;
  /* stack of (node, next argument) pairs + a colour per node (2 bits packed
   * in a byte array after the stack) */
  if (reserve(&g->scratch_stack, (size_t)N * 8 + N))
    return weft__graph_msg(g, WEFT_ENOMEM, "out of memory planning");
  uint32_t *stack = g->scratch_stack.p;
  uint8_t *colour = (uint8_t *)(stack + 2 * (size_t)N);
  memset(colour, 0, N);
  size_t nroots = 0, ntasks = 0;
  for (size_t o = 0; o < n; o++) {
    if (colour[outs[o]])
      continue;
    size_t sp = 0;
    stack[0] = outs[o];
    stack[1] = 0;
    colour[outs[o]] = 1;
    if (g->nodes[outs[o]].flags & WEFT__NF_REF) {
      int rc = resolve_ref(g, outs[o]);
      if (rc)
        return rc;
    }
    for (;;) {
      uint32_t i = stack[2 * sp];
      weft__node *nd = &g->nodes[i];
      const weft_value *a = &g->args[nd->argoff];
      uint32_t k = stack[2 * sp + 1];
      while (k < nd->nargs && a[k].type != WEFT__T_NODE)
        k++;
      if (k < nd->nargs) {
        stack[2 * sp + 1] = k + 1;
        uint32_t p = (uint32_t)a[k].as.i;
        if (colour[p] == 1) {
          /* p is on the stack: the path from p to i, then back to p */
          size_t from = sp;
          while (from > 0 && stack[2 * from] != p)
            from--;
          return cycle_error(g, stack, from, sp);
        }
        if (colour[p] == 0) {
          colour[p] = 1;
          if (g->nodes[p].flags & WEFT__NF_REF) {
            int rc = resolve_ref(g, p);
            if (rc)
              return rc;
          }
          sp++;
          stack[2 * sp] = p;
          stack[2 * sp + 1] = 0;
        }
        continue;
      }
      colour[i] = 2;
      set_bit(bits, i);
      ntasks++;
      atomic_store_explicit(&nd->pending, (int32_t)nd->nrefs,
                            memory_order_relaxed);
      if (nd->nrefs == 0)
        roots[nroots++] = i;
      if (sp == 0)
        break;
      sp--;
    }
  }
  plan->needed = bits;
  plan->roots = roots;
  plan->nroots = nroots;
  plan->ntasks = ntasks;
  return 0;
}

int weft__plan_build(weft_graph *g, size_t n, const uint32_t *outs,
                     weft__plan *plan) {
  uint32_t N = g->nnodes;
  size_t words = ((size_t)N + 63) / 64;
  if (reserve(&g->scratch_bits, words * 8) ||
      reserve(&g->scratch_roots, (size_t)N * 4))
    return weft__graph_msg(g, WEFT_ENOMEM, "out of memory planning");
  uint64_t *bits = g->scratch_bits.p;
  uint32_t *roots = g->scratch_roots.p;
  memset(bits, 0, words * 8);
  memset(plan, 0, sizeof *plan);

  uint32_t noutputs = 0, sink_outputs = 0, top = 0;
  for (size_t o = 0; o < n; o++) {
    weft__node *nd = &g->nodes[outs[o]];
    if (!(nd->flags & WEFT__NF_OUTPUT)) {
      nd->flags = (nd->flags | WEFT__NF_OUTPUT) & ~WEFT__NF_OUTPUT_DONE;
      noutputs++;
      sink_outputs += nd->succ1 == 0;
    }
    if (outs[o] > top)
      top = outs[o];
  }
  plan->noutputs = noutputs;
  if (g->has_refs) {
    int rc = plan_dfs(g, n, outs, bits, roots, plan);
    plan->noutputs = noutputs;
    if (rc == 0 && plan->ntasks == N)
      plan->needed = NULL;
    return rc;
  }

  /* Every node leads to some sink: outputs that cover all the sinks need
   * the whole graph, and the roots were listed while building. Pending
   * counts are set while building and restored as tasks complete. */
  if (sink_outputs == g->nsinks) {
    plan->needed = NULL;
    plan->roots = g->roots;
    plan->nroots = g->nroots;
    plan->ntasks = N;
    return 0;
  }
  /* Cull: producers always have smaller indices than their consumers, so
   * one sweep from the highest output down marks everything needed. */
  for (size_t o = 0; o < n; o++)
    set_bit(bits, outs[o]);
  size_t nroots = 0, ntasks = 0;
  const weft_value *args = g->args;
  for (uint32_t i = top + 1; i-- > 0;) {
    if (!get_bit(bits, i))
      continue;
    weft__node *nd = &g->nodes[i];
    ntasks++;
    if (nd->nrefs == 0) {
      roots[nroots++] = i;
      continue;
    }
    const weft_value *a = &args[nd->argoff];
    for (uint32_t k = 0; k < nd->nargs; k++)
      if (a[k].type == WEFT__T_NODE)
        set_bit(bits, (uint32_t)a[k].as.i);
  }
  for (size_t l = 0, r = nroots; l + 1 < r; l++, r--) { /* build order */
    uint32_t t = roots[l];
    roots[l] = roots[r - 1];
    roots[r - 1] = t;
  }
  plan->needed = ntasks == N ? NULL : bits;
  plan->roots = roots;
  plan->nroots = nroots;
  plan->ntasks = ntasks;
  return 0;
}

void weft__plan_clear_outputs(weft_graph *g, size_t n, const uint32_t *outs) {
  for (size_t o = 0; o < n; o++)
    g->nodes[outs[o]].flags &= ~(WEFT__NF_OUTPUT | WEFT__NF_OUTPUT_DONE);
}
