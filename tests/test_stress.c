/* test_stress.c - the threads scheduler under load, run under TSan in CI:
 * a graph of a million tasks computed 50 times on one reused 2-worker
 * executor (the result checked every time), a 300 x 300 wavefront (every
 * task waits for two others), and a broadcast tree that fans out to 65,536
 * leaves and reduces back, a fan-out of 200,000 from one task (the deque
 * grows while thieves steal), four application threads sharing one
 * executor, weft_executor_free waiting for a running compute, idle workers
 * that sleep instead of spinning, executors made and freed in a loop.
 * Every result is compared with a direct computation in plain C. */
#include "testutil.h"

#include <sys/resource.h>

/* A million tasks in every build. Measured under ThreadSanitizer on 2
 * cores: 0.48 s per compute, the whole file about 30 s (the bound
 * is about 60 s); should that grow, build this file with
 * -DTU_BIG_TASKS=200000 there. */
#ifdef TU_BIG_TASKS
#define BIG_TASKS TU_BIG_TASKS
#else
#define BIG_TASKS 1000000
#endif
#define ROUNDS 50

static weft_executor *ex2;

static int setup(void **state) {
  (void)state;
  return weft_executor_new(2, &ex2);
}
static int teardown(void **state) {
  (void)state;
  if (!tu_stuck())
    weft_executor_free(ex2);
  return 0;
}

static weft_compute_opts on_ex2(void) {
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.ignore_env = 1;
  o.scheduler = WEFT_SCHED_THREADS;
  o.executor = ex2;
  return o;
}

/* ---- a million tasks, fifty times ----
 *
 * L leaves: a_i = i * 3, b_i = a_i + i, c_i = b_i % 1000003 (built-in
 * arithmetic), a binary tree of + over the c_i, and a final negation:
 * 3L + (L - 1) + 1 = 4L tasks. */
static void test_million_x50(void **state) {
  (void)state;
  const int L = BIG_TASKS / 4;
  double t0 = tu_now();
  weft_graph *g = weft_graph_new();
  weft_node **lv = malloc((size_t)L * sizeof *lv);
  assert_non_null(lv);
  int64_t want = 0;
  for (int i = 0; i < L; i++) {
    weft_node *a = weft_mul(g, i, 3);
    weft_node *b = weft_add(g, a, i);
    lv[i] = weft_mod(g, b, 1000003);
    want += (4 * (int64_t)i) % 1000003;
  }
  int n = L;
  while (n > 1) {
    int m = 0;
    for (int k = 0; k + 1 < n; k += 2)
      lv[m++] = weft_add(g, lv[k], lv[k + 1]);
    if (n % 2)
      lv[m++] = lv[n - 1];
    n = m;
  }
  weft_node *top = weft_neg(g, lv[0]);
  free(lv);
  assert_ok(weft_graph_status(g), g);
  assert_int_equal(weft_graph_size(g), 4 * (size_t)L);
  double built = tu_now() - t0;
  weft_compute_opts o = on_ex2();
  double worst = 0, total = 0;
  for (int r = 0; r < ROUNDS; r++) {
    double t = tu_now();
    weft_value v = weft_none();
    int rc = tu_compute1(g, top, &v, &o);
    double dt = tu_now() - t;
    total += dt;
    if (dt > worst)
      worst = dt;
    if (rc)
      fail_msg("round %d: %s: %s", r, tu_err_name(rc),
               rc == TU_HUNG ? "" : weft_graph_error(g));
    if (v.type != WEFT_T_INT || v.as.i != -want)
      fail_msg("round %d: got %s %lld, expected %lld", r,
               weft_type_name(v.type), (long long)v.as.i, (long long)-want);
  }
  print_message("%zu tasks: built in %.3f s; %d computes on 2 workers, "
                "%.3f s each on average (%.0f ns per task), worst %.3f s\n",
                weft_graph_size(g), built, ROUNDS, total / ROUNDS,
                total / ROUNDS / (double)weft_graph_size(g) * 1e9, worst);
  weft_graph_free(g);
}

/* ---- wavefront: w(i, j) needs w(i-1, j) and w(i, j-1) ---- */

#define P61 ((1ull << 61) - 1)
static long wf(long up, long left, long salt) {
  return (long)(((unsigned __int128)(uint64_t)up * 31 +
                 (unsigned __int128)(uint64_t)left * 17 + (uint64_t)salt) %
                P61);
}
WEFT_DELAYED(wf, long, long, long, long);

static void test_wavefront(void **state) {
  (void)state;
  enum { W = 300 };
  static long ref[W][W];
  static weft_node *node[W][W];
  weft_graph *g = weft_graph_new();
  for (int i = 0; i < W; i++)
    for (int j = 0; j < W; j++) {
      long salt = (long)(i * 1000 + j);
      long up = i ? ref[i - 1][j] : 1, left = j ? ref[i][j - 1] : 2;
      ref[i][j] = wf(up, left, salt);
      weft_value a = i ? weft_node_ref(node[i - 1][j]) : weft_int(1);
      weft_value b = j ? weft_node_ref(node[i][j - 1]) : weft_int(2);
      node[i][j] = weft_call(g, wf, a, b, salt);
    }
  assert_ok(weft_graph_status(g), g);
  const tu_sched cfgs[] = {{"sync", WEFT_SCHED_SYNC, 1, false},
                           {"threads-4", WEFT_SCHED_THREADS, 4, false},
                           {"executor-2", WEFT_SCHED_THREADS, 2, true},
                           {"executor-2", WEFT_SCHED_THREADS, 2, true},
                           {"executor-2", WEFT_SCHED_THREADS, 2, true}};
  for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++) {
    weft_compute_opts o = tu_opts(&cfgs[c], ex2);
    /* the far corner, and a point in the middle */
    weft_value v = weft_none(), m = weft_none();
    double t = tu_now();
    int rc = tu_compute(g, WEFT_NODES(node[W - 1][W - 1], node[150][77]),
                        WEFT_OUT(&v, &m), &o);
    if (rc)
      fail_msg("[%s] wavefront: %s: %s", cfgs[c].name, tu_err_name(rc),
               rc == TU_HUNG ? "" : weft_graph_error(g));
    assert_int_value(v, ref[W - 1][W - 1]);
    assert_int_value(m, ref[150][77]);
    print_message("[%s] wavefront %dx%d: %.3f s\n", cfgs[c].name, W, W,
                  tu_now() - t);
  }
  weft_graph_free(g);
}

/* ---- a broadcast tree down to 65,536 leaves, then a reduction ---- */

static long child(long parent, long k) {
  return (long)(((uint64_t)parent * 2654435761u + (uint64_t)k) % P61);
}
WEFT_DELAYED(child, long, long, long);
static long merge(long a, long b) {
  return (long)(((uint64_t)a ^ ((uint64_t)b >> 3)) % P61);
}
WEFT_DELAYED(merge, long, long, long);

static void test_tree(void **state) {
  (void)state;
  enum { DEPTH = 16, LEAVES = 1 << DEPTH };
  weft_graph *g = weft_graph_new();
  long *rv = malloc(sizeof(long) * 2 * LEAVES);
  weft_node **nv = malloc(sizeof(weft_node *) * 2 * LEAVES);
  assert_true(rv && nv);
  /* heap layout: node 1 is the root, 2k and 2k+1 its children */
  rv[1] = 12345;
  nv[1] = weft_literal(g, weft_int(12345));
  for (long k = 2; k < 2 * LEAVES; k++) {
    rv[k] = child(rv[k / 2], k);
    nv[k] = weft_call(g, child, nv[k / 2], k);
  }
  /* reduce the leaves LEAVES .. 2*LEAVES-1 pairwise back up */
  long *lr = malloc(sizeof(long) * LEAVES);
  weft_node **ln = malloc(sizeof(weft_node *) * LEAVES);
  assert_true(lr && ln);
  for (long k = 0; k < LEAVES; k++) {
    lr[k] = rv[LEAVES + k];
    ln[k] = nv[LEAVES + k];
  }
  for (long n = LEAVES; n > 1; n /= 2)
    for (long k = 0; k < n / 2; k++) {
      lr[k] = merge(lr[2 * k], lr[2 * k + 1]);
      ln[k] = weft_call(g, merge, ln[2 * k], ln[2 * k + 1]);
    }
  assert_ok(weft_graph_status(g), g);
  const tu_sched cfgs[] = {{"sync", WEFT_SCHED_SYNC, 1, false},
                           {"threads-3", WEFT_SCHED_THREADS, 3, false},
                           {"executor-2", WEFT_SCHED_THREADS, 2, true},
                           {"executor-2", WEFT_SCHED_THREADS, 2, true}};
  for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++) {
    weft_compute_opts o = tu_opts(&cfgs[c], ex2);
    weft_value v = weft_none();
    double t = tu_now();
    int rc = tu_compute1(g, ln[0], &v, &o);
    if (rc)
      fail_msg("[%s] tree: %s: %s", cfgs[c].name, tu_err_name(rc),
               rc == TU_HUNG ? "" : weft_graph_error(g));
    assert_int_value(v, lr[0]);
    print_message("[%s] tree of %zu tasks: %.3f s\n", cfgs[c].name,
                  weft_graph_size(g), tu_now() - t);
  }
  free(rv);
  free(nv);
  free(lr);
  free(ln);
  weft_graph_free(g);
}

/* ---- a fan-out of 200,000 from one task: the deque grows while thieves
 * steal from it ---- */

static void test_fan_out(void **state) {
  (void)state;
  enum { K = 200000 };
  weft_graph *g = weft_graph_new();
  weft_node *root = weft_mul(g, 3, 7);
  weft_node **kids = malloc(K * sizeof *kids);
  assert_non_null(kids);
  int64_t want = 0;
  for (int k = 0; k < K; k++) {
    kids[k] = weft_add(g, root, k);
    want += 21 + k;
  }
  weft_node *total = weft_sum(g, K, kids);
  free(kids);
  const tu_sched cfgs[] = {{"executor-2", WEFT_SCHED_THREADS, 2, true},
                           {"threads-4", WEFT_SCHED_THREADS, 4, false},
                           {"sync", WEFT_SCHED_SYNC, 1, false}};
  for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++)
    for (int r = 0; r < 3; r++) {
      weft_compute_opts o = tu_opts(&cfgs[c], ex2);
      weft_value v = weft_none();
      int rc = tu_compute1(g, total, &v, &o);
      if (rc)
        fail_msg("[%s] fan-out: %s: %s", cfgs[c].name, tu_err_name(rc),
                 rc == TU_HUNG ? "" : weft_graph_error(g));
      assert_int_value(v, want);
    }
  weft_graph_free(g);
}

/* ---- one executor shared by several application threads ---- */

typedef struct app_thread {
  weft_executor *ex;
  int id, rounds, bad;
  char msg[256];
} app_thread;

static void *app_main(void *arg) {
  app_thread *t = arg;
  for (int r = 0; r < t->rounds; r++) {
    weft_graph *g = weft_graph_new();
    weft_node *parts[300];
    int64_t want = 0;
    for (int k = 0; k < 300; k++) {
      parts[k] = weft_mul(g, weft_add(g, k, t->id), r + 1);
      want += (int64_t)(k + t->id) * (r + 1);
    }
    weft_node *s = weft_sum(g, 300, parts);
    weft_compute_opts o;
    weft_compute_opts_init(&o);
    o.ignore_env = 1;
    o.scheduler = WEFT_SCHED_THREADS;
    o.executor = t->ex;
    weft_value v = weft_none();
    int rc = weft_compute1(g, s, &v, &o);
    if ((rc || v.type != WEFT_T_INT || v.as.i != want) && !t->bad++)
      snprintf(t->msg, sizeof t->msg,
               "thread %d round %d: %s (%s), value %lld, expected %lld", t->id,
               r, weft_err_name(rc), weft_graph_error(g), (long long)v.as.i,
               (long long)want);
    weft_graph_free(g);
  }
  return NULL;
}

static void test_shared_executor(void **state) {
  (void)state;
  enum { T = 4 };
  app_thread t[T];
  pthread_t th[T];
  for (int k = 0; k < T; k++) {
    t[k] = (app_thread){ex2, k, TU_TSAN ? 50 : 200, 0, ""};
    assert_int_equal(pthread_create(&th[k], NULL, app_main, &t[k]), 0);
  }
  for (int k = 0; k < T; k++)
    pthread_join(th[k], NULL);
  for (int k = 0; k < T; k++)
    if (t[k].bad)
      fail_msg("%d wrong computes; first: %s", t[k].bad, t[k].msg);
}

/* ---- weft_executor_free waits for the compute that runs on it ---- */

static _Atomic int slow_started;
static _Atomic uint64_t slow_last_end;
static long slow(long x) {
  atomic_store(&slow_started, 1);
  struct timespec ts = {0, 60 * 1000000};
  nanosleep(&ts, NULL);
  uint64_t now = weft_now_ns();
  uint64_t prev = atomic_load(&slow_last_end);
  while (now > prev &&
         !atomic_compare_exchange_weak(&slow_last_end, &prev, now))
    ;
  return x + 1;
}
WEFT_DELAYED(slow, long, long);

typedef struct slow_job {
  weft_executor *ex;
  int rc;
  weft_value v;
} slow_job;

static void *slow_main(void *arg) {
  slow_job *j = arg;
  weft_graph *g = weft_graph_new();
  weft_node *parts[6];
  for (int k = 0; k < 6; k++)
    parts[k] = weft_call(g, slow, k);
  weft_node *s = weft_sum(g, 6, parts);
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.ignore_env = 1;
  o.scheduler = WEFT_SCHED_THREADS;
  o.executor = j->ex;
  j->rc = weft_compute1(g, s, &j->v, &o);
  weft_graph_free(g);
  return NULL;
}

static void test_free_waits(void **state) {
  (void)state;
  slow_job j = {NULL, -1, {0, 0, {0}}};
  assert_ok(weft_executor_new(2, &j.ex), NULL);
  atomic_store(&slow_started, 0);
  atomic_store(&slow_last_end, 0);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, slow_main, &j), 0);
  while (!atomic_load(&slow_started)) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  weft_executor_free(j.ex); /* must wait for the running compute */
  uint64_t freed_at = weft_now_ns();
  pthread_join(th, NULL);
  assert_ok(j.rc, NULL);
  assert_int_value(j.v, 1 + 2 + 3 + 4 + 5 + 6);
  if (freed_at < atomic_load(&slow_last_end))
    fail_msg("weft_executor_free returned %.1f ms before the last task of "
             "the running compute ended",
             (double)(atomic_load(&slow_last_end) - freed_at) / 1e6);
}

/* ---- idle workers sleep: no core burnt while there is nothing to do ---- */

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static long napper(long ms) {
  struct timespec ts = {0, ms * 1000000};
  nanosleep(&ts, NULL);
  return ms;
}
WEFT_DELAYED(napper, long, long);

static void test_idle_sleeps(void **state) {
  (void)state;
  weft_executor *ex4;
  assert_ok(weft_executor_new(4, &ex4), NULL);
  /* between computes */
  double c0 = cpu_seconds(), w0 = tu_now();
  struct timespec ts = {0, 300 * 1000000};
  nanosleep(&ts, NULL);
  double idle_cpu = cpu_seconds() - c0, idle_wall = tu_now() - w0;
  /* during a compute whose only task sleeps: three workers have nothing */
  weft_graph *g = weft_graph_new();
  weft_node *n = weft_add(g, weft_call(g, napper, 300L), 1);
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.ignore_env = 1;
  o.scheduler = WEFT_SCHED_THREADS;
  o.executor = ex4;
  weft_value v;
  c0 = cpu_seconds();
  w0 = tu_now();
  assert_rc(0, tu_compute1(g, n, &v, &o), g);
  double busy_cpu = cpu_seconds() - c0, busy_wall = tu_now() - w0;
  assert_int_value(v, 301);
  print_message("idle executor of 4: %.3f s CPU in %.3f s; compute of one "
                "sleeping task: %.3f s CPU in %.3f s\n",
                idle_cpu, idle_wall, busy_cpu, busy_wall);
  if (idle_cpu >= 0.03)
    fail_msg("an idle executor used %.3f s of CPU in %.3f s", idle_cpu,
             idle_wall);
  if (busy_cpu >= 0.05) /* a spinning worker would use up to 0.3 s */
    fail_msg("3 idle workers used %.3f s of CPU while one task slept %.3f s",
             busy_cpu, busy_wall);
  weft_graph_free(g);
  weft_executor_free(ex4);
}

/* ---- executors made and freed in a loop ---- */

static void test_executor_churn(void **state) {
  (void)state;
  for (int k = 0; k < (TU_TSAN ? 30 : 200); k++) {
    weft_executor *ex;
    assert_ok(weft_executor_new(1 + k % 4, &ex), NULL);
    assert_int_equal(weft_executor_workers(ex), 1 + k % 4);
    if (k % 2) {
      weft_graph *g = weft_graph_new();
      weft_node *s = weft_add(g, weft_mul(g, k, 2), 1);
      weft_compute_opts o;
      weft_compute_opts_init(&o);
      o.ignore_env = 1;
      o.executor = ex;
      weft_value v;
      assert_rc(0, tu_compute1(g, s, &v, &o), g);
      assert_int_value(v, 2 * k + 1);
      weft_graph_free(g);
    }
    weft_executor_free(ex);
  }
  weft_executor_free(NULL);
  assert_int_equal(weft_executor_workers(NULL), 0);
  weft_executor *ex = (weft_executor *)1;
  assert_rc(WEFT_EINVAL, weft_executor_new(5000, &ex), NULL);
  assert_null(ex);
  assert_rc(WEFT_EINVAL, weft_executor_new(2, NULL), NULL);
}

int main(void) {
  tu_watchdog(115);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_million_x50),
      cmocka_unit_test(test_wavefront),
      cmocka_unit_test(test_tree),
      cmocka_unit_test(test_fan_out),
      cmocka_unit_test(test_shared_executor),
      cmocka_unit_test(test_free_waits),
      cmocka_unit_test(test_idle_sleeps),
      cmocka_unit_test(test_executor_churn),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
