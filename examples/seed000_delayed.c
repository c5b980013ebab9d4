/* seed000_delayed.c - seed 000 (asynchronous computing with dask.delayed):
 *
 *   @dask.delayed
 *   def ma_fonction(x, y=1): ...        # something that takes time
 *   x = ma_fonction(3)
 *   y = ma_fonction(x)
 *   z = x + y
 *   valeur_z = z.compute()
 *   z_val, x_val = dask.compute(z, x)
 *   z.visualize()
 *
 * in C: WEFT_DELAYED is the decorator, weft_call builds a task without
 * running it, weft_add is the `+` of two delayed values, weft_compute1 is
 * .compute() and weft_compute(g, WEFT_NODES(z, x), ...) is dask.compute(z, x)
 * (x, needed by both, runs once). A call counter shows that building runs
 * nothing and that the computation only runs what it needs. The picture of z
 * goes to seed000_graph.svg and seed000_graph.dot. */
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "weft.h"

/* How many times ma_fonction really ran, counted from the event stream
 * that every scheduler publishes in this process (tasks may run in worker
 * processes, where a counter in the function would not be seen). */
static atomic_int calls;

/* "Faire des trucs qui prennent du temps ici": here, 5 ms of sleep. */
static long ma_fonction(long x, long y) {
  struct timespec ts = {0, 5 * 1000 * 1000};
  nanosleep(&ts, NULL);
  return x * x + y;
}
WEFT_DELAYED(ma_fonction, long, long, long); /* the @dask.delayed line */

static void count_calls(const weft_event *ev, void *ud) {
  (void)ud;
  if (ev->kind == WEFT_EV_TASK_END && ev->fn == WEFT_FN(ma_fonction))
    atomic_fetch_add(&calls, 1);
}

static int check(const char *what, long got, long want) {
  if (got == want)
    return 1;
  fprintf(stderr, "seed000_delayed: %s is %ld, expected %ld\n", what, got,
          want);
  return 0;
}

int weft_example_seed000_delayed(void) {
  int ok = 1;
  atomic_store(&calls, 0);
  weft_listener counter = {count_calls, NULL, NULL};
  weft_compute_opts opts; /* defaults: WEFT_SCHEDULER may still choose */
  weft_compute_opts_init(&opts);
  opts.listener = &counter;
  weft_graph *g = weft_graph_new();
  if (!g)
    return 1;
  /* C has no default arguments: y=1 is written out. */
  weft_node *x = weft_call(g, ma_fonction, 3, 1); /* x = ma_fonction(3) */
  weft_node *y = weft_call(g, ma_fonction, x, 1); /* y = ma_fonction(x) */
  weft_node *z = weft_add(g, x, y);               /* z = x + y */
  /* Dask names tasks by keys; naming them x, y and z labels the picture. */
  weft_node_set_key(g, x, "x");
  weft_node_set_key(g, y, "y");
  weft_node_set_key(g, z, "z");
  printf("graph built: %zu tasks, ma_fonction ran %d times\n",
         weft_graph_size(g), atomic_load(&calls));
  ok &= check("the number of calls before compute", atomic_load(&calls), 0);

  /* valeur_z = z.compute() */
  weft_value valeur_z;
  if (weft_compute1(g, z, &valeur_z, &opts)) {
    fprintf(stderr, "compute failed: %s\n", weft_graph_error(g));
    weft_graph_free(g);
    return 1;
  }
  printf("valeur_z = z.compute()          -> %ld (ma_fonction ran %d times)\n",
         (long)valeur_z.as.i, atomic_load(&calls));
  ok &= check("valeur_z", (long)valeur_z.as.i, 111); /* 3*3+1 = 10; 10*10+1 */
  ok &= check("the number of calls", atomic_load(&calls), 2);

  /* z_val, x_val = dask.compute(z, x): x is shared, so it runs once. */
  weft_value z_val, x_val;
  if (weft_compute(g, WEFT_NODES(z, x), WEFT_OUT(&z_val, &x_val), &opts)) {
    fprintf(stderr, "compute failed: %s\n", weft_graph_error(g));
    weft_graph_free(g);
    return 1;
  }
  printf("z_val, x_val = compute(z, x)    -> %ld, %ld (ma_fonction ran %d "
         "times in all)\n",
         (long)z_val.as.i, (long)x_val.as.i, atomic_load(&calls));
  ok &= check("z_val", (long)z_val.as.i, 111);
  ok &= check("x_val", (long)x_val.as.i, 10);
  ok &= check("the number of calls", atomic_load(&calls), 4);
  ok &= valeur_z.type == WEFT_T_INT && z_val.type == WEFT_T_INT &&
        x_val.type == WEFT_T_INT;

  /* z.visualize(): the picture, and its DOT text beside it. */
  int rc = weft_visualize(g, 1, &z, "seed000_graph.svg", NULL);
  if (rc == WEFT_ENOTSUP)
    printf("(this weft has no Graphviz: only seed000_graph.dot is written)\n");
  else if (rc) {
    fprintf(stderr, "picture failed: %s\n", weft_graph_error(g));
    ok = 0;
  } else {
    printf("graph picture: seed000_graph.svg\n");
  }
  if (weft_visualize(g, 1, &z, "seed000_graph.dot", NULL)) {
    fprintf(stderr, "DOT failed: %s\n", weft_graph_error(g));
    ok = 0;
  }
  weft_graph_free(g);
  return ok ? 0 : 1;
}

#ifndef WEFT_EXAMPLE_NO_MAIN
int main(void) { return weft_example_seed000_delayed(); }
#endif
