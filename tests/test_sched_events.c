/* test_sched_events.c - the event stream (weft/events.h) as a listener sees
 * it, from the sync and the threads schedulers: one COMPUTE_BEGIN first with
 * the number of tasks that will run, the scheduler and its workers; a START
 * and an END for every task that runs, exactly once, in that order, on one
 * worker; nothing for culled tasks; a FAIL with the status and message of a
 * failing task; one COMPUTE_END last with the compute's status. Listeners
 * chain; a listener is called from several threads at once, so the
 * recording one here locks. */
#include "testutil.h"

typedef struct rec_event {
  weft_event_kind kind;
  int worker;
  uint32_t task;
  const weft_fn_info *fn;
  uint64_t time_ns;
  size_t ntasks;
  int workers;
  char scheduler[16];
  int status;
  bool has_message;
  char message[256];
} rec_event;

typedef struct recorder {
  pthread_mutex_t mu;
  rec_event *ev;
  size_t n, cap;
} recorder;

static void record(const weft_event *e, void *ud) {
  recorder *r = ud;
  pthread_mutex_lock(&r->mu);
  if (r->n == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 1024;
    r->ev = realloc(r->ev, r->cap * sizeof *r->ev);
  }
  rec_event *x = &r->ev[r->n++];
  memset(x, 0, sizeof *x);
  x->kind = e->kind;
  x->worker = e->worker;
  x->task = e->task;
  x->fn = e->fn;
  x->time_ns = e->time_ns;
  x->ntasks = e->ntasks;
  x->workers = e->workers;
  snprintf(x->scheduler, sizeof x->scheduler, "%s",
           e->scheduler ? e->scheduler : "");
  x->status = e->status;
  x->has_message = e->message != NULL;
  if (e->message)
    snprintf(x->message, sizeof x->message, "%s", e->message);
  pthread_mutex_unlock(&r->mu);
}

static void rec_init(recorder *r) {
  memset(r, 0, sizeof *r);
  pthread_mutex_init(&r->mu, NULL);
}
static void rec_free(recorder *r) {
  free(r->ev);
  pthread_mutex_destroy(&r->mu);
}
static size_t count_kind(const recorder *r, weft_event_kind k) {
  size_t c = 0;
  for (size_t i = 0; i < r->n; i++)
    c += r->ev[i].kind == k;
  return c;
}

static const tu_sched scheds[] = {
    {"sync", WEFT_SCHED_SYNC, 1, false},
    {"threads-2", WEFT_SCHED_THREADS, 2, false},
    {"threads-4", WEFT_SCHED_THREADS, 4, false},
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
  if (!tu_stuck())
    weft_executor_free(ex3);
  return 0;
}

/* ---- tasks ---- */

static long leaf(long x) {
  volatile long s = 0;
  for (long k = 0; k < 2000; k++) /* a little work: spread over workers */
    s += k ^ x;
  return x + (s & 0);
}
WEFT_DELAYED(leaf, long, long);
static long twice(long x) { return 2 * x; }
WEFT_DELAYED(twice, long, long);
static long failing(long x) {
  weft_fail(weft_task_current(), "event test failure %ld", x);
  return 0;
}
WEFT_DELAYED(failing, long, long);

/* A graph of `nleaves` leaves, each doubled, summed; plus `nunused` nodes
 * that the sum does not need (consumers of the doubled leaves, built after
 * the sum). *needed: the tasks the sum needs. */
static weft_graph *make_graph(int nleaves, int nunused, weft_node **out,
                              size_t *needed) {
  weft_graph *g = weft_graph_new();
  weft_node **parts = malloc(nleaves * sizeof *parts);
  for (int k = 0; k < nleaves; k++)
    parts[k] = weft_call(g, twice, weft_call(g, leaf, k));
  *out = weft_sum(g, (size_t)nleaves, parts);
  for (int k = 0; k < nunused && k < nleaves; k++)
    weft_call(g, twice, parts[k]); /* culled */
  weft_call(g, leaf, -1);          /* culled, a root */
  free(parts);
  *needed = 2 * (size_t)nleaves + 1;
  return g;
}

/* Checks the stream of a successful compute of g (whose needed tasks are
 * `needed` of weft_graph_size(g)) on configuration c. */
static void check_stream(const recorder *r, weft_graph *g, size_t needed,
                         const tu_sched *c, int workers) {
  size_t N = weft_graph_size(g);
  assert_true(r->n >= 2);
  const rec_event *b = &r->ev[0], *e = &r->ev[r->n - 1];
  /* one COMPUTE_BEGIN, first */
  assert_int_equal(b->kind, WEFT_EV_COMPUTE_BEGIN);
  assert_int_equal(count_kind(r, WEFT_EV_COMPUTE_BEGIN), 1);
  assert_int_equal(b->ntasks, needed);
  assert_string_equal(b->scheduler, weft_scheduler_name(c->scheduler));
  assert_int_equal(b->worker, -1);
  assert_false(b->has_message);
  /* one COMPUTE_END, last, with the status */
  assert_int_equal(e->kind, WEFT_EV_COMPUTE_END);
  assert_int_equal(count_kind(r, WEFT_EV_COMPUTE_END), 1);
  assert_int_equal(e->status, 0);
  assert_false(e->has_message);
  assert_int_equal(e->worker, -1);
  assert_int_equal(count_kind(r, WEFT_EV_TASK_FAIL), 0);
  /* START, then END, once per needed task, on one worker */
  long *start = malloc(N * sizeof *start), *end = malloc(N * sizeof *end);
  for (size_t i = 0; i < N; i++)
    start[i] = end[i] = -1;
  for (size_t k = 1; k + 1 < r->n; k++) {
    const rec_event *x = &r->ev[k];
    if (x->kind != WEFT_EV_TASK_START && x->kind != WEFT_EV_TASK_END)
      fail_msg("[%s] event %zu is a %s in the middle of the stream", c->name, k,
               weft_event_kind_name(x->kind));
    if (x->task >= N)
      fail_msg("[%s] event %zu names task %u of %zu", c->name, k, x->task, N);
    long *slot = x->kind == WEFT_EV_TASK_START ? start : end;
    if (slot[x->task] >= 0)
      fail_msg("[%s] task %u has two %s events", c->name, x->task,
               weft_event_kind_name(x->kind));
    slot[x->task] = (long)k;
    if (x->worker < 0 || x->worker >= workers)
      fail_msg("[%s] task %u ran on worker %d of %d", c->name, x->task,
               x->worker, workers);
    if (x->time_ns < b->time_ns || x->time_ns > e->time_ns)
      fail_msg("[%s] task %u's time is outside the compute's", c->name,
               x->task);
  }
  size_t ran = 0;
  for (size_t i = 0; i < N; i++) {
    if (start[i] < 0 && end[i] < 0)
      continue;
    ran++;
    if (start[i] < 0 || end[i] < 0 || start[i] > end[i])
      fail_msg("[%s] task %zu: START at %ld, END at %ld", c->name, i, start[i],
               end[i]);
    const rec_event *s = &r->ev[start[i]], *t = &r->ev[end[i]];
    assert_int_equal(s->worker, t->worker);
    assert_true(s->time_ns <= t->time_ns);
    assert_non_null(s->fn);
    assert_ptr_equal(s->fn, t->fn);
  }
  assert_int_equal(ran, needed);
  free(start);
  free(end);
}

static void test_stream(void **state) {
  (void)state;
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_node *out;
    size_t needed;
    weft_graph *g = make_graph(300, 50, &out, &needed);
    recorder r;
    rec_init(&r);
    weft_listener l = {record, &r, NULL};
    weft_compute_opts o = tu_opts(&scheds[c], ex3);
    o.listener = &l;
    weft_value v;
    assert_rc(0, tu_compute1(g, out, &v, &o), g);
    assert_int_value(v, 2 * (300 * 299 / 2));
    check_stream(&r, g, needed, &scheds[c], scheds[c].workers);
    /* each task event carries its function */
    size_t leaves = 0, twices = 0, sums = 0;
    for (size_t k = 0; k < r.n; k++) {
      if (r.ev[k].kind != WEFT_EV_TASK_START)
        continue;
      leaves += r.ev[k].fn == WEFT_FN(leaf);
      twices += r.ev[k].fn == WEFT_FN(twice);
      sums += r.ev[k].fn && strcmp(r.ev[k].fn->name, "weft.sum") == 0;
    }
    assert_int_equal(leaves, 300);
    assert_int_equal(twices, 300);
    assert_int_equal(sums, 1);
    /* the same graph again: a fresh, complete stream */
    r.n = 0;
    assert_rc(0, tu_compute1(g, out, &v, &o), g);
    check_stream(&r, g, needed, &scheds[c], scheds[c].workers);
    rec_free(&r);
    weft_graph_free(g);
  }
}

static void test_fail_events(void **state) {
  (void)state;
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_graph *g = weft_graph_new();
    weft_node *a = weft_call(g, twice, 4);
    weft_node *f = weft_call(g, failing, a);
    assert_ok(weft_node_set_key(g, f, "failing-key"), g);
    weft_node *top = weft_call(g, twice, f);
    recorder r;
    rec_init(&r);
    weft_listener l = {record, &r, NULL};
    weft_compute_opts o = tu_opts(&scheds[c], ex3);
    o.listener = &l;
    weft_value v;
    assert_rc(WEFT_ETASK, tu_compute1(g, top, &v, &o), g);
    assert_int_equal(r.ev[0].kind, WEFT_EV_COMPUTE_BEGIN);
    assert_int_equal(r.ev[0].ntasks, 3);
    assert_int_equal(count_kind(&r, WEFT_EV_TASK_FAIL), 1);
    size_t fi = 0;
    while (r.ev[fi].kind != WEFT_EV_TASK_FAIL)
      fi++;
    const rec_event *x = &r.ev[fi];
    assert_int_equal(x->task, (uint32_t)weft_node_index(g, f));
    assert_ptr_equal(x->fn, WEFT_FN(failing));
    assert_int_equal(x->status, WEFT_ETASK);
    assert_true(x->has_message);
    assert_contains(x->message, "event test failure 8");
    assert_contains(x->message, "failing-key");
    assert_true(x->worker >= 0);
    /* the failing task started, and did not end */
    size_t fstart = 0, fend = 0, topstart = 0;
    for (size_t k = 0; k < r.n; k++) {
      fstart += r.ev[k].kind == WEFT_EV_TASK_START && r.ev[k].task == 1;
      fend += r.ev[k].kind == WEFT_EV_TASK_END && r.ev[k].task == 1;
      topstart += r.ev[k].kind == WEFT_EV_TASK_START && r.ev[k].task == 2;
    }
    assert_int_equal(fstart, 1);
    assert_int_equal(fend, 0);
    assert_int_equal(topstart, 0); /* cancelled */
    const rec_event *e = &r.ev[r.n - 1];
    assert_int_equal(e->kind, WEFT_EV_COMPUTE_END);
    assert_int_equal(count_kind(&r, WEFT_EV_COMPUTE_END), 1);
    assert_int_equal(e->status, WEFT_ETASK);
    assert_true(e->has_message);
    assert_contains(e->message, "event test failure 8");
    assert_true(fi < r.n - 1);
    rec_free(&r);
    weft_graph_free(g);
  }
}

/* COMPUTE_BEGIN's workers is the number of workers that run the tasks. */
static void test_begin_workers(void **state) {
  (void)state;
  struct {
    const char *name;
    weft_scheduler s;
    int opt_workers;
    weft_executor *ex;
    int want;
  } cases[] = {
      {"sync, workers unset", WEFT_SCHED_SYNC, 0, NULL, 1},
      {"sync, workers=4", WEFT_SCHED_SYNC, 4, NULL, 1},
      {"threads, workers=3", WEFT_SCHED_THREADS, 3, NULL, 3},
      {"threads, workers=1", WEFT_SCHED_THREADS, 1, NULL, 1},
      {"executor of 3, workers unset", WEFT_SCHED_THREADS, 0, ex3, 3},
      {"executor of 3, workers=2", WEFT_SCHED_THREADS, 2, ex3, 3},
  };
  int bad = 0;
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    weft_node *out;
    size_t needed;
    weft_graph *g = make_graph(10, 0, &out, &needed);
    recorder r;
    rec_init(&r);
    weft_listener l = {record, &r, NULL};
    weft_compute_opts o;
    weft_compute_opts_init(&o);
    o.ignore_env = 1;
    o.scheduler = cases[k].s;
    o.workers = cases[k].opt_workers;
    o.executor = cases[k].ex;
    o.listener = &l;
    weft_value v;
    assert_rc(0, tu_compute1(g, out, &v, &o), g);
    assert_int_equal(r.ev[0].kind, WEFT_EV_COMPUTE_BEGIN);
    if (r.ev[0].workers != cases[k].want) {
      print_error("%s: COMPUTE_BEGIN says %d workers, expected %d\n",
                  cases[k].name, r.ev[0].workers, cases[k].want);
      bad++;
    }
    for (size_t i = 0; i < r.n; i++)
      if (r.ev[i].worker >= cases[k].want) {
        print_error("%s: a task ran on worker %d\n", cases[k].name,
                    r.ev[i].worker);
        bad++;
        break;
      }
    rec_free(&r);
    weft_graph_free(g);
  }
  assert_int_equal(bad, 0);
}

/* Two listeners in a chain, one entry without a function: both real ones
 * see every event. A compute that fails before it starts publishes
 * nothing. */
static void test_listener_chain(void **state) {
  (void)state;
  weft_node *out;
  size_t needed;
  weft_graph *g = make_graph(50, 5, &out, &needed);
  recorder r1, r2;
  rec_init(&r1);
  rec_init(&r2);
  weft_listener l2 = {record, &r2, NULL};
  weft_listener hole = {NULL, NULL, &l2};
  weft_listener l1 = {record, &r1, &hole};
  for (size_t c = 0; c < NSCHEDS; c++) {
    r1.n = r2.n = 0;
    weft_compute_opts o = tu_opts(&scheds[c], ex3);
    o.listener = &l1;
    weft_value v;
    assert_rc(0, tu_compute1(g, out, &v, &o), g);
    assert_int_equal(r1.n, r2.n);
    assert_int_equal(r1.n, 2 + 2 * needed);
    check_stream(&r2, g, needed, &scheds[c], scheds[c].workers);
  }
  /* a graph with a build error: no events at all */
  weft_graph *bad = weft_graph_new();
  weft_node *x = weft_call(bad, twice, 1);
  assert_null(weft_call(bad, twice, 1, 2));
  r1.n = r2.n = 0;
  weft_compute_opts o = tu_opts(&scheds[0], NULL);
  o.listener = &l1;
  weft_value v;
  assert_rc(WEFT_EARITY, tu_compute1(bad, x, &v, &o), bad);
  assert_int_equal(r1.n, 0);
  weft_graph_free(bad);
  rec_free(&r1);
  rec_free(&r2);
  weft_graph_free(g);
}

static void test_names_and_clock(void **state) {
  (void)state;
  assert_string_equal(weft_event_kind_name(WEFT_EV_COMPUTE_BEGIN),
                      "compute-begin");
  assert_string_equal(weft_event_kind_name(WEFT_EV_TASK_START), "task-start");
  assert_string_equal(weft_event_kind_name(WEFT_EV_TASK_END), "task-end");
  assert_string_equal(weft_event_kind_name(WEFT_EV_TASK_FAIL), "task-fail");
  assert_string_equal(weft_event_kind_name(WEFT_EV_COMPUTE_END), "compute-end");
  assert_string_equal(weft_event_kind_name(WEFT_EV__COUNT), "unknown");
  uint64_t t1 = weft_now_ns();
  struct timespec ts = {0, 2000000};
  nanosleep(&ts, NULL);
  uint64_t t2 = weft_now_ns();
  assert_true(t2 - t1 >= 2000000);
  assert_true(t2 - t1 < 2000000000ull);
}

int main(void) {
  tu_watchdog(110);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stream),
      cmocka_unit_test(test_fail_events),
      cmocka_unit_test(test_listener_chain),
      cmocka_unit_test(test_names_and_clock),
      cmocka_unit_test(test_begin_workers),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
