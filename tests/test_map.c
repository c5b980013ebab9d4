/* test_map.c - the parallel map and map-reduce (weft/map.h): results equal
 * to a sequential loop for random inputs of every awkward size (0, 1,
 * primes, a million) on every scheduler and with batches forced to one item
 * and to everything; map-reduce (sum, max, and an order-sensitive string
 * concatenation) eager and lazy against loops; the error paths, each with
 * its code and message, and the promise that nothing leaks when an item
 * fails (counted heap values). Under the sanitizers the million-item runs
 * of test_batch_sizes and test_map_reduce_lazy become 100,003 items;
 * test_sizes_threads maps 1,000,000 items in every build.
 *
 * The procs scheduler is tested when this build has it. The packing of
 * batches and the portable batch tasks: test_map_pack.c. */
#include "core/obj.h"     /* how unpacked lists are laid out */
#include "map/map_impl.h" /* the packing of batches, tested directly */
#include "map_util.h"

/* ---- results equal a sequential loop ---- */

static void run_sizes(const map_conf *c, const size_t *sizes, size_t nsizes,
                      size_t batch) {
  weft_executor *ex = NULL;
  if (c->executor)
    assert_ok(weft_executor_new(c->workers, &ex), NULL);
  for (size_t k = 0; k < nsizes; k++) {
    size_t n = sizes[k];
    weft_value *in = random_inputs(n, true);
    weft_value *out = malloc((n ? n : 1) * sizeof *out);
    assert_non_null(out);
    weft_map_opts o = conf_opts(c, ex);
    o.batch_size = batch;
    assert_map_ok(weft_map(WEFT_FN(tmix), n, in, out, &o));
    assert_string_equal(errbuf, "");
    expect_mix(in, out, n);
    free(in);
    free(out);
  }
  weft_executor_free(ex);
}

static void test_sizes_threads(void **state) {
  (void)state;
  const size_t sizes[] = {0, 1, 2, 7, 17, 97, 1000, 7919, 65537, 1000000};
  for (size_t c = 0; c < NCONFS; c++)
    if (confs[c].scheduler != WEFT_SCHED_PROCS)
      run_sizes(&confs[c], sizes, sizeof sizes / sizeof sizes[0], 0);
}

static void test_batch_sizes(void **state) {
  (void)state;
  const size_t sizes[] = {0, 1, 7, 7919};
  const size_t big[] = {TU_ASAN || TU_TSAN ? 100003 : 1000000};
  const size_t batches[] = {1, 2, 3, 7918, 7919, 7920, SIZE_MAX};
  for (size_t c = 0; c < NCONFS; c++) {
    if (confs[c].scheduler == WEFT_SCHED_PROCS)
      continue;
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++)
      run_sizes(&confs[c], sizes, 4, batches[b]);
    run_sizes(&confs[c], big, 1, 1);        /* one task per item */
    run_sizes(&confs[c], big, 1, SIZE_MAX); /* one task for all */
  }
}

static void test_sizes_procs(void **state) {
  (void)state;
  if (!have_procs()) {
    print_message("procs scheduler not in this build: skipped\n");
    skip();
  }
  const size_t sizes[] = {0, 1, 2, 7, 97, 7919, 100003};
  for (size_t c = 0; c < NCONFS; c++)
    if (confs[c].scheduler == WEFT_SCHED_PROCS) {
      run_sizes(&confs[c], sizes, sizeof sizes / sizeof sizes[0], 0);
      run_sizes(&confs[c], sizes, 4, 1);
      run_sizes(&confs[c], sizes, sizeof sizes / sizeof sizes[0], SIZE_MAX);
    }
}

/* Over procs, each batch's results move into the outputs (a task of the
 * program's own) as soon as they come back, while later batches still
 * run: the order of the compute's events shows it. */
typedef struct end_log {
  char kind[64]; /* 'b': a batch ended, 'u': an unpack ended */
  int n;
  int bad_worker; /* batches run on workers 0 and 1, unpacks in the program */
} end_log;

static void log_end(const weft_event *ev, void *ud) {
  end_log *l = ud;
  if (ev->kind != WEFT_EV_TASK_END || l->n >= 64)
    return;
  if (strcmp(ev->fn->name, "weft.map.batch") == 0) {
    l->kind[l->n++] = 'b';
    l->bad_worker |= ev->worker < 0 || ev->worker > 1;
  } else if (strcmp(ev->fn->name, "weft.map.unpack") == 0) {
    l->kind[l->n++] = 'u';
    l->bad_worker |= ev->worker != -1;
  }
}

/* Issue 7, point 16: the lists of a batch that comes back from a worker
 * are unpacked into one block each batch, not one allocation per item;
 * they stay ordinary lists: readable, settable, released in any order
 * (the block goes with the last one; ASan checks that nothing leaks). */
static void test_procs_results_share_a_block(void **state) {
  (void)state;
  if (!have_procs()) {
    print_message("procs scheduler not in this build: skipped\n");
    skip();
  }
  enum { N = 400 };
  weft_value in[N], out[N];
  for (int i = 0; i < N; i++)
    in[i] = weft_int(i);
  weft_map_opts o;
  weft_map_opts_init(&o);
  o.scheduler = WEFT_SCHED_PROCS;
  o.workers = 2;
  o.batch_size = 100;
  o.ignore_env = 1;
  assert_map_ok(weft_map(WEFT_FN(tlist), N, in, out, &o));
  for (int i = 0; i < N; i++) {
    assert_type(out[i], WEFT_T_LIST);
    assert_int_equal(weft_value_len(&out[i]), i % 5);
    for (int k = 0; k < i % 5; k++)
      assert_int_value(*weft_list_get(&out[i], (size_t)k), i + k);
    assert_true(out[i].as.obj->kind & WEFT__OBJ_ARENA);
  }
  /* lists of one batch lie in one block, one after the other */
  const char *p1 = (const char *)out[1].as.obj, *p2 = (const char *)out[2].as.obj;
  assert_true(p2 > p1 && p2 - p1 < 256);
  /* a heap value set into one, which outlives the others */
  weft_value s;
  assert_ok(weft_str_new(&s, "kept"), NULL);
  assert_ok(weft_list_set(&out[103], 0, s), NULL);
  for (int i = N - 1; i >= 0; i--)
    if (i != 103)
      weft_value_release(&out[i]);
  assert_string_equal(weft_value_str(weft_list_get(&out[103], 0)), "kept");
  assert_int_value(*weft_list_get(&out[103], 2), 105);
  weft_value copy = weft_value_retain(&out[103]);
  weft_value_release(&out[103]);
  assert_int_equal(weft_value_len(&copy), 3);
  /* held by an ordinary list, it is freed by its own destructor when that
   * list goes (never free()d as a list of its own: ASan checks) */
  weft_value outer;
  assert_ok(weft_list_new(&outer, 1), NULL);
  assert_ok(weft_list_set(&outer, 0, copy), NULL);
  weft_value_release(&outer);
}

static void test_procs_unpack_as_they_come(void **state) {
  (void)state;
  if (!have_procs()) {
    print_message("procs scheduler not in this build: skipped\n");
    skip();
  }
  enum { N = 16 };
  weft_value in[N], out[N];
  for (int i = 0; i < N; i++)
    in[i] = weft_int(i + 100);
  end_log l = {0};
  weft_listener lis = {log_end, &l, NULL};
  weft_map_opts o = conf_opts(&confs[NCONFS - 1], NULL);
  assert_int_equal(o.scheduler, WEFT_SCHED_PROCS);
  o.batch_size = 1;
  o.listener = &lis;
  assert_map_ok(weft_map(WEFT_FN(tnap), N, in, out, &o));
  for (int i = 0; i < N; i++)
    assert_int_value(out[i], 3 * (i + 100));
  int last_batch = -1, unpacks = 0, batches = 0;
  for (int k = 0; k < l.n; k++) {
    if (l.kind[k] == 'b') {
      last_batch = k;
      batches++;
    } else
      unpacks++;
  }
  assert_int_equal(batches, N);
  assert_int_equal(unpacks, N);
  assert_int_equal(l.bad_worker, 0);
  int early = 0;
  for (int k = 0; k < last_batch; k++)
    early += l.kind[k] == 'u';
  if (early < N / 2)
    fail_msg("only %d of %d batches were unpacked before the last batch "
             "ended (%.*s)",
             early, N, l.n, l.kind);
}

/* Typed functions, heap results, the default options. */
static void test_typed_and_heap(void **state) {
  (void)state;
  weft_value in[100], out[100];
  for (int i = 0; i < 100; i++)
    in[i] = weft_double(i * 0.5);
  assert_ok(weft_map(WEFT_FN(tsq), 100, in, out, NULL), NULL);
  for (int i = 0; i < 100; i++)
    assert_double_value(out[i], i * 0.5 * i * 0.5);
  for (int i = 0; i < 100; i++)
    in[i] = weft_int(i - 50);
  for (size_t c = 0; c < NCONFS; c++) {
    if (confs[c].scheduler == WEFT_SCHED_PROCS && !have_procs())
      continue;
    weft_map_opts o = conf_opts(&confs[c], NULL);
    o.executor = NULL;
    o.batch_size = 3;
    assert_map_ok(weft_map(WEFT_FN(tstr), 100, in, out, &o));
    for (int i = 0; i < 100; i++) {
      char want[32];
      snprintf(want, sizeof want, "%d,", i - 50);
      assert_string_equal(weft_value_str(&out[i]), want);
    }
    release_all(out, 100);
  }
  /* Heap inputs (to a procs worker they go as a list). */
  weft_value sin[30], sout[30];
  for (int i = 0; i < 30; i++)
    assert_ok(weft_str_printf(&sin[i], "s%d", i * 37), NULL);
  for (size_t c = 0; c < NCONFS; c++) {
    if (confs[c].scheduler == WEFT_SCHED_PROCS && !have_procs())
      continue;
    weft_map_opts o = conf_opts(&confs[c], NULL);
    o.executor = NULL;
    o.physical = 1;
    o.workers = 0;
    assert_map_ok(weft_map(WEFT_FN(tlen), 30, sin, sout, &o));
    for (int i = 0; i < 30; i++)
      assert_int_value(sout[i], strlen(weft_value_str(&sin[i])));
  }
  release_all(sin, 30);
}

/* ---- errors ---- */

static void test_item_failure(void **state) {
  (void)state;
  size_t n = 10000;
  weft_value *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
  for (size_t i = 0; i < n; i++)
    in[i] = weft_int((int64_t)i);
  for (size_t c = 0; c < NCONFS; c++) {
    if (confs[c].scheduler == WEFT_SCHED_PROCS && !have_procs())
      continue;
    weft_map_opts o = conf_opts(&confs[c], NULL);
    o.executor = NULL;
    int code = 1;
    o.item_code = &code;
    for (size_t batch = 0; batch < 3; batch++) {
      o.batch_size = batch == 2 ? SIZE_MAX : batch;
      for (size_t i = 0; i < n; i++)
        out[i] = weft_int(777); /* overwritten: every output ends as none */
      int rc = weft_map(WEFT_FN(tfail), n, in, out, &o);
      assert_rc(WEFT_ETASK, rc, NULL);
      assert_rc(WEFT_ETASK, code, NULL); /* through weft_fail */
      assert_contains(errbuf, "weft_map(tfail)");
      assert_contains(errbuf, "item 4321: bad input 4321");
      for (size_t i = 0; i < n; i++)
        assert_type(out[i], WEFT_T_NONE);
    }
    /* An item that returns a code without a message. */
    in[17] = weft_int(-7);
    int rc = weft_map(WEFT_FN(tfail), n, in, out, &o);
    in[17] = weft_int(17);
    /* issue 7: any item failure is WEFT_ETASK, its own code kept */
    assert_rc(WEFT_ETASK, rc, NULL);
    assert_rc(WEFT_ETYPE, code, NULL);
    assert_contains(errbuf, "item 17: wrong value type");
    /* and the same through map-reduce; a success clears the code */
    weft_value r = weft_int(5);
    in[17] = weft_int(-7);
    rc = weft_map_reduce(WEFT_FN(tfail), WEFT_FN(tadd), n, in, &r, &o);
    in[17] = weft_int(17);
    assert_rc(WEFT_ETASK, rc, NULL);
    assert_rc(WEFT_ETYPE, code, NULL);
    assert_type(r, WEFT_T_NONE);
    assert_map_ok(weft_map(WEFT_FN(tfail), 3, in, out, &o));
    assert_int_equal(code, 0);
    release_all(out, 3);
  }
  free(in);
  free(out);
}

/* Heap results already made are released when an item fails. */
static void test_failure_releases(void **state) {
  (void)state;
  size_t n = 20000;
  weft_value *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
  for (size_t i = 0; i < n; i++)
    in[i] = weft_int((int64_t)(i * 7 % n));
  for (size_t c = 0; c < NCONFS; c++) {
    if (confs[c].scheduler == WEFT_SCHED_PROCS)
      continue; /* counted values cannot leave the process */
    weft_map_opts o = conf_opts(&confs[c], NULL);
    o.executor = NULL;
    for (size_t batch = 0; batch < 4; batch++) {
      tu_track_reset();
      o.batch_size = batch == 3 ? SIZE_MAX : batch * 50;
      assert_rc(WEFT_ETASK, weft_map(WEFT_FN(ttracked), n, in, out, &o), NULL);
      assert_contains(errbuf, "tracked item refused");
      assert_int_equal(atomic_load(&tu_live), 0);
      for (size_t i = 0; i < n; i++)
        assert_type(out[i], WEFT_T_NONE);
    }
    /* Without the failing item: every result, each made once. */
    tu_track_reset();
    for (size_t i = 0; i < n; i++)
      if (in[i].as.i == 4321)
        in[i] = weft_int(1);
    assert_map_ok(weft_map(WEFT_FN(ttracked), n, in, out, &o));
    assert_int_equal(atomic_load(&tu_made), (long)n);
    for (size_t i = 0; i < n; i++)
      assert_i64(tu_tracked_get(&out[i]), in[i].as.i);
    release_all(out, n);
    assert_int_equal(atomic_load(&tu_live), 0);
    for (size_t i = 0; i < n; i++)
      in[i] = weft_int((int64_t)(i * 7 % n));
  }
  free(in);
  free(out);
}

static void test_bad_calls(void **state) {
  (void)state;
  weft_value in[4] = {weft_int(1), weft_int(2), weft_int(3), weft_int(4)};
  weft_value out[4];
  weft_map_opts o;
  weft_map_opts_init(&o);
  o.errbuf = errbuf;
  o.errbuf_size = sizeof errbuf;
  o.ignore_env = 1;

  assert_rc(WEFT_EINVAL, weft_map(NULL, 4, in, out, &o), NULL);
  assert_contains(errbuf, "NULL function");
  assert_rc(WEFT_EINVAL, weft_map(NULL, 0, NULL, NULL, &o), NULL);
  assert_rc(WEFT_EARITY, weft_map(WEFT_FN(tadd), 4, in, out, &o), NULL);
  assert_contains(errbuf, "tadd takes 2 arguments; it must take 1");
  assert_rc(WEFT_EINVAL, weft_map(WEFT_FN(tmix), 4, NULL, out, &o), NULL);
  assert_contains(errbuf, "NULL input array");
  assert_rc(WEFT_EINVAL, weft_map(WEFT_FN(tmix), 4, in, NULL, &o), NULL);
  assert_contains(errbuf, "NULL output array");
  assert_rc(WEFT_EINVAL, weft_map(WEFT_FN(tmix), 4, in, in + 2, &o), NULL);
  assert_contains(errbuf, "overlaps");
  assert_ok(weft_map(WEFT_FN(tmix), 0, NULL, NULL, &o), NULL);
  o.scheduler = (weft_scheduler)99;
  assert_rc(WEFT_EINVAL, weft_map(WEFT_FN(tmix), 4, in, out, &o), NULL);
  assert_contains(errbuf, "unknown scheduler 99");
  o.scheduler = WEFT_SCHED_DEFAULT;

  /* The environment is read (once, by weft's config) unless ignored. */
  o.ignore_env = 0;
  setenv("WEFT_SCHEDULER", "nonsense", 1);
  assert_rc(WEFT_EINVAL, weft_map(WEFT_FN(tmix), 4, in, out, &o), NULL);
  assert_contains(errbuf, "WEFT_SCHEDULER='nonsense'");
  unsetenv("WEFT_SCHEDULER");
  o.ignore_env = 1;

  /* procs: the function must be registered; pointers cannot travel. */
  o.scheduler = WEFT_SCHED_PROCS;
  int rc = weft_map(&hidden_info, 4, in, out, &o);
  if (have_procs()) {
    assert_rc(WEFT_ENOTFOUND, rc, NULL);
    assert_contains(errbuf, "'hidden_fn' is not registered");
    assert_contains(errbuf, "WEFT_REGISTER(hidden_fn)");
    assert_rc(WEFT_ENOTFOUND, weft_fn_registered(&hidden_info), NULL);
    assert_ok(weft_fn_registered(WEFT_FN(tmix)), NULL);
    /* issue 7: one rule for both: a procs compute refuses it the same way
     * (it used to run it), and says how to register it */
    weft_graph *g = weft_graph_new();
    weft_node *h = weft_call_fn(g, &hidden_info, 1, (weft_value[]){in[2]});
    weft_compute_opts co;
    weft_compute_opts_init(&co);
    co.scheduler = WEFT_SCHED_PROCS;
    co.workers = 1;
    co.ignore_env = 1;
    weft_value hv = weft_int(9);
    assert_rc(WEFT_ENOTFOUND, weft_compute1(g, h, &hv, &co), g);
    assert_type(hv, WEFT_T_NONE);
    assert_contains(weft_graph_error(g), "(hidden_fn)");
    assert_contains(weft_graph_error(g), "'hidden_fn' is not registered");
    assert_contains(weft_graph_error(g), "WEFT_REGISTER(hidden_fn)");
    co.scheduler = WEFT_SCHED_THREADS; /* in-process: no name needed */
    assert_ok(weft_compute1(g, h, &hv, &co), g);
    assert_int_value(hv, 3);
    weft_graph_free(g);
    weft_value p[2] = {weft_int(1), weft_none()};
    assert_ok(tu_tracked_new(&p[1], 5), NULL);
    assert_rc(WEFT_ENOTSUP, weft_map(WEFT_FN(tmix), 2, p, out, &o), NULL);
    assert_contains(errbuf, "item 1 is a ptr");
    weft_value_release(&p[1]);
  } else {
    assert_rc(WEFT_ENOTSUP, rc, NULL);
    assert_contains(errbuf, "procs scheduler is not part of this build");
  }
  /* ... which threads do not need. */
  o.scheduler = WEFT_SCHED_THREADS;
  assert_map_ok(weft_map(&hidden_info, 4, in, out, &o));
  assert_int_value(out[3], 4);

  /* map-reduce arities and arguments. */
  weft_value r;
  assert_rc(WEFT_EARITY,
            weft_map_reduce(WEFT_FN(tmix), WEFT_FN(tmix), 4, in, &r, &o), NULL);
  assert_contains(errbuf, "reduce function tmix takes 1 argument; it must "
                          "take 2");
  assert_rc(WEFT_EINVAL, weft_map_reduce(WEFT_FN(tmix), NULL, 4, in, &r, &o),
            NULL);
  assert_contains(errbuf, "NULL reduce function");
  assert_rc(WEFT_EINVAL, weft_map_reduce(NULL, WEFT_FN(tadd), 4, in, &r, &o),
            NULL);
  assert_contains(errbuf, "NULL map function");
  assert_rc(WEFT_EINVAL,
            weft_map_reduce(WEFT_FN(tmix), WEFT_FN(tadd), 4, in, NULL, &o),
            NULL);
  assert_rc(WEFT_EINVAL,
            weft_map_reduce(WEFT_FN(tmix), WEFT_FN(tadd), 4, NULL, &r, &o),
            NULL);
  assert_rc(WEFT_EARITY,
            weft_map_reduce(WEFT_FN(tadd), WEFT_FN(tadd), 4, in, &r, &o), NULL);
}

/* A task may run a weft_map on its own pool, not on the one running it. */
static void test_nested_and_busy(void **state) {
  (void)state;
  weft_value in[8], out[8];
  for (int i = 0; i < 8; i++)
    in[i] = weft_int(i * 8);
  weft_map_opts o;
  weft_map_opts_init(&o);
  o.workers = 2;
  o.ignore_env = 1;
  o.batch_size = 1;
  o.errbuf = errbuf;
  o.errbuf_size = sizeof errbuf;
  assert_map_ok(weft_map(WEFT_FN(tnested), 8, in, out, &o));
  for (int i = 0; i < 8; i++) {
    uint64_t s = 0;
    for (int64_t j = 0; j < i * 8; j++)
      s += (uint64_t)mix64(j);
    assert_int_value(out[i], (int64_t)s);
  }
  /* Many maps on one executor, and a reused executor's size sets batches. */
  weft_executor *ex;
  assert_ok(weft_executor_new(2, &ex), NULL);
  o.executor = ex;
  o.batch_size = 0;
  for (int rep = 0; rep < 200; rep++) {
    assert_map_ok(weft_map(WEFT_FN(tmix), 8, in, out, &o));
    expect_mix(in, out, 8);
  }
  /* A task that maps on the executor running it gets WEFT_EBUSY. */
  busy_ex = ex;
  o.batch_size = 1;
  assert_map_ok(weft_map(WEFT_FN(tbusy), 4, in, out, &o));
  for (int i = 0; i < 4; i++)
    assert_int_value(out[i], WEFT_EBUSY);
  weft_executor_free(ex);
}

/* ---- map-reduce ---- */

static void test_map_reduce_eager(void **state) {
  (void)state;
  const size_t sizes[] = {0, 1, 2, 3, 7919,
                         TU_ASAN || TU_TSAN ? 200003 : 1000003};
  for (size_t c = 0; c < NCONFS; c++) {
    if (confs[c].scheduler == WEFT_SCHED_PROCS && !have_procs())
      continue;
    weft_executor *ex = NULL;
    if (confs[c].executor)
      assert_ok(weft_executor_new(confs[c].workers, &ex), NULL);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
      size_t n = sizes[k];
      if (confs[c].scheduler == WEFT_SCHED_PROCS && n > 100000)
        n = 100003;
      weft_value *in = malloc((n ? n : 1) * sizeof *in);
      int64_t sum = 0, max = INT64_MIN;
      for (size_t i = 0; i < n; i++) {
        in[i] = weft_int(rnd() % 1000000);
        int64_t m = mix64(in[i].as.i);
        sum = (int64_t)((uint64_t)sum + (uint64_t)m);
        max = m > max ? m : max;
      }
      const size_t batches[] = {0, 1, 5, SIZE_MAX};
      for (size_t b = 0; b < 4; b++) {
        if (batches[b] == 1 && n > 100000)
          continue;
        weft_map_opts o = conf_opts(&confs[c], ex);
        o.batch_size = batches[b];
        weft_value r;
        assert_map_ok(
            weft_map_reduce(WEFT_FN(tmix), WEFT_FN(tadd), n, in, &r, &o));
        if (n == 0)
          assert_type(r, WEFT_T_NONE);
        else
          assert_int_value(r, sum);
        assert_map_ok(
            weft_map_reduce(WEFT_FN(tmix), WEFT_FN(tmax), n, in, &r, &o));
        if (n)
          assert_int_value(r, max);
      }
      free(in);
    }
    weft_executor_free(ex);
  }
}

/* Concatenation shows the order: any swap would change the text. */
static void test_map_reduce_order(void **state) {
  (void)state;
  size_t n = 2000;
  weft_value *in = malloc(n * sizeof *in);
  char *want = malloc(n * 8 + 1), *p = want;
  for (size_t i = 0; i < n; i++) {
    in[i] = weft_int((int64_t)i);
    p += sprintf(p, "%zu,", i);
  }
  for (size_t c = 0; c < NCONFS; c++) {
    if (confs[c].scheduler == WEFT_SCHED_PROCS && !have_procs())
      continue;
    const size_t batches[] = {0, 1, 3, 999, SIZE_MAX};
    for (size_t b = 0; b < 5; b++) {
      weft_map_opts o = conf_opts(&confs[c], NULL);
      o.executor = NULL;
      o.batch_size = batches[b];
      weft_value r;
      assert_map_ok(
          weft_map_reduce(WEFT_FN(tstr), WEFT_FN(tcat), n, in, &r, &o));
      assert_string_equal(weft_value_str(&r), want);
      weft_value_release(&r);
    }
  }
  /* A failing item and a failing reduce name the item. */
  weft_map_opts o;
  weft_map_opts_init(&o);
  o.errbuf = errbuf;
  o.errbuf_size = sizeof errbuf;
  o.ignore_env = 1;
  weft_value r = weft_int(5);
  for (size_t i = 0; i < n; i++)
    in[i] = weft_int((int64_t)(i + 4000));
  assert_rc(WEFT_ETASK,
            weft_map_reduce(WEFT_FN(tfail), WEFT_FN(tadd), n, in, &r, &o),
            NULL);
  assert_type(r, WEFT_T_NONE);
  assert_contains(errbuf, "weft_map_reduce(tfail, tadd)");
  assert_contains(errbuf, "item 321: bad input 4321");
  for (size_t i = 0; i < n; i++)
    in[i] = weft_int(1);
  o.batch_size = SIZE_MAX; /* one batch: the fold fails inside it */
  assert_rc(WEFT_ETASK,
            weft_map_reduce(WEFT_FN(tfail), WEFT_FN(tadd_small), n, in, &r, &o),
            NULL);
  assert_contains(errbuf, "item 500 (reducing with tadd_small): sum too big");
  o.batch_size = 100; /* the tree fails above the batches */
  assert_rc(WEFT_ETASK,
            weft_map_reduce(WEFT_FN(tfail), WEFT_FN(tadd_small), n, in, &r, &o),
            NULL);
  assert_contains(errbuf, "(tadd_small) failed: sum too big");
  free(in);
  free(want);
}

static void test_map_reduce_lazy(void **state) {
  (void)state;
  const size_t sizes[] = {0, 1, 2, 5, 7919,
                         TU_ASAN || TU_TSAN ? 100003 : 1000000};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    size_t n = sizes[k];
    weft_graph *g = weft_graph_new();
    weft_node **leaves = malloc((n ? n : 1) * sizeof *leaves);
    int64_t sum = 0, max = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
      int64_t x = rnd() % 1000000;
      leaves[i] = weft_literal(g, weft_int(x));
      sum = (int64_t)((uint64_t)sum + (uint64_t)mix64(x));
      max = mix64(x) > max ? mix64(x) : max;
    }
    /* Two map-reduces over the same leaves: each leaf feeds two maps. */
    weft_node *s =
        weft_map_reduce_nodes(g, WEFT_FN(tmix), WEFT_FN(tadd), n, leaves);
    weft_node *m =
        weft_map_reduce_nodes(g, WEFT_FN(tmix), WEFT_FN(tmax), n, leaves);
    assert_non_null(s);
    assert_non_null(m);
    /* Nothing ran yet: the graph holds the leaves, the maps and the trees. */
    if (n >= 2)
      assert_int_equal(weft_graph_size(g), n + 2 * (n + n - 1));
    for (size_t c = 0; c < 3; c++) {
      weft_compute_opts co;
      weft_compute_opts_init(&co);
      co.ignore_env = 1;
      co.scheduler = c == 0 ? WEFT_SCHED_SYNC : WEFT_SCHED_THREADS;
      co.workers = c == 2 ? 4 : 2;
      weft_value sv, mv;
      assert_ok(weft_compute(g, WEFT_NODES(s, m), WEFT_OUT(&sv, &mv), &co), g);
      if (n == 0) {
        assert_type(sv, WEFT_T_NONE);
        assert_type(mv, WEFT_T_NONE);
      } else {
        assert_int_value(sv, sum);
        assert_int_value(mv, max);
      }
    }
    free(leaves);
    weft_graph_free(g);
  }
  /* The tree alone, in order. */
  weft_graph *g = weft_graph_new();
  weft_node *parts[5];
  for (int i = 0; i < 5; i++) {
    char t[8];
    snprintf(t, sizeof t, "%c", 'a' + i);
    weft_value v;
    assert_ok(weft_str_new(&v, t), NULL);
    parts[i] = weft_literal(g, v);
  }
  weft_node *root = weft_reduce_nodes(g, WEFT_FN(tcat), 5, parts);
  assert_ptr_equal(weft_reduce_nodes(g, WEFT_FN(tcat), 1, parts), parts[0]);
  weft_value rv;
  assert_ok(weft_compute1(g, root, &rv, NULL), g);
  assert_string_equal(weft_value_str(&rv), "abcde");
  weft_value_release(&rv);
  weft_graph_free(g);
}

static void test_map_nodes(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_node *x[50], *y[50];
  for (int i = 0; i < 50; i++)
    x[i] = weft_literal(g, weft_int(i));
  assert_ok(weft_map_nodes(g, WEFT_FN(tmix), 50, x, y), g);
  weft_node *l = weft_list(g, 50, y);
  assert_ok(weft_map_nodes(g, WEFT_FN(tmix), 50, x, x), g); /* in place */
  weft_node *l2 = weft_list(g, 50, x);
  weft_value lv, lv2;
  assert_ok(weft_compute(g, WEFT_NODES(l, l2), WEFT_OUT(&lv, &lv2), NULL), g);
  for (int i = 0; i < 50; i++) {
    assert_int_value(*weft_list_get(&lv, (size_t)i), mix64(i));
    assert_int_value(*weft_list_get(&lv2, (size_t)i), mix64(i));
  }
  weft_value_release(&lv);
  weft_value_release(&lv2);
  assert_ok(weft_map_nodes(g, WEFT_FN(tmix), 0, NULL, NULL), g);

  /* Errors are sticky graph errors. */
  assert_rc(WEFT_EARITY, weft_map_nodes(g, WEFT_FN(tadd), 50, y, x), g);
  assert_contains(weft_graph_error(g), "tadd takes 2 arguments");
  assert_null(x[0]);
  assert_null(weft_map_reduce_nodes(g, WEFT_FN(tmix), WEFT_FN(tadd), 50, y));
  weft_graph_free(g);

  g = weft_graph_new();
  weft_node *bad[3] = {weft_literal(g, weft_int(1)), NULL,
                       weft_literal(g, weft_int(2))};
  weft_node *o3[3];
  assert_rc(WEFT_EINVAL, weft_map_nodes(g, WEFT_FN(tmix), 3, bad, o3), g);
  assert_contains(weft_graph_error(g), "NULL node");
  weft_graph_free(g);

  g = weft_graph_new();
  assert_null(weft_reduce_nodes(g, WEFT_FN(tmix), 2, bad));
  assert_rc(WEFT_EARITY, weft_graph_status(g), g);
  weft_graph_free(g);
  g = weft_graph_new();
  assert_null(weft_map_reduce_nodes(g, NULL, WEFT_FN(tadd), 2, bad));
  assert_contains(weft_graph_error(g), "NULL map function");
  weft_graph_free(g);
  assert_rc(WEFT_EINVAL, weft_map_nodes(NULL, WEFT_FN(tmix), 0, NULL, NULL),
            NULL);
  assert_null(weft_reduce_nodes(NULL, WEFT_FN(tadd), 0, NULL));
}

int main(void) {
  tu_watchdog(110);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sizes_threads),
      cmocka_unit_test(test_batch_sizes),
      cmocka_unit_test(test_sizes_procs),
      cmocka_unit_test(test_procs_unpack_as_they_come),
      cmocka_unit_test(test_typed_and_heap),
      cmocka_unit_test(test_item_failure),
      cmocka_unit_test(test_failure_releases),
      cmocka_unit_test(test_bad_calls),
      cmocka_unit_test(test_nested_and_busy),
      cmocka_unit_test(test_map_reduce_eager),
      cmocka_unit_test(test_map_reduce_order),
      cmocka_unit_test(test_map_reduce_lazy),
      cmocka_unit_test(test_map_nodes),
      cmocka_unit_test(test_procs_results_share_a_block),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
