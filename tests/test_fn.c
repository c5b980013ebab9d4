/* test_fn.c - task functions (weft/fn.h): the registry (WEFT_REGISTER,
 * weft_fn_register, weft_fn_find), the typed wrappers of WEFT_DELAYED for
 * every supported parameter and return type, lossless argument conversion
 * (a lossy one fails the task naming the argument), weft_fail from a typed
 * function, what a running task knows about itself, and arity checked when
 * the graph is built (a sticky error).
 *
 * Every typed result is compared with a direct call of the same C function. */
#include "testutil.h"

#include <float.h>
#include <limits.h>
#include <math.h>

/* ---- generic functions and the registry ---- */

static int gen_inc(weft_task_ctx *ctx, const weft_value *a, size_t n,
                   weft_value *out) {
  int64_t x;
  if (n != 1 || weft_value_to_int64(&a[0], &x))
    return weft_fail(ctx, "gen_inc wants one integer");
  *out = weft_int(x + 1);
  return 0;
}
WEFT_REGISTER(gen_inc);

static int gen_pair(weft_task_ctx *ctx, const weft_value *a, size_t n,
                    weft_value *out) {
  (void)ctx;
  *out = weft_int(a[0].as.i * 10 + a[1].as.i + (int64_t)n * 0);
  return 0;
}
WEFT_REGISTER_ARITY(gen_pair, 2);

static int dup_one(weft_task_ctx *ctx, const weft_value *a, size_t n,
                   weft_value *out) {
  (void)ctx, (void)a, (void)n;
  *out = weft_int(1);
  return 0;
}
static int dup_two(weft_task_ctx *ctx, const weft_value *a, size_t n,
                   weft_value *out) {
  (void)ctx, (void)a, (void)n;
  *out = weft_int(2);
  return 0;
}

static void test_register_find(void **state) {
  (void)state;
  const weft_fn_info *info = NULL;
  assert_ok(weft_fn_find("gen_inc", &info), NULL);
  assert_ptr_equal(info, WEFT_FN(gen_inc));
  assert_string_equal(info->name, "gen_inc");
  assert_ptr_equal(info->fn, gen_inc);
  assert_int_equal(info->arity, -1);
  assert_contains(info->file, "test_fn.c");
  assert_ok(weft_fn_find("gen_pair", &info), NULL);
  assert_int_equal(info->arity, 2);
  /* the builtins are registered under weft.<name> */
  assert_ok(weft_fn_find("weft.add", &info), NULL);
  assert_ptr_equal(info, weft_op_fn(WEFT_OP_ADD));
  info = WEFT_FN(gen_inc);
  assert_rc(WEFT_ENOTFOUND, weft_fn_find("no_such_function", &info), NULL);
  assert_null(info);
  assert_rc(WEFT_ENOTFOUND, weft_fn_find("gen_in", &info), NULL); /* prefix */
  assert_rc(WEFT_EINVAL, weft_fn_find(NULL, &info), NULL);
  assert_rc(WEFT_EINVAL, weft_fn_find("gen_inc", NULL), NULL);
  /* registering the same info again is a no-op */
  assert_ok(weft_fn_register(WEFT_FN(gen_inc)), NULL);
  assert_ok(weft_fn_find("gen_inc", &info), NULL);
  assert_ptr_equal(info, WEFT_FN(gen_inc));
  assert_rc(WEFT_EINVAL, weft_fn_register(NULL), NULL);
  static weft_fn_info unnamed = {"", dup_one, 0, __FILE__, NULL};
  assert_rc(WEFT_EINVAL, weft_fn_register(&unnamed), NULL);
  static weft_fn_info nullname = {NULL, dup_one, 0, __FILE__, NULL};
  assert_rc(WEFT_EINVAL, weft_fn_register(&nullname), NULL);
  static weft_fn_info nofn = {"tf.nofn", NULL, 0, __FILE__, NULL};
  assert_rc(WEFT_EINVAL, weft_fn_register(&nofn), NULL);
  assert_rc(WEFT_ENOTFOUND, weft_fn_find("tf.nofn", &info), NULL);
}

static void test_register_duplicate_name(void **state) {
  (void)state;
  static weft_fn_info one = {"tf.dup", dup_one, 0, __FILE__, NULL};
  static weft_fn_info two = {"tf.dup", dup_two, 0, __FILE__, NULL};
  static weft_fn_info same = {"tf.same", dup_one, 0, __FILE__, NULL};
  static weft_fn_info same2 = {"tf.same", dup_one, 0, __FILE__, NULL};
  const weft_fn_info *info = NULL;
  assert_ok(weft_fn_register(&one), NULL);
  assert_ok(weft_fn_find("tf.dup", &info), NULL);
  assert_ptr_equal(info, &one);
  assert_ok(weft_fn_register(&two), NULL);
  info = &one;
  assert_rc(WEFT_EEXIST, weft_fn_find("tf.dup", &info), NULL);
  assert_null(info);
  /* building by that name fails, stickily, naming it */
  weft_graph *g = weft_graph_new();
  assert_non_null(g);
  assert_null(weft_call_name(g, "tf.dup", 0, NULL));
  assert_rc(WEFT_EEXIST, weft_graph_status(g), g);
  assert_contains(weft_graph_error(g), "tf.dup");
  weft_graph_free(g);
  /* the same function under the same name twice is not a conflict */
  assert_ok(weft_fn_register(&same), NULL);
  assert_ok(weft_fn_register(&same2), NULL);
  assert_ok(weft_fn_find("tf.same", &info), NULL);
  assert_ptr_equal(info->fn, dup_one);
}

static void count_fn(const weft_fn_info *info, void *ud) {
  int *seen = ud;
  if (strcmp(info->name, "gen_inc") == 0)
    seen[0]++;
  if (strcmp(info->name, "weft.mul") == 0)
    seen[1]++;
  if (strcmp(info->name, "twice_i") == 0)
    seen[2]++;
}

static void test_foreach(void **state) {
  (void)state;
  int seen[3] = {0, 0, 0};
  weft_fn_foreach(count_fn, seen);
  assert_int_equal(seen[0], 1);
  assert_int_equal(seen[1], 1);
  assert_int_equal(seen[2], 1);
  weft_fn_foreach(NULL, NULL); /* no-op */
}

/* By name through the graph: found, unknown, and run. */
static void test_call_by_name(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_node *x = weft_call_name(g, "gen_inc", 1, (weft_value[]){weft_int(41)});
  assert_non_null(x);
  assert_ptr_equal(weft_node_fn(g, x), WEFT_FN(gen_inc));
  weft_value v;
  assert_ok(weft_compute1(g, x, &v, NULL), g);
  assert_int_value(v, 42);
  assert_null(weft_call_name(g, "not_registered_anywhere", 0, NULL));
  assert_rc(WEFT_ENOTFOUND, weft_graph_status(g), g);
  assert_contains(weft_graph_error(g), "not_registered_anywhere");
  assert_rc(WEFT_ENOTFOUND, weft_compute1(g, x, &v, NULL), g);
  weft_graph_free(g);
}

/* ---- WEFT_DELAYED: every supported type ---- */

static int twice_i(int x) { return 2 * x; }
WEFT_DELAYED(twice_i, int, int);
static long add_l(long a, long b) { return a + b; }
WEFT_DELAYED(add_l, long, long, long);
static long long mul_ll(long long a, long long b) { return a * b; }
WEFT_DELAYED(mul_ll, long long, long long, long long);
static unsigned not_u(unsigned x) { return ~x; }
WEFT_DELAYED(not_u, unsigned, unsigned);
static unsigned long half_ul(unsigned long x) { return x / 2; }
WEFT_DELAYED(half_ul, unsigned long, unsigned long);
static unsigned long long shl_ull(unsigned long long x, int s) {
  return x << s;
}
WEFT_DELAYED(shl_ull, unsigned long long, unsigned long long, int);
static double hyp(double a, double b) { return sqrt(a * a + b * b); }
WEFT_DELAYED(hyp, double, double, double);
static float half_f(float x) { return x / 2; }
WEFT_DELAYED(half_f, float, float);
static bool is_even(long x) { return x % 2 == 0; }
WEFT_DELAYED(is_even, bool, long);
static bool not_b(bool b) { return !b; }
WEFT_DELAYED(not_b, bool, bool);
static const char *pick(bool first, const char *a, const char *b) {
  return first ? a : b;
}
WEFT_DELAYED(pick, const char *, bool, const char *, const char *);
static char greeting[64];
static char *greet(const char *who) {
  snprintf(greeting, sizeof greeting, "hello, %s", who);
  return greeting; /* weft copies it: the buffer may change afterwards */
}
WEFT_DELAYED(greet, char *, const char *);
static weft_value range_list(int n) {
  weft_value l;
  if (weft_list_new(&l, (size_t)n))
    return weft_none();
  for (int k = 0; k < n; k++)
    weft_list_set(&l, (size_t)k, weft_int(k * k));
  return l;
}
WEFT_DELAYED(range_list, weft_value, int);
static long list_sum(weft_value l) {
  long s = 0;
  for (size_t k = 0; k < weft_value_len(&l); k++)
    s += (long)weft_list_get(&l, k)->as.i;
  return s;
}
WEFT_DELAYED(list_sum, long, weft_value);
static int sum8(int a, int b, int c, int d, int e, int f, int g, int h) {
  return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h;
}
WEFT_DELAYED(sum8, int, int, int, int, int, int, int, int, int);
static double mixed(int a, double b, bool c, const char *d) {
  return a * b + (c ? 1 : 0) + (double)strlen(d);
}
WEFT_DELAYED(mixed, double, int, double, bool, const char *);

/* Computes node n alone with the sync scheduler; fails the test if it fails. */
static weft_value compute_ok(weft_graph *g, weft_node *n) {
  assert_non_null(n);
  weft_value v;
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.scheduler = WEFT_SCHED_SYNC;
  o.ignore_env = 1;
  assert_ok(weft_compute1(g, n, &v, &o), g);
  return v;
}

static void test_delayed_types(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  assert_int_value(compute_ok(g, weft_call(g, twice_i, 21)), twice_i(21));
  assert_int_value(compute_ok(g, weft_call(g, twice_i, -7)), twice_i(-7));
  assert_int_value(compute_ok(g, weft_call(g, add_l, 40L, 2)), add_l(40, 2));
  assert_int_value(compute_ok(g, weft_call(g, mul_ll, 3000000000LL, -3)),
                   mul_ll(3000000000LL, -3));
  assert_int_value(compute_ok(g, weft_call(g, not_u, 0u)), not_u(0u));
  assert_int_value(compute_ok(g, weft_call(g, half_ul, 1000001UL)),
                   half_ul(1000001UL));
  assert_int_value(compute_ok(g, weft_call(g, shl_ull, 3ULL, 40)),
                   (int64_t)shl_ull(3ULL, 40));
  assert_double_value(compute_ok(g, weft_call(g, hyp, 3.0, 4.0)),
                      hyp(3.0, 4.0));
  assert_double_value(compute_ok(g, weft_call(g, hyp, 1.5, -2.25)),
                      hyp(1.5, -2.25));
  assert_double_value(compute_ok(g, weft_call(g, half_f, 3.0f)),
                      (double)half_f(3.0f));
  assert_double_value(compute_ok(g, weft_call(g, half_f, 0.375)),
                      (double)half_f(0.375f));
  weft_value b = compute_ok(g, weft_call(g, is_even, 10));
  assert_type(b, WEFT_T_BOOL);
  assert_true(b.as.b);
  b = compute_ok(g, weft_call(g, is_even, 7));
  assert_type(b, WEFT_T_BOOL);
  assert_false(b.as.b);
  b = compute_ok(g, weft_call(g, not_b, true));
  assert_type(b, WEFT_T_BOOL);
  assert_false(b.as.b);

  weft_value s = compute_ok(g, weft_call(g, pick, false, "left", "right"));
  assert_type(s, WEFT_T_STR);
  assert_string_equal(weft_value_str(&s), "right");
  weft_value_release(&s);
  s = compute_ok(g, weft_call(g, greet, "weft"));
  strcpy(greeting, "overwritten");
  assert_type(s, WEFT_T_STR);
  assert_string_equal(weft_value_str(&s), "hello, weft");
  weft_value_release(&s);

  weft_value l = compute_ok(g, weft_call(g, range_list, 5));
  assert_type(l, WEFT_T_LIST);
  assert_int_equal(weft_value_len(&l), 5);
  assert_int_value(*weft_list_get(&l, 4), 16);
  weft_value_release(&l);
  /* a weft_value parameter borrows a node's heap result */
  weft_node *rl = weft_call(g, range_list, 10);
  assert_int_value(compute_ok(g, weft_call(g, list_sum, rl)), 285);

  assert_int_value(compute_ok(g, weft_call(g, sum8, 1, 2, 3, 4, 5, 6, 7, 8)),
                   sum8(1, 2, 3, 4, 5, 6, 7, 8));
  assert_double_value(compute_ok(g, weft_call(g, mixed, 3, 0.5, true, "four")),
                      mixed(3, 0.5, true, "four"));
  /* typed functions chain through nodes */
  weft_node *a = weft_call(g, twice_i, 5);
  weft_node *b2 = weft_call(g, twice_i, a);
  weft_node *c = weft_call(g, add_l, b2, 5);
  weft_node *d = weft_call(g, hyp, c, 0);
  assert_double_value(compute_ok(g, d), 25.0);
  assert_ok(weft_graph_status(g), g);
  weft_graph_free(g);
}

/* Conversions that keep the value are accepted. */
static void test_delayed_lossless(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  /* an integral double to an int */
  assert_int_value(compute_ok(g, weft_call(g, twice_i, 21.0)), 42);
  assert_int_value(compute_ok(g, weft_call(g, twice_i, -0.0)), 0);
  /* an int to a double; 2^53 is exact */
  assert_double_value(compute_ok(g, weft_call(g, hyp, 3, 4)), 5.0);
  assert_double_value(compute_ok(g, weft_call(g, hyp, (int64_t)1 << 53, 0)),
                      9007199254740992.0);
  /* bools are 0/1 for integers, and ints 0/1 are bools */
  assert_int_value(compute_ok(g, weft_call(g, twice_i, true)), 2);
  weft_value b = compute_ok(g, weft_call(g, not_b, 0));
  assert_type(b, WEFT_T_BOOL);
  assert_true(b.as.b);
  /* the extremes of each integer type fit */
  assert_int_value(compute_ok(g, weft_call(g, add_l, LONG_MAX, 0)), LONG_MAX);
  assert_int_value(compute_ok(g, weft_call(g, not_u, (long long)UINT_MAX)), 0);
  assert_int_value(compute_ok(g, weft_call(g, twice_i, INT_MIN / 2)), INT_MIN);
  weft_graph_free(g);
}

/* Computes n expecting the task to fail; returns the message. */
static const char *compute_fails(weft_graph *g, weft_node *n) {
  assert_non_null(n);
  weft_value v = weft_int(99);
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.scheduler = WEFT_SCHED_SYNC;
  o.ignore_env = 1;
  assert_rc(WEFT_ETASK, weft_compute1(g, n, &v, &o), g);
  assert_type(v, WEFT_T_NONE);
  return weft_graph_error(g);
}

/* A conversion that would lose information fails the task, naming the
 * function, the argument, what it got and what it expected. */
static void test_delayed_lossy(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  const char *m = compute_fails(g, weft_call(g, twice_i, 2.5));
  assert_contains(m, "twice_i");
  assert_contains(m, "argument 1");
  assert_contains(m, "2.5");
  assert_contains(m, "int");

  /* out of the int range */
  m = compute_fails(g, weft_call(g, twice_i, 3000000000LL));
  assert_contains(m, "argument 1");
  assert_contains(m, "3000000000");
  /* 2^53 + 1 has no double */
  m = compute_fails(g, weft_call(g, hyp, 1.0, ((int64_t)1 << 53) + 1));
  assert_contains(m, "hyp");
  assert_contains(m, "argument 2");
  assert_contains(m, "9007199254740993");
  assert_contains(m, "double");
  /* negative to unsigned */
  m = compute_fails(g, weft_call(g, not_u, -1));
  assert_contains(m, "argument 1");
  assert_contains(m, "-1");
  /* unsigned beyond UINT_MAX */
  m = compute_fails(g, weft_call(g, not_u, 4294967296LL));
  assert_contains(m, "argument 1");
  /* a number where a string is expected: the second argument */
  m = compute_fails(g, weft_call(g, pick, true, 5, "x"));
  assert_contains(m, "pick");
  assert_contains(m, "argument 2");
  /* a string where a number is expected */
  m = compute_fails(g, weft_call(g, mixed, 1, "half", true, "x"));
  assert_contains(m, "argument 2");
  assert_contains(m, "'half'");
  /* none is no number */
  m = compute_fails(g, weft_call(g, add_l, 1, weft_none()));
  assert_contains(m, "argument 2");
  /* an int other than 0 or 1 is no bool (2 -> true would lose it) */
  m = compute_fails(g, weft_call(g, not_b, 2));
  assert_contains(m, "not_b");
  assert_contains(m, "argument 1");
  assert_contains(m, "bool");
  /* a double too big for a float */
  m = compute_fails(g, weft_call(g, half_f, 1e39));
  assert_contains(m, "half_f");
  assert_contains(m, "argument 1");
  /* a non-integral double coming from another task's result */
  weft_node *h = weft_call(g, hyp, 1.0, 1.0); /* sqrt(2) */
  m = compute_fails(g, weft_call(g, twice_i, h));
  assert_contains(m, "argument 1");
  assert_contains(m, "1.41421356");
  /* a result that does not fit an int64 fails too */
  m = compute_fails(g, weft_call(g, shl_ull, 1ULL, 63));
  assert_contains(m, "shl_ull");
  assert_contains(m, "9223372036854775808");
  /* the 8th argument of an 8-parameter function */
  m = compute_fails(g, weft_call(g, sum8, 1, 2, 3, 4, 5, 6, 7, 0.5));
  assert_contains(m, "argument 8");
  /* the graph itself is fine: these were task failures, not build errors */
  assert_ok(weft_graph_status(g), g);
  assert_int_value(compute_ok(g, weft_call(g, twice_i, 4)), 8);
  weft_graph_free(g);
}

/* ---- failing from a typed function ---- */

static int checked_sqrt_calls;
static double checked_sqrt(double x) {
  checked_sqrt_calls++;
  if (x < 0) {
    weft_fail(weft_task_current(), "cannot take the root of %g", x);
    return 0;
  }
  return sqrt(x);
}
WEFT_DELAYED(checked_sqrt, double, double);

static weft_value tracked_or_fail(int x) {
  weft_value v = weft_none();
  if (tu_tracked_new(&v, x))
    return weft_none();
  if (x < 0) /* fails after making a heap value: weft must free it */
    weft_fail(weft_task_current(), "negative %d", x);
  return v;
}
WEFT_DELAYED(tracked_or_fail, weft_value, int);

static const char *str_or_fail(int x) {
  if (x < 0)
    weft_fail(weft_task_current(), "no string for %d", x);
  return "fine";
}
WEFT_DELAYED(str_or_fail, const char *, int);

static void test_delayed_fail(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  checked_sqrt_calls = 0;
  assert_double_value(compute_ok(g, weft_call(g, checked_sqrt, 16.0)), 4.0);
  weft_node *bad = weft_call(g, checked_sqrt, -4.0);
  assert_ok(weft_node_set_key(g, bad, "root-of-minus-four"), g);
  weft_node *after = weft_call(g, hyp, bad, 1.0);
  const char *m = compute_fails(g, after);
  assert_contains(m, "cannot take the root of -4");
  assert_contains(m, "root-of-minus-four");
  assert_contains(m, "checked_sqrt");
  assert_int_equal(checked_sqrt_calls, 2);

  tu_track_reset();
  weft_value t = compute_ok(g, weft_call(g, tracked_or_fail, 5));
  assert_i64(tu_tracked_get(&t), 5);
  weft_value_release(&t);
  m = compute_fails(g, weft_call(g, tracked_or_fail, -3));
  assert_contains(m, "negative -3");
  assert_i64(atomic_load(&tu_made), 2);
  assert_i64(atomic_load(&tu_live), 0); /* the failed task's value freed */

  m = compute_fails(g, weft_call(g, str_or_fail, -1));
  assert_contains(m, "no string for -1");
  weft_value s = compute_ok(g, weft_call(g, str_or_fail, 1));
  assert_string_equal(weft_value_str(&s), "fine");
  weft_value_release(&s);

  /* outside a task there is no current task, and weft_fail(NULL) only
   * returns the code */
  assert_null(weft_task_current());
  assert_rc(WEFT_ETASK, weft_fail(NULL, "nobody hears %d", 1), NULL);
  weft_graph_free(g);
}

/* ---- issue 7: defaults, zero arguments, void results, NULL, failing ---- */

/* Python's ma_fonction(x, y=1) */
static long ma_fonction(long x, long y) { return x * 10 + y; }
WEFT_DELAYED(ma_fonction, long, long, long);
WEFT_DEFAULTS(ma_fonction, 1);

/* two defaults, a double and an int */
static double affine(double x, double k, int off) { return x * k + off; }
WEFT_DELAYED(affine, double, double, double, int);
WEFT_DEFAULTS(affine, 2.5, 3);

static long answer(void) { return 42; }
WEFT_DELAYED(answer, long, void);
static long seven(void) { return 7; }
WEFT_DELAYED(seven, long);

static int generic_zero(weft_task_ctx *ctx, const weft_value *a, size_t n,
                        weft_value *out) {
  (void)ctx, (void)a;
  *out = weft_int((int64_t)n + 100);
  return 0;
}
WEFT_REGISTER(generic_zero);

static long bumped;
static void bump(long by) { bumped += by; }
WEFT_DELAYED(bump, void, long);

static bool is_none(weft_value v) { return v.type == WEFT_T_NONE; }
WEFT_DELAYED(is_none, bool, weft_value);

static double ratio(double a, double b) {
  if (b == 0)
    return WEFT_FAIL("ratio(%g, 0): division by zero", a);
  return a / b;
}
WEFT_DELAYED(ratio, double, double, double);

static const char *name_of(int k) {
  if (k < 0)
    return WEFT_FAIL_NULL("no name for %d", k);
  return k ? "one" : "zero";
}
WEFT_DELAYED(name_of, const char *, int);

static void must_be_positive(long x) {
  if (x <= 0) {
    WEFT_FAIL("%ld is not positive", x);
    return;
  }
  bumped += x;
}
WEFT_DELAYED(must_be_positive, void, long);

static void test_delayed_defaults(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  assert_int_value(compute_ok(g, weft_call(g, ma_fonction, 4)),
                   ma_fonction(4, 1));
  assert_int_value(compute_ok(g, weft_call(g, ma_fonction, 4, 2)),
                   ma_fonction(4, 2));
  assert_double_value(compute_ok(g, weft_call(g, affine, 2.0)),
                      affine(2.0, 2.5, 3));
  assert_double_value(compute_ok(g, weft_call(g, affine, 2.0, 4.0)),
                      affine(2.0, 4.0, 3));
  assert_double_value(compute_ok(g, weft_call(g, affine, 2.0, 4.0, -1)),
                      affine(2.0, 4.0, -1));
  assert_int_equal(weft_fn_min_arity(WEFT_FN(ma_fonction)), 1);
  assert_int_equal(weft_fn_min_arity(WEFT_FN(affine)), 1);
  assert_int_equal(weft_fn_min_arity(WEFT_FN(hyp)), 2);
  assert_int_equal(weft_fn_min_arity(WEFT_FN(gen_inc)), -1);
  assert_int_equal(weft_fn_min_arity(NULL), -1);
  /* too few or too many: refused when the node is built */
  assert_null(weft_call(g, ma_fonction));
  assert_rc(WEFT_EARITY, weft_graph_status(g), g);
  assert_string_equal(weft_graph_error(g),
                      "ma_fonction takes 1 to 2 arguments, 0 given");
  weft_graph_free(g);
  g = weft_graph_new();
  assert_null(weft_call(g, ma_fonction, 1, 2, 3));
  assert_contains(weft_graph_error(g), "takes 1 to 2 arguments, 3 given");
  weft_graph_free(g);

  /* the defaults are static data: worker processes fill them in too, and
   * weft_map maps a two-parameter function with one default */
  for (int s = 0; s < 3; s++) {
    weft_scheduler sched = s == 0   ? WEFT_SCHED_SYNC
                           : s == 1 ? WEFT_SCHED_THREADS
                                    : WEFT_SCHED_PROCS;
    if (!weft_scheduler_available(sched))
      continue;
    g = weft_graph_new();
    weft_compute_opts o;
    weft_compute_opts_init(&o);
    o.scheduler = sched;
    o.workers = 2;
    o.ignore_env = 1;
    weft_value v;
    assert_ok(weft_compute1(g, weft_call(g, affine, 1.0, 2.0), &v, &o), g);
    assert_double_value(v, affine(1.0, 2.0, 3));
    weft_graph_free(g);
    weft_value in[50], out[50];
    for (int i = 0; i < 50; i++)
      in[i] = weft_int(i - 25);
    weft_map_opts mo;
    weft_map_opts_init(&mo);
    mo.scheduler = sched;
    mo.workers = 2;
    mo.ignore_env = 1;
    assert_ok(weft_map(WEFT_FN(ma_fonction), 50, in, out, &mo), NULL);
    for (int i = 0; i < 50; i++)
      assert_int_value(out[i], ma_fonction(i - 25, 1));
  }
}

static void test_delayed_forms(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  /* no parameters: void or nothing; weft_call(g, f) with no arguments */
  assert_int_value(compute_ok(g, weft_call(g, answer)), 42);
  assert_int_value(compute_ok(g, weft_call(g, seven)), 7);
  assert_int_value(compute_ok(g, weft_call(g, generic_zero)), 100);
  assert_int_value(compute_ok(g, weft_call(g, generic_zero, 1, 2)), 102);
  assert_int_equal(WEFT_FN(answer)->arity, 0);
  assert_int_equal(WEFT_FN(seven)->arity, 0);
  /* a void result is none, and the function ran */
  bumped = 0;
  weft_value v = compute_ok(g, weft_call(g, bump, 5));
  assert_type(v, WEFT_T_NONE);
  assert_int_equal(bumped, 5);
  /* NULL is none; another void * is refused when built */
  {
    weft_value b = compute_ok(g, weft_call(g, is_none, NULL));
    assert_type(b, WEFT_T_BOOL);
    assert_true(b.as.b);
    b = compute_ok(g, weft_call(g, is_none, 3));
    assert_type(b, WEFT_T_BOOL);
    assert_false(b.as.b);
  }
  void *p = &bumped;
  assert_null(weft_call(g, is_none, p));
  assert_rc(WEFT_EINVAL, weft_graph_status(g), g);
  assert_contains(weft_graph_error(g), "argument 1 of is_none is a void *");
  weft_graph_free(g);

  /* failing from a typed function without a dummy value */
  g = weft_graph_new();
  assert_double_value(compute_ok(g, weft_call(g, ratio, 3.0, 2.0)), 1.5);
  const char *m = compute_fails(g, weft_call(g, ratio, 3.0, 0.0));
  assert_contains(m, "(ratio) failed: ratio(3, 0): division by zero");
  weft_value s = compute_ok(g, weft_call(g, name_of, 1));
  assert_string_equal(weft_value_str(&s), "one");
  weft_value_release(&s);
  m = compute_fails(g, weft_call(g, name_of, -2));
  assert_contains(m, "(name_of) failed: no name for -2");
  bumped = 0;
  m = compute_fails(g, weft_call(g, must_be_positive, -4));
  assert_contains(m, "-4 is not positive");
  assert_type(compute_ok(g, weft_call(g, must_be_positive, 4)), WEFT_T_NONE);
  assert_int_equal(bumped, 4);
  /* outside a task: only the value */
  assert_true(WEFT_FAIL("nobody") == 0);
  assert_null(WEFT_FAIL_NULL("nobody"));
  weft_graph_free(g);
}

/* ---- what a running task knows ---- */

static char seen_key[64];
static const weft_fn_info *seen_fn;
static int seen_worker = -2;
static bool seen_failed = true;
static bool seen_current;
static int introspect(weft_task_ctx *ctx, const weft_value *a, size_t n,
                      weft_value *out) {
  (void)a, (void)n;
  weft_task_key(ctx, seen_key, sizeof seen_key);
  seen_fn = weft_task_fn(ctx);
  seen_worker = weft_task_worker(ctx);
  seen_failed = weft_task_failed(ctx);
  seen_current = weft_task_current() == ctx;
  *out = weft_none();
  return 0;
}
WEFT_REGISTER(introspect);

static int fail_twice(weft_task_ctx *ctx, const weft_value *a, size_t n,
                      weft_value *out) {
  (void)a, (void)n, (void)out;
  assert_false(weft_task_failed(ctx));
  weft_fail(ctx, "first message");
  assert_true(weft_task_failed(ctx));
  return weft_fail(ctx, "second message"); /* the first one wins */
}
WEFT_REGISTER(fail_twice);

static void test_task_context(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  /* (zero-argument tasks are tested in test_graph.c) */
  weft_node *a = weft_call(g, introspect, 0);
  weft_node *b = weft_call(g, introspect, 1);
  assert_ok(weft_node_set_key(g, b, "named-task"), g);
  weft_value v = compute_ok(g, a);
  assert_type(v, WEFT_T_NONE);
  assert_string_equal(seen_key, "introspect-0");
  assert_ptr_equal(seen_fn, WEFT_FN(introspect));
  assert_int_equal(seen_worker, 0);
  assert_false(seen_failed);
  assert_true(seen_current);
  compute_ok(g, b);
  assert_string_equal(seen_key, "named-task");
  assert_null(weft_task_current()); /* cleared after the compute */
  assert_int_equal(weft_task_worker(NULL), -1);
  assert_null(weft_task_fn(NULL));
  assert_false(weft_task_failed(NULL));
  char buf[8] = "xxxxxxx";
  assert_int_equal(weft_task_key(NULL, buf, sizeof buf), 0);
  assert_string_equal(buf, "");

  const char *m = compute_fails(g, weft_call(g, fail_twice, 0));
  assert_contains(m, "first message");
  assert_not_contains(m, "second message");
  weft_graph_free(g);
}

/* ---- arity at build time ---- */

static void test_arity(void **state) {
  (void)state;
  tu_track_reset();
  weft_graph *g = weft_graph_new();
  weft_node *ok = weft_call(g, twice_i, 1);
  assert_non_null(ok);
  /* one argument too many for a typed function */
  weft_node *bad = weft_call(g, twice_i, 1, 2);
  assert_null(bad);
  assert_rc(WEFT_EARITY, weft_graph_status(g), g);
  const char *m = weft_graph_error(g);
  assert_contains(m, "twice_i");
  assert_contains(m, "1 argument");
  assert_contains(m, "2 given");
  char first[1024];
  snprintf(first, sizeof first, "%s", m);
  /* sticky: later calls fail too, even correct ones, and the first error's
   * message stays */
  assert_null(weft_call(g, twice_i, 3));
  assert_null(weft_call(g, gen_pair, 1, 2));
  assert_rc(WEFT_EARITY, weft_graph_status(g), g);
  assert_string_equal(weft_graph_error(g), first);
  /* every compute of the graph returns it, also of nodes built before */
  weft_value v = weft_int(5);
  assert_rc(WEFT_EARITY, weft_compute1(g, ok, &v, NULL), g);
  assert_type(v, WEFT_T_NONE);
  weft_graph_free(g);

  /* a declared arity of a generic function; the arguments are taken over
   * (released) also when the call fails */
  g = weft_graph_new();
  weft_value t;
  assert_ok(tu_tracked_new(&t, 1), NULL);
  assert_null(weft_call_fn(g, WEFT_FN(gen_pair), 1, &t));
  assert_rc(WEFT_EARITY, weft_graph_status(g), g);
  assert_contains(weft_graph_error(g), "gen_pair");
  assert_i64(atomic_load(&tu_live), 0);
  weft_graph_free(g);

  /* zero arguments to a one-parameter typed function */
  g = weft_graph_new();
  assert_null(weft_call0(g, twice_i));
  assert_rc(WEFT_EARITY, weft_graph_status(g), g);
  weft_graph_free(g);

  /* any number for arity -1 */
  g = weft_graph_new();
  weft_node *z = weft_call_fn(g, WEFT_FN(gen_pair), 2,
                              (weft_value[]){weft_int(4), weft_int(2)});
  assert_int_value(compute_ok(g, z), 42);
  weft_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_register_find),
      cmocka_unit_test(test_register_duplicate_name),
      cmocka_unit_test(test_foreach),
      cmocka_unit_test(test_call_by_name),
      cmocka_unit_test(test_delayed_types),
      cmocka_unit_test(test_delayed_lossless),
      cmocka_unit_test(test_delayed_lossy),
      cmocka_unit_test(test_delayed_fail),
      cmocka_unit_test(test_delayed_defaults),
      cmocka_unit_test(test_delayed_forms),
      cmocka_unit_test(test_task_context),
      cmocka_unit_test(test_arity),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
