/* test_sched_diag.c - the diagnostics (weft/diag.h) and the richer events
 * behind them, on every scheduler: the trace file is read back by a JSON
 * parser (tests/check_trace.py: every task exactly once, start <= end, a
 * worker's slices never overlap, counts equal the graph's); the profile's
 * numbers are those of the graph (calls per function, bytes, per-worker
 * tasks); a failing task gives one FAIL and every needed task that did not
 * finish a CANCEL; a task that kills its worker gives WORKER_LOST (with the
 * signal) and RETRY, then ends once; a failure cancels the task running on
 * another worker process; weft_map reports its items; a listener that is
 * slow changes no result; WEFT_TRACE / WEFT_PROFILE / WEFT_PROGRESS are
 * read and checked; the task-stream SVG parses as XML. The progress bar on
 * a terminal is tested by tests/progress_tty.sh. */
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>

/* ---- tasks ---- */

static long leaf(long x) {
  volatile long s = 0;
  for (long k = 0; k < 3000; k++) /* a little work: spread over workers */
    s += k ^ x;
  return x + (s & 0);
}
WEFT_DELAYED(leaf, long, long);
static long twice(long x) { return 2 * x; }
WEFT_DELAYED(twice, long, long);
static long failing(long x) {
  struct timespec ts = {0, 50 * 1000000L}; /* 50 ms: let others start */
  nanosleep(&ts, NULL);
  weft_fail(weft_task_current(), "diag test failure %ld", x);
  return 0;
}
WEFT_DELAYED(failing, long, long);
static long snooze(long ms) { /* sleeps ms milliseconds in 10 ms steps */
  for (long k = 0; k < ms / 10; k++) {
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  return ms;
}
WEFT_DELAYED(snooze, long, long);

/* (marker, x): SIGKILLs its own worker the first time (creating the marker
 * file), then returns x * 3. */
static int kill_once(weft_task_ctx *ctx, const weft_value *a, size_t n,
                     weft_value *out) {
  (void)ctx, (void)n;
  int fd = open(weft_value_str(&a[0]), O_CREAT | O_EXCL | O_WRONLY, 0600);
  if (fd >= 0) {
    close(fd);
    raise(SIGKILL);
  }
  *out = weft_int(a[1].as.i * 3);
  return 0;
}
WEFT_REGISTER_ARITY(kill_once, 2);

/* Spins for `us` microseconds (by CLOCK_MONOTONIC), returns us. */
static long spin_us(long us) {
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  do
    clock_gettime(CLOCK_MONOTONIC, &b);
  while ((b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000 <
         us);
  return us;
}
WEFT_DELAYED(spin_us, long, long);
static long inc(long x) { return x + 1; }
WEFT_DELAYED(inc, long, long);
static long slow_inc(long x) { return spin_us(200) ? x + 1 : 0; }
WEFT_DELAYED(slow_inc, long, long);

static long sq(long x) { return x * x; }
WEFT_DELAYED(sq, long, long);

/* N leaves, each doubled, summed; plus culled nodes. 2N + 1 tasks run. */
static weft_graph *make_graph(int n, weft_node **root) {
  weft_graph *g = weft_graph_new();
  weft_node **parts = malloc((size_t)n * sizeof *parts);
  for (int k = 0; k < n; k++)
    parts[k] = weft_call(g, twice, weft_call(g, leaf, k));
  *root = weft_sum(g, (size_t)n, parts);
  weft_call(g, twice, parts[0]); /* culled */
  free(parts);
  return g;
}
static long expected_sum(int n) { return (long)n * (n - 1); }

/* ---- an event recorder (locks: called from every worker) ---- */

typedef struct rec {
  weft_event_kind kind;
  int worker, signal, pid;
  uint32_t task;
  uint64_t start, time, bytes;
  size_t items;
  char fn[64], msg[256];
} rec;
typedef struct recorder {
  pthread_mutex_t mu;
  rec *v;
  size_t n, cap;
  int sleep_us; /* a slow listener */
} recorder;

static void record(const weft_event *e, void *ud) {
  recorder *r = ud;
  if (r->sleep_us) {
    struct timespec ts = {0, r->sleep_us * 1000L};
    nanosleep(&ts, NULL);
  }
  pthread_mutex_lock(&r->mu);
  if (r->n == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 1024;
    r->v = realloc(r->v, r->cap * sizeof *r->v);
  }
  rec *x = &r->v[r->n++];
  memset(x, 0, sizeof *x);
  x->kind = e->kind;
  x->worker = e->worker;
  x->task = e->task;
  x->start = e->start_ns;
  x->time = e->time_ns;
  x->bytes = e->bytes;
  x->items = e->items;
  x->signal = e->signal;
  x->pid = e->pid;
  if (e->fn)
    snprintf(x->fn, sizeof x->fn, "%s", e->fn->name);
  if (e->message)
    snprintf(x->msg, sizeof x->msg, "%s", e->message);
  pthread_mutex_unlock(&r->mu);
}
static void rec_init(recorder *r) {
  memset(r, 0, sizeof *r);
  pthread_mutex_init(&r->mu, NULL);
}
static void rec_free(recorder *r) {
  free(r->v);
  pthread_mutex_destroy(&r->mu);
}
static size_t count(const recorder *r, weft_event_kind k, const char *fn) {
  size_t c = 0;
  for (size_t i = 0; i < r->n; i++)
    c += r->v[i].kind == k && (!fn || strcmp(r->v[i].fn, fn) == 0);
  return c;
}

/* Runs tests/check_trace.py on path with the given arguments. */
static void check_trace(const char *path, const char *args) {
  const char *src = getenv("WEFT_SOURCE_DIR");
  assert_non_null(src);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "python3 '%s/tests/check_trace.py' '%s' %s", src,
           path, args);
  fflush(stdout);
  int st = system(cmd);
  if (st != 0)
    fail_msg("%s: exit status %d", cmd, st);
}

static const tu_sched scheds[] = {
    {"sync", WEFT_SCHED_SYNC, 1, false},
    {"threads-3", WEFT_SCHED_THREADS, 3, false},
    {"procs-2", WEFT_SCHED_PROCS, 2, false},
};
#define NSCHEDS (sizeof scheds / sizeof scheds[0])

/* ---- the trace ---- */

static void test_trace_every_scheduler(void **state) {
  (void)state;
  int n = TU_TSAN ? 60 : 300;
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_node *root;
    weft_graph *g = make_graph(n, &root);
    weft_trace *t;
    assert_ok(weft_trace_new(&t), NULL);
    weft_compute_opts o = tu_opts(&scheds[c], NULL);
    o.listener = weft_trace_listener(t);
    weft_value v;
    assert_ok(weft_compute1(g, root, &v, &o), g);
    assert_int_value(v, expected_sum(n));
    assert_ok(weft_compute1(g, root, &v, &o), g); /* a second compute */
    assert_int_value(v, expected_sum(n));
    char path[64], args[256];
    snprintf(path, sizeof path, "trace-%s.json", scheds[c].name);
    char err[256];
    assert_ok(weft_trace_write(t, path, err, sizeof err), NULL);
    /* both computes: 2 x (n leaves + n twice + 1 sum) */
    snprintf(
        args, sizeof args,
        "--computes 2 --tasks %d --fn leaf=%d --fn twice=%d --fn weft.sum=2",
        2 * (2 * n + 1), 2 * n, 2 * n);
    check_trace(path, args);

    weft_trace_task *tasks;
    size_t nt;
    assert_ok(weft_trace_tasks(t, &tasks, &nt), NULL);
    assert_i64((int64_t)nt, 2 * (2 * n + 1));
    uint64_t bytes = 0;
    for (size_t i = 0; i < nt; i++) {
      assert_true(tasks[i].start_ns <= tasks[i].end_ns);
      assert_true(tasks[i].worker >= -1 && tasks[i].worker < scheds[c].workers);
      if (strcmp(tasks[i].fn, "twice") == 0)
        bytes += tasks[i].bytes;
    }
    assert_i64((int64_t)bytes, 2 * 8 * n); /* an int result is 8 bytes */
    free(tasks);

    /* the task stream: XML with a bar per run of tasks, a legend */
    snprintf(path, sizeof path, "stream-%s.svg", scheds[c].name);
    assert_ok(weft_trace_svg(t, path, err, sizeof err), NULL);
    char cmd[512];
    snprintf(
        cmd, sizeof cmd,
        "python3 -c \"import sys, xml.etree.ElementTree as E; "
        "r = E.parse('%s').getroot(); "
        "ts = [t.text for t in r.iter('{http://www.w3.org/2000/svg}title')]; "
        "assert any(t and t.startswith('leaf: ') for t in ts), ts[:5]; "
        "assert any(t and t.startswith('twice: ') for t in ts)\"",
        path);
    assert_int_equal(system(cmd), 0);
    weft_trace_free(t);
    weft_graph_free(g);
  }
}

/* ---- the profile ---- */

/* Tasks under a microsecond are timed in groups (one clock reading per
 * group, docs/trace.md); long ones alone; WEFT_TRACE_EXACT=1 times every
 * task alone. A chain of `n` tiny tasks with a 200 us task every 1000:
 * every task recorded once, in order on its worker, no slice overlaps
 * (check_trace.py), the durations add up to at least the spins (time is
 * shared out, never lost) and to at most the compute's wall time. */
static void trace_groups(const tu_sched *sc, bool exact) {
  int n = TU_TSAN ? 3000 : 20000, nspin = 0;
  weft_graph *g = weft_graph_new();
  weft_node *x = weft_call(g, inc, 0L);
  for (int k = 1; k < n; k++) {
    if (k % 1000 == 500) {
      x = weft_call(g, slow_inc, x);
      nspin++;
    } else {
      x = weft_call(g, inc, x);
    }
  }
  weft_trace *t;
  assert_ok(weft_trace_new(&t), NULL);
  weft_compute_opts o = tu_opts(sc, NULL);
  o.listener = weft_trace_listener(t);
  if (exact)
    setenv("WEFT_TRACE_EXACT", "1", 1);
  weft_value v;
  uint64_t w0 = weft_now_ns();
  int rc = weft_compute1(g, x, &v, &o);
  uint64_t w1 = weft_now_ns();
  unsetenv("WEFT_TRACE_EXACT");
  assert_ok(rc, g);
  assert_int_value(v, n);
  weft_trace_task *tasks;
  size_t nt;
  assert_ok(weft_trace_tasks(t, &tasks, &nt), NULL);
  size_t need = (size_t)n;
  assert_i64((int64_t)nt, (int64_t)need);
  uint64_t sum = 0, spins = 0;
  unsigned maxg = 0;
  for (size_t i = 0; i < nt; i++) {
    assert_true(tasks[i].start_ns <= tasks[i].end_ns);
    assert_true(tasks[i].group >= 1 && tasks[i].group <= 64);
    if (tasks[i].group > maxg)
      maxg = tasks[i].group;
    sum += tasks[i].end_ns - tasks[i].start_ns;
    spins += strcmp(tasks[i].fn, "slow_inc") == 0;
    assert_true(strcmp(tasks[i].fn, "slow_inc") == 0 ||
                strcmp(tasks[i].fn, "inc") == 0);
  }
  assert_int_equal(spins, nspin);
  assert_true(sum >= spins * 200000);
  assert_true(sum <= (w1 - w0) * (uint64_t)sc->workers);
  char path[64], args[128];
  snprintf(path, sizeof path, "trace-groups-%s-%d.json", sc->name, exact);
  char err[256];
  assert_ok(weft_trace_write(t, path, err, sizeof err), NULL);
  snprintf(args, sizeof args, "--computes 1 --tasks %zu", need);
  check_trace(path, args);
  if (exact)
    assert_int_equal(maxg, 1);
  else if (!TU_TSAN) /* tiny tasks come in groups (TSan: maybe too slow) */
    assert_true(maxg > 1);
  free(tasks);
  weft_trace_free(t);
  weft_graph_free(g);

  /* tasks of 20 us are timed alone, whatever their number */
  g = weft_graph_new();
  weft_node *parts[40];
  for (int k = 0; k < 40; k++)
    parts[k] = weft_call(g, spin_us, 20L);
  weft_node *root = weft_sum(g, 40, parts);
  assert_ok(weft_trace_new(&t), NULL);
  o.listener = weft_trace_listener(t);
  assert_ok(weft_compute1(g, root, &v, &o), g);
  assert_int_value(v, 800);
  assert_ok(weft_trace_tasks(t, &tasks, &nt), NULL);
  assert_i64((int64_t)nt, 41);
  for (size_t i = 0; i < nt; i++)
    if (strcmp(tasks[i].fn, "spin_us") == 0) {
      assert_int_equal(tasks[i].group, 1);
      assert_true(tasks[i].end_ns - tasks[i].start_ns >= 20000);
    }
  free(tasks);
  weft_trace_free(t);
  weft_graph_free(g);
}

static void test_trace_groups(void **state) {
  (void)state;
  for (size_t c = 0; c < 2; c++) { /* sync, threads (they record directly) */
    trace_groups(&scheds[c], false);
    trace_groups(&scheds[c], true);
  }
}

static void test_profile_numbers(void **state) {
  (void)state;
  int n = 200;
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_node *root;
    weft_graph *g = make_graph(n, &root);
    weft_profile *p;
    assert_ok(weft_profile_new(&p), NULL);
    weft_compute_opts o = tu_opts(&scheds[c], NULL);
    o.listener = weft_profile_listener(p);
    weft_value v;
    assert_ok(weft_compute1(g, root, &v, &o), g);
    assert_int_value(v, expected_sum(n));
    weft_profile_report r;
    assert_ok(weft_profile_get(p, &r), NULL);
    assert_i64((int64_t)r.tasks, 2 * n + 1);
    assert_int_equal(r.computes, 1);
    assert_int_equal(r.workers, scheds[c].workers);
    assert_int_equal(r.nrows, 3);
    uint64_t per_worker = 0;
    for (size_t i = 0; i < r.nworkers; i++)
      per_worker += r.per_worker[i].tasks;
    assert_i64((int64_t)per_worker, 2 * n + 1);
    for (size_t i = 0; i < r.nrows; i++) {
      const weft_profile_row *w = &r.rows[i];
      if (strcmp(w->fn, "leaf") == 0 || strcmp(w->fn, "twice") == 0) {
        assert_i64((int64_t)w->calls, n);
        assert_i64((int64_t)w->bytes, 8 * n);
      } else {
        assert_string_equal(w->fn, "weft.sum");
        assert_i64((int64_t)w->calls, 1);
      }
      assert_true(w->max_s >= w->mean_s && w->total_s >= w->max_s);
      assert_true(w->share >= 0 && w->share <= 1.0001);
    }
    if (scheds[c].scheduler != WEFT_SCHED_PROCS) /* (there: round trips) */
      assert_string_equal(r.rows[0].fn, "leaf"); /* the busiest: the work */
    weft_profile_report_clear(&r);
    FILE *f = tmpfile();
    assert_ok(weft_profile_print(p, f), NULL);
    rewind(f);
    char buf[4096] = "";
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    buf[len] = '\0';
    fclose(f);
    assert_contains(buf, "leaf");
    assert_contains(buf, "worker 0:");
    weft_profile_free(p);
    weft_graph_free(g);
  }
}

/* ---- failing and cancelled tasks ---- */

static void test_fail_and_cancel(void **state) {
  (void)state;
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_graph *g = weft_graph_new();
    int n = 40;
    weft_node **parts = malloc((size_t)(n + 1) * sizeof *parts);
    for (int k = 0; k < n; k++)
      parts[k] = weft_call(g, twice, weft_call(g, leaf, k));
    parts[n] = weft_call(g, failing, 7);
    weft_node *root = weft_sum(g, (size_t)n + 1, parts);
    free(parts);
    recorder r;
    rec_init(&r);
    weft_listener l = {record, &r, NULL};
    weft_compute_opts o = tu_opts(&scheds[c], NULL);
    o.listener = &l;
    weft_value v;
    assert_rc(WEFT_ETASK, weft_compute1(g, root, &v, &o), g);
    assert_contains(weft_graph_error(g), "diag test failure 7");
    assert_i64((int64_t)count(&r, WEFT_EV_TASK_FAIL, NULL), 1);
    assert_i64((int64_t)count(&r, WEFT_EV_TASK_FAIL, "failing"), 1);
    /* every needed task: exactly one of end, fail, cancel */
    size_t ntasks = 2 * (size_t)n + 2;
    uint8_t *seen = calloc(4096, 1);
    size_t closed = 0;
    for (size_t i = 0; i < r.n; i++) {
      weft_event_kind k = r.v[i].kind;
      if (k != WEFT_EV_TASK_END && k != WEFT_EV_TASK_FAIL &&
          k != WEFT_EV_TASK_CANCEL)
        continue;
      assert_true(r.v[i].task < 4096);
      if (seen[r.v[i].task]++)
        fail_msg("%s: task %u closed twice", scheds[c].name, r.v[i].task);
      closed++;
    }
    assert_i64((int64_t)closed, (int64_t)ntasks);
    assert_true(count(&r, WEFT_EV_TASK_CANCEL, "weft.sum") == 1);
    assert_int_equal(r.v[r.n - 1].kind, WEFT_EV_COMPUTE_END);
    free(seen);
    rec_free(&r);
    weft_graph_free(g);
  }
}

/* procs: the failure stops the task running on the other worker: CANCEL
 * with that worker's id, long before it would have ended. */
static void test_procs_cancel_running(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_node *slow = weft_call(g, snooze, 5000);
  weft_node *bad = weft_call(g, failing, 1);
  weft_node *root = weft_add(g, slow, bad);
  recorder r;
  rec_init(&r);
  weft_listener l = {record, &r, NULL};
  weft_compute_opts o = tu_opts(&scheds[2], NULL);
  o.listener = &l;
  weft_value v;
  double t0 = tu_now();
  assert_rc(WEFT_ETASK, weft_compute1(g, root, &v, &o), g);
  assert_true(tu_now() - t0 < 4.0);
  size_t cancelled_on_worker = 0;
  for (size_t i = 0; i < r.n; i++)
    if (r.v[i].kind == WEFT_EV_TASK_CANCEL &&
        strcmp(r.v[i].fn, "snooze") == 0 && r.v[i].worker >= 0)
      cancelled_on_worker++;
  assert_i64((int64_t)cancelled_on_worker, 1);
  assert_i64((int64_t)count(&r, WEFT_EV_TASK_CANCEL, "weft.add"), 1);
  assert_i64((int64_t)count(&r, WEFT_EV_TASK_END, "snooze"), 0);
  rec_free(&r);
  weft_graph_free(g);
}

/* procs: a task that kills its worker is retried: WORKER_LOST (signal 9),
 * RETRY, a new WORKER_START, then one END; the trace shows them. */
static void test_procs_retry(void **state) {
  (void)state;
  char marker[64];
  snprintf(marker, sizeof marker, "kill-once-%d", (int)getpid());
  unlink(marker);
  weft_graph *g = weft_graph_new();
  weft_value a[2];
  assert_ok(weft_str_new(&a[0], marker), NULL);
  a[1] = weft_int(14);
  weft_node *k = weft_call_fn(g, WEFT_FN(kill_once), 2, a);
  weft_node *root = weft_add(g, k, weft_call(g, twice, 5));
  recorder r;
  rec_init(&r);
  weft_trace *t;
  assert_ok(weft_trace_new(&t), NULL);
  weft_listener l = {record, &r, weft_trace_listener(t)};
  weft_compute_opts o = tu_opts(&scheds[2], NULL);
  o.listener = &l;
  o.retries = 1;
  weft_value v;
  assert_ok(weft_compute1(g, root, &v, &o), g);
  assert_int_value(v, 42 + 10);
  assert_i64((int64_t)count(&r, WEFT_EV_WORKER_LOST, NULL), 1);
  assert_i64((int64_t)count(&r, WEFT_EV_TASK_RETRY, "kill_once"), 1);
  assert_i64((int64_t)count(&r, WEFT_EV_TASK_END, "kill_once"), 1);
  /* the workers that took part (a replacement may still be starting when
   * the compute ends) */
  assert_true(count(&r, WEFT_EV_WORKER_START, NULL) >= 1);
  for (size_t i = 0; i < r.n; i++)
    if (r.v[i].kind == WEFT_EV_WORKER_LOST) {
      assert_int_equal(r.v[i].signal, SIGKILL);
      assert_true(r.v[i].pid > 0);
      assert_contains(r.v[i].msg, "signal 9");
    } else if (r.v[i].kind == WEFT_EV_TASK_RETRY) {
      assert_contains(r.v[i].msg, "signal 9");
    }
  char err[256];
  assert_ok(weft_trace_write(t, "retry.json", err, sizeof err), NULL);
  check_trace("retry.json", "--tasks 3 --instant retry=1 --instant "
                            "worker-lost=1 --min-instant worker-start=1");
  weft_trace_free(t);
  rec_free(&r);
  weft_graph_free(g);
  unlink(marker);
}

/* ---- weft_map's items ---- */

static void test_map_items(void **state) {
  (void)state;
  size_t n = 1000;
  weft_value *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
  for (size_t i = 0; i < n; i++)
    in[i] = weft_int((int64_t)i);
  for (size_t c = 0; c < NSCHEDS; c++) {
    recorder r;
    rec_init(&r);
    weft_profile *p;
    assert_ok(weft_profile_new(&p), NULL);
    weft_listener l = {record, &r, weft_profile_listener(p)};
    weft_map_opts mo;
    weft_map_opts_init(&mo);
    mo.scheduler = scheds[c].scheduler;
    mo.workers = scheds[c].workers;
    mo.ignore_env = 1;
    mo.listener = &l;
    assert_ok(weft_map(WEFT_FN(sq), n, in, out, &mo), NULL);
    for (size_t i = 0; i < n; i++) {
      assert_int_value(out[i], (int64_t)(i * i));
      weft_value_release(&out[i]);
    }
    size_t items = 0, tasks = 0;
    for (size_t i = 0; i < r.n; i++) {
      if (r.v[i].kind == WEFT_EV_MAP_ITEMS)
        items += r.v[i].items;
      tasks += r.v[i].kind == WEFT_EV_TASK_END;
    }
    assert_i64((int64_t)items, (int64_t)n);
    assert_int_equal(r.v[0].kind, WEFT_EV_MAP_BEGIN);
    assert_i64((int64_t)r.v[0].items, (int64_t)n);
    assert_int_equal(r.v[r.n - 1].kind, WEFT_EV_MAP_END);
    /* the profile names the batch tasks after the map function */
    weft_profile_report pr;
    assert_ok(weft_profile_get(p, &pr), NULL);
    uint64_t calls = 0;
    assert_true(pr.nrows >= 1);
    for (size_t i = 0; i < pr.nrows; i++) {
      assert_true(strncmp(pr.rows[i].fn, "sq [weft.map.", 13) == 0);
      calls += pr.rows[i].calls;
    }
    assert_i64((int64_t)calls, (int64_t)tasks);
    weft_profile_report_clear(&pr);
    weft_profile_free(p);
    rec_free(&r);
  }
  free(in);
  free(out);
}

/* ---- a slow listener changes no result ---- */

static void test_slow_listener(void **state) {
  (void)state;
  int n = TU_TSAN ? 40 : 150;
  for (size_t c = 0; c < NSCHEDS; c++) {
    weft_node *root;
    weft_graph *g = make_graph(n, &root);
    recorder r;
    rec_init(&r);
    r.sleep_us = 300;
    weft_trace *t;
    assert_ok(weft_trace_new(&t), NULL);
    weft_listener l = {record, &r, weft_trace_listener(t)};
    weft_compute_opts o = tu_opts(&scheds[c], NULL);
    o.listener = &l;
    weft_value v;
    assert_ok(weft_compute1(g, root, &v, &o), g);
    assert_int_value(v, expected_sum(n));
    assert_i64((int64_t)count(&r, WEFT_EV_TASK_END, NULL), 2 * n + 1);
    /* the map too, with a slow listener between batches */
    weft_value in[64], out[64];
    for (int i = 0; i < 64; i++)
      in[i] = weft_int(i - 20);
    weft_map_opts mo;
    weft_map_opts_init(&mo);
    mo.scheduler = scheds[c].scheduler;
    mo.workers = scheds[c].workers;
    mo.ignore_env = 1;
    mo.batch_size = 3;
    mo.listener = &l;
    assert_ok(weft_map(WEFT_FN(sq), 64, in, out, &mo), NULL);
    for (int i = 0; i < 64; i++)
      assert_int_value(out[i], (int64_t)(i - 20) * (i - 20));
    weft_trace_free(t);
    rec_free(&r);
    weft_graph_free(g);
  }
}

/* ---- the environment ---- */

static void test_environment(void **state) {
  (void)state;
  weft_node *root;
  weft_graph *g = make_graph(20, &root);
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.scheduler = WEFT_SCHED_THREADS;
  o.workers = 2;
  weft_value v;
  setenv("WEFT_TRACE", "env-%n.json", 1);
  setenv("WEFT_PROFILE", "1", 1);
  FILE *saved = fdopen(dup(2), "w");
  int devnull = open("/dev/null", O_WRONLY);
  dup2(devnull, 2); /* the profile table goes to stderr */
  int rc = weft_compute1(g, root, &v, &o);
  dup2(fileno(saved), 2);
  fclose(saved);
  close(devnull);
  assert_ok(rc, g);
  assert_int_value(v, expected_sum(20));
  /* the file of this session: env-<n>.json for some n */
  int found = 0;
  char path[64];
  for (int k = 1; k < 100 && !found; k++) {
    snprintf(path, sizeof path, "env-%d.json", k);
    found = access(path, F_OK) == 0;
  }
  assert_true(found);
  check_trace(path, "--tasks 41 --fn leaf=20");
  unsetenv("WEFT_PROFILE");

  setenv("WEFT_TRACE", "no-such-dir/x.json", 1);
  assert_rc(WEFT_EIO, weft_compute1(g, root, &v, &o), g);
  assert_contains(weft_graph_error(g), "no-such-dir/x.json");
  unsetenv("WEFT_TRACE");
  setenv("WEFT_PROGRESS", "yes", 1);
  assert_rc(WEFT_EINVAL, weft_compute1(g, root, &v, &o), g);
  assert_contains(weft_graph_error(g), "WEFT_PROGRESS='yes'");
  unsetenv("WEFT_PROGRESS");
  o.ignore_env = 1; /* options alone */
  o.trace = "opt.json";
  assert_ok(weft_compute1(g, root, &v, &o), g);
  check_trace("opt.json", "--tasks 41 --computes 1");
  weft_graph_free(g);
}

/* ---- the progress bar without a terminal: plain lines ---- */

static void test_progress_plain(void **state) {
  (void)state;
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  weft_progress_opts po;
  weft_progress_opts_init(&po);
  po.fd = fds[1];
  po.interval_s = 0.05;
  weft_progress *p;
  assert_ok(weft_progress_new(&po, &p), NULL);
  weft_graph *g = weft_graph_new();
  weft_node *parts[6];
  for (int k = 0; k < 6; k++)
    parts[k] = weft_call(g, snooze, 40);
  weft_node *root = weft_sum(g, 6, parts);
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.scheduler = WEFT_SCHED_THREADS;
  o.workers = 2;
  o.ignore_env = 1;
  o.listener = weft_progress_listener(p);
  weft_value v;
  assert_ok(weft_compute1(g, root, &v, &o), g);
  assert_int_value(v, 240);
  weft_progress_free(p);
  close(fds[1]);
  char buf[8192];
  ssize_t len = read(fds[0], buf, sizeof buf - 1);
  close(fds[0]);
  assert_true(len > 0);
  buf[len] = '\0';
  assert_not_contains(buf, "\r");
  assert_not_contains(buf, "\033");
  assert_contains(buf, "] 100% | 7/7 tasks | ");
  assert_contains(buf, " | done\n");
  assert_contains(buf, "/7 tasks"); /* and lines before the last one */
  char *last = strstr(buf, "100%");
  assert_true(last != buf); /* an earlier line came first */
  weft_graph_free(g);
  po.fd = -1;
  assert_rc(WEFT_EINVAL, weft_progress_new(&po, &p), NULL);
}

/* ---- pictures after a run ---- */

static void test_pictures(void **state) {
  (void)state;
  weft_node *root;
  weft_graph *g = make_graph(3, &root);
  weft_trace *t;
  assert_ok(weft_trace_new(&t), NULL);
  weft_compute_opts o = tu_opts(&scheds[1], NULL);
  o.listener = weft_trace_listener(t);
  weft_value v;
  assert_ok(weft_compute1(g, root, &v, &o), g);
  weft_visualize_opts vo;
  weft_visualize_opts_init(&vo);
  vo.color = 1;
  vo.trace = t;
  char *dot = NULL;
  assert_ok(weft_graph_to_dot(g, 1, &root, &vo, &dot), g);
  /* each of the 7 tasks coloured and noted (an int result: 8 B) */
  size_t filled = 0, noted = 0;
  for (const char *p = dot; (p = strstr(p, "fillcolor=")); p++)
    filled++;
  for (const char *p = dot; (p = strstr(p, ", 8 B")); p++)
    noted++;
  assert_i64((int64_t)filled, 7);
  assert_i64((int64_t)noted, 7);
  assert_contains(dot, "fillcolor=\"#");
  free(dot);
  weft_graph_free(g);

  /* a big graph, summarised by function: counts on nodes and edges */
  g = make_graph(300, &root);
  assert_ok(weft_compute1(g, root, &v, &o), g);
  vo.max_tasks = 100;
  assert_ok(weft_graph_to_dot(g, 1, &root, &vo, &dot), g);
  assert_contains(dot, "leaf x300");
  assert_contains(dot, "twice x300");
  assert_contains(dot, "x1\\n");           /* the sum, noted */
  assert_contains(dot, "[label=\"300\"]"); /* leaf -> twice, twice -> sum */
  assert_not_contains(dot, "t5 ");         /* no single task drawn */
  free(dot);
  vo.trace = NULL;
  vo.max_tasks = 0; /* default 500: 601 tasks are summarised too */
  assert_ok(weft_graph_to_dot(g, 1, &root, &vo, &dot), g);
  assert_contains(dot, "summary");
  assert_not_contains(dot, " us,");
  free(dot);
  weft_trace_free(t);
  weft_graph_free(g);
}

/* `test_sched_diag --tty-map`: a weft_map of 60 items of 50 ms on two
 * threads (about 1.5 s) with WEFT_PROGRESS from the environment, for
 * tests/progress_tty.sh to watch in a terminal. */
static int tty_map(void) {
  weft_value in[60], out[60];
  for (int i = 0; i < 60; i++)
    in[i] = weft_int(50);
  weft_map_opts mo;
  weft_map_opts_init(&mo);
  mo.scheduler = WEFT_SCHED_THREADS;
  mo.workers = 2;
  mo.batch_size = 1;
  int rc = weft_map(WEFT_FN(snooze), 60, in, out, &mo);
  long sum = 0;
  for (int i = 0; i < 60 && !rc; i++)
    sum += out[i].as.i;
  printf("map: rc %d, sum %ld\n", rc, sum);
  return rc || sum != 3000;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--tty-map") == 0)
    return tty_map();
  unsetenv("WEFT_SCHEDULER");
  unsetenv("WEFT_WORKERS");
  unsetenv("WEFT_TRACE");
  unsetenv("WEFT_PROFILE");
  unsetenv("WEFT_PROGRESS");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_trace_every_scheduler),
      cmocka_unit_test(test_trace_groups),
      cmocka_unit_test(test_profile_numbers),
      cmocka_unit_test(test_fail_and_cancel),
      cmocka_unit_test(test_procs_cancel_running),
      cmocka_unit_test(test_procs_retry),
      cmocka_unit_test(test_map_items),
      cmocka_unit_test(test_slow_listener),
      cmocka_unit_test(test_environment),
      cmocka_unit_test(test_progress_plain),
      cmocka_unit_test(test_pictures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
