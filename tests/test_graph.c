/* test_graph.c - building graphs with the delayed API (weft/graph.h) and
 * computing them: seed 000 in C with proof that shared work runs once, the
 * exercise (3+7)*(2+8)*((2*3)-1), the built-in arithmetic against values
 * worked out by hand with Python's rules, misuse (NULL graph, NULL node,
 * node of another graph, sticky build errors), keys, weft_ref forward
 * references (defined later, undefined, cycles), culling, computing twice,
 * zero-argument tasks, literals, and a million-node build as a sanity bound.
 *
 * The graph-level behaviour is checked on the sync scheduler, on a fresh
 * thread pool and on a reused executor. */
#include "testutil.h"

#include <math.h>

static const tu_sched scheds[] = {
    {"sync", WEFT_SCHED_SYNC, 1, false},
    {"threads-2", WEFT_SCHED_THREADS, 2, false},
    {"executor-3", WEFT_SCHED_THREADS, 3, true},
};
#define NSCHEDS (sizeof scheds / sizeof scheds[0])
static weft_executor *ex3;

static int setup(void **state) {
  (void)state;
  return weft_executor_new(3, &ex3);
}
static int teardown(void **state) {
  (void)state;
  if (!tu_stuck()) /* a hung compute may hold it */
    weft_executor_free(ex3);
  return 0;
}

/* Computes n on configuration c; the result must come out. */
static weft_value run1(weft_graph *g, weft_node *n, const tu_sched *c) {
  weft_compute_opts o = tu_opts(c, ex3);
  weft_value v = weft_none();
  int rc = tu_compute1(g, n, &v, &o);
  if (rc)
    fail_msg("[%s] compute failed: %s: %s", c->name, tu_err_name(rc),
             weft_graph_error(g));
  return v;
}

/* ---- seed 000: x = f(3); y = f(x); z = x + y ---- */

static _Atomic int inc_calls;
static long inc(long x) {
  atomic_fetch_add(&inc_calls, 1);
  return x + 1;
}
WEFT_DELAYED(inc, long, long);

static void test_seed000(void **state) {
  (void)state;
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_graph *g = weft_graph_new();
    assert_non_null(g);
    atomic_store(&inc_calls, 0);
    weft_node *x = weft_call(g, inc, 3);
    weft_node *y = weft_call(g, inc, x);
    weft_node *z = weft_add(g, x, y);
    assert_non_null(z);
    assert_int_equal(weft_graph_size(g), 3);
    assert_int_equal(atomic_load(&inc_calls), 0); /* lazy: nothing ran */
    weft_value zv = run1(g, z, &scheds[c]);
    assert_int_value(zv, 9);
    assert_int_equal(atomic_load(&inc_calls), 2);
    /* dask.compute(z, x): x is shared, and runs once */
    atomic_store(&inc_calls, 0);
    weft_value xv = weft_none();
    zv = weft_none();
    weft_compute_opts o = tu_opts(&scheds[c], ex3);
    assert_ok(tu_compute(g, WEFT_NODES(z, x), WEFT_OUT(&zv, &xv), &o), g);
    assert_int_value(zv, 9);
    assert_int_value(xv, 4);
    assert_int_equal(atomic_load(&inc_calls), 2);
    /* x alone: only x runs */
    atomic_store(&inc_calls, 0);
    assert_int_value(run1(g, x, &scheds[c]), 4);
    assert_int_equal(atomic_load(&inc_calls), 1);
    weft_graph_free(g);
  }
}

/* ---- the exercise ---- */

static void test_exercise_500(void **state) {
  (void)state;
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_graph *g = weft_graph_new();
    weft_node *r =
        weft_mul(g, weft_mul(g, weft_add(g, 3, 7), weft_add(g, 2, 8)),
                 weft_sub(g, weft_mul(g, 2, 3), 1));
    assert_non_null(r);
    assert_int_equal(weft_graph_size(g), 6);
    weft_graph_info gi;
    assert_ok(weft_graph_inspect(g, &gi), g);
    /* 6 binary operations: 12 argument slots, 5 of them nodes */
    assert_int_equal(gi.nodes, 6);
    assert_int_equal(gi.args, 12);
    assert_int_equal(gi.deps, 5);
    assert_true(gi.node_bytes > 0 && gi.node_bytes <= 64);
    assert_true(gi.bytes >= 6 * gi.node_bytes + 12 * sizeof(weft_value));
    assert_int_value(run1(g, r, &scheds[c]), (3 + 7) * (2 + 8) * ((2 * 3) - 1));
    assert_int_value(run1(g, r, &scheds[c]), 500);
    weft_graph_free(g);
  }
}

/* ---- built-in arithmetic with Python's rules ---- */

enum { R_INT, R_DBL, R_FAIL };
typedef struct arith_case {
  const char *text; /* the Python expression, for messages */
  weft_op op;
  weft_value a, b;
  int kind;
  int64_t i;
  double d;
  const char *msg; /* R_FAIL: part of the message */
} arith_case;

#define I(x)                                                                   \
  {                                                                            \
    WEFT_T_INT, 0, { .i = (x) }                                                \
  }
#define D(x)                                                                   \
  {                                                                            \
    WEFT_T_DOUBLE, 0, { .d = (x) }                                             \
  }
#define B(x)                                                                   \
  {                                                                            \
    WEFT_T_BOOL, 0, { .b = (x) }                                               \
  }
static const arith_case arith_cases[] = {
    {"2 + 3", WEFT_OP_ADD, I(2), I(3), R_INT, 5, 0, NULL},
    {"1 + 2.5", WEFT_OP_ADD, I(1), D(2.5), R_DBL, 0, 3.5, NULL},
    {"True + True", WEFT_OP_ADD, B(true), B(true), R_INT, 2, 0, NULL},
    {"INT64_MAX + 1", WEFT_OP_ADD, I(INT64_MAX), I(1), R_FAIL, 0, 0,
     "overflow"},
    {"INT64_MIN - 1", WEFT_OP_SUB, I(INT64_MIN), I(1), R_FAIL, 0, 0,
     "overflow"},
    {"5 - 7.5", WEFT_OP_SUB, I(5), D(7.5), R_DBL, 0, -2.5, NULL},
    {"3 * 2.0", WEFT_OP_MUL, I(3), D(2.0), R_DBL, 0, 6.0, NULL},
    {"2**32 * 2**31", WEFT_OP_MUL, I(4294967296), I(2147483648), R_FAIL, 0, 0,
     "overflow"},
    {"-2**32 * 2**31", WEFT_OP_MUL, I(-4294967296), I(2147483648), R_INT,
     INT64_MIN, 0, NULL},
    {"7 / 2", WEFT_OP_DIV, I(7), I(2), R_DBL, 0, 3.5, NULL},
    {"6 / 3", WEFT_OP_DIV, I(6), I(3), R_DBL, 0, 2.0, NULL},
    {"-7 / 2", WEFT_OP_DIV, I(-7), I(2), R_DBL, 0, -3.5, NULL},
    {"1 / 4", WEFT_OP_DIV, I(1), I(4), R_DBL, 0, 0.25, NULL},
    {"5 / 0", WEFT_OP_DIV, I(5), I(0), R_FAIL, 0, 0, "division by zero"},
    {"5 / 0.0", WEFT_OP_DIV, I(5), D(0.0), R_FAIL, 0, 0, "zero"},
    {"7 // 2", WEFT_OP_FLOORDIV, I(7), I(2), R_INT, 3, 0, NULL},
    {"-7 // 2", WEFT_OP_FLOORDIV, I(-7), I(2), R_INT, -4, 0, NULL},
    {"7 // -2", WEFT_OP_FLOORDIV, I(7), I(-2), R_INT, -4, 0, NULL},
    {"-7 // -2", WEFT_OP_FLOORDIV, I(-7), I(-2), R_INT, 3, 0, NULL},
    {"6 // 3", WEFT_OP_FLOORDIV, I(6), I(3), R_INT, 2, 0, NULL},
    {"-6 // 3", WEFT_OP_FLOORDIV, I(-6), I(3), R_INT, -2, 0, NULL},
    {"5 // -1", WEFT_OP_FLOORDIV, I(5), I(-1), R_INT, -5, 0, NULL},
    {"INT64_MIN // -1", WEFT_OP_FLOORDIV, I(INT64_MIN), I(-1), R_FAIL, 0, 0,
     "overflow"},
    {"7.5 // 2", WEFT_OP_FLOORDIV, D(7.5), I(2), R_DBL, 0, 3.0, NULL},
    {"-7.5 // 2", WEFT_OP_FLOORDIV, D(-7.5), I(2), R_DBL, 0, -4.0, NULL},
    {"7 // 2.0", WEFT_OP_FLOORDIV, I(7), D(2.0), R_DBL, 0, 3.0, NULL},
    {"-1.0 // 0.1", WEFT_OP_FLOORDIV, D(-1.0), D(0.1), R_DBL, 0, -10.0, NULL},
    {"5 // 0", WEFT_OP_FLOORDIV, I(5), I(0), R_FAIL, 0, 0, "by zero"},
    {"5.0 // 0.0", WEFT_OP_FLOORDIV, D(5.0), D(0.0), R_FAIL, 0, 0, "by zero"},
    {"7 % 3", WEFT_OP_MOD, I(7), I(3), R_INT, 1, 0, NULL},
    {"-7 % 3", WEFT_OP_MOD, I(-7), I(3), R_INT, 2, 0, NULL},
    {"7 % -3", WEFT_OP_MOD, I(7), I(-3), R_INT, -2, 0, NULL},
    {"-7 % -3", WEFT_OP_MOD, I(-7), I(-3), R_INT, -1, 0, NULL},
    {"6 % -3", WEFT_OP_MOD, I(6), I(-3), R_INT, 0, 0, NULL},
    {"INT64_MIN % -1", WEFT_OP_MOD, I(INT64_MIN), I(-1), R_INT, 0, 0, NULL},
    {"-7.5 % 2", WEFT_OP_MOD, D(-7.5), I(2), R_DBL, 0, 0.5, NULL},
    {"7.5 % -2", WEFT_OP_MOD, D(7.5), I(-2), R_DBL, 0, -0.5, NULL},
    {"1.0 % 0.1", WEFT_OP_MOD, D(1.0), D(0.1), R_DBL, 0, 0.09999999999999995,
     NULL},
    {"-1.0 % 0.1", WEFT_OP_MOD, D(-1.0), D(0.1), R_DBL, 0,
     5.551115123125783e-17, NULL},
    {"5 % 0", WEFT_OP_MOD, I(5), I(0), R_FAIL, 0, 0, "by zero"},
    {"5.5 % 0.0", WEFT_OP_MOD, D(5.5), D(0.0), R_FAIL, 0, 0, "by zero"},
    {"2 ** 10", WEFT_OP_POW, I(2), I(10), R_INT, 1024, 0, NULL},
    {"10 ** 18", WEFT_OP_POW, I(10), I(18), R_INT, 1000000000000000000, 0,
     NULL},
    {"10 ** 19", WEFT_OP_POW, I(10), I(19), R_FAIL, 0, 0, "overflow"},
    {"2 ** 63", WEFT_OP_POW, I(2), I(63), R_FAIL, 0, 0, "overflow"},
    {"(-2) ** 63", WEFT_OP_POW, I(-2), I(63), R_INT, INT64_MIN, 0, NULL},
    {"(-1) ** INT64_MAX", WEFT_OP_POW, I(-1), I(INT64_MAX), R_INT, -1, 0, NULL},
    {"0 ** 0", WEFT_OP_POW, I(0), I(0), R_INT, 1, 0, NULL},
    {"2 ** -1", WEFT_OP_POW, I(2), I(-1), R_DBL, 0, 0.5, NULL},
    {"2.0 ** 3", WEFT_OP_POW, D(2.0), I(3), R_DBL, 0, 8.0, NULL},
    {"2.5 ** 2", WEFT_OP_POW, D(2.5), I(2), R_DBL, 0, 6.25, NULL},
    {"3 ** 0.5", WEFT_OP_POW, I(3), D(0.5), R_DBL, 0, 1.7320508075688772, NULL},
    {"0 ** -1", WEFT_OP_POW, I(0), I(-1), R_FAIL, 0, 0, "negative power"},
    {"(-8) ** 0.5", WEFT_OP_POW, I(-8), D(0.5), R_FAIL, 0, 0, "fractional"},
};

/* Computes every case of a table alone (sync); prints each wrong one and
 * returns how many were wrong. */
static int run_cases(const arith_case *cases, size_t n) {
  weft_compute_opts o = tu_opts(&scheds[0], NULL);
  int bad = 0;
  for (size_t k = 0; k < n; k++) {
    const arith_case *t = &cases[k];
    weft_graph *g = weft_graph_new();
    weft_node *nd = weft__binop(g, t->op, t->a, t->b);
    assert_non_null(nd);
    weft_value v = weft_none();
    int rc = tu_compute1(g, nd, &v, &o);
    char got[128];
    weft_value_format(&v, got, sizeof got);
    if (t->kind == R_FAIL) {
      if (rc != WEFT_ETASK || !strstr(weft_graph_error(g), t->msg)) {
        print_error("%s: got %s (%s, '%s'), expected a failure with '%s'\n",
                    t->text, got, tu_err_name(rc), weft_graph_error(g), t->msg);
        bad++;
      } else if (!strstr(weft_graph_error(g), weft_op_fn(t->op)->name)) {
        print_error("%s: message '%s' does not name the function %s\n", t->text,
                    weft_graph_error(g), weft_op_fn(t->op)->name);
        bad++;
      }
    } else if (rc != 0) {
      print_error("%s: failed (%s: %s)\n", t->text, tu_err_name(rc),
                  weft_graph_error(g));
      bad++;
    } else if (t->kind == R_INT && (v.type != WEFT_T_INT || v.as.i != t->i)) {
      print_error("%s = %s (%s), expected int %" PRId64 "\n", t->text, got,
                  weft_type_name(v.type), t->i);
      bad++;
    } else if (t->kind == R_DBL &&
               (v.type != WEFT_T_DOUBLE ||
                memcmp(&v.as.d, &t->d, sizeof(double)) != 0)) {
      print_error("%s = %s (%s %.17g), expected double %.17g\n", t->text, got,
                  weft_type_name(v.type), v.as.d, t->d);
      bad++;
    }
    weft_graph_free(g);
  }
  return bad;
}

static void test_arithmetic(void **state) {
  (void)state;
  assert_int_equal(
      run_cases(arith_cases, sizeof arith_cases / sizeof arith_cases[0]), 0);
}

/* Float floor division, where floor(a / b) and Python differ: Python's
 * a // b is the floor of the exact quotient, consistent with a % b (so
 * 1.0 // 0.1 == 9.0 because 1.0 % 0.1 == 0.09999999999999995, while
 * 1.0 / 0.1 rounds to 10.0). */
static const arith_case python_floordiv_cases[] = {
    {"1.0 // 0.1", WEFT_OP_FLOORDIV, D(1.0), D(0.1), R_DBL, 0, 9.0, NULL},
    {"2.0 // 0.2", WEFT_OP_FLOORDIV, D(2.0), D(0.2), R_DBL, 0, 9.0, NULL},
    {"4.0 // 0.4", WEFT_OP_FLOORDIV, D(4.0), D(0.4), R_DBL, 0, 9.0, NULL},
    {"3.0 // 0.3", WEFT_OP_FLOORDIV, D(3.0), D(0.3), R_DBL, 0, 10.0, NULL},
    {"-2.0 // 0.2", WEFT_OP_FLOORDIV, D(-2.0), D(0.2), R_DBL, 0, -10.0, NULL},
    /* where the exact-quotient floor needs CPython's final rounding step */
    {"0.6 // 0.01", WEFT_OP_FLOORDIV, D(0.6), D(0.01), R_DBL, 0, 59.0, NULL},
    {"35.2 // -0.3", WEFT_OP_FLOORDIV, D(35.2), D(-0.3), R_DBL, 0, -118.0,
     NULL},
    {"0.6 % 0.01", WEFT_OP_MOD, D(0.6), D(0.01), R_DBL, 0, 0.009999999999999966,
     NULL},
    {"35.2 % -0.3", WEFT_OP_MOD, D(35.2), D(-0.3), R_DBL, 0,
     -0.19999999999999585, NULL},
    /* signed zeros, as CPython gives them */
    {"6.0 % -3.0", WEFT_OP_MOD, D(6.0), D(-3.0), R_DBL, 0, -0.0, NULL},
    {"-6.0 % 3.0", WEFT_OP_MOD, D(-6.0), D(3.0), R_DBL, 0, 0.0, NULL},
    {"-0.0 // 1.0", WEFT_OP_FLOORDIV, D(-0.0), D(1.0), R_DBL, 0, -0.0, NULL},
    {"0.0 // -1.0", WEFT_OP_FLOORDIV, D(0.0), D(-1.0), R_DBL, 0, -0.0, NULL},
    {"-1e-300 // 1.0", WEFT_OP_FLOORDIV, D(-1e-300), D(1.0), R_DBL, 0, -1.0,
     NULL},
};

#undef I
#undef D
#undef B

static void test_float_floordiv_python(void **state) {
  (void)state;
  assert_int_equal(
      run_cases(python_floordiv_cases,
                sizeof python_floordiv_cases / sizeof python_floordiv_cases[0]),
      0);
}

/* Issue 7: an integer overflow names its operands for every operator. */
static void test_overflow_messages(void **state) {
  (void)state;
  const struct {
    weft_op op;
    int64_t x, y;
    const char *want;
  } cases[] = {
      {WEFT_OP_MUL, 4294967296, 2147483648,
       "integer overflow in 4294967296 * 2147483648"},
      {WEFT_OP_SUB, INT64_MIN, 1,
       "integer overflow in -9223372036854775808 - 1"},
      {WEFT_OP_ADD, INT64_MAX, 1, "integer overflow in 9223372036854775807 + 1"},
      {WEFT_OP_POW, 10, 19, "integer overflow in 10 ** 19"},
      {WEFT_OP_POW, 3, 40, "integer overflow in 3 ** 40"},
      {WEFT_OP_FLOORDIV, INT64_MIN, -1,
       "integer overflow in -9223372036854775808 // -1"},
  };
  weft_graph *g = weft_graph_new();
  weft_compute_opts o = tu_opts(&scheds[0], NULL);
  weft_value v;
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    weft_node *n = weft__binop(g, cases[k].op, weft_int(cases[k].x),
                               weft_int(cases[k].y));
    assert_rc(WEFT_ETASK, tu_compute1(g, n, &v, &o), g);
    assert_contains(weft_graph_error(g), cases[k].want);
  }
  weft_node *m = weft_neg(g, INT64_MIN);
  assert_rc(WEFT_ETASK, tu_compute1(g, m, &v, &o), g);
  assert_contains(weft_graph_error(g),
                  "integer overflow in -(-9223372036854775808)");
  weft_graph_free(g);
}

static void test_neg_sum_list(void **state) {
  (void)state;
  const tu_sched *c = &scheds[0];
  weft_graph *g = weft_graph_new();
  assert_int_value(run1(g, weft_neg(g, 5), c), -5);
  assert_double_value(run1(g, weft_neg(g, 2.5), c), -2.5);
  assert_int_value(run1(g, weft_neg(g, true), c), -1);
  weft_node *m = weft_neg(g, INT64_MIN);
  weft_value v;
  weft_compute_opts o = tu_opts(c, NULL);
  assert_rc(WEFT_ETASK, tu_compute1(g, m, &v, &o), g);
  assert_contains(weft_graph_error(g), "overflow");
  /* the symbols and the functions behind the operators */
  assert_string_equal(weft_op_symbol(WEFT_OP_FLOORDIV), "//");
  assert_string_equal(weft_op_symbol(WEFT_OP_POW), "**");
  assert_string_equal(weft_op_fn(WEFT_OP_MOD)->name, "weft.mod");
  assert_null(weft_op_fn(WEFT_OP__COUNT));
  /* operand types: a string is no number */
  weft_node *s = weft_add(g, "a", 1);
  assert_rc(WEFT_ETASK, tu_compute1(g, s, &v, &o), g);
  assert_contains(weft_graph_error(g), "'str'");

  /* sum and list */
  weft_node *items[5];
  for (int k = 0; k < 5; k++)
    items[k] = weft_mul(g, k, k);
  assert_int_value(run1(g, weft_sum(g, 5, items), c), 0 + 1 + 4 + 9 + 16);
  assert_int_value(run1(g, weft_sum(g, 0, NULL), c), 0);
  weft_node *mixed[2] = {items[3], weft_div(g, 1, 4)};
  assert_double_value(run1(g, weft_sum(g, 2, mixed), c), 9.25);
  weft_node *big[2] = {weft_add(g, INT64_MAX, 0), weft_add(g, 1, 0)};
  assert_rc(WEFT_ETASK, tu_compute1(g, weft_sum(g, 2, big), &v, &o), g);
  assert_contains(weft_graph_error(g), "overflow");
  weft_value l = run1(g, weft_list(g, 3, items), c);
  assert_type(l, WEFT_T_LIST);
  assert_int_equal(weft_value_len(&l), 3);
  assert_int_value(*weft_list_get(&l, 2), 4);
  weft_value_release(&l);
  /* a sum over 1000 nodes (variadic, heap argument array) */
  weft_node *many[1000];
  int64_t want = 0;
  for (int k = 0; k < 1000; k++) {
    many[k] = weft_add(g, k, 1000);
    want += k + 1000;
  }
  assert_int_value(run1(g, weft_sum(g, 1000, many), c), want);
  assert_ok(weft_graph_status(g), g);
  weft_graph_free(g);
}

/* ---- misuse ---- */

static void test_null_graph(void **state) {
  (void)state;
  tu_track_reset();
  weft_value t;
  assert_ok(tu_tracked_new(&t, 1), NULL);
  /* a NULL graph takes the arguments over (frees them) and gives NULL */
  assert_null(weft_call_fn(NULL, WEFT_FN(inc), 1, &t));
  assert_i64(atomic_load(&tu_live), 0);
  assert_ok(tu_tracked_new(&t, 2), NULL);
  assert_null(weft_literal(NULL, t));
  assert_i64(atomic_load(&tu_live), 0);
  assert_null(weft_call(NULL, inc, 1));
  assert_null(weft_add(NULL, 1, 2));
  assert_null(weft_ref(NULL, "k"));
  assert_null(weft_sum(NULL, 0, NULL));
  assert_null(weft_graph_find(NULL, "k"));
  assert_int_equal(weft_graph_size(NULL), 0);
  weft_graph_info gi;
  assert_rc(WEFT_EINVAL, weft_graph_inspect(NULL, &gi), NULL);
  assert_rc(WEFT_EINVAL, weft_graph_status(NULL), NULL);
  assert_non_null(weft_graph_error(NULL));
  assert_rc(WEFT_EINVAL, weft_node_set_key(NULL, NULL, "k"), NULL);
  weft_value v = weft_int(3);
  weft_node *fake = (weft_node *)(uintptr_t)1;
  assert_rc(WEFT_EINVAL, tu_compute1(NULL, fake, &v, NULL), NULL);
  assert_int_equal(weft_node_index(NULL, fake), -1);
  weft_graph_free(NULL);
}

static void test_null_node(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_node *ok = weft_call(g, inc, 1);
  weft_node *none = NULL;
  assert_null(weft_add(g, ok, none)); /* argument 2 is NULL */
  assert_rc(WEFT_EINVAL, weft_graph_status(g), g);
  assert_contains(weft_graph_error(g), "argument 2");
  assert_contains(weft_graph_error(g), "NULL");
  /* sticky: the next call fails, and computing anything reports it */
  assert_null(weft_call(g, inc, 2));
  weft_value v = weft_int(1);
  assert_rc(WEFT_EINVAL, tu_compute1(g, ok, &v, NULL), g);
  assert_type(v, WEFT_T_NONE);
  assert_contains(weft_graph_error(g), "argument 2");
  weft_graph_free(g);

  g = weft_graph_new();
  assert_null(weft_call(g, inc, none)); /* argument 1 */
  assert_contains(weft_graph_error(g), "argument 1");
  assert_contains(weft_graph_error(g), "inc");
  weft_graph_free(g);

  /* a failed call's NULL used as an argument later: the first error stays */
  g = weft_graph_new();
  weft_node *bad = weft_call(g, inc, 1, 2); /* arity */
  assert_null(bad);
  assert_null(weft_add(g, bad, 1));
  assert_rc(WEFT_EARITY, weft_graph_status(g), g);
  weft_graph_free(g);

  /* compute's own argument checks */
  g = weft_graph_new();
  ok = weft_call(g, inc, 1);
  assert_rc(WEFT_EINVAL, tu_compute1(g, NULL, &v, NULL), g);
  assert_contains(weft_graph_error(g), "NULL");
  assert_rc(WEFT_EINVAL, tu_compute1(g, ok, NULL, NULL), g);
  assert_rc(WEFT_EINVAL,
            tu_compute(g, 2, (weft_node *const[]){ok, ok},
                       (weft_value *const[]){&v, NULL}, NULL),
            g);
  assert_contains(weft_graph_error(g), "output 1"); /* from 0, as keys */
  assert_ok(tu_compute(g, 0, NULL, NULL, NULL), g); /* nothing to do */
  /* these were not build errors: the graph still works */
  assert_ok(weft_graph_status(g), g);
  assert_int_value(run1(g, ok, &scheds[0]), 2);
  weft_graph_free(g);
}

static void test_other_graph(void **state) {
  (void)state;
  weft_graph *g1 = weft_graph_new(), *g2 = weft_graph_new();
  weft_node *a = weft_call(g1, inc, 1);
  weft_node *b = weft_call(g2, inc, 1);
  assert_non_null(a);
  assert_non_null(b);
  assert_true(a != b); /* same index, different graphs */
  /* compute a node of another graph */
  weft_value v;
  assert_rc(WEFT_EGRAPH, tu_compute1(g2, a, &v, NULL), g2);
  assert_contains(weft_graph_error(g2), "another graph");
  assert_int_equal(weft_node_index(g2, a), -1);
  assert_null(weft_node_fn(g2, a));
  char key[32] = "x";
  assert_int_equal(weft_node_key(g2, a, key, sizeof key), 0);
  assert_string_equal(key, "");
  assert_rc(WEFT_EGRAPH, weft_node_set_key(g2, a, "k"), g2);
  /* use it as an argument: a sticky error naming the argument */
  assert_null(weft_add(g2, 1, a));
  assert_rc(WEFT_EGRAPH, weft_graph_status(g2), g2);
  assert_contains(weft_graph_error(g2), "argument 2");
  assert_contains(weft_graph_error(g2), "another graph");
  assert_rc(WEFT_EGRAPH, tu_compute1(g2, b, &v, NULL), g2);
  /* g1 is unaffected */
  assert_int_value(run1(g1, a, &scheds[0]), 2);
  weft_graph_free(g1);
  /* a node index beyond the graph (a handle from a freed, bigger graph is
   * not accepted by a new graph either) */
  assert_int_equal(weft_node_index(g2, (weft_node *)(uintptr_t)0x7fffffff), -1);
  weft_graph_free(g2);
}

/* ---- keys ---- */

static int f3(weft_task_ctx *ctx, const weft_value *a, size_t n,
              weft_value *out) {
  (void)ctx, (void)n;
  *out = weft_int(a[0].as.i * 3);
  return 0;
}
WEFT_REGISTER(f3);

static void test_keys(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_node *a = weft_call(g, f3, 1);
  weft_node *b = weft_add(g, a, 1);
  weft_node *c = weft_call(g, f3, b);
  char key[64];
  /* automatic keys: "<function>-<index>", builtins without "weft." */
  assert_int_equal(weft_node_key(g, a, key, sizeof key), strlen("f3-0"));
  assert_string_equal(key, "f3-0");
  weft_node_key(g, b, key, sizeof key);
  assert_string_equal(key, "add-1");
  weft_node_key(g, c, key, sizeof key);
  assert_string_equal(key, "f3-2");
  assert_int_equal(weft_node_index(g, c), 2);
  assert_ptr_equal(weft_node_fn(g, b), weft_op_fn(WEFT_OP_ADD));
  /* set and find */
  assert_ok(weft_node_set_key(g, b, "bee"), g);
  weft_node_key(g, b, key, sizeof key);
  assert_string_equal(key, "bee");
  assert_ptr_equal(weft_graph_find(g, "bee"), b);
  assert_null(weft_graph_find(g, "be"));
  assert_null(weft_graph_find(g, "add-1")); /* automatic keys are not set */
  /* a key names one node: another node cannot take it */
  assert_rc(WEFT_EEXIST, weft_node_set_key(g, c, "bee"), g);
  assert_contains(weft_graph_error(g), "bee");
  /* a node keeps its key */
  assert_rc(WEFT_EINVAL, weft_node_set_key(g, b, "other"), g);
  assert_ptr_equal(weft_graph_find(g, "bee"), b);
  assert_null(weft_graph_find(g, "other"));
  assert_rc(WEFT_EINVAL, weft_node_set_key(g, c, ""), g);
  assert_rc(WEFT_EINVAL, weft_node_set_key(g, c, NULL), g);
  assert_rc(WEFT_EINVAL, weft_node_set_key(g, NULL, "x"), g);
  /* none of these were build errors */
  assert_ok(weft_graph_status(g), g);
  /* snprintf-style truncation */
  char small[4];
  assert_int_equal(weft_node_key(g, b, small, sizeof small), 3);
  assert_string_equal(small, "bee");
  assert_int_equal(weft_node_key(g, c, small, 3), 4);
  assert_string_equal(small, "f3");
  /* many keys (the table grows), each found again */
  weft_node *nodes[3000];
  for (int k = 0; k < 3000; k++) {
    nodes[k] = weft_call(g, f3, k);
    char name[32];
    snprintf(name, sizeof name, "node/%d", k);
    assert_ok(weft_node_set_key(g, nodes[k], name), g);
  }
  for (int k = 0; k < 3000; k++) {
    char name[32];
    snprintf(name, sizeof name, "node/%d", k);
    assert_ptr_equal(weft_graph_find(g, name), nodes[k]);
    weft_node_key(g, nodes[k], key, sizeof key);
    assert_string_equal(key, name);
  }
  assert_int_value(run1(g, c, &scheds[0]), 3 * (3 * 1 + 1));
  weft_graph_free(g);
}

/* ---- weft_ref: forward references by key ---- */

static void test_ref_forward(void **state) {
  (void)state;
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_graph *g = weft_graph_new();
    weft_node *r = weft_ref(g, "later");
    assert_non_null(r);
    weft_node *z = weft_add(g, r, 1);
    weft_node *later = weft_call(g, f3, 14); /* defined after its use */
    assert_ok(weft_node_set_key(g, later, "later"), g);
    assert_int_value(run1(g, z, &scheds[c]), 43);
    assert_int_value(run1(g, z, &scheds[c]), 43); /* resolved for good */
    /* a chain of references: r2 -> "mid" -> r3 -> "end" */
    weft_node *r2 = weft_ref(g, "mid");
    weft_node *w = weft_mul(g, r2, 2);
    weft_node *r3 = weft_ref(g, "end");
    assert_ok(weft_node_set_key(g, r3, "mid"), g);
    weft_node *end = weft_add(g, later, 100);
    assert_ok(weft_node_set_key(g, end, "end"), g);
    weft_value wv = weft_none(), zv = weft_none();
    weft_compute_opts o = tu_opts(&scheds[c], ex3);
    assert_ok(tu_compute(g, WEFT_NODES(w, z), WEFT_OUT(&wv, &zv), &o), g);
    assert_int_value(wv, 2 * (42 + 100));
    assert_int_value(zv, 43);
    weft_graph_free(g);
  }
}

static void test_ref_undefined(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_node *r = weft_ref(g, "nowhere-key");
  weft_node *z = weft_add(g, r, 1);
  weft_node *fine = weft_call(g, f3, 2);
  weft_value v = weft_int(5);
  weft_compute_opts o = tu_opts(&scheds[0], NULL);
  assert_rc(WEFT_ENOTFOUND, tu_compute1(g, z, &v, &o), g);
  assert_type(v, WEFT_T_NONE);
  assert_contains(weft_graph_error(g), "nowhere-key");
  /* not a build error: a node that does not need the reference computes */
  assert_ok(weft_graph_status(g), g);
  assert_int_value(run1(g, fine, &scheds[0]), 6);
  /* defining the key afterwards makes the reference work */
  assert_ok(weft_node_set_key(g, fine, "nowhere-key"), g);
  assert_int_value(run1(g, z, &scheds[0]), 7);
  assert_rc(WEFT_EINVAL, (weft_ref(g, "") ? 0 : weft_graph_status(g)), g);
  weft_graph_free(g);
}

static void test_ref_cycle(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  /* alpha = f3(ref beta); beta = f3(ref alpha) */
  weft_node *ra = weft_call(g, f3, weft_ref(g, "beta"));
  assert_ok(weft_node_set_key(g, ra, "alpha"), g);
  weft_node *rb = weft_call(g, f3, weft_ref(g, "alpha"));
  assert_ok(weft_node_set_key(g, rb, "beta"), g);
  weft_node *top = weft_add(g, ra, 1);
  weft_node *other = weft_call(g, f3, 5);
  weft_value v = weft_int(1);
  weft_compute_opts o = tu_opts(&scheds[0], NULL);
  assert_rc(WEFT_ECYCLE, tu_compute1(g, top, &v, &o), g);
  assert_type(v, WEFT_T_NONE);
  assert_contains(weft_graph_error(g), "alpha");
  assert_contains(weft_graph_error(g), "beta");
  /* again (the references are resolved now): still a cycle, no hang */
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_compute_opts oc = tu_opts(&scheds[c], ex3);
    assert_rc(WEFT_ECYCLE, tu_compute1(g, rb, &v, &oc), g);
    assert_contains(weft_graph_error(g), "alpha");
    assert_contains(weft_graph_error(g), "beta");
  }
  /* the rest of the graph still computes */
  assert_int_value(run1(g, other, &scheds[0]), 15);
  weft_graph_free(g);

  /* a node that refers to itself */
  g = weft_graph_new();
  weft_node *self = weft_ref(g, "myself");
  assert_ok(weft_node_set_key(g, self, "myself"), g);
  assert_rc(WEFT_ECYCLE, tu_compute1(g, self, &v, &o), g);
  assert_contains(weft_graph_error(g), "myself");
  weft_graph_free(g);
}

/* A long chain of forward references (the planner walks it without
 * recursion), and a cycle through 200 keys (the message is cut, not
 * overflowed, and still names keys of the cycle). */
static void test_ref_long(void **state) {
  (void)state;
  const int N = 100000;
  weft_graph *g = weft_graph_new();
  char key[32];
  weft_node *first = NULL;
  for (int k = 0; k < N; k++) {
    snprintf(key, sizeof key, "c%d", k + 1);
    weft_node *n = weft_call(g, inc, weft_ref(g, key)); /* c(k+1): later */
    snprintf(key, sizeof key, "c%d", k);
    assert_ok(weft_node_set_key(g, n, key), g);
    if (!first)
      first = n;
  }
  snprintf(key, sizeof key, "c%d", N);
  assert_ok(weft_node_set_key(g, weft_literal(g, weft_int(5)), key), g);
  for (size_t c = 0; c < NSCHEDS; c++)
    assert_int_value(run1(g, first, &scheds[c]), 5 + N);
  weft_graph_free(g);

  g = weft_graph_new();
  const int C = 200;
  for (int k = 0; k < C; k++) {
    snprintf(key, sizeof key, "ring-%d", (k + 1) % C);
    weft_node *n = weft_call(g, inc, weft_ref(g, key));
    snprintf(key, sizeof key, "ring-%d", k);
    assert_ok(weft_node_set_key(g, n, key), g);
  }
  weft_value v;
  weft_compute_opts o = tu_opts(&scheds[0], NULL);
  assert_rc(WEFT_ECYCLE, tu_compute1(g, weft_graph_find(g, "ring-0"), &v, &o),
            g);
  const char *m = weft_graph_error(g);
  assert_true(strlen(m) < 1024);
  assert_contains(m, "ring-0");
  assert_contains(m, "ring-1 ");
  assert_contains(m, "-> ring-31 -> ... (136 more) ... -> ring-168 -> ");
  weft_graph_free(g);
}

/* Cycle messages name only the user's tasks (not the forwarding nodes
 * behind weft_ref), word for word as the README says (issue 7.1). */
static void test_cycle_message_keys(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_node *a = weft_call(g, inc, weft_ref(g, "b"));
  assert_ok(weft_node_set_key(g, a, "a"), g);
  weft_node *b = weft_call(g, inc, weft_ref(g, "a"));
  assert_ok(weft_node_set_key(g, b, "b"), g);
  weft_value v;
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_compute_opts o = tu_opts(&scheds[c], ex3);
    assert_rc(WEFT_ECYCLE, tu_compute1(g, a, &v, &o), g);
    assert_string_equal(weft_graph_error(g),
                        "cycle in graph: a -> b -> a (each task needs the "
                        "next)");
  }
  weft_graph_free(g);

  /* a key set on the weft_ref itself is the user's: it is named */
  g = weft_graph_new();
  weft_node *r = weft_ref(g, "x");
  assert_ok(weft_node_set_key(g, r, "via"), g);
  weft_node *x = weft_call(g, inc, r);
  assert_ok(weft_node_set_key(g, x, "x"), g);
  weft_compute_opts o = tu_opts(&scheds[0], NULL);
  assert_rc(WEFT_ECYCLE, tu_compute1(g, x, &v, &o), g);
  assert_string_equal(weft_graph_error(g),
                      "cycle in graph: x -> via -> x (each task needs the "
                      "next)");
  weft_graph_free(g);
}

/* A cycle of 100,000 keys (issue 12.7): the first 32 and the last 32 are
 * named, with how many are left out between; every arrow shown is an edge
 * of the graph. The expected text is built here from the keys. */
static void test_cycle_message_long(void **state) {
  (void)state;
  const int N = 100000;
  weft_graph *g = weft_graph_new();
  char key[32];
  for (int k = 0; k < N; k++) {
    snprintf(key, sizeof key, "c%d", (k + 1) % N);
    weft_node *n = weft_call(g, inc, weft_ref(g, key));
    snprintf(key, sizeof key, "c%d", k);
    assert_ok(weft_node_set_key(g, n, key), g);
  }
  char want[1024];
  size_t len = (size_t)snprintf(want, sizeof want, "cycle in graph: ");
  for (int k = 0; k < 32; k++)
    len += (size_t)snprintf(want + len, sizeof want - len, "c%d -> ", k);
  len += (size_t)snprintf(want + len, sizeof want - len,
                          "... (99,936 more) ... -> ");
  for (int k = N - 32; k < N; k++)
    len += (size_t)snprintf(want + len, sizeof want - len, "c%d -> ", k);
  snprintf(want + len, sizeof want - len, "c0 (each task needs the next)");
  weft_value v;
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_compute_opts o = tu_opts(&scheds[c], ex3);
    assert_rc(WEFT_ECYCLE, tu_compute1(g, weft_graph_find(g, "c0"), &v, &o), g);
    assert_string_equal(weft_graph_error(g), want);
  }
  weft_graph_free(g);

  /* long keys: fewer are named so that the whole message fits, and the
   * count left out says how many (a ring longer than 64, and one shorter) */
  const int rings[] = {100, 20};
  for (int ri = 0; ri < 2; ri++) {
    const int R = rings[ri];
    g = weft_graph_new();
    char lkey[120];
    for (int k = 0; k < R; k++) {
      snprintf(lkey, sizeof lkey, "%0100d", (k + 1) % R);
      weft_node *n = weft_call(g, inc, weft_ref(g, lkey));
      snprintf(lkey, sizeof lkey, "%0100d", k);
      assert_ok(weft_node_set_key(g, n, lkey), g);
    }
    snprintf(lkey, sizeof lkey, "%0100d", 0);
    weft_compute_opts o = tu_opts(&scheds[0], NULL);
    assert_rc(WEFT_ECYCLE, tu_compute1(g, weft_graph_find(g, lkey), &v, &o), g);
    const char *m = weft_graph_error(g);
    size_t named = 0;
    for (const char *p = m; (p = strstr(p, " -> ")); p += 4)
      named++;
    /* "k0 -> ... -> kh -> ... (n more) ... -> kt -> ... -> k0 (...)": one
     * arrow per named key, plus the one after "(n more) ..." */
    int more = -1;
    const char *mm = strstr(m, "... (");
    assert_non_null(mm);
    assert_int_equal(sscanf(mm, "... (%d more)", &more), 1);
    assert_int_equal((size_t)more + named - 1, (size_t)R);
    assert_true(strlen(m) < 1024);
    assert_contains(m, lkey);
    assert_contains(m, " (each task needs the next)");
    weft_graph_free(g);
  }
}

/* ---- culling ---- */

static _Atomic int never_calls;
static int never(weft_task_ctx *ctx, const weft_value *a, size_t n,
                 weft_value *out) {
  (void)a, (void)n, (void)out;
  atomic_fetch_add(&never_calls, 1);
  return weft_fail(ctx, "this task is not needed and must not run");
}
WEFT_REGISTER(never);

static void test_cull(void **state) {
  (void)state;
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_graph *g = weft_graph_new();
    atomic_store(&never_calls, 0);
    atomic_store(&inc_calls, 0);
    weft_node *x = weft_call(g, inc, 1);
    weft_node *n1 = weft_call(g, never, x); /* a consumer of x: not needed */
    weft_node *y = weft_call(g, inc, x);
    weft_node *n2 = weft_call(g, never, y, n1);
    weft_node *z = weft_call(g, inc, y);
    weft_call(g, never, z); /* after the output */
    weft_call(g, never, 7); /* an unrelated root */
    assert_non_null(n2);
    assert_int_value(run1(g, z, &scheds[c]), 4);
    assert_int_equal(atomic_load(&never_calls), 0);
    assert_int_equal(atomic_load(&inc_calls), 3);
    weft_graph_free(g);
  }
}

/* ---- computing twice; literals ---- */

static weft_value label(long x) {
  weft_value v;
  if (weft_str_printf(&v, "item-%ld", x))
    return weft_none();
  return v;
}
WEFT_DELAYED(label, weft_value, long);

static void test_compute_twice(void **state) {
  (void)state;
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_graph *g = weft_graph_new();
    atomic_store(&inc_calls, 0);
    weft_node *prev = weft_call(g, inc, 0);
    for (int k = 0; k < 50; k++)
      prev = weft_add(g, weft_call(g, inc, prev), k);
    weft_node *s = weft_call(g, label, prev);
    weft_value a = run1(g, s, &scheds[c]), b = run1(g, s, &scheds[c]);
    assert_type(a, WEFT_T_STR);
    assert_true(weft_value_equal(&a, &b));
    /* 1 + 50 incs, plus sum(0..49) */
    assert_string_equal(weft_value_str(&a), "item-1276");
    assert_int_equal(atomic_load(&inc_calls), 2 * 51);
    weft_value_release(&a);
    weft_value_release(&b);
    weft_graph_free(g);
  }
}

static long payload_plus(weft_value v, long k) {
  return (long)tu_tracked_get(&v) + k;
}
WEFT_DELAYED(payload_plus, long, weft_value, long);

static void test_literals(void **state) {
  (void)state;
  tu_track_reset();
  weft_graph *g = weft_graph_new();
  weft_value t, s0;
  assert_ok(tu_tracked_new(&t, 99), NULL);
  assert_ok(weft_str_new(&s0, "text"), NULL);
  weft_node *lit = weft_literal(g, t); /* the graph owns t now */
  weft_node *s = weft_literal(g, s0);
  /* one heap literal as an argument of 100 tasks, borrowed by each */
  weft_node *parts[100];
  for (int k = 0; k < 100; k++)
    parts[k] = weft_call(g, payload_plus, weft_value_retain(&t), k);
  weft_node *sum = weft_sum(g, 100, parts);
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_value v = run1(g, lit, &scheds[c]);
    assert_i64(tu_tracked_get(&v), 99);
    weft_value_release(&v);
    assert_i64(atomic_load(&tu_live), 1); /* the graph's references */
    weft_value sv = run1(g, s, &scheds[c]);
    assert_string_equal(weft_value_str(&sv), "text");
    weft_value_release(&sv);
    assert_int_value(run1(g, sum, &scheds[c]), 100 * 99 + 99 * 100 / 2);
    assert_i64(atomic_load(&tu_live), 1);
  }
  weft_graph_free(g);
  assert_i64(atomic_load(&tu_live), 0); /* freed with the graph */
  assert_i64(atomic_load(&tu_freed), 1);
}

/* ---- tasks without arguments ---- */

static _Atomic int noarg_calls;
static int noarg(weft_task_ctx *ctx, const weft_value *a, size_t n,
                 weft_value *out) {
  (void)ctx, (void)a;
  atomic_fetch_add(&noarg_calls, 1);
  *out = weft_int(1000 + (int64_t)n);
  return 0;
}
WEFT_REGISTER(noarg);

static void test_zero_arguments(void **state) {
  (void)state;
  for (size_t c = 0; c < NSCHEDS; c++) {
    /* a graph made only of zero-argument tasks */
    weft_graph *g = weft_graph_new();
    atomic_store(&noarg_calls, 0);
    weft_node *a = weft_call0(g, noarg);
    assert_non_null(a);
    assert_int_value(run1(g, a, &scheds[c]), 1000);
    weft_node *b = weft_call0(g, noarg);
    weft_value av = weft_none(), bv = weft_none();
    weft_compute_opts o = tu_opts(&scheds[c], ex3);
    assert_ok(tu_compute(g, WEFT_NODES(a, b), WEFT_OUT(&av, &bv), &o), g);
    assert_int_value(av, 1000);
    assert_int_value(bv, 1000);
    assert_int_equal(atomic_load(&noarg_calls), 3);
    weft_graph_free(g);
    /* ... and mixed with tasks that have arguments */
    g = weft_graph_new();
    weft_node *x = weft_call0(g, noarg);
    weft_node *y = weft_add(g, x, 1);
    assert_int_value(run1(g, y, &scheds[c]), 1001);
    weft_graph_free(g);
  }
}

/* ---- a million nodes ---- */

static void test_million_build(void **state) {
  (void)state;
  const int N = 1000000;
  /* the builder's own CPU time: other processes on a busy machine (CI runs
   * two tests at once) do not count against the bound below */
  struct timespec c0, c1;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
  weft_graph *g = weft_graph_new();
  weft_node *prev = weft_call(g, inc, 0);
  for (int k = 1; k < N; k++)
    prev = weft_add(g, prev, 1);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
  double build = (double)(c1.tv_sec - c0.tv_sec) +
                 (double)(c1.tv_nsec - c0.tv_nsec) * 1e-9;
  assert_non_null(prev);
  assert_int_equal(weft_graph_size(g), N);
  assert_ok(weft_graph_status(g), g);
  /* a chain: one literal and one dependency per add; what the graph holds
   * is what it needs plus spare capacity (arrays double as they grow) */
  weft_graph_info gi;
  assert_ok(weft_graph_inspect(g, &gi), g);
  assert_int_equal(gi.nodes, N);
  assert_int_equal(gi.deps, N - 1);
  assert_int_equal(gi.args, 1 + 2 * (size_t)(N - 1));
  double need = (double)gi.nodes * (double)gi.node_bytes +
                (double)gi.args * sizeof(weft_value);
  print_message("graph: %zu B/node record, %.1f B/task held (%.1f needed)\n",
                gi.node_bytes, (double)gi.bytes / N, need / N);
  assert_true((double)gi.bytes >= need && (double)gi.bytes <= 2 * need + 4096);
  print_message("built %d nodes in %.3f s of CPU time\n", N, build);
  /* a sanity bound, not a benchmark (ThreadSanitizer instruments every
   * store of the builder: five times the room there) */
  const double bound = TU_TSAN ? 5.0 : 1.0;
  if (build >= bound)
    fail_msg("building %d nodes took %.3f s (bound: %.0f s)", N, build, bound);
  /* and it computes (a chain: sync and threads alike) */
  assert_int_value(run1(g, prev, &scheds[0]), N);
  assert_int_value(run1(g, prev, &scheds[2]), N);
  weft_graph_free(g);
}

/* A task that tries to add a node to the graph being computed: refused,
 * but the graph stays usable (the refusal is not a sticky build error). */
static weft_graph *self_graph;
static int grows_self(weft_task_ctx *ctx, const weft_value *a, size_t n,
                      weft_value *out) {
  (void)ctx;
  (void)n;
  weft_node *extra = weft_call(self_graph, never, 1);
  *out = weft_int(extra == NULL ? a[0].as.i : -1);
  return 0;
}
WEFT_REGISTER(grows_self);

static void test_build_while_computing(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  self_graph = g;
  weft_node *x = weft_call(g, grows_self, 41);
  weft_value v;
  assert_ok(weft_compute1(g, x, &v, NULL), g);
  assert_int_equal(v.as.i, 41);
  assert_int_equal(weft_graph_status(g), 0);
  assert_int_equal(weft_graph_size(g), 1);
  /* still buildable and computable afterwards */
  weft_node *y = weft_add(g, x, 1);
  assert_non_null(y);
  assert_ok(weft_compute1(g, y, &v, NULL), g);
  assert_int_equal(v.as.i, 42);
  weft_graph_free(g);
}

int main(void) {
  tu_watchdog(110);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_seed000),
      cmocka_unit_test(test_exercise_500),
      cmocka_unit_test(test_arithmetic),
      cmocka_unit_test(test_float_floordiv_python),
      cmocka_unit_test(test_neg_sum_list),
      cmocka_unit_test(test_overflow_messages),
      cmocka_unit_test(test_null_graph),
      cmocka_unit_test(test_null_node),
      cmocka_unit_test(test_other_graph),
      cmocka_unit_test(test_keys),
      cmocka_unit_test(test_ref_forward),
      cmocka_unit_test(test_ref_undefined),
      cmocka_unit_test(test_ref_cycle),
      cmocka_unit_test(test_cycle_message_keys),
      cmocka_unit_test(test_cycle_message_long),
      cmocka_unit_test(test_ref_long),
      cmocka_unit_test(test_cull),
      cmocka_unit_test(test_compute_twice),
      cmocka_unit_test(test_literals),
      cmocka_unit_test(test_zero_arguments),
      cmocka_unit_test(test_million_build),
      cmocka_unit_test(test_build_while_computing),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
