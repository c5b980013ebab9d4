/* test_procs.c - the procs scheduler (weft/procs.h): worker processes give
 * the same results as the sync scheduler on random graphs; pools opened
 * and closed many times leave no process and no file descriptor behind;
 * big bytes values and array chunks round-trip through shared memory,
 * alone or inside lists; task failures, user pointers, events, keys and
 * name look-ups in workers behave as documented. Workers that crash or are
 * killed: test_procs_crash.c.
 *
 * This program is itself re-executed as each worker: libweft's constructor
 * turns the copy into a worker before main() (cmocka's) could run. */
#include <sys/prctl.h>
#include <sys/stat.h>

#include "procs_tasks.h"
#include "sched/procs/impl.h" /* the function table, tested directly */

#define UNDER_SANITIZER (TU_ASAN || TU_TSAN)

/* ---- task functions ---- */

/* -> a heap string "s<hash>" */
static int t_str(weft_task_ctx *ctx, const weft_value *a, size_t n,
                 weft_value *out) {
  (void)ctx;
  return weft_str_printf(out, "s%016llx", (unsigned long long)args_hash(a, n));
}
WEFT_REGISTER(t_str);

static int t_fails(weft_task_ctx *ctx, const weft_value *a, size_t n,
                   weft_value *out) {
  (void)n, (void)out;
  return weft_fail(ctx, "bad input %lld", (long long)a[0].as.i);
}
WEFT_REGISTER(t_fails);

static int t_rev(weft_task_ctx *ctx, const weft_value *a, size_t n,
                 weft_value *out) {
  (void)ctx, (void)n;
  size_t len = weft_value_len(&a[0]);
  const uint8_t *p = weft_value_bytes(&a[0]);
  uint8_t *q;
  if (a[0].type != WEFT_T_BYTES)
    return weft_fail(ctx, "not bytes");
  if (weft_bytes_alloc(out, len, (void **)&q))
    return WEFT_ENOMEM;
  for (size_t i = 0; i < len; i++)
    q[i] = p[len - 1 - i];
  return 0;
}
WEFT_REGISTER_ARITY(t_rev, 1);

static int t_same(weft_task_ctx *ctx, const weft_value *a, size_t n,
                  weft_value *out) {
  (void)ctx, (void)n;
  *out = weft_value_retain(&a[0]);
  return 0;
}
WEFT_REGISTER_ARITY(t_same, 1);

/* Whether p lies in a mapping of a weft memfd (shared memory). */
static bool in_shm(const void *p) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  bool yes = false;
  while (f && !yes && fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && (uintptr_t)p >= lo &&
        (uintptr_t)p < hi)
      yes = strstr(line, "memfd:weft-bytes") != NULL;
  }
  if (f)
    fclose(f);
  return yes;
}

static int t_in_shm(weft_task_ctx *ctx, const weft_value *a, size_t n,
                    weft_value *out) {
  (void)ctx, (void)n;
  *out = weft_bool(in_shm(weft_value_bytes(&a[0])));
  return 0;
}
WEFT_REGISTER_ARITY(t_in_shm, 1);

/* A float64 chunk -> a new one of the same shape, 2x + 1 element-wise, and
 * whether its argument arrived in shared memory (as a bool in a list). */
static int t_chunk_2x1(weft_task_ctx *ctx, const weft_value *a, size_t n,
                       weft_value *out) {
  (void)n;
  weft_chunk_info c;
  if (weft_chunk_get(&a[0], &c) || c.dtype != WEFT_F64)
    return weft_fail(ctx, "t_chunk_2x1: not a float64 chunk");
  weft_value r;
  double *d;
  int rc = weft_chunk_new(&r, WEFT_F64, c.ndim, c.shape, (void **)&d);
  if (rc)
    return rc;
  const double *x = c.data;
  for (size_t i = 0; i < c.count; i++)
    d[i] = 2 * x[i] + 1;
  if ((rc = weft_list_new(out, 2)) == 0) {
    weft_list_set(out, 0, r);
    weft_list_set(out, 1, weft_bool(c.nbytes && in_shm(c.data)));
  } else {
    weft_value_release(&r);
  }
  return rc;
}
WEFT_REGISTER_ARITY(t_chunk_2x1, 1);

/* [chunk, flag] -> chunk */
static int t_first(weft_task_ctx *ctx, const weft_value *a, size_t n,
                   weft_value *out) {
  (void)ctx, (void)n;
  *out = weft_value_retain(weft_list_get(&a[0], 0));
  return 0;
}
WEFT_REGISTER_ARITY(t_first, 1);

/* (name, x): looks name up in this process's registry and runs it on x. */
static int t_by_name(weft_task_ctx *ctx, const weft_value *a, size_t n,
                     weft_value *out) {
  (void)n;
  const weft_fn_info *fn;
  int rc = weft_fn_find(weft_value_str(&a[0]), &fn);
  if (rc)
    return weft_fail(ctx, "weft_fn_find('%s'): %s", weft_value_str(&a[0]),
                     weft_strerror(rc));
  return fn->fn(ctx, &a[1], 1, out);
}
WEFT_REGISTER_ARITY(t_by_name, 2);

static int t_ptr_result(weft_task_ctx *ctx, const weft_value *a, size_t n,
                        weft_value *out) {
  (void)ctx, (void)a, (void)n;
  static int x;
  return weft_ptr_new(out, &x, NULL);
}
WEFT_REGISTER(t_ptr_result);

/* -> "<key>@<worker>" */
static int t_key(weft_task_ctx *ctx, const weft_value *a, size_t n,
                 weft_value *out) {
  (void)a, (void)n;
  char key[128];
  weft_task_key(ctx, key, sizeof key);
  return weft_str_printf(out, "%s@%d", key, weft_task_worker(ctx));
}
WEFT_REGISTER(t_key);

static int t_pid(weft_task_ctx *ctx, const weft_value *a, size_t n,
                 weft_value *out) {
  (void)ctx, (void)a, (void)n;
  *out = weft_int(getpid());
  return 0;
}
WEFT_REGISTER(t_pid);

/* ---- random graphs ---- */

static const weft_fn_info *dag_fn(unsigned k) {
  const weft_fn_info *fns[] = {WEFT_FN(t_hash), WEFT_FN(t_str), WEFT_FN(t_list),
                               WEFT_FN(t_hash)};
  return fns[k % 4];
}

/* A random DAG of n nodes over t_hash / t_str / t_list and built-in
 * arithmetic, literals included. Returns the graph; nodes[] filled. */
static weft_graph *random_dag(uint64_t seed, size_t n, weft_node **nodes) {
  weft_graph *g = weft_graph_new();
  assert_non_null(g);
  uint64_t s = seed;
  for (size_t i = 0; i < n; i++) {
    s = mix(s);
    weft_value args[5];
    size_t na = 0;
    size_t nin = i ? (size_t)(s % 4) : 0;
    for (size_t k = 0; k < nin; k++)
      args[na++] = weft_node_ref(nodes[mix(s + k) % i]);
    if (s % 3 == 0)
      args[na++] = weft_int((int64_t)(s >> 40));
    if (s % 7 == 0) {
      weft_value str;
      assert_int_equal(
          weft_str_printf(&str, "lit%llu", (unsigned long long)(s % 1000)), 0);
      args[na++] = str;
    }
    if (s % 11 == 0 && i) {
      weft_value big; /* a str that is not small */
      char text[3000];
      memset(text, 'a' + (int)(s % 26), sizeof text - 1);
      text[sizeof text - 1] = '\0';
      assert_int_equal(weft_str_new(&big, text), 0);
      for (size_t k = 0; k < na; k++)
        weft_value_release(&args[k]);
      nodes[i] = weft_literal(g, big);
    } else if (s % 13 == 0 && i) { /* built-in arithmetic on an int */
      for (size_t k = 0; k < na; k++)
        weft_value_release(&args[k]);
      weft_node *src = nodes[(s >> 8) % i];
      const weft_fn_info *f = weft_node_fn(g, src);
      if (f == WEFT_FN(t_hash) || f == weft_op_fn(WEFT_OP_ADD))
        nodes[i] = weft_add(g, src, (int)(s % 100));
      else
        nodes[i] = weft_call(g, t_hash, src);
    } else {
      nodes[i] = weft_call_fn(g, dag_fn((unsigned)(s >> 20)), na, args);
    }
    assert_non_null(nodes[i]);
  }
  return g;
}

static void check_same_as_sync(weft_procs *pool, uint64_t seed, size_t n,
                               size_t nout) {
  weft_node **nodes = malloc(n * sizeof *nodes);
  weft_node **outs = malloc(nout * sizeof *outs);
  weft_value *want = calloc(nout, sizeof *want);
  weft_value *got = calloc(nout, sizeof *got);
  weft_value **wantp = malloc(nout * sizeof *wantp);
  weft_value **gotp = malloc(nout * sizeof *gotp);
  assert_true(nodes && outs && want && got && wantp && gotp);
  weft_graph *g = random_dag(seed, n, nodes);
  uint64_t s = seed ^ 0x5555;
  for (size_t k = 0; k < nout; k++) {
    s = mix(s);
    outs[k] = k == 0 ? nodes[n - 1] : nodes[s % n];
    wantp[k] = &want[k];
    gotp[k] = &got[k];
  }
  weft_compute_opts so;
  weft_compute_opts_init(&so);
  so.scheduler = WEFT_SCHED_SYNC;
  so.ignore_env = 1;
  int rc = weft_compute(g, nout, outs, wantp, &so);
  assert_int_equal(rc, 0);
  weft_compute_opts po = procs_opts(pool, -1);
  rc = weft_compute(g, nout, outs, gotp, &po);
  if (rc)
    print_error("%s\n", weft_graph_error(g));
  assert_int_equal(rc, 0);
  for (size_t k = 0; k < nout; k++) {
    if (!weft_value_equal(&want[k], &got[k])) {
      char a[200], b[200];
      weft_value_format(&want[k], a, sizeof a);
      weft_value_format(&got[k], b, sizeof b);
      print_error("seed %llu output %zu: sync %s, procs %s\n",
                  (unsigned long long)seed, k, a, b);
      fail();
    }
    weft_value_release(&want[k]);
    weft_value_release(&got[k]);
  }
  weft_graph_free(g);
  free(nodes);
  free(outs);
  free(want);
  free(got);
  free(wantp);
  free(gotp);
}

/* ---- tests ---- */

static void test_random_dags(void **state) {
  (void)state;
  weft_procs *pool = new_pool(2);
  for (uint64_t seed = 1; seed <= 30; seed++)
    check_same_as_sync(pool, seed, 1 + (size_t)(mix(seed) % 200), 1 + seed % 6);
  check_same_as_sync(pool, 99, 3000, 8); /* a bigger one */
  weft_procs_free(pool);
  assert_no_children();
}

static void test_three_workers_and_transient_pool(void **state) {
  (void)state;
  weft_procs *pool = new_pool(3);
  check_same_as_sync(pool, 1234, 500, 5);
  weft_procs_free(pool);
  /* No pool in the options: the compute starts and stops its own. */
  weft_node *nodes[50];
  weft_graph *g = random_dag(77, 50, nodes);
  weft_value a, b;
  weft_compute_opts so;
  weft_compute_opts_init(&so);
  so.scheduler = WEFT_SCHED_SYNC;
  so.ignore_env = 1;
  assert_int_equal(weft_compute1(g, nodes[49], &a, &so), 0);
  weft_compute_opts po = procs_opts(NULL, -1);
  po.workers = 2;
  assert_int_equal(weft_compute1(g, nodes[49], &b, &po), 0);
  assert_true(weft_value_equal(&a, &b));
  weft_value_release(&a);
  weft_value_release(&b);
  weft_graph_free(g);
  assert_no_children();
}

static void test_env_scheduler(void **state) {
  (void)state;
  assert_int_equal(setenv("WEFT_SCHEDULER", "procs", 1), 0);
  assert_int_equal(setenv("WEFT_WORKERS", "2", 1), 0);
  weft_graph *g = weft_graph_new();
  weft_node *x = weft_call0(g, t_pid);
  weft_node *y = weft_add(g, weft_mul(g, 3, 7), weft_call(g, t_add1, 1));
  weft_value xv, yv;
  int rc = weft_compute(g, WEFT_NODES(x, y), WEFT_OUT(&xv, &yv), NULL);
  unsetenv("WEFT_SCHEDULER");
  unsetenv("WEFT_WORKERS");
  assert_int_equal(rc, 0);
  assert_int_equal(xv.type, WEFT_T_INT);
  assert_int_not_equal(xv.as.i, getpid()); /* it ran in another process */
  assert_int_equal(yv.type, WEFT_T_INT);
  assert_int_equal(yv.as.i, 23);
  weft_graph_free(g);
  assert_no_children();
}

static void test_task_failure(void **state) {
  (void)state;
  weft_procs *pool = new_pool(2);
  weft_graph *g = weft_graph_new();
  weft_node *f = weft_call(g, t_fails, 7);
  weft_node *z = weft_call(g, t_add1, f);
  weft_value v;
  weft_compute_opts o = procs_opts(pool, -1);
  assert_int_equal(weft_compute1(g, z, &v, &o), WEFT_ETASK);
  char want[120];
  snprintf(want, sizeof want,
           "task 't_fails-%ld' (t_fails) failed: bad input 7",
           weft_node_index(g, f));
  assert_string_equal(weft_graph_error(g), want);
  /* A user pointer cannot go to a worker: said clearly. */
  weft_value p;
  static int dummy;
  assert_int_equal(weft_ptr_new(&p, &dummy, NULL), 0);
  weft_node *lit = weft_literal(g, p);
  weft_node *use = weft_call(g, t_same, lit);
  assert_int_equal(weft_compute1(g, use, &v, &o), WEFT_ENOTSUP);
  assert_non_null(strstr(weft_graph_error(g), "cannot be sent to a worker"));
  /* Nor can a user pointer come back from one. */
  weft_node *pr = weft_call0(g, t_ptr_result);
  /* a task failure (issue 7's rule): WEFT_ETASK, the code kept */
  assert_int_equal(weft_compute1(g, pr, &v, &o), WEFT_ETASK);
  assert_int_equal(weft_graph_task_code(g), WEFT_ENOTSUP);
  assert_non_null(strstr(weft_graph_error(g),
                         "its result cannot leave the worker process"));
  /* ... but a literal alone is computed without a worker. */
  assert_int_equal(weft_compute1(g, lit, &v, &o), 0);
  assert_ptr_equal(weft_value_ptr(&v), &dummy);
  weft_value_release(&v);
  weft_graph_free(g);
  weft_procs_free(pool);
  assert_no_children();
}

static void test_big_bytes(void **state) {
  (void)state;
  int fds = count_fds();
  weft_procs *pool = new_pool(2);
  size_t n = 8u << 20;
  weft_value big;
  uint8_t *p;
  assert_int_equal(weft_bytes_alloc(&big, n, (void **)&p), 0);
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)(mix(i) >> 13);
  weft_value copy = weft_value_retain(&big);
  weft_graph *g = weft_graph_new();
  weft_node *lit = weft_literal(g, big);
  weft_node *r1 = weft_call(g, t_rev, lit); /* parent -> worker -> parent */
  weft_node *r2 = weft_call(g, t_rev, r1);  /* a shared result sent on */
  weft_node *same = weft_call(g, t_same, r2);
  weft_node *h = weft_call(g, t_hash, same);
  weft_node *s1 = weft_call(g, t_in_shm, lit);
  weft_node *s2 = weft_call(g, t_in_shm, r1);
  weft_value v2, vs, vh, vs1, vs2;
  weft_compute_opts o = procs_opts(pool, -1);
  int rc = weft_compute(g, WEFT_NODES(r2, same, h, s1, s2),
                        WEFT_OUT(&v2, &vs, &vh, &vs1, &vs2), &o);
  if (rc)
    print_error("%s\n", weft_graph_error(g));
  assert_int_equal(rc, 0);
  assert_int_equal(v2.type, WEFT_T_BYTES);
  assert_int_equal(weft_value_len(&v2), n);
  assert_true(weft_value_equal(&v2, &copy));
  assert_true(weft_value_equal(&vs, &copy));
  assert_true(in_shm(weft_value_bytes(&v2))); /* results came that way */
  assert_true(vs1.as.b);                      /* and arguments went */
  assert_true(vs2.as.b);
  assert_false(in_shm(weft_value_bytes(&copy)));
  weft_value hv = copy;
  assert_int_equal(vh.as.i, (int64_t)(args_hash(&hv, 1) >> 2));
  weft_value_release(&v2);
  weft_value_release(&vs);
  /* A 3 MB string travels inline (only bytes use shared memory). */
  char *text = malloc(3000001);
  assert_non_null(text);
  for (size_t i = 0; i < 3000000; i++)
    text[i] = (char)('a' + i % 26);
  text[3000000] = '\0';
  weft_value str, sv;
  assert_int_equal(weft_str_new(&str, text), 0);
  weft_node *ss = weft_call(g, t_same, weft_literal(g, str));
  assert_int_equal(weft_compute1(g, ss, &sv, &o), 0);
  assert_string_equal(weft_value_str(&sv), text);
  weft_value_release(&sv);
  free(text);
  /* Inline below the threshold, and empty bytes. */
  weft_value small, empty;
  assert_int_equal(weft_bytes_new(&small, "abcdef", 6), 0);
  assert_int_equal(weft_bytes_new(&empty, NULL, 0), 0);
  weft_node *rs = weft_call(g, t_rev, weft_literal(g, small));
  weft_node *re = weft_call(g, t_rev, weft_literal(g, empty));
  weft_value vr, ve;
  assert_int_equal(weft_compute(g, WEFT_NODES(rs, re), WEFT_OUT(&vr, &ve), &o),
                   0);
  assert_int_equal(weft_value_len(&vr), 6);
  assert_memory_equal(weft_value_bytes(&vr), "fedcba", 6);
  assert_int_equal(ve.type, WEFT_T_BYTES);
  assert_int_equal(weft_value_len(&ve), 0);
  weft_value_release(&vr);
  weft_value_release(&ve);
  weft_value_release(&copy);
  weft_graph_free(g);
  weft_procs_free(pool);
  assert_no_children();
  assert_int_equal(count_fds(), fds); /* every memfd closed */
}

/* Array chunks through workers: a big one through shared memory both ways
 * (a result sent on to the next worker without a copy), a small one inline,
 * and results that stay readable after the pool is gone. */
static void test_chunks(void **state) {
  (void)state;
  int fds = count_fds();
  weft_procs *pool = new_pool(2);
  const int64_t shape[2] = {512, 300}; /* 1.2 MB: shared memory */
  weft_value big;
  double *x;
  assert_int_equal(weft_chunk_new(&big, WEFT_F64, 2, shape, (void **)&x), 0);
  for (size_t i = 0; i < 512 * 300; i++)
    x[i] = (double)(mix(i) % 100000) / 7.0 - 3000;
  weft_value keep = weft_value_retain(&big);
  weft_value small;
  double *y;
  assert_int_equal(
      weft_chunk_new(&small, WEFT_F64, 1, (int64_t[]){5}, (void **)&y), 0);
  for (int i = 0; i < 5; i++)
    y[i] = i - 2.5;
  weft_value keep_small = weft_value_retain(&small);

  weft_graph *g = weft_graph_new();
  weft_node *p1 = weft_call(g, t_chunk_2x1, weft_literal(g, big));
  weft_node *f1 = weft_call(g, t_first, p1); /* a chunk alone: shared */
  weft_node *p2 = weft_call(g, t_chunk_2x1, f1);
  weft_node *ps = weft_call(g, t_chunk_2x1, weft_literal(g, small));
  weft_value v1, vf, v2, vs;
  weft_compute_opts o = procs_opts(pool, -1);
  int rc = weft_compute(g, WEFT_NODES(p1, f1, p2, ps),
                        WEFT_OUT(&v1, &vf, &v2, &vs), &o);
  if (rc)
    print_error("%s\n", weft_graph_error(g));
  assert_int_equal(rc, 0);
  weft_graph_free(g);
  weft_procs_free(pool); /* the results outlive the pool */
  assert_no_children();

  /* in shared memory on the way there, both times */
  assert_true(weft_list_get(&v1, 1)->as.b);
  assert_true(weft_list_get(&v2, 1)->as.b);
  assert_false(weft_list_get(&vs, 1)->as.b); /* 40 bytes travel inline */
  weft_chunk_info c1, c2, cs;
  assert_int_equal(weft_chunk_get(weft_list_get(&v1, 0), &c1), 0);
  assert_int_equal(weft_chunk_get(weft_list_get(&v2, 0), &c2), 0);
  assert_int_equal(weft_chunk_get(weft_list_get(&vs, 0), &cs), 0);
  weft_chunk_info cf;
  assert_int_equal(weft_chunk_get(&vf, &cf), 0);
  assert_true(in_shm(cf.data)); /* and on the way back, alone */
  assert_true(in_shm(c1.data)); /* or inside a list */
  assert_false(in_shm(cs.data));
  assert_true(weft_value_equal(&vf, weft_list_get(&v1, 0)));
  assert_int_equal(c2.ndim, 2);
  assert_int_equal(c2.shape[0], 512);
  assert_int_equal(c2.shape[1], 300);
  assert_int_equal(cs.ndim, 1);
  assert_int_equal(cs.shape[0], 5);
  const double *r1 = c1.data, *r2 = c2.data, *rs = cs.data;
  for (size_t i = 0; i < 512 * 300; i++) {
    if (r1[i] != 2 * x[i] + 1 || r2[i] != 4 * x[i] + 3)
      fail_msg("element %zu: %g, %g for x = %g", i, r1[i], r2[i], x[i]);
  }
  for (int i = 0; i < 5; i++)
    assert_true(rs[i] == 2 * y[i] + 1);
  weft_value_release(&v1);
  weft_value_release(&vf);
  weft_value_release(&v2);
  weft_value_release(&vs);
  weft_value_release(&keep);
  weft_value_release(&keep_small);

  /* weft_map over big chunks: batches of them go through shared memory,
   * and the results come back in order */
  enum { NC = 6 };
  weft_value in[NC], out[NC];
  for (int k = 0; k < NC; k++) {
    double *e;
    assert_int_equal(weft_chunk_new(&in[k], WEFT_F64, 2, (int64_t[]){100, 90},
                                    (void **)&e),
                     0);
    for (int i = 0; i < 100 * 90; i++)
      e[i] = k * 1000.0 + i;
  }
  pool = new_pool(2);
  weft_map_opts mo;
  weft_map_opts_init(&mo);
  mo.procs = pool;
  mo.ignore_env = 1;
  mo.batch_size = 2;
  assert_int_equal(weft_map(WEFT_FN(t_chunk_2x1), NC, in, out, &mo), 0);
  for (int k = 0; k < NC; k++) {
    assert_true(weft_list_get(&out[k], 1)->as.b);
    weft_chunk_info co;
    assert_int_equal(weft_chunk_get(weft_list_get(&out[k], 0), &co), 0);
    assert_true(in_shm(co.data));
    const double *r = co.data;
    for (int i = 0; i < 100 * 90; i++)
      if (r[i] != 2 * (k * 1000.0 + i) + 1)
        fail_msg("chunk %d element %d: %g", k, i, r[i]);
    weft_value_release(&out[k]);
    weft_value_release(&in[k]);
  }
  weft_procs_free(pool);
  assert_no_children();
  assert_int_equal(count_fds(), fds); /* every memfd closed */
}

static void test_keys_names_and_workers(void **state) {
  (void)state;
  weft_procs *pool = new_pool(2);
  weft_graph *g = weft_graph_new();
  weft_node *k1 = weft_call0(g, t_key);
  weft_node *k2 = weft_call0(g, t_key);
  assert_int_equal(weft_node_set_key(g, k2, "mykey"), 0);
  weft_node *byname = weft_call(g, t_by_name, "t_add1", 41);
  weft_node *builtin = weft_call(g, t_by_name, "weft.neg", 5);
  weft_value v1, v2, vb, vn;
  weft_compute_opts o = procs_opts(pool, -1);
  int rc = weft_compute(g, WEFT_NODES(k1, k2, byname, builtin),
                        WEFT_OUT(&v1, &v2, &vb, &vn), &o);
  if (rc)
    print_error("%s\n", weft_graph_error(g));
  assert_int_equal(rc, 0);
  char want[64];
  snprintf(want, sizeof want, "t_key-%ld@", weft_node_index(g, k1));
  assert_int_equal(strncmp(weft_value_str(&v1), want, strlen(want)), 0);
  assert_int_equal(strncmp(weft_value_str(&v2), "mykey@", 6), 0);
  int w = atoi(weft_value_str(&v2) + 6);
  assert_true(w >= 0 && w < 2);
  assert_int_equal(vb.as.i, 42);
  assert_int_equal(vn.as.i, -5);
  weft_value_release(&v1);
  weft_value_release(&v2);
  weft_graph_free(g);
  weft_procs_free(pool);
}

typedef struct counts {
  int begin, start, end, fail, cend;
  int bad_worker, in_program;
} counts;

/* A task's worker: one of the pool's two for tasks sent to workers, -1 for
 * the literal the program computes itself. */
static void check_worker(counts *c, const weft_event *ev) {
  bool here = ev->fn && strcmp(ev->fn->name, "weft.identity") == 0;
  c->in_program += here;
  c->bad_worker |= here ? ev->worker != -1 : ev->worker < 0 || ev->worker >= 2;
}

static void count_event(const weft_event *ev, void *ud) {
  counts *c = ud;
  switch (ev->kind) {
  case WEFT_EV_COMPUTE_BEGIN:
    c->begin++;
    break;
  case WEFT_EV_TASK_START:
    c->start++;
    check_worker(c, ev);
    break;
  case WEFT_EV_TASK_END:
    c->end++;
    check_worker(c, ev);
    break;
  case WEFT_EV_TASK_FAIL:
    c->fail++;
    break;
  case WEFT_EV_COMPUTE_END:
    c->cend++;
    break;
  default:
    break;
  }
}

static void test_events_and_reuse(void **state) {
  (void)state;
  weft_procs *pool = new_pool(2);
  counts c = {0};
  weft_listener l = {count_event, &c, NULL};
  weft_graph *g = weft_graph_new();
  weft_node *xs[65];
  for (int i = 0; i < 64; i++)
    xs[i] = weft_call(g, t_add1, i);
  xs[64] = weft_literal(g, weft_int(1000)); /* computed in the program */
  weft_node *sum = weft_sum(g, 65, xs);
  weft_compute_opts o = procs_opts(pool, -1);
  o.listener = &l;
  for (int round = 0; round < 20; round++) {
    weft_value v;
    assert_int_equal(weft_compute1(g, sum, &v, &o), 0);
    assert_int_equal(v.as.i, 64 * 65 / 2 + 1000);
  }
  assert_int_equal(c.begin, 20);
  assert_int_equal(c.cend, 20);
  assert_int_equal(c.start, 20 * 66);
  assert_int_equal(c.end, 20 * 66);
  assert_int_equal(c.fail, 0);
  assert_int_equal(c.in_program, 20 * 2);
  assert_int_equal(c.bad_worker, 0);
  weft_graph_free(g);
  weft_procs_free(pool);
}

/* Two threads computing on one pool: one compute at a time, both right. */
static void *compute_many(void *arg) {
  weft_procs *pool = arg;
  weft_graph *g = weft_graph_new();
  weft_node *xs[32];
  for (int i = 0; i < 32; i++)
    xs[i] = weft_call(g, t_add1, i);
  weft_node *sum = weft_sum(g, 32, xs);
  weft_compute_opts o = procs_opts(pool, -1);
  intptr_t bad = 0;
  for (int k = 0; k < 30; k++) {
    weft_value v;
    bad += weft_compute1(g, sum, &v, &o) != 0 || v.as.i != 32 * 33 / 2;
  }
  weft_graph_free(g);
  return (void *)bad;
}

static void test_shared_by_threads(void **state) {
  (void)state;
  weft_procs *pool = new_pool(2);
  pthread_t a, b;
  void *ra, *rb;
  assert_int_equal(pthread_create(&a, NULL, compute_many, pool), 0);
  assert_int_equal(pthread_create(&b, NULL, compute_many, pool), 0);
  pthread_join(a, &ra);
  pthread_join(b, &rb);
  assert_null(ra);
  assert_null(rb);
  weft_procs_free(pool);
  assert_no_children();
}

/* A pool made by a thread that then ends keeps its workers: they are not
 * tied to that thread (PR_SET_PDEATHSIG follows the thread that spawned a
 * process, so the pool spawns from a thread of its own). */
static void *make_pool(void *arg) {
  weft_procs **out = arg;
  if (weft_procs_new(2, NULL, out))
    *out = NULL;
  return NULL;
}

static void test_pool_outlives_its_thread(void **state) {
  (void)state;
  weft_procs *pool = NULL;
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, make_pool, &pool), 0);
  pthread_join(th, NULL);
  assert_non_null(pool);
  struct timespec ts = {0, 50000000};
  nanosleep(&ts, NULL);
  weft_graph *g = weft_graph_new();
  weft_node *a = weft_call0(g, t_pid);
  weft_value v;
  weft_compute_opts o = procs_opts(pool, 0);
  int rc = weft_compute1(g, a, &v, &o);
  if (rc)
    print_error("%s\n", weft_graph_error(g));
  assert_int_equal(rc, 0);
  weft_graph_free(g);
  weft_procs_free(pool);
  assert_no_children();
}

static void test_open_close_many(void **state) {
  (void)state;
  int n = UNDER_SANITIZER ? 100 : 1000; /* sanitized workers start slowly */
  int fds = count_fds();
  double t0 = now_s();
  for (int i = 0; i < n; i++) {
    weft_procs *pool = NULL;
    int rc = weft_procs_new(2, NULL, &pool);
    assert_int_equal(rc, 0);
    weft_procs_free(pool);
  }
  double dt = now_s() - t0;
  print_message("      %d pools of 2 workers opened and closed: %.2f ms each\n",
                n, dt * 1e3 / n);
  assert_int_equal(count_fds(), fds);
  assert_no_children();
  /* Also with a compute in each, half of them failing. */
  for (int i = 0; i < n / 10; i++) {
    weft_procs *pool = new_pool(2);
    weft_graph *g = weft_graph_new();
    weft_node *x = i % 2 ? weft_call(g, t_add1, i) : weft_call(g, t_segv, i);
    weft_value v;
    weft_compute_opts o = procs_opts(pool, 0);
    int rc = weft_compute1(g, x, &v, &o);
    assert_int_equal(rc, i % 2 ? 0 : WEFT_EKILLED);
    weft_graph_free(g);
    weft_procs_free(pool);
  }
  assert_int_equal(count_fds(), fds);
  assert_no_children();
}

/* The program dies (SIGKILL, nothing cleaned up) while one worker runs a
 * 30-second task and the other is idle: both go at once - the busy one by
 * PR_SET_PDEATHSIG, the idle one at the end of its socket. This process is
 * made a child subreaper, so the orphaned workers become its children and
 * it can see them end. */
static char orphan_path[128];

static void *run_sleeper(void *arg) {
  weft_procs *pool = arg;
  weft_graph *g = weft_graph_new();
  weft_node *s = weft_call(g, t_sleeper, orphan_path, 1);
  weft_value v;
  weft_compute_opts o = procs_opts(pool, 0);
  weft_compute1(g, s, &v, &o); /* never returns: the process is killed */
  return NULL;
}

static void test_program_dies(void **state) {
  (void)state;
  assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  temp_name(orphan_path, sizeof orphan_path, "orphan");
  int pfd[2];
  assert_int_equal(pipe(pfd), 0);
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    close(pfd[0]);
    weft_procs *pool;
    if (weft_procs_new(2, NULL, &pool))
      _exit(1);
    weft_graph *g = weft_graph_new();
    weft_node *a = weft_call0(g, t_pid);
    weft_value v;
    weft_compute_opts o = procs_opts(pool, 0);
    if (weft_compute1(g, a, &v, &o)) {
      fprintf(stderr, "child: %s\n", weft_graph_error(g));
      _exit(2);
    }
    pthread_t th; /* a second thread runs the long task */
    pthread_create(&th, NULL, run_sleeper, pool);
    struct timespec ts = {0, 300000000};
    nanosleep(&ts, NULL);
    if (write(pfd[1], "x", 1) != 1)
      _exit(3);
    raise(SIGKILL);
  }
  close(pfd[1]);
  char c;
  ssize_t got1 = read(pfd[0], &c, 1);
  close(pfd[0]);
  int st;
  assert_int_equal(waitpid(child, &st, 0), child);
  if (got1 != 1)
    print_error("the child ended early: wait status 0x%x\n", (unsigned)st);
  assert_int_equal(got1, 1);
  assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  /* Its two workers are now ours: they, and any process the pool was
   * starting when the program died (it exits when it finds its parent
   * gone), must end within seconds. */
  double t0 = now_s();
  int reaped = 0;
  for (;;) {
    pid_t got = waitpid(-1, &st, WNOHANG);
    if (got > 0) {
      reaped++;
      continue;
    }
    if (got < 0 && errno == ECHILD)
      break; /* none left */
    if (now_s() - t0 >= 10)
      break;
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  print_message("      %d orphaned processes ended %.1f ms after the program\n",
                reaped, (now_s() - t0) * 1e3);
  assert_true(reaped >= 2);
  assert_true(now_s() - t0 < 5);
  assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
  unlink(orphan_path);
  assert_no_children();
}

/* A graph whose tasks have no arguments at all (no argument array). */
static void test_no_arguments(void **state) {
  (void)state;
  weft_procs *pool = new_pool(2);
  weft_graph *g = weft_graph_new();
  weft_node *a = weft_call0(g, t_pid);
  weft_node *b = weft_call0(g, t_pid);
  weft_value av, bv;
  weft_compute_opts o = procs_opts(pool, 0);
  int rc = weft_compute(g, WEFT_NODES(a, b), WEFT_OUT(&av, &bv), &o);
  if (rc)
    print_error("%s\n", weft_graph_error(g));
  assert_int_equal(rc, 0);
  assert_int_not_equal(av.as.i, getpid());
  assert_int_not_equal(bv.as.i, getpid());
  weft_graph_free(g);
  weft_procs_free(pool);
}

/* How a worker finds the pool's functions: by module and offset, checked
 * against the name; a wrong offset or module is a clear error, never a
 * call into garbage. (Run here: the resolver works in any process.) */
static void resolve_defs(weft__fntab *t, weft__fnres *res) {
  weft__conn c;
  weft__conn_init(&c, -1, false);
  assert_int_equal(weft__fntab_put_defs(t, 0, &c), 0);
  unsigned kind;
  weft__prd r;
  assert_int_equal(weft__pmsg_open(c.out.data, c.out.len, &kind, &r), 0);
  assert_int_equal(kind, WEFT__PK_FNDEFS);
  assert_int_equal(weft__fnres_add(res, &r), 0);
  weft_buf_free(&c.out);
}

static void test_function_table(void **state) {
  (void)state;
  weft__fntab t = {0};
  uint32_t i1, i2, i3;
  char m[400];
  assert_int_equal(weft__fntab_index(&t, WEFT_FN(t_add1), &i1, m, sizeof m),
                   0);
  assert_int_equal(
      weft__fntab_index(&t, weft_op_fn(WEFT_OP_NEG), &i2, m, sizeof m), 0);
  assert_int_equal(weft__fntab_index(&t, WEFT_FN(t_add1), &i3, m, sizeof m),
                   0);
  assert_int_equal(i1, i3);
  assert_int_equal(t.ents[i1].module[0], '\0'); /* the program itself */
  assert_true(strstr(t.ents[i2].module, "libweft") != NULL ||
              t.ents[i2].module[0] == '\0'); /* static builds */
  weft__fnres ok = {0};
  resolve_defs(&t, &ok);
  assert_ptr_equal(ok.fns[i1], WEFT_FN(t_add1));
  assert_ptr_equal(ok.fns[i2], weft_op_fn(WEFT_OP_NEG));
  weft__fnres_free(&ok);
  /* Another build: the offset now points at something else. */
  t.ents[i1].offset += sizeof(weft_fn_info);
  weft__fnres bad = {0};
  resolve_defs(&t, &bad);
  assert_null(bad.fns[i1]);
  assert_non_null(strstr(bad.errs[i1], "another build"));
  weft__fnres_free(&bad);
  /* ... or far outside the program. */
  t.ents[i1].offset = (uint64_t)1 << 46;
  resolve_defs(&t, &bad);
  assert_null(bad.fns[i1]);
  assert_non_null(strstr(bad.errs[i1], "another build"));
  weft__fnres_free(&bad);
  /* A library the worker does not have. */
  free(t.ents[i1].module);
  t.ents[i1].module = strdup("/nonexistent/libnothing.so");
  resolve_defs(&t, &bad);
  assert_null(bad.fns[i1]);
  assert_non_null(strstr(bad.errs[i1], "is not loaded"));
  assert_ptr_equal(bad.fns[i2], weft_op_fn(WEFT_OP_NEG));
  weft__fnres_free(&bad);
  weft__fntab_free(&t);
}

static void test_bad_arguments(void **state) {
  (void)state;
  weft_procs *pool = (weft_procs *)&pool;
  assert_int_equal(weft_procs_new(2, NULL, NULL), WEFT_EINVAL);
  assert_int_equal(weft_procs_new(5000, NULL, &pool), WEFT_EINVAL);
  assert_null(pool);
  assert_int_equal(weft_procs_workers(NULL), 0);
  weft_procs_free(NULL);
  assert_true(weft_scheduler_available(WEFT_SCHED_PROCS));
}

int main(void) {
  procs_test_env();
  unsetenv("WEFT_SCHEDULER");
  unsetenv("WEFT_WORKERS");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_function_table),
      cmocka_unit_test(test_no_arguments),
      cmocka_unit_test(test_random_dags),
      cmocka_unit_test(test_three_workers_and_transient_pool),
      cmocka_unit_test(test_env_scheduler),
      cmocka_unit_test(test_task_failure),
      cmocka_unit_test(test_big_bytes),
      cmocka_unit_test(test_chunks),
      cmocka_unit_test(test_keys_names_and_workers),
      cmocka_unit_test(test_events_and_reuse),
      cmocka_unit_test(test_shared_by_threads),
      cmocka_unit_test(test_pool_outlives_its_thread),
      cmocka_unit_test(test_open_close_many),
      cmocka_unit_test(test_program_dies),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
