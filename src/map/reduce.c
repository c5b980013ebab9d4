/* reduce.c - map-reduce: Dask's "map-reduce is a special case" of a task
 * graph, eager (weft_map_reduce) and lazy (weft_map_reduce_nodes,
 * weft_reduce_nodes).
 *
 * The reduction is a balanced binary tree built level by level, pairing
 * neighbours left to right (an odd one out moves up a level unchanged), so
 * the results are combined in input order and the depth is log2(n): a
 * reduce function that is associative but not commutative (concatenation,
 * merging ordered lists) gives the same result as a left fold.
 *
 * The eager form does not make one task per item: each batch maps its items
 * and folds them left to right into one partial result (batch.c), and the
 * tree combines the batches' partials. Partial results are released by the
 * scheduler as soon as their reduce task has run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/graph_impl.h"
#include "map_impl.h"
#include "watch.h"

static weft_node *tree(weft_graph *g, const weft_fn_info *rfn, size_t n,
                       weft_node *const nodes[]) {
  if (n == 0)
    return weft_literal(g, weft_none());
  if (!nodes)
    return weft__graph_fail(g, WEFT_EINVAL,
                            "weft_reduce_nodes: NULL node "
                            "array");
  if (n == 1) {
    if (!nodes[0])
      return weft__graph_fail(g, WEFT_EINVAL,
                              "weft_reduce_nodes: node 1 is NULL (did an "
                              "earlier call fail?)");
    uint32_t idx;
    if (weft__node_index(g, nodes[0], &idx))
      return weft__graph_fail(g, WEFT_EGRAPH,
                              "weft_reduce_nodes: node 1 is a node of "
                              "another graph");
    return nodes[0];
  }
  weft_node **level = malloc(n * sizeof *level);
  if (!level)
    return weft__graph_fail(g, WEFT_ENOMEM, "out of memory");
  memcpy(level, nodes, n * sizeof *level);
  size_t m = n;
  while (m > 1 && !weft_graph_status(g)) {
    size_t k = 0;
    for (size_t i = 0; i + 1 < m; i += 2) {
      weft_value a[2] = {weft_node_ref(level[i]), weft_node_ref(level[i + 1])};
      level[k++] = weft_call_fn(g, rfn, 2, a);
    }
    if (m % 2)
      level[k++] = level[m - 1];
    m = k;
  }
  weft_node *root = weft_graph_status(g) ? NULL : level[0];
  free(level);
  return root;
}

weft_node *weft_reduce_nodes(weft_graph *g, const weft_fn_info *reduce_fn,
                             size_t n, weft_node *const nodes[]) {
  if (!g)
    return NULL;
  char err[512];
  int rc = weft__map_check_fn("weft_reduce_nodes", "reduce function", reduce_fn,
                              2, err, sizeof err);
  if (rc)
    return weft__graph_fail(g, rc, "%s", err);
  if (weft_graph_status(g))
    return NULL;
  return tree(g, reduce_fn, n, nodes);
}

weft_node *weft_map_reduce_nodes(weft_graph *g, const weft_fn_info *map_fn,
                                 const weft_fn_info *reduce_fn, size_t n,
                                 weft_node *const nodes[]) {
  if (!g)
    return NULL;
  char err[512];
  int rc = weft__map_check_fn("weft_map_reduce_nodes", "map function", map_fn,
                              1, err, sizeof err);
  if (!rc)
    rc = weft__map_check_fn("weft_map_reduce_nodes", "reduce function",
                            reduce_fn, 2, err, sizeof err);
  if (rc)
    return weft__graph_fail(g, rc, "%s", err);
  if (weft_graph_status(g))
    return NULL;
  if (n == 0)
    return tree(g, reduce_fn, 0, NULL);
  weft_node **mapped = malloc(n * sizeof *mapped);
  if (!mapped)
    return weft__graph_fail(g, WEFT_ENOMEM, "out of memory");
  weft_node *root = NULL;
  if (weft_map_nodes(g, map_fn, n, nodes, mapped) == 0)
    root = tree(g, reduce_fn, n, mapped);
  free(mapped);
  return root;
}

/* ---- eager ---- */

int weft_map_reduce(const weft_fn_info *map_fn, const weft_fn_info *reduce_fn,
                    size_t n, const weft_value *inputs, weft_value *out,
                    const weft_map_opts *opts) {
  char what[200], err[1024], msg[1024] = "";
  snprintf(what, sizeof what, "weft_map_reduce(%s, %s)",
           map_fn && map_fn->name ? map_fn->name : "NULL",
           reduce_fn && reduce_fn->name ? reduce_fn->name : "NULL");
  weft__map_begin(opts);
  if (!out)
    return weft__map_error(opts, WEFT_EINVAL, what, "NULL output");
  *out = weft_none();
  if (n && !inputs)
    return weft__map_error(opts, WEFT_EINVAL, what, "NULL input array");
  weft__map_cfg cfg;
  int rc = weft__map_check_fn(what, "map function", map_fn, 1, err, sizeof err);
  if (!rc)
    rc = weft__map_check_fn(what, "reduce function", reduce_fn, 2, err,
                            sizeof err);
  if (!rc)
    rc = weft__map_setup(what, map_fn, reduce_fn, n, opts, &cfg, err,
                         sizeof err);
  if (rc) {
    if (opts && opts->errbuf && opts->errbuf_size) /* err names `what` */
      snprintf(opts->errbuf, opts->errbuf_size, "%s", err);
    return rc;
  }
  if (n == 0)
    return 0;

  size_t nb = cfg.nbatches;
  weft__map_job job = {map_fn, reduce_fn, inputs, NULL, NULL, cfg.batch};
  weft_graph *g = weft_graph_new();
  weft_node **nodes = malloc(nb * sizeof *nodes);
  weft_value names[2] = {weft_none(), weft_none()};
  rc = g && nodes ? 0 : WEFT_ENOMEM;
  if (!rc && !cfg.local &&
      (weft_str_new(&names[0], map_fn->name) ||
       weft_str_new(&names[1], reduce_fn->name)))
    rc = WEFT_ENOMEM;
  if (rc) {
    snprintf(msg, sizeof msg, "out of memory");
    goto done;
  }
  int64_t pid = (int64_t)getpid();
  for (size_t b = 0; b < nb; b++) {
    size_t s = b * cfg.batch, e = s + cfg.batch < n ? s + cfg.batch : n;
    if (cfg.local) {
      weft_value a[4] = {weft_int((int64_t)(intptr_t)&job),
                         weft_int((int64_t)s), weft_int((int64_t)e),
                         weft_int(pid)};
      nodes[b] = weft_call_fn(g, weft__map_reduce_local_fn, 4, a);
      continue;
    }
    size_t bad = 0;
    weft_value a[4] = {weft_value_retain(&names[0]),
                       weft_value_retain(&names[1]), weft_int((int64_t)s),
                       weft_none()};
    rc = weft__map_pack(inputs + s, e - s, &a[3], &bad);
    if (rc) {
      weft_value_release(&a[0]);
      weft_value_release(&a[1]);
      if (rc == WEFT_ENOTSUP)
        snprintf(msg, sizeof msg,
                 "item %zu is a %s, which cannot leave the process", s + bad,
                 weft_type_name(inputs[s + bad].type));
      else
        snprintf(msg, sizeof msg, "out of memory");
      goto done;
    }
    nodes[b] = weft_call_fn(g, weft__map_reduce_batch_fn, 4, a);
    if (nodes[b] && nb <= 65536) {
      char key[256];
      snprintf(key, sizeof key, "%s[%zu:%zu]", map_fn->name, s, e);
      (void)weft_node_set_key(g, nodes[b], key);
    }
  }
  weft_node *root = weft_graph_status(g) ? NULL : tree(g, reduce_fn, nb, nodes);
  weft__map_watch watch;
  rc = weft__map_watch_begin(&watch, &cfg, map_fn, n, msg, sizeof msg);
  if (rc)
    goto done;
  rc = weft_compute1(g, root, out, &cfg.copts);
  if (rc) {
    weft__map_compute_error(opts, rc, what, g);
    msg[0] = '\0';
  }
  rc = weft__map_watch_end(&watch, rc, rc ? NULL : msg, sizeof msg);
done:
  if (rc && msg[0]) /* failed before the compute */
    weft__map_error(opts, rc, what, msg);
  weft_value_release(&names[0]);
  weft_value_release(&names[1]);
  free(nodes);
  weft_graph_free(g);
  return rc;
}
