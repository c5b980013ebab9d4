/* test_mpi_dag.c - the mpi scheduler against the threads scheduler and a
 * plain evaluation, run by CTest under `mpirun -n 2`, `-n 3` (with
 * WEFT_MPI_INLINE=0: every input moves rank to rank) and `-n 4
 * --oversubscribe`, and once without mpirun (one process, threads).
 *
 * Hundreds of random graphs (fixed seeds; chains, fan-outs, reduction
 * trees, random predecessors, layers, wide joins; literal arguments, heap
 * strings, lists, 20 KiB bytes and 50x40 int64 array chunks) are computed with
 * the mpi scheduler and with threads: every output must be the same value, and
 * equal to the test's own memoised recursion. Also: a failing task gives
 * the same message as under threads; a user pointer cannot travel and is
 * named; an unregistered function is named; computes reuse the ranks. */
#include <time.h>

#include "sched/mpi/impl.h" /* weft__mpi_stats: which mode ran */
#include "testutil.h"
#include "sched/mpi/impl.h" /* weft__mpi_g: the ranks' threads */
#include "weft/mpi.h"

#define P61 ((1ull << 61) - 1)

static uint64_t mix(uint64_t h, uint64_t x) {
  return (uint64_t)(((unsigned __int128)h * 0x9e3779b97f4a7c15ull + x + 1) %
                    P61);
}

enum { K_INT, K_STR, K_LIST, K_BIG, K_CHUNK, K_FAIL };
#define BIG 20000

static bool decode(const weft_value *v, uint64_t *x) {
  switch (v->type) {
  case WEFT_T_INT:
    *x = (uint64_t)v->as.i;
    return true;
  case WEFT_T_STR: {
    char *end;
    const char *s = weft_value_str(v);
    *x = strtoull(s, &end, 10);
    return *s && !*end;
  }
  case WEFT_T_LIST: {
    const weft_value *hi = weft_list_get(v, 0), *lo = weft_list_get(v, 1);
    if (weft_value_len(v) != 2 || hi->type != WEFT_T_INT ||
        lo->type != WEFT_T_INT)
      return false;
    *x = (uint64_t)hi->as.i << 32 | (uint64_t)lo->as.i;
    return true;
  }
  case WEFT_T_CHUNK: { /* 50 x 40 int64: the integer, then x ^ i */
    weft_chunk_info ci;
    if (weft_chunk_get(v, &ci) || ci.dtype != WEFT_I64 || ci.ndim != 2 ||
        ci.shape[0] != 50 || ci.shape[1] != 40)
      return false;
    const int64_t *e = ci.data;
    *x = (uint64_t)e[0];
    for (size_t i = 1; i < ci.count; i++)
      if ((uint64_t)e[i] != (*x ^ i))
        return false;
    return true;
  }
  case WEFT_T_BYTES: { /* BIG bytes: the integer, then a pattern of it */
    const uint8_t *p = weft_value_bytes(v);
    if (weft_value_len(v) != BIG)
      return false;
    memcpy(x, p, 8);
    for (size_t i = 8; i < BIG; i++)
      if (p[i] != (uint8_t)((*x >> (i % 8 * 8)) + i))
        return false;
    return true;
  }
  }
  return false;
}

static int rmix(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  if (n < 2 || a[0].type != WEFT_T_INT || a[1].type != WEFT_T_INT)
    return weft_fail(ctx, "rmix: bad header");
  uint64_t h = (uint64_t)a[0].as.i;
  for (size_t k = 2; k < n; k++) {
    uint64_t x;
    if (!decode(&a[k], &x))
      return weft_fail(ctx, "rmix: argument %zu is a bad %s", k + 1,
                       weft_type_name(a[k].type));
    h = mix(h, x);
  }
  switch (a[1].as.i) {
  case K_INT:
    *out = weft_int((int64_t)h);
    return 0;
  case K_STR:
    return weft_str_printf(out, "%llu", (unsigned long long)h)
               ? weft_fail(ctx, "no memory")
               : 0;
  case K_LIST:
    if (weft_list_new(out, 2))
      return weft_fail(ctx, "no memory");
    weft_list_set(out, 0, weft_int((int64_t)(h >> 32)));
    weft_list_set(out, 1, weft_int((int64_t)(h & 0xffffffffu)));
    return 0;
  case K_BIG: {
    uint8_t *p = malloc(BIG);
    if (!p)
      return weft_fail(ctx, "no memory");
    memcpy(p, &h, 8);
    for (size_t i = 8; i < BIG; i++)
      p[i] = (uint8_t)((h >> (i % 8 * 8)) + i);
    int rc = weft_bytes_new(out, p, BIG);
    free(p);
    return rc ? weft_fail(ctx, "no memory") : 0;
  }
  case K_CHUNK: {
    void *data;
    if (weft_chunk_new(out, WEFT_I64, 2, (int64_t[]){50, 40}, &data))
      return weft_fail(ctx, "no memory");
    int64_t *e = data;
    e[0] = (int64_t)h;
    for (size_t i = 1; i < 2000; i++)
      e[i] = (int64_t)(h ^ i);
    return 0;
  }
  default:
    return weft_fail(ctx, "rmix: this task fails (%llu)",
                     (unsigned long long)h);
  }
}
WEFT_REGISTER(rmix);

static uint64_t rng_state;
static uint64_t rnd(void) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static uint32_t rndn(uint32_t n) { return (uint32_t)(rnd() % n); }

/* A logical DAG: node i's arguments are preds[off[i] .. off[i+1]) (-1: a
 * literal from lits). */
typedef struct dag {
  int n;
  uint64_t *salt, *ref;
  int *kind, *off, *pred;
  uint64_t *lit;
  bool *known;
} dag;

static void make_dag(dag *d, int n, int shape) {
  d->n = n;
  d->salt = malloc(n * sizeof *d->salt);
  d->ref = malloc(n * sizeof *d->ref);
  d->kind = malloc(n * sizeof *d->kind);
  d->off = malloc((n + 1) * sizeof *d->off);
  d->known = calloc(n, sizeof *d->known);
  size_t cap = 8 * (size_t)n + 64, na = 0;
  d->pred = malloc(cap * sizeof *d->pred);
  d->lit = malloc(cap * sizeof *d->lit);
  assert_true(d->salt && d->ref && d->kind && d->off && d->known && d->pred &&
              d->lit);
  int half = (n + 1) / 2, width = 1 + (int)rndn(32);
#define ADD(p, l)                                                              \
  do {                                                                         \
    if (na < cap) {                                                            \
      d->pred[na] = (p);                                                       \
      d->lit[na++] = (l);                                                      \
    }                                                                          \
  } while (0)
  for (int i = 0; i < n; i++) {
    d->salt[i] = rnd() % P61;
    int r = (int)rndn(20);
    d->kind[i] = r < 10   ? K_INT
                 : r < 13 ? K_STR
                 : r < 16 ? K_LIST
                 : r < 18 ? K_BIG
                          : K_CHUNK;
    d->off[i] = (int)na;
    if (rndn(3) == 0)
      ADD(-1, rnd() % P61);
    switch (shape) {
    case 0: /* chain */
      if (i > 0)
        ADD(i - 1, 0);
      break;
    case 1: /* fan-out, then a join */
      if (i > 0 && i < n - 1)
        ADD(0, 0);
      else if (i == n - 1 && i > 0)
        for (int k = 0, m = 1 + (int)rndn(6); k < m; k++)
          ADD((int)rndn((uint32_t)i), 0);
      break;
    case 2: /* reduction tree */
      if (i >= half) {
        int j = 2 * (i - half);
        ADD(j % i, 0);
        ADD((j + 1) % i, 0);
      }
      break;
    case 3: /* random predecessors */
      if (i > 0)
        for (int k = 0, m = (int)rndn(4); k < m; k++)
          ADD((int)rndn((uint32_t)i), 0);
      break;
    case 4: /* layers */
      if (i >= width)
        for (int k = 0, m = 1 + (int)rndn(3); k < m; k++)
          ADD((i / width - 1) * width + (int)rndn((uint32_t)width), 0);
      break;
    default: /* wide join */
      if (i == n - 1)
        for (int k = 0; k < i && k < 6; k++)
          ADD(k, 0);
      break;
    }
  }
  d->off[n] = (int)na;
#undef ADD
}

static void free_dag(dag *d) {
  free(d->salt);
  free(d->ref);
  free(d->kind);
  free(d->off);
  free(d->known);
  free(d->pred);
  free(d->lit);
}

static uint64_t eval(dag *d, int i) {
  if (d->known[i])
    return d->ref[i];
  uint64_t h = d->salt[i];
  for (int k = d->off[i]; k < d->off[i + 1]; k++)
    h = mix(h, d->pred[k] >= 0 ? eval(d, d->pred[k]) : d->lit[k]);
  d->known[i] = true;
  return d->ref[i] = h;
}

static weft_graph *build(const dag *d, weft_node **node) {
  weft_graph *g = weft_graph_new();
  assert_non_null(g);
  weft_value av[64];
  for (int i = 0; i < d->n; i++) {
    size_t na = 2;
    av[0] = weft_int((int64_t)d->salt[i]);
    av[1] = weft_int(d->kind[i]);
    for (int k = d->off[i]; k < d->off[i + 1] && na < 64; k++)
      av[na++] = d->pred[k] >= 0 ? weft_node_ref(node[d->pred[k]])
                                 : weft_int((int64_t)d->lit[k]);
    node[i] = weft_call_fn(g, WEFT_FN(rmix), na, av);
    assert_non_null(node[i]);
  }
  return g;
}

static weft_compute_opts opts_of(weft_scheduler s) {
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.scheduler = s;
  o.workers = s == WEFT_SCHED_THREADS ? 2 : 0;
  o.ignore_env = 1;
  return o;
}

static bool same(const weft_value *a, const weft_value *b) {
  if (a->type != b->type)
    return false;
  switch (a->type) {
  case WEFT_T_INT:
    return a->as.i == b->as.i;
  case WEFT_T_STR:
    return strcmp(weft_value_str(a), weft_value_str(b)) == 0;
  case WEFT_T_CHUNK: {
    weft_chunk_info x, y;
    return !weft_chunk_get(a, &x) && !weft_chunk_get(b, &y) &&
           x.dtype == y.dtype && x.ndim == y.ndim && x.nbytes == y.nbytes &&
           memcmp(x.shape, y.shape, (size_t)x.ndim * sizeof *x.shape) == 0 &&
           memcmp(x.data, y.data, x.nbytes) == 0;
  }
  case WEFT_T_BYTES:
    return weft_value_len(a) == weft_value_len(b) &&
           memcmp(weft_value_bytes(a), weft_value_bytes(b),
                  weft_value_len(a)) == 0;
  case WEFT_T_LIST:
    if (weft_value_len(a) != weft_value_len(b))
      return false;
    for (size_t i = 0; i < weft_value_len(a); i++)
      if (!same(weft_list_get(a, i), weft_list_get(b, i)))
        return false;
    return true;
  }
  return false;
}

#define NDAGS 240
#define MAXOUT 4

static void test_random_dags(void **state) {
  (void)state;
  weft_compute_opts om = opts_of(WEFT_SCHED_MPI),
                    ot = opts_of(WEFT_SCHED_THREADS);
  long tasks = 0;
  weft__mstats st0, st1;
  for (int it = 0; it < NDAGS; it++) {
    rng_state = 0xd1ce0000ull + (uint64_t)it;
    int n = 1 + (int)rndn(1u << rndn(10)), shape = (int)rndn(6);
    dag d;
    make_dag(&d, n, shape);
    weft_node **node = malloc(n * sizeof *node);
    assert_non_null(node);
    weft_graph *g = build(&d, node);
    int nout = 1 + (int)rndn(MAXOUT);
    weft_node *outs[MAXOUT];
    weft_value vm[MAXOUT], vt[MAXOUT];
    weft_value *pm[MAXOUT], *pt[MAXOUT];
    int idx[MAXOUT];
    for (int k = 0; k < nout; k++) {
      idx[k] = k == 0 ? n - 1 : (int)rndn((uint32_t)n);
      outs[k] = node[idx[k]];
      pm[k] = &vm[k];
      pt[k] = &vt[k];
    }
    for (int rep = 0; rep < 2; rep++) { /* the same graph twice */
      int rc = weft_compute(g, (size_t)nout, outs, pm, &om);
      if (rc)
        fail_msg("graph %d (%d nodes, shape %d): mpi: %s", it, n, shape,
                 weft_graph_error(g));
      assert_ok(weft_compute(g, (size_t)nout, outs, pt, &ot), g);
      for (int k = 0; k < nout; k++) {
        uint64_t x;
        if (!same(&vm[k], &vt[k]))
          fail_msg("graph %d (%d nodes, shape %d): output %d (node %d) "
                   "differs from threads: %s vs %s",
                   it, n, shape, k, idx[k], weft_type_name(vm[k].type),
                   weft_type_name(vt[k].type));
        if (!decode(&vm[k], &x) || x != eval(&d, idx[k]))
          fail_msg("graph %d: output %d (node %d) is wrong", it, k, idx[k]);
        weft_value_release(&vm[k]);
        weft_value_release(&vt[k]);
      }
    }
    tasks += n;
    if (it == 0)
      weft__mpi_stats(&st0);
    weft_graph_free(g);
    free(node);
    free_dag(&d);
  }
  weft__mpi_stats(&st1);
  const char *mode = getenv("WEFT_MPI_MODE");
  bool rep = mode && strcmp(mode, "replicated") == 0 && weft_mpi_size() > 1;
  print_message("%d graphs, %ld tasks, %d ranks%s: same results as threads\n",
                NDAGS, tasks, weft_mpi_size(), rep ? ", replicated" : "");
  /* WEFT_MPI_MODE=replicated: every one of these graphs runs so (none has
   * a task that must run in the program), two computes per graph */
  if (rep)
    assert_int_equal(st1.rep_computes - st0.rep_computes, 2 * (NDAGS - 1));
  else
    assert_int_equal(st1.rep_computes, 0);
}

/* One heap literal taken by many tasks travels once per rank that takes
 * it (replicated mode: numbered within each rank's part): two of them,
 * taken in one order by the first half of the roots and in the other by
 * the second, so that ranks past the first meet first a literal that an
 * earlier rank's part had numbered second. Then a one-task graph: in
 * replicated mode every worker rank but one owns no node at all. Results
 * against the same mixing done here. */
static void test_shared_literals(void **state) {
  (void)state;
  weft_compute_opts om = opts_of(WEFT_SCHED_MPI);
  weft__mstats st0, st1;
  weft__mpi_stats(&st0);
  weft_value lit[2];
  assert_int_equal(weft_str_new(&lit[0], "123456789"), 0);
  assert_int_equal(weft_list_new(&lit[1], 2), 0);
  weft_list_set(&lit[1], 0, weft_int(7));
  weft_list_set(&lit[1], 1, weft_int(99));
  uint64_t lv[2] = {123456789, (7ull << 32) | 99};
  enum { NR = 24 };
  weft_graph *g = weft_graph_new();
  weft_node *root[NR];
  weft_value top[NR + 2];
  top[0] = weft_int(5);
  top[1] = weft_int(K_INT);
  uint64_t want = 5;
  for (int i = 0; i < NR; i++) {
    int a = i < NR / 2 ? 0 : 1;
    weft_value v[4] = {weft_int(1000 + i), weft_int(K_INT),
                       weft_value_retain(&lit[a]),
                       weft_value_retain(&lit[1 - a])};
    root[i] = weft_call_fn(g, WEFT_FN(rmix), 4, v);
    assert_non_null(root[i]);
    top[i + 2] = weft_node_ref(root[i]);
    uint64_t h = mix(mix(1000 + (uint64_t)i, lv[a]), lv[1 - a]);
    want = mix(want, (uint64_t)(int64_t)h);
  }
  weft_node *sum = weft_call_fn(g, WEFT_FN(rmix), NR + 2, top);
  assert_non_null(sum);
  weft_value v;
  assert_ok(weft_compute1(g, sum, &v, &om), g);
  assert_int_equal(v.type, WEFT_T_INT);
  assert_true((uint64_t)v.as.i == want);
  weft_value_release(&v);
  /* and each root by itself: one compute of them all */
  weft_value outs[NR], *po[NR];
  for (int i = 0; i < NR; i++)
    po[i] = &outs[i];
  assert_ok(weft_compute(g, NR, root, po, &om), g);
  for (int i = 0; i < NR; i++) {
    int a = i < NR / 2 ? 0 : 1;
    assert_int_equal(outs[i].type, WEFT_T_INT);
    assert_true((uint64_t)outs[i].as.i ==
                mix(mix(1000 + (uint64_t)i, lv[a]), lv[1 - a]));
    weft_value_release(&outs[i]);
  }
  weft_graph_free(g);
  g = weft_graph_new();
  weft_value one[3] = {weft_int(3), weft_int(K_INT),
                       weft_value_retain(&lit[0])};
  weft_node *n1 = weft_call_fn(g, WEFT_FN(rmix), 3, one);
  assert_ok(weft_compute1(g, n1, &v, &om), g);
  assert_true((uint64_t)v.as.i == mix(3, lv[0]));
  weft_graph_free(g);
  weft_value_release(&lit[0]);
  weft_value_release(&lit[1]);
  weft__mpi_stats(&st1);
  const char *mode = getenv("WEFT_MPI_MODE");
  if (mode && strcmp(mode, "replicated") == 0 && weft_mpi_size() > 1)
    assert_int_equal(st1.rep_computes - st0.rep_computes, 3);
}

/* A failing task: the message names it, as under threads. */
static void test_task_error(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_node *a = weft_call_fn(g, WEFT_FN(rmix), 2,
                              (weft_value[]){weft_int(5), weft_int(K_INT)});
  weft_node *b = weft_call_fn(
      g, WEFT_FN(rmix), 3,
      (weft_value[]){weft_int(6), weft_int(K_FAIL), weft_node_ref(a)});
  weft_node *c = weft_call_fn(
      g, WEFT_FN(rmix), 3,
      (weft_value[]){weft_int(7), weft_int(K_INT), weft_node_ref(b)});
  weft_value v;
  weft_compute_opts om = opts_of(WEFT_SCHED_MPI),
                    ot = opts_of(WEFT_SCHED_THREADS);
  assert_rc(WEFT_ETASK, weft_compute1(g, c, &v, &om), g);
  char mpi_msg[1024];
  snprintf(mpi_msg, sizeof mpi_msg, "%s", weft_graph_error(g));
  assert_rc(WEFT_ETASK, weft_compute1(g, c, &v, &ot), g);
  assert_string_equal(mpi_msg, weft_graph_error(g));
  assert_contains(mpi_msg, "rmix: this task fails");
  /* and the graph still computes its good part afterwards */
  assert_ok(weft_compute1(g, a, &v, &om), g);
  assert_int_equal(v.type, WEFT_T_INT);
  weft_graph_free(g);
}

/* Events: every task starts and ends once, on a rank (1 .. workers - 1),
 * or on rank 0 (-1) for literals; COMPUTE_BEGIN says how many workers.
 * A task's end carries its start (the send) and its size: WEFT_PROFILE
 * and WEFT_TRACE read them (they once came as 0 under mpi, so the profile
 * said 0 ns and the trace's slices lasted since boot). */
typedef struct evcount {
  int begin_workers, bad, badtime, starts[64], ends[64];
  uint64_t start_ns[64];
} evcount;

static void on_event(const weft_event *ev, void *ud) {
  evcount *c = ud;
  if (ev->kind == WEFT_EV_COMPUTE_BEGIN)
    c->begin_workers = ev->workers;
  if (ev->kind != WEFT_EV_TASK_START && ev->kind != WEFT_EV_TASK_END)
    return;
  int lowest = weft_mpi_size() > 1 ? 1 : 0; /* ranks, or threads */
  if (ev->task >= 64 || ev->worker < -1 ||
      (ev->worker >= 0 && ev->worker < lowest) ||
      ev->worker >= c->begin_workers)
    c->bad++;
  else if (ev->kind == WEFT_EV_TASK_START) {
    c->starts[ev->task]++;
    c->start_ns[ev->task] = ev->start_ns ? ev->start_ns : ev->time_ns;
  } else {
    c->ends[ev->task]++;
    /* mpi: the run on its rank, placed by rank 0's clock, never before
     * the task was sent (its START); threads: the START's own time */
    bool mpi = weft_mpi_size() > 1;
    if (ev->start_ns == 0 ||
        (mpi ? ev->start_ns < c->start_ns[ev->task]
             : ev->start_ns != c->start_ns[ev->task]) ||
        ev->time_ns < ev->start_ns || ev->time_ns > weft_now_ns() ||
        ev->bytes == 0 || ev->thread < 0 ||
        (mpi && ev->thread >= weft__mpi_g.ranks[ev->worker].threads))
      c->badtime++;
  }
}

static void test_events(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_node *prev = NULL;
  for (int i = 0; i < 40; i++) {
    weft_value v[3] = {weft_int(i), weft_int(K_INT)};
    size_t n = 2;
    if (prev)
      v[n++] = weft_node_ref(prev);
    prev = weft_call_fn(g, WEFT_FN(rmix), n, v);
  }
  evcount c;
  memset(&c, 0, sizeof c);
  weft_listener l = {on_event, &c, NULL};
  weft_compute_opts om = opts_of(WEFT_SCHED_MPI);
  om.listener = &l;
  weft_value v;
  assert_ok(weft_compute1(g, prev, &v, &om), g);
  assert_int_equal(c.begin_workers, weft_mpi_size() > 1 ? weft_mpi_size() : 2);
  assert_int_equal(c.bad, 0);
  assert_int_equal(c.badtime, 0);
  for (int i = 0; i < 40; i++) {
    assert_int_equal(c.starts[i], 1);
    assert_int_equal(c.ends[i], 1);
  }
  weft_graph_free(g);
}

/* weft_map's batches travel to the ranks too (as under procs). */
static int64_t sq3(int64_t x) { return x * x * x - 7; }
WEFT_DELAYED(sq3, int64_t, int64_t);

static void test_map(void **state) {
  (void)state;
  enum { N = 5000 };
  static weft_value in[N], out[N];
  for (int i = 0; i < N; i++)
    in[i] = weft_int(i - 2000);
  weft_map_opts mo;
  weft_map_opts_init(&mo);
  mo.scheduler = WEFT_SCHED_MPI;
  mo.ignore_env = 1;
  char err[512];
  mo.errbuf = err;
  mo.errbuf_size = sizeof err;
  int rc = weft_map(WEFT_FN(sq3), N, in, out, &mo);
  if (rc)
    fail_msg("weft_map on mpi: %s", err);
  for (int i = 0; i < N; i++) {
    int64_t x = i - 2000;
    assert_int_equal(out[i].type, WEFT_T_INT);
    assert_true(out[i].as.i == x * x * x - 7);
  }
}

/* The tasks rank 0 runs itself (a map's unpacking) are timed from their
 * own start: they once started when rank 0's previous local task ended,
 * so each took the wait for the ranks' batches (100 ms here). */
static int64_t slow_id(int64_t x) {
  struct timespec ts = {0, 100000000};
  nanosleep(&ts, NULL);
  return x;
}
WEFT_DELAYED(slow_id, int64_t, int64_t);

typedef struct localtime {
  int n;
  uint64_t longest;
} localtime_;

static void on_local(const weft_event *ev, void *ud) {
  localtime_ *t = ud;
  if (ev->kind != WEFT_EV_TASK_END || ev->worker != -1 || !ev->start_ns)
    return;
  t->n++;
  if (ev->time_ns - ev->start_ns > t->longest)
    t->longest = ev->time_ns - ev->start_ns;
}

static void test_local_task_times(void **state) {
  (void)state;
  enum { N = 6 };
  weft_value in[N], out[N];
  for (int i = 0; i < N; i++)
    in[i] = weft_int(i);
  localtime_ t = {0, 0};
  weft_listener l = {on_local, &t, NULL};
  weft_map_opts mo;
  weft_map_opts_init(&mo);
  mo.scheduler = WEFT_SCHED_MPI;
  mo.ignore_env = 1;
  mo.batch_size = 1;
  mo.listener = &l;
  assert_int_equal(weft_map(WEFT_FN(slow_id), N, in, out, &mo), 0);
  for (int i = 0; i < N; i++)
    assert_int_equal(out[i].as.i, i);
  if (weft_mpi_size() > 1) /* alone, threads run them on workers */
    assert_true(t.n > 0);
  if (t.longest > 50000000ull)
    fail_msg("a task run on rank 0 took %.1f ms", (double)t.longest / 1e6);
}

static void dtor(void *p) { (void)p; }

/* A user pointer cannot reach another rank: named, not crashed. */
static void test_ptr_refused(void **state) {
  (void)state;
  if (weft_mpi_size() < 2)
    skip();
  weft_graph *g = weft_graph_new();
  static int x;
  weft_value p;
  assert_int_equal(weft_ptr_new(&p, &x, dtor), 0);
  weft_node *a = weft_call_fn(g, WEFT_FN(rmix), 3,
                              (weft_value[]){weft_int(5), weft_int(K_INT), p});
  weft_value v;
  weft_compute_opts om = opts_of(WEFT_SCHED_MPI);
  int rc = weft_compute1(g, a, &v, &om);
  assert_int_equal(rc, WEFT_ENOTSUP);
  assert_contains(weft_graph_error(g), "cannot be sent to rank");
  weft_graph_free(g);
}

int main(int argc, char **argv) {
  if (weft_mpi_init(&argc, &argv))
    return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_dags), cmocka_unit_test(test_task_error),
      cmocka_unit_test(test_events),      cmocka_unit_test(test_map),
      cmocka_unit_test(test_local_task_times),
      cmocka_unit_test(test_ptr_refused),
      cmocka_unit_test(test_shared_literals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
