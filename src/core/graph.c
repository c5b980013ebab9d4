/* graph.c - building task graphs: nodes, arguments, successor edges, keys
 * and the sticky build error (see graph_impl.h for the layout).
 *
 * weft_call_fn is the hot path of graph building (a million calls should
 * take a few milliseconds): it appends to flat arrays and never allocates
 * per node. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_impl.h"
#include "weft/error.h"

static _Atomic uint32_t next_serial = 1;

weft_graph *weft_graph_new(void) {
  weft_graph *g = calloc(1, sizeof *g);
  if (!g)
    return NULL;
  uint32_t s;
  do /* 0 is never a serial: a zero handle is NULL */
    s = atomic_fetch_add_explicit(&next_serial, 1, memory_order_relaxed);
  while (s == 0);
  g->serial = s;
  return g;
}

void weft_graph_free(weft_graph *g) {
  if (!g)
    return;
  for (size_t i = 0; i < g->nargs; i++) {
    if (g->args[i].type == WEFT__T_KEYREF)
      g->args[i].type = WEFT_T_STR; /* the key is a str object */
    if (weft_value_is_obj(&g->args[i]))
      weft_value_release(&g->args[i]);
  }
  for (uint32_t i = 0; i < g->nnodes; i++)
    if (weft_value_is_obj(&g->nodes[i].result))
      weft_value_release(&g->nodes[i].result);
  weft__vec_free(&g->vnodes);
  weft__vec_free(&g->vargs);
  weft__vec_free(&g->vedges);
  weft__vec_free(&g->vroots);
  weft__vec_free(&g->scratch_bits);
  weft__vec_free(&g->scratch_roots);
  weft__vec_free(&g->scratch_stack);
  weft__keys_free(&g->keys);
  free(g);
}

size_t weft_graph_size(const weft_graph *g) { return g ? g->nnodes : 0; }

int weft_graph_inspect(const weft_graph *g, weft_graph_info *out) {
  if (!g || !out)
    return WEFT_EINVAL;
  size_t deps = 0;
  for (uint32_t i = 0; i < g->nnodes; i++)
    deps += g->nodes[i].nrefs;
  const weft__keys *k = &g->keys;
  out->nodes = g->nnodes;
  out->deps = deps;
  out->args = g->nargs;
  out->node_bytes = sizeof(weft__node);
  out->bytes = sizeof *g + g->vnodes.cap + g->vargs.cap + g->vedges.cap +
               g->vroots.cap + g->scratch_bits.cap + g->scratch_roots.cap +
               g->scratch_stack.cap + k->cap * sizeof *k->ents +
               k->tab * (sizeof *k->by_key + sizeof *k->by_idx);
  for (size_t e = 0; e < k->n; e++)
    out->bytes += strlen(k->ents[e].key) + 1;
  return 0;
}

int weft_graph_status(const weft_graph *g) {
  return g ? g->status : WEFT_EINVAL;
}

const char *weft_graph_error(const weft_graph *g) {
  return g ? g->err : "NULL graph";
}

int weft__graph_msg(weft_graph *g, int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g->err, sizeof g->err, fmt, ap);
  va_end(ap);
  return err;
}

/* Build errors stick: the first one is kept and every compute reports it. */
#define build_fail weft__graph_fail
weft_node *weft__graph_fail(weft_graph *g, int err, const char *fmt, ...) {
  if (g->status == 0) {
    g->status = err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->err, sizeof g->err, fmt, ap);
    va_end(ap);
  }
  return NULL;
}

static void release_args(size_t nargs, const weft_value *args) {
  for (size_t i = 0; i < nargs; i++) {
    weft_value v = args[i];
    if (v.type == WEFT__T_KEYREF)
      v.type = WEFT_T_STR;
    weft_value_release(&v);
  }
}

int weft__graph_add_edge(weft_graph *g, uint32_t pred, uint32_t succ) {
  weft__node *p = &g->nodes[pred];
  if (!p->succ1) {
    p->succ1 = succ + 1;
    g->nsinks--;
    return 0;
  }
  if (g->nedges == UINT32_MAX - 1)
    return WEFT_ENOMEM;
  size_t need = ((size_t)g->nedges + 1) * sizeof(weft__edge);
  if (!weft__vec_fits(&g->vedges, need)) {
    if (weft__vec_reserve(&g->vedges, need))
      return WEFT_ENOMEM;
    g->edges = g->vedges.p;
  }
  /* Prepended: O(1) per edge. The first-built successor stays in succ1 and
   * is notified first, which is what keeps depth-first runs in build order. */
  weft__edge *e = &g->edges[g->nedges];
  e->node = succ;
  e->next = p->succ_more;
  uint32_t *link = &p->succ_more;
  *link = ++g->nedges;
  return 0;
}

static const char *fn_label(const weft_fn_info *fn) {
  return strncmp(fn->name, "weft.", 5) == 0 ? fn->name + 5 : fn->name;
}

size_t weft__graph_key_of(const weft_graph *g, uint32_t idx, char *buf,
                          size_t size) {
  const char *k = (g->nodes[idx].flags & WEFT__NF_KEYED)
                      ? weft__keys_name(&g->keys, idx)
                      : NULL;
  int n = k ? snprintf(buf, size, "%s", k)
            : snprintf(buf, size, "%s-%u", fn_label(g->nodes[idx].fn), idx);
  return n < 0 ? 0 : (size_t)n;
}

weft_node *weft_call_fn(weft_graph *g, const weft_fn_info *fn, size_t nargs,
                        const weft_value *args) {
  if (!g) {
    release_args(nargs, args);
    return NULL;
  }
  if (g->status || g->running) {
    release_args(nargs, args);
    if (g->running) /* not sticky: the graph itself is fine */
      weft__graph_msg(g, WEFT_EBUSY,
                      "weft_call: the graph is being computed (build another "
                      "graph from inside a task)");
    return NULL;
  }
  if (!fn || !fn->fn) {
    release_args(nargs, args);
    return build_fail(g, WEFT_EINVAL, "weft_call: NULL function");
  }
  if (nargs && !args)
    return build_fail(g, WEFT_EINVAL, "weft_call(%s): NULL argument array",
                      fn->name);
  if (fn->arity >= 0 && nargs != (size_t)fn->arity &&
      (nargs > (size_t)fn->arity || nargs < (size_t)weft_fn_min_arity(fn))) {
    release_args(nargs, args);
    if (weft_fn_min_arity(fn) != fn->arity) /* defaults (WEFT_DEFAULTS) */
      return build_fail(g, WEFT_EARITY, "%s takes %d to %d arguments, %zu given",
                        fn->name, weft_fn_min_arity(fn), fn->arity, nargs);
    return build_fail(g, WEFT_EARITY, "%s takes %d argument%s, %zu given",
                      fn->name, fn->arity, fn->arity == 1 ? "" : "s", nargs);
  }
  if (g->nnodes >= WEFT__MAX_NODES || nargs > INT32_MAX ||
      g->nargs + nargs > UINT32_MAX) {
    release_args(nargs, args);
    return build_fail(g, WEFT_ENOMEM, "graph too large");
  }
  size_t need_n = ((size_t)g->nnodes + 1) * sizeof(weft__node);
  size_t need_a = (g->nargs + nargs) * sizeof(weft_value);
  if (__builtin_expect(!weft__vec_fits(&g->vnodes, need_n) ||
                           !weft__vec_fits(&g->vargs, need_a),
                       0)) {
    if (weft__vec_reserve(&g->vnodes, need_n) ||
        weft__vec_reserve(&g->vargs, need_a)) {
      release_args(nargs, args);
      return build_fail(g, WEFT_ENOMEM, "out of memory adding a node");
    }
    g->nodes = g->vnodes.p;
    g->args = g->vargs.p;
  }
  /* Copy the arguments past the end of the used slots, turning node handles
   * into indices; nothing is committed until every argument is valid. */
  weft_value *dst = &g->args[g->nargs];
  uint32_t nrefs = 0;
  for (size_t i = 0; i < nargs; i++) {
    weft_value v = args[i];
    if (v.type == WEFT__T_NODE) {
      uint32_t p;
      int rc = weft__node_index(g, (const weft_node *)(uintptr_t)v.as.i, &p);
      if (__builtin_expect(rc != 0, 0)) {
        release_args(nargs, args);
        if (rc == WEFT_EINVAL)
          return build_fail(g, rc,
                            "argument %zu of %s is a NULL node (did an "
                            "earlier call fail?)",
                            i + 1, fn->name);
        return build_fail(g, rc, "argument %zu of %s is a node of another graph",
                          i + 1, fn->name);
      }
      v.as.i = p;
      nrefs++;
    } else if (__builtin_expect(v.type == WEFT_T_NONE && v.aux == 1, 0)) {
      release_args(nargs, args);
      return build_fail(g, WEFT_EINVAL,
                        "argument %zu of %s is a void * pointer that is not "
                        "NULL: pass a pointer as a weft_ptr_new value",
                        i + 1, fn->name);
    } else if (__builtin_expect(v.type == WEFT__T_BAD, 0)) {
      release_args(nargs, args);
      return build_fail(g, WEFT_ENOMEM,
                        "out of memory converting argument %zu of %s", i + 1,
                        fn->name);
    }
    dst[i] = v;
  }
  uint32_t idx = g->nnodes;
  weft__node *n = &g->nodes[idx];
  n->fn = fn;
  n->argoff = (uint32_t)g->nargs;
  n->nargs = (uint32_t)nargs;
  n->nrefs = nrefs;
  n->succ1 = 0;
  n->succ_more = 0;
  n->flags = 0;
  atomic_init(&n->pending, (int32_t)nrefs);
  atomic_init(&n->consumers, 0);
  n->result = weft_none();
  if (!nrefs) {
    size_t need_r = ((size_t)g->nroots + 1) * sizeof(uint32_t);
    if (__builtin_expect(!weft__vec_fits(&g->vroots, need_r), 0)) {
      if (weft__vec_reserve(&g->vroots, need_r)) {
        release_args(nargs, args);
        return build_fail(g, WEFT_ENOMEM, "out of memory adding a node");
      }
      g->roots = g->vroots.p;
    }
  }
  for (size_t i = 0; nrefs && i < nargs; i++) {
    if (dst[i].type != WEFT__T_NODE)
      continue;
    nrefs--;
    weft__node *p = &g->nodes[(uint32_t)dst[i].as.i];
    if (!p->succ1) {
      p->succ1 = idx + 1;
      g->nsinks--;
    } else if (weft__graph_add_edge(g, (uint32_t)dst[i].as.i, idx)) {
      /* Edges added so far point at idx, which is not committed: they
       * would dangle, so the graph is unusable from here on. */
      return build_fail(g, WEFT_ENOMEM, "out of memory adding an edge");
    }
  }
  if (n->nrefs == 0)
    g->roots[g->nroots++] = idx;
  g->nargs += nargs;
  g->nnodes++;
  g->nsinks++;
  return weft__handle(g, idx);
}

weft_node *weft_call_name(weft_graph *g, const char *name, size_t nargs,
                          const weft_value *args) {
  const weft_fn_info *fn = NULL;
  int rc = name ? weft_fn_find(name, &fn) : WEFT_EINVAL;
  if (rc) {
    release_args(nargs, args);
    if (!g)
      return NULL;
    if (rc == WEFT_EEXIST)
      return build_fail(g, rc,
                        "two different functions are registered as '%s'",
                        name);
    return build_fail(g, rc, "function '%s' is not registered",
                      name ? name : "(NULL)");
  }
  return weft_call_fn(g, fn, nargs, args);
}

weft_node *weft_literal(weft_graph *g, weft_value v) {
  return weft_call_fn(g, &weft__fn_identity, 1, &v);
}

weft_value weft__arg_cstr(const char *s) {
  weft_value v;
  if (!s)
    return weft_none();
  if (weft_str_new(&v, s) != 0) {
    v = weft_none();
    v.type = WEFT__T_BAD;
  }
  return v;
}

/* ---- keys ---- */

int weft_node_set_key(weft_graph *g, weft_node *n, const char *key) {
  if (!g)
    return WEFT_EINVAL;
  uint32_t idx;
  int rc = weft__node_index(g, n, &idx);
  if (rc)
    return weft__graph_msg(g, rc, "weft_node_set_key: %s",
                           rc == WEFT_EINVAL ? "NULL node"
                                             : "node of another graph");
  if (!key || !key[0])
    return weft__graph_msg(g, WEFT_EINVAL, "weft_node_set_key: empty key");
  rc = weft__keys_put(&g->keys, key, idx);
  if (rc == WEFT_EEXIST) {
    uint32_t other = 0;
    weft__keys_find(&g->keys, key, &other);
    return weft__graph_msg(g, rc, "key '%s' already names node %u", key,
                           other);
  }
  if (rc == WEFT_EINVAL)
    return weft__graph_msg(g, rc, "node %u already has key '%s'", idx,
                           weft__keys_name(&g->keys, idx));
  if (rc)
    return weft__graph_msg(g, rc, "out of memory naming a node");
  g->nodes[idx].flags |= WEFT__NF_KEYED;
  return 0;
}

size_t weft_node_key(const weft_graph *g, const weft_node *n, char *buf,
                     size_t size) {
  uint32_t idx;
  if (size)
    buf[0] = '\0';
  if (!g || weft__node_index(g, n, &idx))
    return 0;
  return weft__graph_key_of(g, idx, buf, size);
}

weft_node *weft_graph_find(const weft_graph *g, const char *key) {
  uint32_t idx;
  if (!g || !key || weft__keys_find(&g->keys, key, &idx))
    return NULL;
  return weft__handle(g, idx);
}

weft_node *weft_ref(weft_graph *g, const char *key) {
  if (!g)
    return NULL;
  if (!key || !key[0])
    return build_fail(g, WEFT_EINVAL, "weft_ref: empty key");
  weft_value k;
  if (weft_str_new(&k, key))
    return build_fail(g, WEFT_ENOMEM, "out of memory in weft_ref");
  k.type = WEFT__T_KEYREF;
  weft_node *n = weft_call_fn(g, &weft__fn_identity, 1, &k);
  if (n) {
    uint32_t idx = (uint32_t)(uintptr_t)n - 1;
    g->nodes[idx].flags |= WEFT__NF_REF;
    g->nrefs_unresolved++;
    g->has_refs = true;
  }
  return n;
}

long weft_node_index(const weft_graph *g, const weft_node *n) {
  uint32_t idx;
  if (!g || weft__node_index(g, n, &idx))
    return -1;
  return (long)idx;
}

const weft_fn_info *weft_node_fn(const weft_graph *g, const weft_node *n) {
  uint32_t idx;
  if (!g || weft__node_index(g, n, &idx))
    return NULL;
  return g->nodes[idx].fn;
}
