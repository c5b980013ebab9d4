/* seed000_exercise.c - seed 000 (asynchronous computing, the course's
 * exercise): "(3 + 7) * (2 + 8) * ((2 * 3) - 1)" as a task graph.
 *
 * Built with weft's arithmetic nodes, one task per operator, exactly the
 * graph Dask makes of the same expression: three independent products at
 * the bottom (3 + 7, 2 + 8, 2 * 3), then (10 * 10) and (6 - 1), then the
 * last product. Nothing runs until weft_compute; the result must be 500.
 * The picture goes to exercise.svg, laid out left to right (rankdir LR),
 * or to exercise.dot when this weft has no Graphviz. */
#include <stdio.h>
#include <string.h>

#include "weft.h"

int weft_example_seed000_exercise(void) {
  weft_graph *g = weft_graph_new();
  if (!g)
    return 1;
  weft_node *a = weft_add(g, 3, 7); /* nothing runs yet */
  weft_node *b = weft_add(g, 2, 8);
  weft_node *c = weft_mul(g, 2, 3);
  weft_node *d = weft_sub(g, c, 1);
  weft_node *ab = weft_mul(g, a, b); /* Python evaluates left to right */
  weft_node *total = weft_mul(g, ab, d);
  printf("(3 + 7) * (2 + 8) * ((2 * 3) - 1): a graph of %zu tasks, "
         "none run yet\n",
         weft_graph_size(g));

  weft_value v;
  int rc = weft_compute1(g, total, &v, NULL);
  if (rc) {
    fprintf(stderr, "compute failed: %s\n", weft_graph_error(g));
    weft_graph_free(g);
    return 1;
  }
  char text[64];
  weft_value_format(&v, text, sizeof text);
  printf("result: %s\n", text);
  int ok = v.type == WEFT_T_INT && v.as.i == 500;
  weft_value_release(&v);
  if (!ok)
    fprintf(stderr, "seed000_exercise: expected 500, got %s\n", text);

  /* The picture, as total.visualize(rankdir="LR") draws it. */
  weft_visualize_opts vo;
  weft_visualize_opts_init(&vo);
  vo.rankdir = "LR";
  const char *file = "exercise.svg";
  rc = weft_visualize(g, 1, &total, file, &vo);
  if (rc == WEFT_ENOTSUP) { /* built without Graphviz: DOT text instead */
    file = "exercise.dot";
    rc = weft_visualize(g, 1, &total, file, &vo);
  }
  if (rc) {
    fprintf(stderr, "picture failed: %s\n", weft_graph_error(g));
    ok = 0;
  } else {
    printf("graph picture: %s\n", file);
  }
  weft_graph_free(g);
  return ok ? 0 : 1;
}

#ifndef WEFT_EXAMPLE_NO_MAIN
int main(void) { return weft_example_seed000_exercise(); }
#endif
