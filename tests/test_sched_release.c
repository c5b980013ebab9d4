/* test_sched_release.c - intermediate results are freed as soon as no
 * remaining task needs them (Dask's "release intermediate results"), on
 * every scheduler.
 *
 * Every task here makes a counted heap value: the destructor counts, so the
 * test sees how many values are alive at any moment (the peak), how many
 * were made and freed. A chain and a map-reduce tree of 10,000 such tasks
 * must run with only a handful alive at once; every value is freed by the
 * end except the outputs, which survive until the caller releases them; a
 * value read by a thousand consumers lives until the last one has run, and
 * is freed exactly once. */
#include "exec_scheds.h"

/* Peak bounds: sync runs depth-first, so a reduction tree holds about one
 * value per level (log2(5000) = 13) plus the one being made; the parallel
 * schedulers hold such a frontier per piece of work they split off. */
#define PEAK_SYNC 64
#define PEAK_THREADS 256

/* ---- task functions: each makes one counted value ---- */

static int make(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  (void)n;
  return tu_tracked_new(out, a[0].as.i) ? weft_fail(ctx, "no memory") : 0;
}
WEFT_REGISTER_ARITY(make, 1);

/* The sum of the payloads of all arguments, plus the last literal int
 * arguments, as a new counted value. A freed input reads as poisoned. */
static int combine(weft_task_ctx *ctx, const weft_value *a, size_t n,
                   weft_value *out) {
  int64_t s = 0;
  for (size_t k = 0; k < n; k++) {
    if (a[k].type == WEFT_T_INT) {
      s += a[k].as.i;
      continue;
    }
    int64_t p = tu_tracked_get(&a[k]);
    if (p < 0)
      return weft_fail(ctx, "argument %zu is freed or not counted (%lld)",
                       k + 1, (long long)p);
    s += p;
  }
  return tu_tracked_new(out, s) ? weft_fail(ctx, "no memory") : 0;
}
WEFT_REGISTER(combine);

/* Reads a counted value without making one. */
static int peek(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  (void)n;
  int64_t p = tu_tracked_get(&a[0]);
  if (p < 0)
    return weft_fail(ctx, "input freed too early (%lld)", (long long)p);
  *out = weft_int(p + a[1].as.i);
  return 0;
}
WEFT_REGISTER_ARITY(peek, 2);

/* Computes `out` of g on c and checks the released-values book-keeping:
 * the output's payload, how many were made, the peak, and that only the
 * output is alive afterwards. */
static void run_counted(weft_graph *g, weft_node *out, const tu_sched *c,
                        int64_t want_payload, long want_made, long peak_max,
                        const char *what) {
  tu_track_reset();
  weft_compute_opts o = opts_for(c);
  weft_value v = weft_none();
  int rc = tu_compute1(g, out, &v, &o);
  if (rc)
    fail_msg("[%s] %s: %s: %s", c->name, what, tu_err_name(rc),
             rc == TU_HUNG ? "" : weft_graph_error(g));
  long made = atomic_load(&tu_made), peak = atomic_load(&tu_peak),
       live = atomic_load(&tu_live);
  print_message("[%s] %s: %ld values made, at most %ld alive at once\n",
                c->name, what, made, peak);
  assert_i64(tu_tracked_get(&v), want_payload); /* the output survives */
  assert_i64(made, want_made);
  assert_i64(live, 1); /* only the output */
  assert_le(peak, peak_max);
  weft_value_release(&v);
  assert_i64(atomic_load(&tu_live), 0);
  assert_i64(atomic_load(&tu_freed), want_made);
}

/* ---- a chain of 10,000 ---- */

static void test_chain(void **state) {
  (void)state;
  const int N = 10000;
  weft_graph *g = weft_graph_new();
  weft_node *prev = weft_call(g, make, 0);
  for (int k = 1; k < N; k++)
    prev = weft_call(g, combine, prev, 1);
  for (size_t c = 0; c < NSCHEDS; c++)
    run_counted(g, prev, &scheds[c], N - 1, N, 3, "chain of 10000");
  weft_graph_free(g);
}

/* ---- map-reduce: 5,000 leaves, a binary reduction tree, a final step:
 * 10,000 tasks ---- */

static weft_node *reduce_tree(weft_graph *g, weft_node **level, int n) {
  while (n > 1) {
    int m = 0;
    for (int k = 0; k + 1 < n; k += 2)
      level[m++] = weft_call(g, combine, level[k], level[k + 1]);
    if (n % 2)
      level[m++] = level[n - 1];
    n = m;
  }
  return level[0];
}

static void test_map_reduce(void **state) {
  (void)state;
  const int LEAVES = 5000;
  weft_graph *g = weft_graph_new();
  weft_node **level = malloc(LEAVES * sizeof *level);
  assert_non_null(level);
  int64_t want = 0;
  for (int k = 0; k < LEAVES; k++) {
    level[k] = weft_call(g, make, k);
    want += k;
  }
  weft_node *root = reduce_tree(g, level, LEAVES);
  weft_node *fin = weft_call(g, combine, root, 0);
  assert_int_equal(weft_graph_size(g), 10000);
  for (size_t c = 0; c < NSCHEDS; c++)
    run_counted(g, fin, &scheds[c], want, 10000,
                scheds[c].scheduler == WEFT_SCHED_SYNC ? PEAK_SYNC
                                                       : PEAK_THREADS,
                "map-reduce of 10000");
  free(level);
  weft_graph_free(g);
}

/* map, transform, reduce: leaf -> map -> tree; the leaf's value goes as
 * soon as its map has run */
static void test_map_transform_reduce(void **state) {
  (void)state;
  const int LEAVES = 3333;
  weft_graph *g = weft_graph_new();
  weft_node **level = malloc(LEAVES * sizeof *level);
  assert_non_null(level);
  int64_t want = 0;
  for (int k = 0; k < LEAVES; k++) {
    level[k] = weft_call(g, combine, weft_call(g, make, k), 1000);
    want += k + 1000;
  }
  weft_node *root = reduce_tree(g, level, LEAVES);
  long nodes = (long)weft_graph_size(g);
  for (size_t c = 0; c < NSCHEDS; c++)
    run_counted(g, root, &scheds[c], want, nodes,
                scheds[c].scheduler == WEFT_SCHED_SYNC ? PEAK_SYNC
                                                       : PEAK_THREADS,
                "map-transform-reduce");
  free(level);
  weft_graph_free(g);
}

/* ---- one value, a thousand readers ---- */

static void test_fan_out(void **state) {
  (void)state;
  const int READERS = 1000;
  weft_graph *g = weft_graph_new();
  weft_node *root = weft_call(g, make, 777);
  weft_node **rd = malloc(READERS * sizeof *rd);
  assert_non_null(rd);
  int64_t want = 0;
  for (int k = 0; k < READERS; k++) {
    rd[k] = weft_call(g, peek, root, k);
    want += 777 + k;
  }
  weft_node *total = weft_sum(g, (size_t)READERS, rd);
  for (size_t c = 0; c < NSCHEDS; c++) {
    tu_track_reset();
    weft_compute_opts o = opts_for(&scheds[c]);
    weft_value v;
    int rc = tu_compute1(g, total, &v, &o);
    if (rc)
      fail_msg("[%s] fan-out: %s: %s", scheds[c].name, tu_err_name(rc),
               rc == TU_HUNG ? "" : weft_graph_error(g));
    assert_int_value(v, want);
    assert_i64(atomic_load(&tu_made), 1);
    assert_i64(atomic_load(&tu_freed), 1); /* once, after the last reader */
    assert_i64(atomic_load(&tu_live), 0);
  }
  free(rd);
  weft_graph_free(g);
}

/* ---- outputs survive; intermediate outputs too ---- */

static void test_outputs_survive(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_node *a = weft_call(g, make, 1);
  weft_node *b = weft_call(g, combine, a, 10);
  weft_node *c2 = weft_call(g, combine, b, 100);
  weft_node *d = weft_call(g, combine, c2, 1000);
  for (size_t c = 0; c < NSCHEDS; c++) {
    tu_track_reset();
    weft_compute_opts o = opts_for(&scheds[c]);
    weft_value bv = weft_none(), dv = weft_none(), bv2 = weft_none();
    /* b is an output and an input of c2; asked for twice */
    assert_rc(
        0, tu_compute(g, WEFT_NODES(d, b, b), WEFT_OUT(&dv, &bv, &bv2), &o), g);
    assert_i64(tu_tracked_get(&dv), 1111);
    assert_i64(tu_tracked_get(&bv), 11);
    assert_i64(tu_tracked_get(&bv2), 11);
    assert_i64(atomic_load(&tu_made), 4);
    assert_i64(atomic_load(&tu_live), 2); /* d and b: a and c2 are freed */
    weft_value_release(&bv);
    assert_i64(atomic_load(&tu_live), 2); /* bv2 still holds b */
    weft_value_release(&bv2);
    weft_value_release(&dv);
    assert_i64(atomic_load(&tu_live), 0);
    /* the graph holds no result between computes */
    weft_value av = weft_none();
    assert_rc(0, tu_compute1(g, a, &av, &o), g);
    assert_i64(atomic_load(&tu_live), 1);
    weft_value_release(&av);
    assert_i64(atomic_load(&tu_live), 0);
  }
  weft_graph_free(g);
}

/* ---- consumers that are not needed do not keep a value alive ---- */

static void test_culled_consumer(void **state) {
  (void)state;
  for (int first = 0; first < 2; first++) {
    weft_graph *g = weft_graph_new();
    weft_node *x = weft_call(g, make, 5);
    weft_node *y = NULL, *unused = NULL;
    /* the needed consumer first, or the unneeded one first */
    if (first == 0) {
      y = weft_call(g, combine, x, 1);
      unused = weft_call(g, combine, x, 2);
    } else {
      unused = weft_call(g, combine, x, 2);
      y = weft_call(g, combine, x, 1);
    }
    assert_non_null(unused);
    weft_node *z = weft_call(g, combine, y, 10);
    for (size_t c = 0; c < NSCHEDS; c++) {
      char what[64];
      snprintf(what, sizeof what, "culled consumer %s",
               first ? "first" : "second");
      run_counted(g, z, &scheds[c], 16, 3, 3, what);
    }
    weft_graph_free(g);
  }
}

/* ---- the same value twice as an argument: freed once ---- */

static void test_repeated_argument(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_node *x = weft_call(g, make, 21);
  weft_node *y = weft_call(g, combine, x, x);       /* 42 */
  weft_node *z = weft_call(g, combine, y, x, y, 0); /* 105 */
  for (size_t c = 0; c < NSCHEDS; c++)
    run_counted(g, z, &scheds[c], 105, 3, 3, "repeated arguments");
  weft_graph_free(g);
}

int main(void) {
  tu_watchdog(115);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_chain),
      cmocka_unit_test(test_map_reduce),
      cmocka_unit_test(test_map_transform_reduce),
      cmocka_unit_test(test_fan_out),
      cmocka_unit_test(test_outputs_survive),
      cmocka_unit_test(test_culled_consumer),
      cmocka_unit_test(test_repeated_argument),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
