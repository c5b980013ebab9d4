/* test_sched_errors.c - what happens when tasks fail, on every scheduler:
 * the error names the task's key, its function and its message; the rest of
 * a big graph is cancelled (far fewer tasks run than exist); nothing leaks
 * (every counted heap result is released; ASan checks the rest); no hang;
 * outputs computed before the failure are still returned; a task returning
 * a raw error code; a compute nested in a task on the executor that runs
 * the task is refused with WEFT_EBUSY instead of deadlocking; an executor
 * survives failures and serves a thousand computes.
 *
 * Every compute goes through tu_compute, so a hang is a failure with a
 * message, not a timeout. */
#include "exec_scheds.h"

/* ---- task functions ---- */

static long ok_value(long x) { return x * 10; }
WEFT_DELAYED(ok_value, long, long);

static int failer(weft_task_ctx *ctx, const weft_value *a, size_t n,
                  weft_value *out) {
  (void)n, (void)out;
  return weft_fail(ctx, "boom %lld", (long long)a[0].as.i);
}
WEFT_REGISTER(failer);

static uint64_t spin(uint64_t h, int rounds) {
  for (int k = 0; k < rounds; k++)
    h = h * 6364136223846793005ull + 1442695040888963407ull;
  return h;
}

/* work(i, fail_at): counts itself, spins a little, fails when i == fail_at,
 * else returns a counted heap value holding i. */
static _Atomic long ran;
static int work(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  (void)n;
  atomic_fetch_add(&ran, 1);
  int64_t i = a[0].as.i;
  if (spin((uint64_t)i, 200) == 42) /* never: keeps the spin */
    return WEFT_EINVAL;
  if (i == a[1].as.i)
    return weft_fail(ctx, "work item %lld failed on purpose", (long long)i);
  return tu_tracked_new(out, i) ? weft_fail(ctx, "no memory") : 0;
}
WEFT_REGISTER_ARITY(work, 2);

/* Sums the payloads of counted values (any number of arguments). */
static int join_sum(weft_task_ctx *ctx, const weft_value *a, size_t n,
                    weft_value *out) {
  int64_t s = 0;
  for (size_t k = 0; k < n; k++) {
    int64_t p = tu_tracked_get(&a[k]);
    if (p == INT64_MIN)
      return weft_fail(ctx, "join_sum: argument %zu is not counted", k + 1);
    s += p;
  }
  *out = weft_int(s);
  return 0;
}
WEFT_REGISTER(join_sum);

/* ---- the message names the key, the function and the text ---- */

static void test_fail_message(void **state) {
  (void)state;
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_compute_opts o = opts_for(&scheds[c]);
    weft_graph *g = weft_graph_new();
    weft_node *a = weft_call(g, ok_value, 1);
    weft_node *b = weft_call(g, failer, 7);
    assert_ok(weft_node_set_key(g, b, "the-bad-one"), g);
    weft_node *s = weft_add(g, a, b);
    weft_node *t = weft_mul(g, s, 2);
    weft_value v = weft_int(123);
    assert_rc(WEFT_ETASK, tu_compute1(g, t, &v, &o), g);
    assert_type(v, WEFT_T_NONE);
    const char *m = weft_graph_error(g);
    assert_contains(m, "the-bad-one");
    assert_contains(m, "failer");
    assert_contains(m, "boom 7");
    /* a failure is no build error: the graph's other parts compute */
    assert_ok(weft_graph_status(g), g);
    assert_rc(0, tu_compute1(g, a, &v, &o), g);
    assert_int_value(v, 10);
    /* the same failure again, and an automatic key */
    weft_node *u = weft_call(g, failer, 8);
    assert_rc(WEFT_ETASK, tu_compute1(g, weft_add(g, u, 1), &v, &o), g);
    char key[64];
    weft_node_key(g, u, key, sizeof key);
    assert_string_equal(key, "failer-4");
    assert_contains(weft_graph_error(g), "'failer-4'");
    assert_contains(weft_graph_error(g), "boom 8");
    assert_rc(WEFT_ETASK, tu_compute1(g, t, &v, &o), g);
    assert_contains(weft_graph_error(g), "boom 7");
    weft_graph_free(g);
  }
}

/* ---- cancellation in a big graph ---- */

#define BIG 100000

/* BIG independent work items and one join over them; item fail_at fails. */
static weft_graph *big_graph(int64_t fail_at, weft_node **join) {
  weft_graph *g = weft_graph_new();
  weft_value *args = malloc(BIG * sizeof *args);
  assert_non_null(args);
  for (int64_t i = 0; i < BIG; i++) {
    weft_node *w = weft_call(g, work, i, fail_at);
    args[i] = weft_node_ref(w);
  }
  *join = weft_call_fn(g, WEFT_FN(join_sum), BIG, args);
  free(args);
  assert_non_null(*join);
  return g;
}

static void test_cancel_big(void **state) {
  (void)state;
  const int64_t fail_at = 5;
  for (size_t c = 0; c < NSCHEDS; c++) {
    tu_track_reset();
    weft_node *join;
    weft_graph *g = big_graph(fail_at, &join);
    weft_compute_opts o = opts_for(&scheds[c]);
    atomic_store(&ran, 0);
    double t0 = tu_now();
    weft_value v = weft_int(1);
    assert_rc(WEFT_ETASK, tu_compute1(g, join, &v, &o), g);
    double dt = tu_now() - t0;
    long n = atomic_load(&ran);
    print_message("[%s] failure at item %lld of %d: %ld tasks ran, %.3f s\n",
                  scheds[c].name, (long long)fail_at, BIG, n, dt);
    assert_type(v, WEFT_T_NONE);
    assert_contains(weft_graph_error(g), "work item 5 failed on purpose");
    assert_contains(weft_graph_error(g), "'work-5'");
    if (scheds[c].scheduler == WEFT_SCHED_SYNC)
      assert_i64(n, fail_at + 1); /* in order, and stops at once */
    else
      assert_le(n, BIG / 4); /* far fewer than all */
    /* every counted value made before the failure was released */
    assert_i64(atomic_load(&tu_live), 0);
    assert_i64(atomic_load(&tu_freed), atomic_load(&tu_made));
    weft_graph_free(g);
  }
}

/* The failure comes while every worker is busy: the task that happens to
 * be the 20000th to start fails. The others must stop at once, not finish
 * their ranges: at most a few more than 20000 of the 100000 run. */
#define FAIL_AFTER 20000
static int work_nth(weft_task_ctx *ctx, const weft_value *a, size_t n,
                    weft_value *out) {
  (void)n;
  long me = atomic_fetch_add(&ran, 1) + 1;
  if (spin((uint64_t)a[0].as.i, 400) == 42)
    return WEFT_EINVAL;
  if (me == FAIL_AFTER)
    return weft_fail(ctx, "task number %ld failed on purpose", me);
  return tu_tracked_new(out, a[0].as.i) ? weft_fail(ctx, "no memory") : 0;
}
WEFT_REGISTER_ARITY(work_nth, 1);

static void test_cancel_midway(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_value *args = malloc(BIG * sizeof *args);
  assert_non_null(args);
  for (int64_t i = 0; i < BIG; i++)
    args[i] = weft_node_ref(weft_call(g, work_nth, i));
  weft_node *join = weft_call_fn(g, WEFT_FN(join_sum), BIG, args);
  free(args);
  for (size_t c = 0; c < NSCHEDS; c++) {
    tu_track_reset();
    weft_compute_opts o = opts_for(&scheds[c]);
    atomic_store(&ran, 0);
    weft_value v;
    assert_rc(WEFT_ETASK, tu_compute1(g, join, &v, &o), g);
    long n = atomic_load(&ran);
    print_message("[%s] failure of the %dth task: %ld of %d tasks ran\n",
                  scheds[c].name, FAIL_AFTER, n, BIG);
    assert_contains(weft_graph_error(g), "task number 20000 failed");
    if (scheds[c].scheduler == WEFT_SCHED_SYNC)
      assert_i64(n, FAIL_AFTER);
    else
      assert_le(n, FAIL_AFTER + 2000);
    assert_i64(atomic_load(&tu_live), 0);
  }
  weft_graph_free(g);
}

/* A failure late in the graph: by then tens of thousands of results wait
 * for the join; every one must be released. */
static void test_fail_late_releases(void **state) {
  (void)state;
  const int64_t fail_at = BIG - 100;
  for (size_t c = 0; c < NSCHEDS; c++) {
    tu_track_reset();
    weft_node *join;
    weft_graph *g = big_graph(fail_at, &join);
    weft_compute_opts o = opts_for(&scheds[c]);
    atomic_store(&ran, 0);
    weft_value v;
    assert_rc(WEFT_ETASK, tu_compute1(g, join, &v, &o), g);
    assert_contains(weft_graph_error(g), "work item 99900 failed");
    assert_true(atomic_load(&tu_made) > 0);
    assert_i64(atomic_load(&tu_live), 0);
    /* and the same graph without the failing part still computes: a join
     * over the first half */
    weft_graph_free(g);
  }
}

/* A chain: each task needs the previous one, so exactly the tasks up to the
 * failing one run, on every scheduler. */
static long chain_step(long prev, long i, long fail_at) {
  atomic_fetch_add(&ran, 1);
  if (i == fail_at)
    weft_fail(weft_task_current(), "chain broke at %ld", i);
  return prev + i;
}
WEFT_DELAYED(chain_step, long, long, long, long);

static void test_fail_in_chain(void **state) {
  (void)state;
  const long N = 20000, fail_at = 12345;
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_graph *g = weft_graph_new();
    weft_node *prev = weft_call(g, chain_step, 0L, 0L, fail_at);
    for (long i = 1; i < N; i++)
      prev = weft_call(g, chain_step, prev, i, fail_at);
    weft_compute_opts o = opts_for(&scheds[c]);
    atomic_store(&ran, 0);
    weft_value v;
    assert_rc(WEFT_ETASK, tu_compute1(g, prev, &v, &o), g);
    assert_contains(weft_graph_error(g), "chain broke at 12345");
    assert_contains(weft_graph_error(g), "'chain_step-12345'");
    assert_i64(atomic_load(&ran), fail_at + 1);
    weft_graph_free(g);
  }
}

/* Many tasks fail at once: one message wins, whole; the others are freed. */
static void test_many_failures(void **state) {
  (void)state;
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_graph *g = weft_graph_new();
    weft_node *parts[1000];
    for (int k = 0; k < 1000; k++)
      parts[k] = weft_call(g, failer, k);
    weft_node *s = weft_sum(g, 1000, parts);
    weft_compute_opts o = opts_for(&scheds[c]);
    weft_value v;
    assert_rc(WEFT_ETASK, tu_compute1(g, s, &v, &o), g);
    const char *m = weft_graph_error(g);
    int idx = -1, boom = -2;
    if (sscanf(m, "task 'failer-%d' (failer) failed: boom %d", &idx, &boom) !=
            2 ||
        idx != boom)
      fail_msg("[%s] message '%s' is not one whole failure message",
               scheds[c].name, m);
    if (scheds[c].scheduler == WEFT_SCHED_SYNC)
      assert_int_equal(idx, 0);
    weft_graph_free(g);
  }
}

/* ---- outputs finished before the failure come back ---- */

static weft_value counted(long x) {
  weft_value v = weft_none();
  if (tu_tracked_new(&v, x))
    weft_fail(weft_task_current(), "no memory");
  return v;
}
WEFT_DELAYED(counted, weft_value, long);

static void test_outputs_before_failure(void **state) {
  (void)state;
  for (size_t c = 0; c < NSCHEDS; c++) {
    tu_track_reset();
    weft_graph *g = weft_graph_new();
    weft_node *a = weft_call(g, counted, 11);  /* heap output */
    weft_node *x = weft_call(g, ok_value, 4);  /* scalar output */
    weft_node *b = weft_call(g, failer, x, a); /* runs after both */
    weft_node *d = weft_add(g, x, b);          /* needs b: never runs */
    weft_value av = weft_int(1), xv = weft_int(1), bv = weft_int(1),
               dv = weft_int(1);
    weft_compute_opts o = opts_for(&scheds[c]);
    assert_rc(
        WEFT_ETASK,
        tu_compute(g, WEFT_NODES(a, b, d, x), WEFT_OUT(&av, &bv, &dv, &xv), &o),
        g);
    assert_contains(weft_graph_error(g), "boom 40");
    /* a and x were needed by the failing task, so they were computed */
    assert_i64(tu_tracked_get(&av), 11);
    assert_int_value(xv, 40);
    assert_type(bv, WEFT_T_NONE);
    assert_type(dv, WEFT_T_NONE);
    assert_i64(atomic_load(&tu_live), 1); /* only the returned one */
    weft_value_release(&av);
    assert_i64(atomic_load(&tu_live), 0);
    weft_graph_free(g);
  }
}

/* ---- raw return codes ---- */

static int raw_io(weft_task_ctx *ctx, const weft_value *a, size_t n,
                  weft_value *out) {
  (void)ctx, (void)a, (void)n, (void)out;
  return WEFT_EIO; /* no weft_fail, no message */
}
WEFT_REGISTER(raw_io);

/* Returns WEFT_EINVAL for a negative argument, else x * 2. */
static int raw_einval(weft_task_ctx *ctx, const weft_value *a, size_t n,
                      weft_value *out) {
  (void)ctx, (void)n;
  if (a[0].as.i < 0)
    return WEFT_EINVAL;
  *out = weft_int(a[0].as.i * 2);
  return 0;
}
WEFT_REGISTER_ARITY(raw_einval, 1);

/* Issue 7, points 2 and 3: a task returning WEFT_EINVAL makes the compute
 * return WEFT_ETASK (not the code of a bad argument to compute itself), its
 * own code readable; a later successful compute leaves no stale message. */
static void test_task_code_and_stale_message(void **state) {
  (void)state;
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_compute_opts o = opts_for(&scheds[c]);
    weft_graph *g = weft_graph_new();
    weft_node *bad = weft_call(g, raw_einval, -1);
    weft_node *good = weft_call(g, raw_einval, 21);
    weft_value v = weft_int(3);
    assert_rc(WEFT_ETASK, tu_compute1(g, bad, &v, &o), g);
    assert_rc(WEFT_EINVAL, weft_graph_task_code(g), g);
    assert_contains(weft_graph_error(g), "task 'raw_einval-0' (raw_einval)");
    assert_contains(weft_graph_error(g), weft_strerror(WEFT_EINVAL));
    assert_ok(tu_compute1(g, good, &v, &o), g);
    assert_int_value(v, 42);
    assert_string_equal(weft_graph_error(g), "");
    assert_int_equal(weft_graph_task_code(g), 0);
    /* a bad argument to compute itself: WEFT_EINVAL, no task code */
    assert_rc(WEFT_EINVAL, tu_compute1(g, NULL, &v, &o), g);
    assert_int_equal(weft_graph_task_code(g), 0);
    weft_graph_free(g);
  }
  assert_int_equal(weft_graph_task_code(NULL), 0);
}

static int raw_positive(weft_task_ctx *ctx, const weft_value *a, size_t n,
                        weft_value *out) {
  (void)ctx, (void)a, (void)n, (void)out;
  return 7;
}
WEFT_REGISTER(raw_positive);

static int fail_but_ok(weft_task_ctx *ctx, const weft_value *a, size_t n,
                       weft_value *out) {
  (void)a, (void)n;
  weft_fail(ctx, "marked failed, returned 0");
  *out = weft_int(1);
  return 0;
}
WEFT_REGISTER(fail_but_ok);

static int fail_with_result(weft_task_ctx *ctx, const weft_value *a, size_t n,
                            weft_value *out) {
  (void)a, (void)n;
  /* breaks the contract (*out must stay none on failure): weft frees it */
  if (tu_tracked_new(out, 5))
    return WEFT_ENOMEM;
  return weft_fail(ctx, "failed with a result in hand");
}
WEFT_REGISTER(fail_with_result);

static void test_raw_codes(void **state) {
  (void)state;
  for (size_t c = 0; c < NSCHEDS; c++) {
    tu_track_reset();
    weft_compute_opts o = opts_for(&scheds[c]);
    weft_graph *g = weft_graph_new();
    weft_node *io = weft_call(g, raw_io, 1);
    weft_value v = weft_int(3);
    /* issue 7: any task failure is WEFT_ETASK; its own code is kept */
    assert_rc(WEFT_ETASK, tu_compute1(g, weft_add(g, io, 1), &v, &o), g);
    assert_rc(WEFT_EIO, weft_graph_task_code(g), g);
    assert_type(v, WEFT_T_NONE);
    assert_contains(weft_graph_error(g), "'raw_io-0'");
    assert_contains(weft_graph_error(g), "(raw_io)");
    assert_contains(weft_graph_error(g), weft_strerror(WEFT_EIO));

    weft_node *pos = weft_call(g, raw_positive, 1);
    assert_rc(WEFT_ETASK, tu_compute1(g, pos, &v, &o), g);
    assert_contains(weft_graph_error(g), "raw_positive");
    /* what was wrong, not "unknown error" */
    assert_contains(weft_graph_error(g), "returned 7, which is not a WEFT_E");

    weft_node *fo = weft_call(g, fail_but_ok, 1);
    assert_rc(WEFT_ETASK, tu_compute1(g, fo, &v, &o), g);
    assert_type(v, WEFT_T_NONE);
    assert_contains(weft_graph_error(g), "marked failed, returned 0");

    weft_node *fr = weft_call(g, fail_with_result, 1);
    assert_rc(WEFT_ETASK, tu_compute1(g, fr, &v, &o), g);
    assert_type(v, WEFT_T_NONE);
    assert_contains(weft_graph_error(g), "failed with a result in hand");
    assert_i64(atomic_load(&tu_made), 1);
    assert_i64(atomic_load(&tu_live), 0);
    weft_graph_free(g);
  }
}

/* A code that is none of weft's is named as such on worker processes and
 * in a map too ("a task failed" / "unknown error" said nothing). */
static int raw_odd(weft_task_ctx *ctx, const weft_value *a, size_t n,
                   weft_value *out) {
  (void)ctx, (void)a, (void)n, (void)out;
  return -9999;
}
WEFT_REGISTER(raw_odd);

static void test_odd_codes_named(void **state) {
  (void)state;
  const weft_scheduler sch[] = {WEFT_SCHED_SYNC, WEFT_SCHED_THREADS,
                                WEFT_SCHED_PROCS};
  for (int k = 0; k < 3; k++) {
    if (!weft_scheduler_available(sch[k]))
      continue;
    weft_compute_opts o;
    weft_compute_opts_init(&o);
    o.ignore_env = 1;
    o.scheduler = sch[k];
    o.workers = 2;
    weft_graph *g = weft_graph_new();
    weft_node *p = weft_call(g, raw_positive, 1);
    weft_node *q = weft_call(g, raw_odd, 1);
    weft_value v;
    assert_rc(WEFT_ETASK, tu_compute1(g, p, &v, &o), g);
    assert_contains(weft_graph_error(g), "returned 7, which is not a WEFT_E");
    assert_rc(WEFT_ETASK, tu_compute1(g, q, &v, &o), g);
    assert_rc(-9999, weft_graph_task_code(g), g);
    assert_contains(weft_graph_error(g),
                    "returned -9999, which is not a WEFT_E");
    weft_graph_free(g);
    weft_value in[3] = {weft_int(1), weft_int(2), weft_int(3)}, out[3];
    char err[512];
    weft_map_opts mo;
    weft_map_opts_init(&mo);
    mo.ignore_env = 1;
    mo.scheduler = sch[k];
    mo.workers = 2;
    mo.errbuf = err;
    mo.errbuf_size = sizeof err;
    assert_int_equal(weft_map(WEFT_FN(raw_positive), 3, in, out, &mo),
                     WEFT_ETASK);
    /* whichever item's batch fails first */
    assert_contains(err, "weft_map(raw_positive): item ");
    assert_contains(err, ": its function returned 7, which is not");
  }
}

/* After a failed compute the same graph computes again, from a clean
 * state: three rounds of the failing node failing again with its message
 * (its input a computed again each time), then another node that shares a
 * computing the right sum (a computed once more: nothing kept from the
 * failed compute), with no counted value left alive after each round. The
 * failed node itself never succeeds: its task always fails. */
static void test_recompute_after_failure(void **state) {
  (void)state;
  for (size_t c = 0; c < NSCHEDS; c++) {
    tu_track_reset();
    weft_compute_opts o = opts_for(&scheds[c]);
    weft_graph *g = weft_graph_new();
    weft_node *a = weft_call(g, counted, 3);
    weft_node *b = weft_call(g, failer, a);
    weft_node *p =
        weft_call_fn(g, WEFT_FN(join_sum), 2,
                     (weft_value[]){weft_node_ref(a), weft_node_ref(a)});
    weft_value v;
    for (int round = 0; round < 3; round++) {
      long made = atomic_load(&tu_made);
      assert_rc(WEFT_ETASK, tu_compute1(g, b, &v, &o), g);
      assert_contains(weft_graph_error(g), "boom");
      assert_i64(atomic_load(&tu_made), made + 1); /* a ran again */
      assert_rc(0, tu_compute1(g, p, &v, &o), g);
      assert_i64(atomic_load(&tu_made), made + 2); /* and again: no leftover */
      assert_int_value(v, 6);
      assert_i64(atomic_load(&tu_live), 0);
    }
    weft_graph_free(g);
  }
}

/* ---- nested computes ---- */

static weft_executor *nest_ex;  /* the executor the inner compute uses */
static weft_graph *outer_graph; /* for the same-graph case */
static char inner_msg[256];
static pthread_mutex_t inner_mu = PTHREAD_MUTEX_INITIALIZER;

/* Computes a small inner graph (3 * k + 1) on nest_ex (NULL: a fresh pool
 * of 2, mode 1: sync); returns the inner result, or the inner error code. */
static int nest(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  (void)ctx, (void)n;
  int64_t k = a[0].as.i, mode = a[1].as.i;
  weft_graph *g = weft_graph_new();
  weft_node *r = weft_add(g, weft_mul(g, k, 3), 1);
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.ignore_env = 1;
  o.scheduler = mode == 1 ? WEFT_SCHED_SYNC : WEFT_SCHED_THREADS;
  o.workers = 2;
  o.executor = mode == 0 ? nest_ex : NULL;
  weft_value v = weft_none();
  int rc = weft_compute1(g, r, &v, &o);
  if (rc) {
    pthread_mutex_lock(&inner_mu);
    snprintf(inner_msg, sizeof inner_msg, "%s", weft_graph_error(g));
    pthread_mutex_unlock(&inner_mu);
    *out = weft_int(rc);
  } else {
    *out = v;
  }
  weft_graph_free(g);
  return 0;
}
WEFT_REGISTER_ARITY(nest, 2);

static int nest_same_graph(weft_task_ctx *ctx, const weft_value *a, size_t n,
                           weft_value *out) {
  (void)ctx, (void)a, (void)n;
  weft_node *any = weft_graph_find(outer_graph, "leaf");
  weft_value v = weft_none();
  int rc = weft_compute1(outer_graph, any, &v, NULL);
  weft_value_release(&v);
  *out = weft_int(rc);
  return 0;
}
WEFT_REGISTER(nest_same_graph);

static void test_nested_compute(void **state) {
  (void)state;
  weft_executor *other;
  assert_ok(weft_executor_new(2, &other), NULL);
  const tu_sched on_ex[] = {{"executor-2", WEFT_SCHED_THREADS, 2, true},
                            {"executor-4", WEFT_SCHED_THREADS, 4, true}};
  for (int e = 0; e < 2; e++) {
    weft_compute_opts o = opts_for(&on_ex[e]);
    weft_executor *self = o.executor;
    /* 16 tasks, so that pool threads as well as the caller run some */
    for (int mode = 0; mode < 4; mode++) {
      nest_ex = mode == 3 ? other : self;
      weft_graph *g = weft_graph_new();
      weft_node *parts[16];
      for (int k = 0; k < 16; k++)
        parts[k] = weft_call(g, nest, k, mode == 3 ? 0 : mode);
      weft_node *l = weft_list(g, 16, parts);
      weft_value v;
      int rc = tu_compute1(g, l, &v, &o);
      if (rc)
        fail_msg("[%s] nested mode %d: outer compute %s: %s", on_ex[e].name,
                 mode, tu_err_name(rc),
                 rc == TU_HUNG ? "" : weft_graph_error(g));
      for (int k = 0; k < 16; k++) {
        const weft_value *it = weft_list_get(&v, (size_t)k);
        if (mode == 0) { /* the executor running the task: refused */
          assert_int_value(*it, WEFT_EBUSY);
        } else { /* sync, a fresh pool, another executor: fine */
          assert_int_value(*it, 3 * k + 1);
        }
      }
      if (mode == 0)
        assert_contains(inner_msg, "executor");
      weft_value_release(&v);
      weft_graph_free(g);
    }
  }
  /* computing the graph that is running, from one of its tasks */
  outer_graph = weft_graph_new();
  weft_node *leaf = weft_call(outer_graph, ok_value, 1);
  assert_ok(weft_node_set_key(outer_graph, leaf, "leaf"), outer_graph);
  weft_node *n = weft_call(outer_graph, nest_same_graph, 0);
  weft_compute_opts o = opts_for(&scheds[3]);
  weft_value v;
  assert_rc(0, tu_compute1(outer_graph, n, &v, &o), outer_graph);
  assert_int_value(v, WEFT_EBUSY);
  weft_graph_free(outer_graph);
  weft_executor_free(other);
}

/* weft_executor_free from a task running on that executor would wait for
 * its own compute: it is refused (a line on stderr) and the executor goes
 * on serving. It used to hang for ever. */
static weft_executor *free_me;
static int free_self(weft_task_ctx *ctx, const weft_value *a, size_t n,
                     weft_value *out) {
  (void)ctx;
  (void)n;
  weft_executor_free(free_me);
  *out = weft_value_retain(&a[0]);
  return 0;
}
WEFT_REGISTER_ARITY(free_self, 1);

static void test_executor_free_from_task(void **state) {
  (void)state;
  assert_ok(weft_executor_new(2, &free_me), NULL);
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.ignore_env = 1;
  o.scheduler = WEFT_SCHED_THREADS;
  o.executor = free_me;
  weft_graph *g = weft_graph_new();
  weft_node *parts[8];
  for (int k = 0; k < 8; k++)
    parts[k] = weft_call(g, free_self, k);
  weft_node *s = weft_sum(g, 8, parts);
  weft_value v;
  assert_rc(0, tu_compute1(g, s, &v, &o), g);
  assert_int_value(v, 28);
  weft_node *t = weft_add(g, s, 1); /* the executor still serves */
  assert_rc(0, tu_compute1(g, t, &v, &o), g);
  assert_int_value(v, 29);
  weft_graph_free(g);
  weft_executor_free(free_me);
}

/* ---- one executor, a thousand computes, failures among them ---- */

static void test_executor_reuse(void **state) {
  (void)state;
  for (int e = 0; e < 2; e++) {
    weft_compute_opts o = opts_for(&scheds[3 + e]);
    for (int k = 0; k < 1000; k++) {
      weft_graph *g = weft_graph_new();
      weft_node *a = weft_call(g, ok_value, k);
      weft_node *b = weft_add(g, a, 1);
      weft_node *c = weft_mul(g, a, 2);
      weft_node *d = weft_sub(g, c, b); /* 10k - 1 */
      weft_value v = weft_none();
      if (k % 10 == 7) {
        weft_node *f = weft_add(g, d, weft_call(g, failer, k));
        int rc = tu_compute1(g, f, &v, &o);
        if (rc != WEFT_ETASK)
          fail_msg("[%s] compute %d: %s, expected WEFT_ETASK",
                   scheds[3 + e].name, k, tu_err_name(rc));
      } else {
        int rc = tu_compute1(g, d, &v, &o);
        if (rc)
          fail_msg("[%s] compute %d: %s: %s", scheds[3 + e].name, k,
                   tu_err_name(rc), rc == TU_HUNG ? "" : weft_graph_error(g));
        if (v.type != WEFT_T_INT || v.as.i != 10 * k - 1)
          fail_msg("[%s] compute %d gave %lld, expected %d", scheds[3 + e].name,
                   k, (long long)v.as.i, 10 * k - 1);
      }
      weft_graph_free(g);
    }
  }
}

int main(void) {
  tu_watchdog(115);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fail_message),
      cmocka_unit_test(test_cancel_big),
      cmocka_unit_test(test_cancel_midway),
      cmocka_unit_test(test_fail_late_releases),
      cmocka_unit_test(test_fail_in_chain),
      cmocka_unit_test(test_many_failures),
      cmocka_unit_test(test_outputs_before_failure),
      cmocka_unit_test(test_raw_codes),
      cmocka_unit_test(test_odd_codes_named),
      cmocka_unit_test(test_task_code_and_stale_message),
      cmocka_unit_test(test_nested_compute),
      cmocka_unit_test(test_executor_free_from_task),
      cmocka_unit_test(test_executor_reuse),
      cmocka_unit_test(test_recompute_after_failure),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
