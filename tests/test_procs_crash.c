/* test_procs_crash.c - worker processes of the procs scheduler that die:
 * a task that segfaults, aborts, exits or whose worker is SIGKILLed by the
 * test fails the compute with WEFT_EKILLED naming the task and how its
 * worker died when it has no retries left, and succeeds when it crashes
 * once and may retry, with every other result intact; inside a map batch
 * the message names the item.
 *
 * This program is itself re-executed as each worker: libweft's constructor
 * turns the copy into a worker before main() (cmocka's) could run. */
#include "procs_tasks.h"

/* ---- task functions ---- */

static int t_abort(weft_task_ctx *ctx, const weft_value *a, size_t n,
                   weft_value *out) {
  (void)ctx, (void)a, (void)n, (void)out;
  abort();
}
WEFT_REGISTER(t_abort);

static int t_exit(weft_task_ctx *ctx, const weft_value *a, size_t n,
                  weft_value *out) {
  (void)ctx, (void)a, (void)n, (void)out;
  exit(3);
}
WEFT_REGISTER(t_exit);

/* (marker, x): crashes the first time (creating the marker file), then
 * returns x * 2. */
static int t_crash_once(weft_task_ctx *ctx, const weft_value *a, size_t n,
                        weft_value *out) {
  (void)ctx, (void)n;
  const char *marker = weft_value_str(&a[0]);
  int fd = open(marker, O_CREAT | O_EXCL | O_WRONLY, 0600);
  if (fd >= 0) {
    close(fd);
    segfault();
  }
  *out = weft_int(a[1].as.i * 2);
  return 0;
}
WEFT_REGISTER_ARITY(t_crash_once, 2);

/* ---- tests ---- */

/* One crashing task among ordinary ones, no retries: WEFT_EKILLED, the
 * message names the task, its function and how the worker died. */
static void check_killed(const weft_fn_info *crasher, const char *fnname,
                         const char *how) {
  weft_procs *pool = new_pool(2);
  weft_graph *g = weft_graph_new();
  weft_node *ok[4];
  for (int i = 0; i < 4; i++)
    ok[i] = weft_call(g, t_add1, i);
  weft_node *bad = weft_call_fn(g, crasher, 1, (weft_value[]){weft_int(3)});
  assert_int_equal(weft_node_set_key(g, bad, "crash-3"), 0);
  weft_node *all = weft_call(g, t_hash, ok[0], ok[1], bad, ok[2], ok[3]);
  weft_value v;
  weft_compute_opts o = procs_opts(pool, 0);
  int rc = weft_compute1(g, all, &v, &o);
  assert_int_equal(rc, WEFT_EKILLED);
  assert_int_equal(v.type, WEFT_T_NONE);
  const char *msg = weft_graph_error(g);
  char want[200];
  snprintf(want, sizeof want,
           "task 'crash-3' (%s) killed its worker 1 time "
           "(last: %s)",
           fnname, how);
  if (strcmp(msg, want) != 0) {
    print_error("got:  %s\nwant: %s\n", msg, want);
    fail();
  }
  /* The pool is still usable: the dead worker was replaced. */
  weft_value a;
  assert_int_equal(weft_compute1(g, ok[3], &a, &o), 0);
  assert_int_equal(a.as.i, 4);
  weft_graph_free(g);
  weft_procs_free(pool);
  assert_no_children();
}

static void test_segfault(void **state) {
  (void)state;
  check_killed(WEFT_FN(t_segv), "crash", "signal 11, Segmentation fault");
}

static void test_abort(void **state) {
  (void)state;
  check_killed(WEFT_FN(t_abort), "t_abort", "signal 6, Aborted");
}

static void test_exit(void **state) {
  (void)state;
  check_killed(WEFT_FN(t_exit), "t_exit", "exit status 3");
}

/* Keeps killing: retries + 1 kills, then the error counts them. */
static void test_retries_exhausted(void **state) {
  (void)state;
  weft_procs_opts po;
  weft_procs_opts_init(&po);
  po.retries = 2;
  weft_procs *pool;
  assert_int_equal(weft_procs_new(2, &po, &pool), 0);
  weft_graph *g = weft_graph_new();
  weft_node *bad = weft_call(g, t_abort, 1);
  weft_value v;
  weft_compute_opts o = procs_opts(pool, -1); /* the pool's: 2 */
  assert_int_equal(weft_compute1(g, bad, &v, &o), WEFT_EKILLED);
  char want[200];
  snprintf(want, sizeof want,
           "task 't_abort-%ld' (t_abort) killed its worker "
           "3 times (last: signal 6, Aborted)",
           weft_node_index(g, bad));
  assert_string_equal(weft_graph_error(g), want);
  weft_graph_free(g);
  weft_procs_free(pool);
  assert_no_children();
}

/* A crashing task among hundreds of tiny ones, which the pool queues many
 * deep per worker: the death is charged to the crasher, not to a task that
 * happened to be queued with it, and every output that came back is right.
 * Which outputs come back before the compute stops depends on timing (none
 * at all is possible): that they do is not checked here, only that none is
 * wrong; the run without the crasher below checks a sample of values. */
static void test_crash_in_batch(void **state) {
  (void)state;
  weft_procs *pool = new_pool(2);
  enum { N = 600 };
  weft_graph *g = weft_graph_new();
  weft_node *nodes[N + 1];
  for (int i = 0; i < N; i++) {
    if (i == N / 2) {
      nodes[i] = weft_call(g, t_segv, 0);
      assert_int_equal(weft_node_set_key(g, nodes[i], "crash-batch"), 0);
    } else {
      nodes[i] = weft_call(g, t_add1, i);
    }
  }
  weft_node *sum = weft_call(g, t_list, nodes[0], nodes[N - 1]);
  nodes[N] = sum;
  weft_value outs[N + 1];
  weft_value *outp[N + 1];
  for (int i = 0; i <= N; i++)
    outp[i] = &outs[i];
  for (int retries = 0; retries <= 1; retries++) {
    weft_compute_opts o = procs_opts(pool, retries);
    int rc = weft_compute(g, N + 1, nodes, outp, &o);
    assert_int_equal(rc, WEFT_EKILLED);
    char want[160];
    snprintf(want, sizeof want,
             "task 'crash-batch' (crash) killed its worker %d time%s (last: "
             "signal 11, Segmentation fault)",
             retries + 1, retries ? "s" : "");
    assert_string_equal(weft_graph_error(g), want);
    int back = 0;
    for (int i = 0; i <= N; i++) {
      if (i != N / 2 && i != N && outs[i].type != WEFT_T_NONE) {
        assert_int_equal(outs[i].as.i, i + 1);
        back++;
      }
      weft_value_release(&outs[i]);
    }
    print_message("retries %d: %d of %d outputs came back before the "
                  "compute stopped\n",
                  retries, back, N - 1);
  }
  /* Without the crasher, the same pool computes a sample of the 600 (the
   * first 22, then every 38th) right, one compute each. */
  weft_compute_opts o = procs_opts(pool, 0);
  for (int i = 0; i < N; i++)
    if (i != N / 2) {
      assert_int_equal(weft_compute(g, 1, &nodes[i], outp, &o), 0);
      assert_int_equal(outs[0].as.i, i + 1);
      if (i > 20)
        i += 37; /* a sample is enough */
    }
  weft_graph_free(g);
  weft_procs_free(pool);
  assert_no_children();
}

/* x + 1, but kills its worker process on 3. */
static int t_crash_on_3(weft_task_ctx *ctx, const weft_value *a, size_t n,
                        weft_value *out) {
  (void)ctx, (void)n;
  if (a[0].as.i == 3)
    segfault();
  *out = weft_int(a[0].as.i + 1);
  return 0;
}
WEFT_REGISTER_AS(t_crash_on_3, "crash_on_3", t_crash_on_3, 1);

/* Issue 7: an item that kills its worker inside weft_map is named as the
 * user knows it (item and function), not by the internal batch task. */
static void test_map_crash_message(void **state) {
  (void)state;
  weft_procs *pool = new_pool(2);
  weft_value in[8], out[8];
  for (int i = 0; i < 8; i++)
    in[i] = weft_int(i);
  char err[300];
  weft_map_opts mo;
  weft_map_opts_init(&mo);
  mo.procs = pool;
  mo.retries = 0;
  mo.ignore_env = 1;
  mo.errbuf = err;
  mo.errbuf_size = sizeof err;
  mo.batch_size = 1;
  assert_int_equal(weft_map(WEFT_FN(t_crash_on_3), 8, in, out, &mo),
                   WEFT_EKILLED);
  assert_string_equal(err,
                      "weft_map(crash_on_3): item 3 (crash_on_3) killed its "
                      "worker 1 time (last: signal 11, Segmentation fault)");
  mo.batch_size = 4; /* the batch of items 0 to 3 dies */
  mo.retries = 1;
  assert_int_equal(weft_map(WEFT_FN(t_crash_on_3), 8, in, out, &mo),
                   WEFT_EKILLED);
  assert_string_equal(err,
                      "weft_map(crash_on_3): one of items 0 to 3 (crash_on_3) "
                      "killed its worker 2 times (last: signal 11, "
                      "Segmentation fault)");
  for (int i = 0; i < 8; i++)
    assert_int_equal(out[i].type, WEFT_T_NONE);
  weft_procs_free(pool);
  assert_no_children();
}

/* Crashes on its first attempt only: with a retry the compute succeeds and
 * every other result is right. */
static void test_crash_once_retried(void **state) {
  (void)state;
  weft_procs *pool = new_pool(2);
  char marker[128];
  temp_name(marker, sizeof marker, "marker");
  weft_graph *g = weft_graph_new();
  enum { N = 40 };
  weft_node *nodes[N + 1];
  weft_value outs[N + 1];
  weft_value *outp[N + 1];
  for (int i = 0; i < N; i++)
    nodes[i] = weft_call(g, t_add1, i);
  nodes[N] = weft_call(g, t_crash_once, marker, 21);
  for (int i = 0; i <= N; i++)
    outp[i] = &outs[i];
  weft_compute_opts o = procs_opts(pool, 1);
  int rc = weft_compute(g, N + 1, nodes, outp, &o);
  if (rc)
    print_error("%s\n", weft_graph_error(g));
  assert_int_equal(rc, 0);
  for (int i = 0; i < N; i++)
    assert_int_equal(outs[i].as.i, i + 1);
  assert_int_equal(outs[N].as.i, 42);
  assert_int_equal(access(marker, F_OK), 0); /* it did crash once */
  unlink(marker);
  weft_graph_free(g);
  weft_procs_free(pool);
  assert_no_children();
}

typedef struct killer {
  char path[128];
  pid_t killed;
} killer;

static void *kill_when_pid_appears(void *arg) {
  killer *k = arg;
  for (int i = 0; i < 2000; i++) { /* 20 s */
    FILE *f = fopen(k->path, "r");
    if (f) {
      int pid = 0;
      if (fscanf(f, "%d", &pid) == 1 && pid > 0) {
        fclose(f);
        kill(pid, SIGKILL);
        k->killed = pid;
        return NULL;
      }
      fclose(f);
    }
    struct timespec ts = {0, 10000000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

static void check_sigkilled(int retries) {
  weft_procs *pool = new_pool(2);
  killer k = {{0}, 0};
  temp_name(k.path, sizeof k.path, "pid");
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, kill_when_pid_appears, &k), 0);
  weft_graph *g = weft_graph_new();
  weft_node *a = weft_call(g, t_add1, 1);
  weft_node *s = weft_call(g, t_sleeper, k.path, 10);
  assert_int_equal(weft_node_set_key(g, s, "sleepy"), 0);
  weft_node *b = weft_call(g, t_add1, 2);
  weft_value av, sv, bv;
  weft_compute_opts o = procs_opts(pool, retries);
  int rc = weft_compute(g, WEFT_NODES(a, s, b), WEFT_OUT(&av, &sv, &bv), &o);
  pthread_join(th, NULL);
  assert_true(k.killed > 0);
  if (retries == 0) {
    /* Results computed before the failure are returned, the others are
     * none (the failure cancels what is still running). */
    assert_true(av.type == WEFT_T_NONE || av.as.i == 2);
    assert_true(bv.type == WEFT_T_NONE || bv.as.i == 3);
    assert_int_equal(rc, WEFT_EKILLED);
    assert_string_equal(weft_graph_error(g),
                        "task 'sleepy' (t_sleeper) killed its worker 1 time "
                        "(last: signal 9, Killed)");
    assert_int_equal(sv.type, WEFT_T_NONE);
  } else { /* the retry succeeds: every result is there */
    assert_int_equal(rc, 0);
    assert_int_equal(av.as.i, 2);
    assert_int_equal(bv.as.i, 3);
    assert_int_equal(sv.as.i, 11);
  }
  weft_value_release(&av);
  weft_value_release(&bv);
  unlink(k.path);
  weft_graph_free(g);
  weft_procs_free(pool);
  assert_no_children();
}

static void test_sigkill_no_retry(void **state) {
  (void)state;
  check_sigkilled(0);
}

static void test_sigkill_retried(void **state) {
  (void)state;
  check_sigkilled(1);
}


int main(void) {
  procs_test_env();
  unsetenv("WEFT_SCHEDULER");
  unsetenv("WEFT_WORKERS");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_segfault),
      cmocka_unit_test(test_abort),
      cmocka_unit_test(test_exit),
      cmocka_unit_test(test_retries_exhausted),
      cmocka_unit_test(test_crash_in_batch),
      cmocka_unit_test(test_map_crash_message),
      cmocka_unit_test(test_crash_once_retried),
      cmocka_unit_test(test_sigkill_no_retry),
      cmocka_unit_test(test_sigkill_retried),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
