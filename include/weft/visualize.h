/* weft/visualize.h - pictures of task graphs (Dask's .visualize()).
 *
 * Writes the graph that computing `nodes` would run as Graphviz DOT; through
 * the Graphviz library it renders SVG, PNG or PDF. Tasks are ellipses
 * labelled with their function; results are boxes. After a compute traced
 * with a weft_trace (weft/diag.h), tasks can show how long they took and
 * the bytes of their results; tasks can be coloured by function; a graph of
 * more than max_tasks tasks is drawn summarised: one node per function
 * ("inc x1000"), edges between functions labelled with how many task edges
 * they stand for.
 *
 * Under LeakSanitizer: Graphviz's text layout (fontconfig) keeps caches
 * until exit, which LeakSanitizer reports after an SVG/PNG/PDF; run with
 * LSAN_OPTIONS=suppressions=<prefix>/share/weft/lsan.supp (installed with
 * weft). */
#ifndef WEFT_VISUALIZE_H
#define WEFT_VISUALIZE_H

#include <stddef.h>

#include "graph.h"

struct weft_trace;

#ifdef __cplusplus
extern "C" {
#endif

typedef struct weft_visualize_opts {
  const char *rankdir; /* "TB" (default), "LR", "BT" or "RL" */
  const char *format;  /* "dot", "svg", "png", "pdf"; NULL: from the path */
  int color;           /* nonzero: tasks filled with a colour per function
                          (the colours of the task stream) */
  const struct weft_trace *trace; /* annotate each task with its duration
                          and result bytes from the trace's last compute of
                          this graph (tasks it did not run: no note) */
  size_t max_tasks;    /* more tasks than this are drawn summarised by
                          function; 0: 500 */
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
