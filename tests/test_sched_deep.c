/* test_sched_deep.c - values nested a million levels deep, on every
 * scheduler (issue 12.1): a chain of 1,000,000 weft_list nodes computes on
 * sync and threads, the result equals a list built by a plain loop (and
 * differs from one with another leaf), prints whole (checked character by
 * character), and is released, as is the graph; a deep literal frees with
 * its graph. On procs the value cannot cross the wire (64 levels): the
 * compute fails with the documented message, word for word, and nothing
 * leaks. Computes run on tu_compute's helper thread, whose stack is the
 * default one: any recursion through the levels would overflow it. */
#include "testutil.h"

/* A million levels; ThreadSanitizer, which looks for races and not for
 * depth, runs 200,000 (still far past any stack's reach by recursion). */
#define DEPTH (TU_TSAN ? 200000 : 1000000)

static const tu_sched scheds[] = {
    {"sync", WEFT_SCHED_SYNC, 1, false},
    {"threads-2", WEFT_SCHED_THREADS, 2, false},
    {"executor-4", WEFT_SCHED_THREADS, 4, true},
};
#define NSCHEDS (sizeof scheds / sizeof scheds[0])

/* [[[...[leaf]...]]], depth levels, by a plain loop. */
static weft_value nest(weft_value leaf, int depth) {
  weft_value v = leaf;
  for (int k = 0; k < depth; k++) {
    weft_value l;
    assert_ok(weft_list_new(&l, 1), NULL);
    assert_ok(weft_list_set(&l, 0, v), NULL);
    v = l;
  }
  return v;
}

/* x = 7; depth times x = weft_list(g, 1, &x) */
static weft_node *chain(weft_graph *g, int depth) {
  weft_node *x = weft_literal(g, weft_int(7));
  for (int k = 0; k < depth; k++)
    x = weft_list(g, 1, &x);
  assert_non_null(x);
  return x;
}

/* The printed form: depth '[', the leaf, depth ']'. */
static void check_text(const weft_value *v, int depth, const char *leaf) {
  size_t n = weft_value_format(v, NULL, 0);
  size_t ll = strlen(leaf);
  assert_int_equal(n, 2 * (size_t)depth + ll);
  char *buf = malloc(n + 1);
  assert_non_null(buf);
  assert_int_equal(weft_value_format(v, buf, n + 1), n);
  size_t bad = n;
  for (size_t i = 0; i < n && bad == n; i++) {
    char want = i < (size_t)depth        ? '['
                : i < (size_t)depth + ll ? leaf[i - (size_t)depth]
                                         : ']';
    if (buf[i] != want)
      bad = i;
  }
  if (bad != n)
    fail_msg("printed text differs at character %zu", bad);
  assert_int_equal(buf[n], '\0');
  free(buf);
  /* a short buffer gets the start, NUL-terminated, and the full length */
  char small[8];
  assert_int_equal(weft_value_format(v, small, sizeof small), n);
  assert_string_equal(small, "[[[[[[[");
}

static void test_deep_threads_sync(void **state) {
  (void)state;
  weft_executor *ex4;
  assert_ok(weft_executor_new(4, &ex4), NULL);
  weft_value want = nest(weft_int(7), DEPTH);
  weft_value other = nest(weft_int(8), DEPTH);
  weft_value shorter = nest(weft_int(7), DEPTH - 1);
  for (size_t c = 0; c < NSCHEDS; c++) {
    print_message("scheduler %s\n", scheds[c].name);
    weft_graph *g = weft_graph_new();
    weft_node *top = chain(g, DEPTH);
    weft_compute_opts o = tu_opts(&scheds[c], ex4);
    weft_value v;
    assert_ok(tu_compute1(g, top, &v, &o), g);
    assert_type(v, WEFT_T_LIST);
    assert_true(weft_value_equal(&v, &want));
    assert_true(weft_value_equal(&want, &v));
    assert_false(weft_value_equal(&v, &other));
    assert_false(weft_value_equal(&v, &shorter));
    check_text(&v, DEPTH, "7");
    if (c == 0) { /* again: the graph's results were released in between */
      weft_value v2;
      assert_ok(tu_compute1(g, top, &v2, &o), g);
      assert_true(weft_value_equal(&v, &v2));
      weft_value_release(&v2);
    }
    weft_graph_free(g); /* the result outlives its graph */
    weft_value_release(&v);
  }
  weft_value_release(&want);
  weft_value_release(&other);
  weft_value_release(&shorter);
  weft_executor_free(ex4);
}

/* A deep value held by the graph itself (a literal argument): freeing the
 * graph, computed or not, releases it. */
static void test_deep_literal(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_value leaf;
  assert_ok(weft_str_new(&leaf, "x"), NULL);
  weft_node *lit = weft_literal(g, nest(leaf, DEPTH));
  assert_non_null(lit);
  weft_graph_free(g);

  g = weft_graph_new();
  weft_node *l2 = weft_literal(g, nest(weft_int(1), DEPTH));
  weft_node *wrap = weft_list(g, 1, &l2);
  weft_compute_opts o = tu_opts(&scheds[1], NULL);
  weft_value v;
  assert_ok(tu_compute1(g, wrap, &v, &o), g);
  check_text(&v, DEPTH + 1, "1");
  weft_graph_free(g);
  weft_value_release(&v);
}

/* On procs, lists cross to and from workers through the wire format, which
 * nests 64 levels: the 65th level cannot leave its worker, and the message
 * says where, shortened honestly. */
static void test_deep_procs(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_node *top = chain(g, DEPTH);
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.scheduler = WEFT_SCHED_PROCS;
  o.workers = 2;
  o.ignore_env = 1;
  weft_value v;
  int rc = tu_compute1(g, top, &v, &o);
  print_message("procs: %s\n", weft_graph_error(g));
  /* a task failure is WEFT_ETASK; the task's own code says why */
  assert_rc(WEFT_ETASK, rc, g);
  assert_rc(WEFT_ENOTSUP, weft_graph_task_code(g), g);
  assert_type(v, WEFT_T_NONE);
  assert_string_equal(
      weft_graph_error(g),
      "task 'list-65' (weft.list) failed: its result cannot leave the worker "
      "process: lists and dicts nested deeper than 64 levels (or one that "
      "contains itself) cannot be serialised at [0][0][0][0] ... (56 more) "
      "... [0][0][0][0]");
  weft_graph_free(g);
}

int main(void) {
  tu_watchdog(300);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_deep_threads_sync),
      cmocka_unit_test(test_deep_literal),
      cmocka_unit_test(test_deep_procs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
