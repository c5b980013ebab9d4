/* test_client.c - the client and its futures: results and errors on
 * futures, chains of futures, as_completed under random delays, cancel
 * while queued / running / after done, callbacks that submit more work,
 * tasks that wait for futures on a one-thread pool, futures in graphs,
 * persist, two clients side by side, and a client closed with work in
 * flight. Every expected value is computed here independently. */
#include "testutil.h"

#include <math.h>

static long long cl_inc(long long x) { return x + 1; }
WEFT_DELAYED(cl_inc, long long, long long);
static long long cl_add(long long a, long long b) { return a + b; }
WEFT_DELAYED(cl_add, long long, long long, long long);

static int cl_fail(weft_task_ctx *ctx, const weft_value *a, size_t n,
                   weft_value *out) {
  (void)n;
  (void)out;
  int64_t x = 0;
  weft_value_to_int64(&a[0], &x);
  return weft_fail(ctx, "bad input %lld", (long long)x);
}
WEFT_REGISTER_ARITY(cl_fail, 1);

/* Sleeps until the monotonic time args[0] (ns), returns args[1]. */
static int cl_sleep_until(weft_task_ctx *ctx, const weft_value *a, size_t n,
                          weft_value *out) {
  (void)ctx;
  (void)n;
  int64_t at = 0;
  weft_value_to_int64(&a[0], &at);
  struct timespec ts = {(time_t)(at / 1000000000), (long)(at % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
    ;
  *out = weft_value_retain(&a[1]);
  return 0;
}
WEFT_REGISTER_ARITY(cl_sleep_until, 2);

static int cl_who(weft_task_ctx *ctx, const weft_value *a, size_t n,
                  weft_value *out) {
  (void)a;
  (void)n;
  char key[64];
  weft_task_key(ctx, key, sizeof key);
  if (strncmp(key, "cl_who-", 7))
    return weft_fail(ctx, "key '%s'", key);
  *out = weft_int(weft_task_worker(ctx));
  return 0;
}
WEFT_REGISTER(cl_who);

static int64_t now_ns(void) { return (int64_t)weft_stream_now_ns(); }

static weft_client *new_client(int workers, int io) {
  weft_client_opts o;
  weft_client_opts_init(&o);
  o.workers = workers;
  o.io_workers = io;
  o.ignore_env = 1;
  weft_client *c = NULL;
  char msg[256];
  int rc = weft_client_new_msg(&o, &c, msg, sizeof msg);
  if (rc)
    print_error("weft_client_new: %s\n", msg);
  assert_rc(0, rc, NULL);
  return c;
}

static int64_t result_i64(weft_future *f) {
  weft_value v;
  int rc = weft_future_result(f, &v, 20);
  if (rc)
    print_error("future failed: %s\n", weft_future_error(f));
  assert_rc(0, rc, NULL);
  int64_t x = -1;
  assert_rc(0, weft_value_to_int64(&v, &x), NULL);
  weft_value_release(&v);
  return x;
}

static void test_submit_chain_errors(void **state) {
  (void)state;
  weft_client *c = new_client(2, 0);
  weft_future *x = weft_submit(c, cl_inc, 1);
  weft_future *y = weft_submit(c, cl_inc, x);   /* a future as an argument */
  weft_future *z = weft_submit(c, cl_add, x, y); /* 2 + 3 */
  assert_i64(result_i64(z), 5);
  assert_i64(result_i64(x), 2);
  assert_int_equal(weft_future_get_state(z), WEFT_FUTURE_FINISHED);
  char key[64];
  weft_future_key(x, key, sizeof key);
  assert_contains(key, "cl_inc-");

  /* who runs it: CPU threads 0..1, I/O threads from 2 */
  weft_future *w1 = weft_submit0(c, cl_who);
  int64_t wid = result_i64(w1);
  assert_true(wid >= 0 && wid < 2);
  weft_future_release(w1);
  weft_client *cio = new_client(2, 3);
  w1 = weft_submit_fn(cio, WEFT_FN(cl_who), 0, NULL);
  weft_future *w2 = weft_submit_io_fn(cio, WEFT_FN(cl_who), 0, NULL);
  wid = result_i64(w2);
  assert_true(wid >= 2 && wid < 5);
  assert_true(result_i64(w1) < 2);
  weft_future_release(w1);
  weft_future_release(w2);
  weft_client_close(cio);

  /* a long chain: each waits for the previous one without a thread waiting */
  weft_future *prev = weft_future_retain(x);
  for (int i = 0; i < 2000; i++) {
    weft_future *nx = weft_submit(c, cl_inc, prev);
    weft_future_release(prev);
    prev = nx;
  }
  assert_i64(result_i64(prev), 2002);
  weft_future_release(prev);

  /* errors travel on the future, with the task's message, to dependents */
  weft_future *bad = weft_submit(c, cl_fail, 7);
  weft_future *dep = weft_submit(c, cl_inc, bad);
  weft_value v;
  assert_rc(WEFT_ETASK, weft_future_result(dep, &v, 20), NULL);
  assert_int_equal(v.type, WEFT_T_NONE);
  assert_contains(weft_future_error(bad), "bad input 7");
  assert_contains(weft_future_error(bad), "(cl_fail)");
  assert_contains(weft_future_error(dep), "bad input 7");
  assert_int_equal(weft_future_get_state(dep), WEFT_FUTURE_ERROR);

  /* bad requests: a failed future, not a crash */
  weft_future *ar = weft_submit(c, cl_add, 1);
  assert_rc(WEFT_EARITY, weft_future_result(ar, &v, 1), NULL);
  assert_contains(weft_future_error(ar), "takes 2 arguments, 1 given");
  weft_future *nf = weft_submit_fn(c, NULL, 0, NULL);
  assert_rc(WEFT_EINVAL, weft_future_result(nf, &v, 1), NULL);
  assert_null(weft_submit_fn(NULL, WEFT_FN(cl_inc), 1,
                             (weft_value[]){weft_int(1)}));

  /* gather: all results, or the first failure's index */
  weft_future *fs[3] = {x, y, z};
  weft_value outs[3];
  assert_rc(0, weft_gather(3, fs, outs, NULL), NULL);
  assert_i64(outs[2].as.i, 5);
  for (int i = 0; i < 3; i++)
    weft_value_release(&outs[i]);
  weft_future *fs2[3] = {x, dep, z};
  size_t badi = 99;
  assert_rc(WEFT_ETASK, weft_gather(3, fs2, outs, &badi), NULL);
  assert_i64(badi, 1);
  assert_int_equal(outs[0].type, WEFT_T_NONE);

  weft_future *all[] = {x, y, z, bad, dep, ar, nf};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    weft_future_release(all[i]);
  weft_client_close(c);
}

static void test_wait_timeout(void **state) {
  (void)state;
  weft_client *c = new_client(1, 4);
  int64_t at = now_ns() + 300000000; /* 0.3 s from now */
  weft_future *f = weft_submit_io(c, cl_sleep_until, at, 9);
  assert_rc(WEFT_ETIMEDOUT, weft_wait(1, &f, 0.02, WEFT_WAIT_ALL), NULL);
  weft_value v;
  assert_rc(WEFT_ETIMEDOUT, weft_future_result(f, &v, 0), NULL);
  assert_false(weft_future_done(f));
  assert_rc(0, weft_wait(1, &f, 20, WEFT_WAIT_ALL), NULL);
  assert_true(now_ns() >= at);
  assert_i64(result_i64(f), 9);
  /* FIRST: returns when the quick one is done, the slow one still runs */
  weft_future *two[2] = {
      weft_submit_io(c, cl_sleep_until, now_ns() + 400000000, 1),
      weft_submit_io(c, cl_sleep_until, now_ns(), 2)};
  assert_rc(0, weft_wait(2, two, 20, WEFT_WAIT_FIRST), NULL);
  assert_true(weft_future_done(two[1]));
  assert_false(weft_future_done(two[0]));
  weft_future_release(two[0]);
  weft_future_release(two[1]);
  weft_future_release(f);
  weft_client_close(c);
}

/* as_completed: every future exactly once, when done, in the order they
 * finished. The finishing order is made known and random: task i may end
 * only at its turn perm[i], and the next turn is given only once the
 * previous future was yielded; so the k-th future yielded must be the one
 * whose turn is k. The tasks wait on I/O threads, all at once. */
static atomic_int turn;

static int cl_turn(weft_task_ctx *ctx, const weft_value *a, size_t n,
                   weft_value *out) {
  (void)n;
  double t0 = tu_now();
  while (atomic_load(&turn) != a[0].as.i)
    if (tu_now() - t0 > 20)
      return weft_fail(ctx, "turn %lld never came", (long long)a[0].as.i);
    else
      usleep(100);
  *out = a[1];
  return 0;
}
WEFT_REGISTER_ARITY(cl_turn, 2);

static void test_as_completed_order(void **state) {
  (void)state;
  enum { N = 24 };
  weft_client *c = new_client(2, N);
  unsigned seed = 12345;
  int perm[N];
  for (int i = 0; i < N; i++)
    perm[i] = i;
  for (int i = N - 1; i > 0; i--) {
    int j = (int)(rand_r(&seed) % (unsigned)(i + 1));
    int t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  weft_future *fs[N];
  atomic_store(&turn, -1);
  for (int i = 0; i < N; i++) /* future i finishes perm[i]-th */
    fs[i] = weft_submit_io(c, cl_turn, perm[i], i);
  weft_as_completed *ac;
  assert_rc(0, weft_as_completed_new(N, fs, &ac), NULL);
  int seen[N] = {0};
  int k = 0;
  weft_future *f;
  atomic_store(&turn, 0);
  while (weft_as_completed_next(ac, &f, 20) == 1) {
    assert_true(weft_future_done(f));
    int64_t i = result_i64(f);
    assert_true(i >= 0 && i < N);
    seen[i]++;
    assert_i64(perm[i], k); /* the k-th to finish is the k-th yielded */
    k++;
    atomic_store(&turn, k);
    weft_future_release(f);
  }
  assert_i64(k, N);
  for (int i = 0; i < N; i++)
    assert_i64(seen[i], 1);
  weft_as_completed_free(ac);

  /* many futures with random tiny delays: each exactly once, all done */
  enum { M = 600 };
  weft_future *many[M];
  for (int i = 0; i < M; i++)
    many[i] = weft_submit_io(c, cl_sleep_until,
                             now_ns() + (int64_t)(rand_r(&seed) % 2000000), i);
  assert_rc(0, weft_as_completed_new(M / 2, many, &ac), NULL);
  for (int i = M / 2; i < M; i++) /* added later, some already finished */
    assert_rc(0, weft_as_completed_add(ac, many[i]), NULL);
  int cnt[M] = {0};
  k = 0;
  while (weft_as_completed_next(ac, &f, 20) == 1) {
    assert_true(weft_future_done(f));
    cnt[result_i64(f)]++;
    k++;
    weft_future_release(f);
  }
  assert_i64(k, M);
  for (int i = 0; i < M; i++)
    assert_i64(cnt[i], 1);
  assert_int_equal(weft_as_completed_next(ac, &f, 0), 0);
  weft_as_completed_free(ac);
  for (int i = 0; i < M; i++)
    weft_future_release(many[i]);
  for (int i = 0; i < N; i++)
    weft_future_release(fs[i]);
  weft_client_close(c);
}

/* ---- cancel ---- */

static atomic_int gate_open, gate_started, ran_count, saw_cancel;

static int cl_gate(weft_task_ctx *ctx, const weft_value *a, size_t n,
                   weft_value *out) {
  (void)a;
  (void)n;
  atomic_store(&gate_started, 1);
  double t0 = tu_now();
  while (!atomic_load(&gate_open) && tu_now() - t0 < 10) {
    if (weft_task_cancelled(ctx)) {
      atomic_store(&saw_cancel, 1);
      break;
    }
    usleep(200);
  }
  return tu_tracked_new(out, 1); /* dropped when cancelled: no leak */
}
WEFT_REGISTER_ARITY(cl_gate, 0);

static int cl_count(weft_task_ctx *ctx, const weft_value *a, size_t n,
                    weft_value *out) {
  (void)ctx;
  (void)a;
  (void)n;
  atomic_fetch_add(&ran_count, 1);
  *out = weft_int(1);
  return 0;
}
WEFT_REGISTER(cl_count);

static void test_cancel(void **state) {
  (void)state;
  atomic_store(&gate_open, 0);
  atomic_store(&gate_started, 0);
  atomic_store(&ran_count, 0);
  atomic_store(&saw_cancel, 0);
  weft_client *c = new_client(1, -1);
  weft_future *blocker = weft_submit0(c, cl_gate);
  while (!atomic_load(&gate_started))
    usleep(100);
  /* queued behind the blocker: cancelled, never runs; dependents too */
  weft_future *queued = weft_submit0(c, cl_count);
  weft_future *dep_before = weft_submit(c, cl_inc, queued);
  assert_int_equal(weft_cancel(queued), 0);
  weft_future *dep_after = weft_submit(c, cl_inc, queued);
  weft_value v;
  assert_rc(WEFT_ECANCELED, weft_future_result(queued, &v, 1), NULL);
  assert_rc(WEFT_ECANCELED, weft_future_result(dep_before, &v, 1), NULL);
  assert_rc(WEFT_ECANCELED, weft_future_result(dep_after, &v, 1), NULL);
  assert_contains(weft_future_error(queued), "cancelled");
  assert_int_equal(weft_cancel(queued), 1); /* twice: already done */

  /* running: finishes as cancelled at once, the task is told */
  assert_int_equal(weft_future_get_state(blocker), WEFT_FUTURE_RUNNING);
  assert_int_equal(weft_cancel(blocker), 0);
  assert_rc(WEFT_ECANCELED, weft_future_result(blocker, &v, 0), NULL);
  weft_future *after = weft_submit0(c, cl_count); /* the pool carries on */
  assert_i64(result_i64(after), 1);
  assert_int_equal(atomic_load(&saw_cancel), 1);
  assert_int_equal(atomic_load(&ran_count), 1); /* `queued` never ran */

  /* after done: nothing changes */
  assert_int_equal(weft_cancel(after), 1);
  assert_i64(result_i64(after), 1);
  assert_int_equal(weft_future_status(after), 0);

  /* racing: cancel while tasks start and finish, on many threads */
  weft_client *c4 = new_client(4, -1);
  for (int round = 0; round < 200; round++) {
    weft_future *a = weft_submit(c4, cl_inc, round);
    weft_future *b = weft_submit(c4, cl_inc, a);
    int r = weft_cancel(a);
    int sb = 0;
    weft_value bv;
    sb = weft_future_result(b, &bv, 20);
    if (r == 0) { /* a cancelled: b never has a result */
      assert_rc(WEFT_ECANCELED, weft_future_status(a), NULL);
      assert_rc(WEFT_ECANCELED, sb, NULL);
    } else {
      assert_rc(0, weft_future_status(a), NULL);
      assert_rc(0, sb, NULL);
      assert_i64(bv.as.i, round + 2);
    }
    weft_future_release(a);
    weft_future_release(b);
  }
  weft_client_close(c4);
  weft_future *all[] = {blocker, queued, dep_before, dep_after, after};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    weft_future_release(all[i]);
  weft_client_close(c);
}

/* ---- callbacks ---- */

typedef struct chain_state {
  weft_client *c;
  atomic_int calls;
  atomic_llong last;
  atomic_int done;
  int limit;
} chain_state;

static void chain_cb(weft_future *f, void *ud) {
  chain_state *s = ud;
  weft_value v;
  /* no lock is held: waiting, cancelling and submitting are all fine */
  assert_rc(0, weft_future_result(f, &v, 0), NULL);
  int n = atomic_fetch_add(&s->calls, 1) + 1;
  atomic_store(&s->last, (long long)v.as.i);
  if (n < s->limit) {
    weft_future *next = weft_submit(s->c, cl_inc, f);
    assert_int_equal(weft_future_then(next, chain_cb, s), 0);
    weft_future_release(next);
  } else {
    atomic_store(&s->done, 1);
  }
}

static long long cl_fib_wait(long long n);
WEFT_DELAYED(cl_fib_wait, long long, long long);
static _Atomic(weft_client *) fib_client;
/* A task that submits two tasks and waits for them: on a one-thread pool
 * that only works because a waiting pool thread runs queued work. */
static long long cl_fib_wait(long long n) {
  if (n < 2)
    return n;
  weft_client *c = atomic_load(&fib_client);
  weft_future *a = weft_submit(c, cl_fib_wait, n - 1);
  weft_future *b = weft_submit(c, cl_fib_wait, n - 2);
  weft_future *ab[2] = {a, b};
  weft_value r[2];
  long long s = -1000000;
  if (weft_gather(2, ab, r, NULL) == 0)
    s = r[0].as.i + r[1].as.i;
  weft_future_release(a);
  weft_future_release(b);
  return s;
}

static void order_cb(weft_future *f, void *ud) {
  (void)f;
  atomic_int *n = ud;
  atomic_fetch_add(n, 1);
}

static void test_callbacks(void **state) {
  (void)state;
  weft_client *c = new_client(2, 0);
  chain_state s = {.c = c, .limit = 300};
  atomic_init(&s.calls, 0);
  atomic_init(&s.last, 0);
  atomic_init(&s.done, 0);
  weft_future *f = weft_submit(c, cl_inc, 0);
  assert_int_equal(weft_future_then(f, chain_cb, &s), 0);
  weft_future_release(f);
  double t0 = tu_now();
  while (!atomic_load(&s.done) && tu_now() - t0 < 20)
    usleep(500);
  assert_int_equal(atomic_load(&s.calls), 300);
  assert_i64(atomic_load(&s.last), 300); /* 1, then +1 per callback */

  /* a callback on a finished future still runs, once */
  atomic_int n;
  atomic_init(&n, 0);
  weft_future *g = weft_submit(c, cl_inc, 1);
  assert_i64(result_i64(g), 2);
  for (int i = 0; i < 10; i++)
    assert_int_equal(weft_future_then(g, order_cb, &n), 0);
  t0 = tu_now();
  while (atomic_load(&n) < 10 && tu_now() - t0 < 20)
    usleep(200);
  assert_int_equal(atomic_load(&n), 10);
  assert_rc(WEFT_EINVAL, weft_future_then(g, NULL, NULL), NULL);
  weft_future_release(g);
  weft_client_close(c);

  /* tasks waiting for tasks on one thread: no deadlock */
  weft_client *one = new_client(1, -1);
  atomic_store(&fib_client, one);
  weft_future *fib = weft_submit(one, cl_fib_wait, 15);
  assert_i64(result_i64(fib), 610);
  weft_future_release(fib);
  weft_client_close(one);
}

/* weft_client_close from a callback of that client would wait for its own
 * thread: it is refused (a line on stderr) and the client keeps working
 * until it is closed from outside. It used to hang for ever. */
typedef struct {
  weft_client *c;
  atomic_int returned;
} self_close;
static void self_close_cb(weft_future *f, void *ud) {
  (void)f;
  self_close *s = ud;
  weft_client_close(s->c);
  atomic_store(&s->returned, 1);
}

static void test_close_from_callback(void **state) {
  (void)state;
  weft_client *c = new_client(2, 0);
  self_close s = {.c = c};
  atomic_init(&s.returned, 0);
  weft_future *f = weft_submit(c, cl_inc, 1);
  assert_int_equal(weft_future_then(f, self_close_cb, &s), 0);
  double t0 = tu_now();
  while (!atomic_load(&s.returned) && tu_now() - t0 < 10)
    usleep(500);
  assert_int_equal(atomic_load(&s.returned), 1);
  assert_i64(result_i64(f), 2);
  weft_future *g = weft_submit(c, cl_add, 40, 2); /* still open */
  assert_i64(result_i64(g), 42);
  weft_future_release(f);
  weft_future_release(g);
  weft_client_close(c);
}

/* After a failed weft_client_compute, one that succeeds leaves no message
 * behind (as weft_compute): the old cycle message used to stay. */
static void test_client_compute_clears_error(void **state) {
  (void)state;
  weft_client *c = new_client(2, 0);
  weft_graph *g = weft_graph_new();
  weft_node *a = weft_call(g, cl_inc, weft_ref(g, "b"));
  weft_node *b = weft_call(g, cl_inc, weft_ref(g, "a"));
  assert_int_equal(weft_node_set_key(g, a, "a"), 0);
  assert_int_equal(weft_node_set_key(g, b, "b"), 0);
  weft_node *ok = weft_call(g, cl_add, 20, 22);
  weft_future *f = NULL;
  assert_int_equal(weft_client_compute(c, g, 1, &a, &f), WEFT_ECYCLE);
  assert_non_null(strstr(weft_graph_error(g), "cycle"));
  assert_int_equal(weft_client_compute(c, g, 1, &ok, &f), 0);
  assert_string_equal(weft_graph_error(g), "");
  assert_int_equal(weft_graph_task_code(g), 0);
  assert_i64(result_i64(f), 42);
  weft_future_release(f);
  weft_graph_free(g);
  weft_client_close(c);
}

/* A NaN timeout is refused at once by every wait (it used to wait for
 * ever in one and time out at once in another); INFINITY waits. */
static void test_nan_timeouts(void **state) {
  (void)state;
  weft_client *c = new_client(2, 0);
  weft_future *f = weft_submit(c, cl_inc, 1);
  weft_value v = weft_int(9);
  assert_int_equal(weft_future_result(f, &v, NAN), WEFT_EINVAL);
  assert_int_equal(v.type, WEFT_T_NONE);
  assert_int_equal(weft_wait(1, &f, NAN, WEFT_WAIT_ALL), WEFT_EINVAL);
  weft_as_completed *ac;
  assert_int_equal(weft_as_completed_new(1, &f, &ac), 0);
  weft_future *got = NULL;
  assert_int_equal(weft_as_completed_next(ac, &got, NAN), WEFT_EINVAL);
  assert_int_equal(weft_as_completed_next(ac, &got, INFINITY), 1);
  weft_future_release(got);
  weft_as_completed_free(ac);
  assert_int_equal(weft_future_result(f, &v, INFINITY), 0);
  assert_int_equal(v.as.i, 2);
  weft_future_release(f);
  weft_client_close(c);
}

/* ---- graphs ---- */

static void test_graphs(void **state) {
  (void)state;
  weft_client *c = new_client(2, 0);
  weft_future *f = weft_submit(c, cl_inc, 41);
  weft_graph *g = weft_graph_new();
  weft_node *fn = weft_future_node(g, f);
  weft_node *y = weft_call(g, cl_add, fn, 1);
  weft_node *z = weft_call(g, cl_inc, y);
  /* a plain compute (its own threads) waits for the future */
  weft_value v;
  assert_ok(weft_compute1(g, z, &v, NULL), g);
  assert_i64(v.as.i, 44);
  /* through the client's executor */
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.client = c;
  o.ignore_env = 1;
  assert_ok(weft_compute1(g, y, &v, &o), g);
  assert_i64(v.as.i, 43);
  /* client.compute: futures of the outputs; the graph may go at once */
  weft_future *out[2];
  assert_ok(weft_client_compute(c, g, WEFT_NODES(z, y), out), g);
  weft_graph_free(g);
  assert_i64(result_i64(out[0]), 44);
  assert_i64(result_i64(out[1]), 43);
  char key[64];
  weft_future_key(out[0], key, sizeof key);
  assert_contains(key, "cl_inc-");
  /* a future of a graph as the argument of a submit */
  weft_future *w = weft_submit(c, cl_add, out[0], out[1]);
  assert_i64(result_i64(w), 87);

  /* a failing future inside a graph: the compute fails with its message */
  weft_future *bad = weft_submit(c, cl_fail, 3);
  weft_graph *g2 = weft_graph_new();
  weft_node *b = weft_call(g2, cl_inc, weft_future_node(g2, bad));
  assert_rc(WEFT_ETASK, weft_compute1(g2, b, &v, NULL), g2);
  assert_contains(weft_graph_error(g2), "bad input 3");
  weft_future *bf;
  assert_ok(weft_client_compute(c, g2, 1, &b, &bf), g2);
  assert_rc(WEFT_ETASK, weft_future_result(bf, &v, 20), NULL);
  assert_contains(weft_future_error(bf), "bad input 3");
  weft_future_release(bf);
  /* errors before anything runs */
  weft_future *nf = (weft_future *)1;
  assert_rc(WEFT_EINVAL, weft_client_compute(c, g2, 1, (weft_node *[]){NULL},
                                             &nf), g2);
  assert_null(nf);
  weft_node *cyc = weft_ref(g2, "loop");
  weft_node *cyc2 = weft_call(g2, cl_inc, cyc);
  weft_node_set_key(g2, cyc2, "loop");
  assert_rc(WEFT_ECYCLE, weft_client_compute(c, g2, 1, &cyc2, &nf), g2);
  weft_graph_free(g2);

  /* persist: results stay in the client, later graphs use them by key */
  weft_graph *g3 = weft_graph_new();
  weft_node *p = weft_call(g3, cl_add, 20, 22);
  weft_node_set_key(g3, p, "answer");
  assert_ok(weft_client_persist(c, g3, 1, &p, NULL), g3);
  weft_graph_free(g3);
  weft_future *pf;
  assert_rc(0, weft_client_get(c, "answer", &pf), NULL);
  weft_graph *g4 = weft_graph_new();
  weft_node *q = weft_call(g4, cl_inc, weft_future_node(g4, pf));
  weft_future *qf;
  assert_ok(weft_client_compute(c, g4, 1, &q, &qf), g4);
  assert_i64(result_i64(qf), 43);
  weft_graph_free(g4);
  weft_future_release(pf);
  assert_rc(0, weft_client_unpersist(c, "answer"), NULL);
  assert_rc(WEFT_ENOTFOUND, weft_client_get(c, "answer", &pf), NULL);
  assert_rc(WEFT_ENOTFOUND, weft_client_unpersist(c, "answer"), NULL);

  weft_future *all[] = {f, out[0], out[1], w, bad, qf};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    weft_future_release(all[i]);
  weft_client_close(c);
}

/* ---- two clients; close with work in flight ---- */

static void count_cb(weft_future *f, void *ud) {
  (void)f;
  atomic_fetch_add((atomic_int *)ud, 1);
}

static int cl_nap(weft_task_ctx *ctx, const weft_value *a, size_t n,
                  weft_value *out) {
  (void)ctx;
  (void)n;
  usleep(300);
  return tu_tracked_new(out, a[0].as.i);
}
WEFT_REGISTER_ARITY(cl_nap, 1);

static void test_two_clients_and_close(void **state) {
  (void)state;
  weft_client *a = new_client(2, 0), *b = new_client(1, 0);
  weft_future *fa = weft_submit(a, cl_inc, 1);
  weft_future *cross = weft_submit(b, cl_inc, fa);
  weft_value v;
  assert_rc(WEFT_EINVAL, weft_future_result(cross, &v, 5), NULL);
  assert_contains(weft_future_error(cross), "another client");
  weft_client_close(b); /* a carries on */
  assert_i64(result_i64(fa), 2);
  weft_future_release(cross);

  enum { N = 400 };
  weft_future *fs[2 * N];
  atomic_int cbs;
  atomic_init(&cbs, 0);
  for (int i = 0; i < N; i++) {
    fs[2 * i] = weft_submit(a, cl_nap, i);
    fs[2 * i + 1] = weft_submit(a, cl_inc, i); /* nap results are not ints */
    assert_int_equal(weft_future_then(fs[2 * i], count_cb, &cbs), 0);
  }
  weft_future *chain = weft_submit(a, cl_nap, fs[2 * N - 2]);
  double t0 = tu_now();
  weft_client_close(a); /* returns: queued work cancelled, running finishes */
  assert_true(tu_now() - t0 < 10);
  int finished = 0, cancelled = 0;
  for (int i = 0; i < 2 * N; i++) {
    assert_true(weft_future_done(fs[i]));
    int st = weft_future_status(fs[i]);
    assert_true(st == 0 || st == WEFT_ECANCELED);
    finished += st == 0;
    cancelled += st == WEFT_ECANCELED;
  }
  assert_true(cancelled > 0);
  assert_i64(finished + cancelled, 2 * N);
  assert_int_equal(atomic_load(&cbs), N); /* every callback ran */
  assert_true(weft_future_done(chain));
  /* a closed client: submits give cancelled futures */
  weft_future *late = weft_submit(a, cl_inc, 1);
  assert_rc(WEFT_ECANCELED, weft_future_result(late, &v, 1), NULL);
  weft_future_release(late);
  for (int i = 0; i < 2 * N; i++)
    weft_future_release(fs[i]);
  weft_future_release(chain);
  weft_future_release(fa);
  weft_client_close(NULL);
}

/* A client whose computes and maps run in worker processes. */
static void test_procs_client(void **state) {
  (void)state;
  if (!weft_scheduler_available(WEFT_SCHED_PROCS))
    skip();
  weft_client_opts o;
  weft_client_opts_init(&o);
  o.workers = 2;
  o.scheduler = WEFT_SCHED_PROCS;
  o.ignore_env = 1;
  weft_client *c;
  assert_rc(0, weft_client_new(&o, &c), NULL);
  weft_graph *g = weft_graph_new();
  weft_node *x = weft_call(g, cl_add, 40, 1);
  weft_node *y = weft_call(g, cl_inc, x);
  weft_compute_opts co;
  weft_compute_opts_init(&co);
  co.client = c;
  co.ignore_env = 1;
  weft_value v;
  for (int i = 0; i < 3; i++) { /* the pool is started once, then kept */
    assert_ok(weft_compute1(g, y, &v, &co), g);
    assert_i64(v.as.i, 42);
  }
  weft_procs *pool = weft_client_procs(c);
  assert_non_null(pool);
  assert_ptr_equal(pool, weft_client_procs(c));
  weft_map_opts mo;
  weft_map_opts_init(&mo);
  mo.procs = pool;
  mo.ignore_env = 1;
  weft_value in[5], out[5];
  for (int i = 0; i < 5; i++)
    in[i] = weft_int(i * 10);
  assert_rc(0, weft_map(WEFT_FN(cl_inc), 5, in, out, &mo), NULL);
  for (int i = 0; i < 5; i++)
    assert_i64(out[i].as.i, i * 10 + 1);
  /* futures still run on the client's threads */
  weft_future *f = weft_submit(c, cl_inc, 1);
  assert_i64(result_i64(f), 2);
  weft_future_release(f);
  weft_graph_free(g);
  weft_client_close(c);
  /* a threads client: computes run on its executor, started once */
  weft_graph *g2 = weft_graph_new();
  weft_node *z = weft_call(g2, cl_inc, 1);
  weft_client *c2 = new_client(1, -1);
  weft_executor *ex = weft_client_executor(c2);
  assert_non_null(ex);
  co.client = c2;
  assert_ok(weft_compute1(g2, z, &v, &co), g2);
  assert_i64(v.as.i, 2);
  weft_client_close(c2);
  weft_graph_free(g2);
}

static void test_options(void **state) {
  (void)state;
  weft_client_opts o;
  weft_client_opts_init(&o);
  o.workers = 5000;
  weft_client *c = (weft_client *)1;
  char msg[256];
  assert_rc(WEFT_EINVAL, weft_client_new_msg(&o, &c, msg, sizeof msg), NULL);
  assert_null(c);
  assert_contains(msg, "4096");
  o.workers = 1;
  o.scheduler = WEFT_SCHED_SYNC;
  assert_rc(WEFT_EINVAL, weft_client_new_msg(&o, &c, msg, sizeof msg), NULL);
  assert_contains(msg, "threads or procs");
  assert_rc(WEFT_EINVAL, weft_client_new(NULL, NULL), NULL);
  c = new_client(3, 7);
  assert_int_equal(weft_client_workers(c), 3);
  assert_int_equal(weft_client_io_workers(c), 7);
  weft_client_close(c);
}

int main(void) {
  tu_watchdog(TU_TSAN ? 240 : 100);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_submit_chain_errors),
      cmocka_unit_test(test_wait_timeout),
      cmocka_unit_test(test_as_completed_order),
      cmocka_unit_test(test_cancel),
      cmocka_unit_test(test_callbacks),
      cmocka_unit_test(test_close_from_callback),
      cmocka_unit_test(test_graphs),
      cmocka_unit_test(test_nan_timeouts),
      cmocka_unit_test(test_client_compute_clears_error),
      cmocka_unit_test(test_two_clients_and_close),
      cmocka_unit_test(test_procs_client),
      cmocka_unit_test(test_options),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
