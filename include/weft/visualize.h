/* weft/visualize.h - pictures of task graphs (Dask's .visualize()).
 *
 * Writes the graph that computing `nodes` would run as Graphviz DOT; through
 * the Graphviz library it renders SVG, PNG or PDF. Tasks are ellipses
 * labelled with their function; results are boxes.
 *
 * Under LeakSanitizer: Graphviz's text layout (fontconfig) keeps caches
 * until exit, which LeakSanitizer reports after an SVG/PNG/PDF; run with
 * LSAN_OPTIONS=suppressions=<prefix>/share/weft/lsan.supp (installed with
 * weft). */
#ifndef WEFT_VISUALIZE_H
#define WEFT_VISUALIZE_H

#include <stddef.h>

#include "graph.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct weft_visualize_opts {
  const char *rankdir; /* "TB" (default), "LR", "BT" or "RL" */
  const char *format;  /* "dot", "svg", "png", "pdf"; NULL: from the path */
} weft_visualize_opts;

void weft_visualize_opts_init(weft_visualize_opts *opts);

/* The DOT text of the subgraph that `nodes` need (n == 0: the whole graph)
 * in a malloc'd NUL-terminated string the caller frees. Errors: WEFT_EINVAL,
 * WEFT_EGRAPH, WEFT_ENOMEM (message in weft_graph_error). */
int weft_graph_to_dot(weft_graph *g, size_t n, weft_node *const nodes[],
                      const weft_visualize_opts *opts, char **dot);

/* Writes the picture to path. WEFT_ENOTSUP when the format needs Graphviz
 * and this build has none; WEFT_EIO when the file cannot be written. */
int weft_visualize(weft_graph *g, size_t n, weft_node *const nodes[],
                   const char *path, const weft_visualize_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
