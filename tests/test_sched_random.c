/* test_sched_random.c - thousands of random graphs, each computed on every
 * scheduler configuration (sync; threads with 1, 2, 3 and 4 workers, each
 * with a fresh pool and on a reused executor), every result compared with a
 * plain memoised recursive evaluation done by the test itself.
 *
 * Graphs (fixed seeds): sizes 1..2000 (log-uniform), shapes: chains, wide
 * fan-outs, binary reduction trees, broadcast trees, random predecessors
 * among all earlier nodes or recent ones, layers, and a wide join over every
 * root (>= 64 inputs: the threads scheduler's batched path); repeated
 * arguments; literal arguments (ints and heap strings) mixed in; several
 * outputs, duplicates and intermediate nodes among them; one graph in four
 * is built in a shuffled order with weft_ref forward references. Each task
 * computes a hash-like integer function of its arguments (mod 2^61-1) and
 * returns it as an int, a string, a list or a counted user pointer, so that
 * heap results are made, read by consumers and released; after each compute
 * no counted value may be left alive.
 *
 * Also: graphs that grow between computes, with failing tasks among them
 * (whole-graph and culled computes alternate); thousands of outputs in one
 * compute; WEFT_SCHEDULER / WEFT_WORKERS are honoured, and bad values give
 * WEFT_EINVAL naming the variable. */
#include "testutil.h"

#define P61 ((1ull << 61) - 1)

/* ---- the task function and its reference ---- */

static uint64_t mix(uint64_t h, uint64_t x) {
  return (uint64_t)(((unsigned __int128)h * 0x9e3779b97f4a7c15ull + x + 1) %
                    P61);
}

enum { K_INT, K_STR, K_LIST, K_PTR, K_FAIL, K__N };

/* The integer a value stands for (an argument or a result). */
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
  case WEFT_T_PTR: {
    int64_t p = tu_tracked_get(v);
    *x = (uint64_t)p;
    return p >= 0;
  }
  }
  return false;
}

/* args: salt, kind, then any number of inputs (node results or literals). */
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
  case K_FAIL:
    return weft_fail(ctx, "rmix: this task fails (%llu)",
                     (unsigned long long)h);
  default:
    return tu_tracked_new(out, (int64_t)h) ? weft_fail(ctx, "no memory") : 0;
  }
}
WEFT_REGISTER(rmix);

/* ---- random graphs ---- */

static uint64_t rng_state;
static uint64_t rnd(void) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static uint32_t rndn(uint32_t n) { return (uint32_t)(rnd() % n); }

/* One argument of a logical node: a predecessor or a literal. */
typedef struct arg {
  int pred;     /* logical node, or -1 for a literal */
  uint64_t lit; /* literal's integer */
  bool lit_str; /* the literal is a heap string */
} arg;

typedef struct dag {
  int n;
  uint64_t *salt;
  int *kind;
  int *nargs, *argoff;
  arg *args;
  size_t nall, cap;
  uint64_t *ref; /* reference results */
  bool *known;
} dag;

static const char *const shape_names[] = {
    "chain",         "fan-out",   "reduce-tree", "random",
    "random-recent", "wide-join", "layers",      "broadcast-tree"};
#define NSHAPES 8

static void add_arg(dag *d, arg a) {
  if (d->nall == d->cap) {
    d->cap = d->cap ? 2 * d->cap : 256;
    d->args = realloc(d->args, d->cap * sizeof *d->args);
    assert_non_null(d->args);
  }
  d->args[d->nall++] = a;
}

static void add_pred(dag *d, int p) { add_arg(d, (arg){p, 0, false}); }

/* Literal arguments, sprinkled in. */
static void maybe_literals(dag *d) {
  int k = (int)rndn(8);
  int nl = k < 5 ? 0 : k < 7 ? 1 : 2;
  for (int j = 0; j < nl; j++)
    add_arg(d, (arg){-1, rnd() % P61, rndn(10) == 0});
}

/* Builds the logical DAG of n nodes with the given shape. */
static void make_dag(dag *d, int n, int shape) {
  memset(d, 0, sizeof *d);
  d->n = n;
  d->salt = malloc(n * sizeof *d->salt);
  d->kind = malloc(n * sizeof *d->kind);
  d->nargs = malloc(n * sizeof *d->nargs);
  d->argoff = malloc(n * sizeof *d->argoff);
  d->ref = malloc(n * sizeof *d->ref);
  d->known = calloc(n, sizeof *d->known);
  assert_true(d->salt && d->kind && d->nargs && d->argoff && d->ref &&
              d->known);
  int half = (n + 1) / 2, width = 1 + (int)rndn(64);
  int nroots_wide = n > 1 ? n - 1 : 1;
  for (int i = 0; i < n; i++) {
    d->salt[i] = rnd() % P61;
    int r = (int)rndn(20);
    d->kind[i] = r < 10 ? K_INT : r < 14 ? K_STR : r < 17 ? K_LIST : K_PTR;
    d->argoff[i] = (int)d->nall;
    if (rndn(2))
      maybe_literals(d);
    switch (shape) {
    case 0: /* chain */
      if (i > 0)
        add_pred(d, i - 1);
      break;
    case 1: /* fan-out from node 0; the last node joins a sample */
      if (i > 0 && i < n - 1)
        add_pred(d, 0);
      else if (i == n - 1 && i > 0)
        for (int k = 0, m = 1 + (int)rndn(100); k < m; k++)
          add_pred(d, n > 2 ? 1 + (int)rndn((uint32_t)(n - 2)) : 0);
      break;
    case 2: /* leaves, then a binary reduction: node i >= half combines */
      if (i >= half) {
        int j = 2 * (i - half);
        /* combine the two previous-level items (nodes 0.. are leaves) */
        add_pred(d, j % i);
        add_pred(d, (j + 1) % i);
      }
      break;
    case 3: /* random predecessors among all earlier nodes */
    case 4: /* ... among the recent ones */
      if (i > 0)
        for (int k = 0, m = (int)rndn(5); k < m; k++) {
          int p = shape == 3 ? (int)rndn((uint32_t)i)
                             : i - 1 - (int)rndn((uint32_t)(i < 8 ? i : 8));
          add_pred(d, p);
          if (rndn(6) == 0)
            add_pred(d, p); /* repeated argument */
        }
      break;
    case 5: /* every other node a root, one join over all of them */
      if (i == n - 1 && n > 1)
        for (int k = 0; k < nroots_wide; k++)
          add_pred(d, k);
      break;
    case 6: { /* layers of `width`, preds from the previous layer */
      int layer = i / width;
      if (layer > 0)
        for (int k = 0, m = 1 + (int)rndn(3); k < m; k++)
          add_pred(d, (layer - 1) * width + (int)rndn((uint32_t)width));
      break;
    }
    case 7: /* broadcast tree, then the last node joins a sample of it */
      if (i > 0 && i < n - 1)
        add_pred(d, (i - 1) / 2);
      else if (i == n - 1 && i > 0)
        for (int k = 0, m = 1 + (int)rndn(70); k < m; k++)
          add_pred(d, (int)rndn((uint32_t)i));
      break;
    }
    if (rndn(2))
      maybe_literals(d);
    /* shuffle this node's arguments a little */
    int na = (int)d->nall - d->argoff[i];
    if (na > 1 && rndn(2)) {
      int x = (int)rndn((uint32_t)na), y = (int)rndn((uint32_t)na);
      arg t = d->args[d->argoff[i] + x];
      d->args[d->argoff[i] + x] = d->args[d->argoff[i] + y];
      d->args[d->argoff[i] + y] = t;
    }
    d->nargs[i] = (int)d->nall - d->argoff[i];
  }
}

static void free_dag(dag *d) {
  free(d->salt);
  free(d->kind);
  free(d->nargs);
  free(d->argoff);
  free(d->args);
  free(d->ref);
  free(d->known);
}

/* The plain recursive evaluation, memoised. */
static uint64_t eval(dag *d, int i) {
  if (d->known[i])
    return d->ref[i];
  uint64_t h = d->salt[i];
  for (int k = 0; k < d->nargs[i]; k++) {
    const arg *a = &d->args[d->argoff[i] + k];
    h = mix(h, a->pred >= 0 ? eval(d, a->pred) : a->lit);
  }
  d->known[i] = true;
  d->ref[i] = h;
  return h;
}

/* Builds the weft graph of d. With `shuffled`, nodes are created in a
 * random order, and an argument whose producer does not exist yet is a
 * weft_ref to its key "n<id>" (every node gets that key). node[i] is the
 * handle of logical node i. */
static weft_graph *build(const dag *d, bool shuffled, weft_node **node) {
  weft_graph *g = weft_graph_new();
  assert_non_null(g);
  int *order = malloc(d->n * sizeof *order);
  assert_non_null(order);
  for (int i = 0; i < d->n; i++) {
    order[i] = i;
    node[i] = NULL;
  }
  if (shuffled)
    for (int i = d->n - 1; i > 0; i--) {
      int j = (int)rndn((uint32_t)(i + 1)), t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  size_t cap = 16;
  weft_value *av = malloc(cap * sizeof *av);
  for (int o = 0; o < d->n; o++) {
    int i = order[o];
    size_t na = (size_t)d->nargs[i] + 2;
    if (na > cap) {
      cap = na;
      av = realloc(av, cap * sizeof *av);
    }
    assert_non_null(av);
    av[0] = weft_int((int64_t)d->salt[i]);
    av[1] = weft_int(d->kind[i]);
    for (int k = 0; k < d->nargs[i]; k++) {
      const arg *a = &d->args[d->argoff[i] + k];
      weft_value *v = &av[k + 2];
      if (a->pred < 0 && a->lit_str) {
        assert_ok(weft_str_printf(v, "%llu", (unsigned long long)a->lit), g);
      } else if (a->pred < 0) {
        *v = weft_int((int64_t)a->lit);
      } else if (node[a->pred]) {
        *v = weft_node_ref(node[a->pred]);
      } else {
        char key[32];
        snprintf(key, sizeof key, "n%d", a->pred);
        weft_node *r = weft_ref(g, key);
        assert_non_null(r);
        *v = weft_node_ref(r);
      }
    }
    node[i] = weft_call_fn(g, WEFT_FN(rmix), na, av);
    if (!node[i])
      fail_msg("building node %d: %s", i, weft_graph_error(g));
    if (shuffled) {
      char key[32];
      snprintf(key, sizeof key, "n%d", i);
      assert_ok(weft_node_set_key(g, node[i], key), g);
    }
  }
  free(av);
  free(order);
  return g;
}

/* ---- the configurations ---- */

static const tu_sched configs[] = {
    {"sync", WEFT_SCHED_SYNC, 1, false},
    {"threads-1", WEFT_SCHED_THREADS, 1, false},
    {"threads-2", WEFT_SCHED_THREADS, 2, false},
    {"threads-3", WEFT_SCHED_THREADS, 3, false},
    {"threads-4", WEFT_SCHED_THREADS, 4, false},
    {"executor-1", WEFT_SCHED_THREADS, 1, true},
    {"executor-2", WEFT_SCHED_THREADS, 2, true},
    {"executor-3", WEFT_SCHED_THREADS, 3, true},
    {"executor-4", WEFT_SCHED_THREADS, 4, true},
};
#define NCONFIGS (sizeof configs / sizeof configs[0])
static weft_executor *executors[5];

static int setup(void **state) {
  (void)state;
  for (int w = 1; w <= 4; w++)
    if (weft_executor_new(w, &executors[w]))
      return -1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (tu_stuck())
    return 0;
  for (int w = 1; w <= 4; w++)
    weft_executor_free(executors[w]);
  return 0;
}

/* Number of graphs: thousands; fewer under ThreadSanitizer, which runs
 * every task ten to fifty times slower. */
#if TU_TSAN
#define NDAGS 1000
#else
#define NDAGS 3000
#endif
#define MAXOUT 6

/* Records the first failure of each configuration (the run goes on, so
 * the report shows which configurations are affected). */
static int nfail[NCONFIGS];
static char first_fail[NCONFIGS][512];
#define RECORD_FAIL(c, ...)                                                    \
  do {                                                                         \
    if (nfail[c]++ == 0)                                                       \
      snprintf(first_fail[c], sizeof first_fail[c], __VA_ARGS__);              \
  } while (0)

static void test_random_dags(void **state) {
  (void)state;
  tu_track_reset();
  memset(nfail, 0, sizeof nfail);
  long computes = 0, by_shape[NSHAPES] = {0};
  double t0 = tu_now();
  int it;
  for (it = 0; it < NDAGS && !tu_stuck(); it++) {
    uint64_t seed = 0x5eed0000ull + (uint64_t)it;
    rng_state = seed;
    int n = 1 + (int)rndn(1u << rndn(12));
    if (n > 2000)
      n = 2000;
    int shape = (int)rndn(NSHAPES);
    bool shuffled = rndn(4) == 0;
    by_shape[shape]++;
    dag d;
    make_dag(&d, n, shape);
    weft_node **node = malloc(n * sizeof *node);
    assert_non_null(node);
    weft_graph *g = build(&d, shuffled, node);
    char what[160];
    snprintf(what, sizeof what, "graph %d (seed %#llx, %s, %d nodes%s)", it,
             (unsigned long long)seed, shape_names[shape], n,
             shuffled ? ", shuffled, with weft_ref" : "");
    /* outputs: the last node, a few random ones (maybe repeated) */
    int nout = 1 + (int)rndn(MAXOUT), outid[MAXOUT];
    weft_node *outs[MAXOUT];
    outid[0] = n - 1;
    for (int k = 1; k < nout; k++)
      outid[k] = rndn(5) == 0 ? outid[k - 1] : (int)rndn((uint32_t)n);
    for (int k = 0; k < nout; k++)
      outs[k] = node[outid[k]];
    for (size_t c = 0; c < NCONFIGS && !tu_stuck(); c++) {
      const tu_sched *cf = &configs[c];
      weft_compute_opts o = tu_opts(cf, executors[cf->workers]);
      weft_value vals[MAXOUT];
      weft_value *vp[MAXOUT];
      for (int k = 0; k < nout; k++)
        vp[k] = &vals[k];
      int rc = tu_compute(g, (size_t)nout, outs, vp, &o);
      computes++;
      if (rc) {
        RECORD_FAIL(c, "%s: %s: %s", what, tu_err_name(rc),
                    rc == TU_HUNG ? "" : weft_graph_error(g));
        if (rc == TU_HUNG)
          break;
      }
      for (int k = 0; k < nout && !rc; k++) {
        uint64_t got = 0, want = eval(&d, outid[k]);
        int kind = d.kind[outid[k]];
        uint32_t type = kind == K_INT    ? WEFT_T_INT
                        : kind == K_STR  ? WEFT_T_STR
                        : kind == K_LIST ? WEFT_T_LIST
                                         : WEFT_T_PTR;
        if (vals[k].type != type || !decode(&vals[k], &got) || got != want) {
          char text[128];
          weft_value_format(&vals[k], text, sizeof text);
          RECORD_FAIL(c, "%s: output %d (node %d) is %s = %llu, expected %llu",
                      what, k, outid[k], text, (unsigned long long)got,
                      (unsigned long long)want);
          break;
        }
      }
      for (int k = 0; k < nout; k++)
        weft_value_release(&vals[k]);
      long live = atomic_load(&tu_live);
      if (live != 0) {
        RECORD_FAIL(c,
                    "%s: %ld counted values still alive after the "
                    "compute and the release of its outputs",
                    what, live);
        atomic_store(&tu_live, 0);
      }
    }
    if (tu_stuck())
      break; /* a hung compute may still use g */
    weft_graph_free(g);
    free(node);
    free_dag(&d);
  }
  if (tu_stuck())
    it++; /* the graph that hung counts */
  print_message("%d graphs (", it);
  for (int s = 0; s < NSHAPES; s++)
    print_message("%s%s %ld", s ? ", " : "", shape_names[s], by_shape[s]);
  print_message("), %ld computes, %.1f s; %ld counted values made\n", computes,
                tu_now() - t0, atomic_load(&tu_made));
  int bad = 0;
  for (size_t c = 0; c < NCONFIGS; c++)
    if (nfail[c]) {
      print_error("%s: %d of %d graphs wrong; first: %s\n", configs[c].name,
                  nfail[c], it, first_fail[c]);
      bad++;
    }
  assert_int_equal(bad, 0);
}

/* Every node a distinct root feeding one join: the widest fan-in, on each
 * configuration (the batched decrement of the threads scheduler). */
static void test_wide_join(void **state) {
  (void)state;
  tu_track_reset();
  for (int n = 60; n <= 70000; n = n * 5 + 3) {
    rng_state = 42 + (uint64_t)n;
    dag d;
    make_dag(&d, n, 5);
    weft_node **node = malloc(n * sizeof *node);
    weft_graph *g = build(&d, false, node);
    for (size_t c = 0; c < NCONFIGS; c++) {
      weft_compute_opts o = tu_opts(&configs[c], executors[configs[c].workers]);
      weft_value v;
      int rc = tu_compute1(g, node[n - 1], &v, &o);
      if (rc)
        fail_msg("join of %d on %s: %s: %s", n - 1, configs[c].name,
                 tu_err_name(rc), rc == TU_HUNG ? "" : weft_graph_error(g));
      uint64_t got = 0;
      if (!decode(&v, &got) || got != eval(&d, n - 1))
        fail_msg("join of %d on %s: %llu, expected %llu", n - 1,
                 configs[c].name, (unsigned long long)got,
                 (unsigned long long)eval(&d, n - 1));
      weft_value_release(&v);
      assert_i64(atomic_load(&tu_live), 0);
    }
    weft_graph_free(g);
    free(node);
    free_dag(&d);
  }
}

/* Thousands of outputs in one compute (some repeated, some ancestors of
 * others), on each configuration. */
static void test_many_outputs(void **state) {
  (void)state;
  tu_track_reset();
  rng_state = 777;
  const int n = 5000, nout = 3000;
  dag d;
  make_dag(&d, n, 3);
  weft_node **node = malloc(n * sizeof *node);
  weft_node **outs = malloc(nout * sizeof *outs);
  weft_value *vals = malloc(nout * sizeof *vals);
  weft_value **vp = malloc(nout * sizeof *vp);
  int *outid = malloc(nout * sizeof *outid);
  assert_true(node && outs && vals && vp && outid);
  weft_graph *g = build(&d, false, node);
  for (int k = 0; k < nout; k++) {
    outid[k] = k % 7 == 3 ? outid[k - 1] : (int)rndn((uint32_t)n);
    outs[k] = node[outid[k]];
    vp[k] = &vals[k];
  }
  for (size_t c = 0; c < NCONFIGS; c++) {
    weft_compute_opts o = tu_opts(&configs[c], executors[configs[c].workers]);
    int rc = tu_compute(g, (size_t)nout, outs, vp, &o);
    if (rc)
      fail_msg("%d outputs on %s: %s: %s", nout, configs[c].name,
               tu_err_name(rc), rc == TU_HUNG ? "" : weft_graph_error(g));
    for (int k = 0; k < nout; k++) {
      uint64_t got = 0;
      if (!decode(&vals[k], &got) || got != eval(&d, outid[k]))
        fail_msg("%d outputs on %s: output %d (node %d) is %llu, expected "
                 "%llu",
                 nout, configs[c].name, k, outid[k], (unsigned long long)got,
                 (unsigned long long)eval(&d, outid[k]));
      weft_value_release(&vals[k]);
    }
    assert_i64(atomic_load(&tu_live), 0);
  }
  weft_graph_free(g);
  free(node);
  free(outs);
  free(vals);
  free(vp);
  free(outid);
  free_dag(&d);
}

/* Graphs that grow between computes: nodes are added in stages, and after
 * each stage the graph is computed for all its current sinks (nothing to
 * cull) and for a few random nodes (culled), alternating configurations.
 * About one node in 150 fails; a compute whose outputs need a failing node
 * fails, and the graph must compute correctly afterwards: every count and
 * result left by a failed or culled compute is the next compute's start. */
static int *fails_memo;
static bool needs_failure(const dag *d, int i) {
  if (fails_memo[i] >= 0)
    return fails_memo[i];
  bool f = d->kind[i] == K_FAIL;
  for (int k = 0; k < d->nargs[i] && !f; k++) {
    const arg *a = &d->args[d->argoff[i] + k];
    if (a->pred >= 0)
      f = needs_failure(d, a->pred);
  }
  fails_memo[i] = f;
  return f;
}

static void test_incremental(void **state) {
  (void)state;
  tu_track_reset();
  memset(nfail, 0, sizeof nfail);
  long computes = 0, failed = 0, culled = 0, whole = 0;
  int graphs = TU_TSAN ? 60 : 200;
  for (int it = 0; it < graphs && !tu_stuck(); it++) {
    uint64_t seed = 0x1c0000ull + (uint64_t)it;
    rng_state = seed;
    int n = 2 + (int)rndn(500);
    int shape = (int)rndn(NSHAPES);
    dag d;
    make_dag(&d, n, shape);
    for (int i = 0; i < n; i++)
      if (rndn(150) == 0)
        d.kind[i] = K_FAIL;
    fails_memo = malloc(n * sizeof *fails_memo);
    bool *consumed = calloc(n, sizeof *consumed);
    weft_node **node = malloc(n * sizeof *node);
    weft_node **outs = malloc(n * sizeof *outs);
    int *outid = malloc(n * sizeof *outid);
    weft_value *vals = malloc(n * sizeof *vals);
    weft_value **vp = malloc(n * sizeof *vp);
    assert_true(fails_memo && consumed && node && outs && outid && vals && vp);
    for (int i = 0; i < n; i++) {
      fails_memo[i] = -1;
      vp[i] = &vals[i];
    }
    weft_graph *g = weft_graph_new();
    weft_value av[2048 + 8];
    int made = 0;
    while (made < n && !tu_stuck()) {
      int upto = made + 1 + (int)rndn((uint32_t)(n / 3 + 1));
      if (upto > n)
        upto = n;
      for (; made < upto; made++) {
        int i = made, na = d.nargs[i] + 2;
        assert_true(na <= 2048 + 8);
        av[0] = weft_int((int64_t)d.salt[i]);
        av[1] = weft_int(d.kind[i]);
        for (int k = 0; k < d.nargs[i]; k++) {
          const arg *a = &d.args[d.argoff[i] + k];
          if (a->pred >= 0) {
            av[k + 2] = weft_node_ref(node[a->pred]);
            consumed[a->pred] = true;
          } else if (a->lit_str) {
            assert_ok(
                weft_str_printf(&av[k + 2], "%llu", (unsigned long long)a->lit),
                g);
          } else {
            av[k + 2] = weft_int((int64_t)a->lit);
          }
        }
        node[i] = weft_call_fn(g, WEFT_FN(rmix), (size_t)na, av);
        assert_non_null(node[i]);
      }
      /* two computes: every sink, then a few random nodes */
      for (int round = 0; round < 2 && !tu_stuck(); round++) {
        int nout = 0;
        if (round == 0) {
          for (int i = 0; i < made; i++)
            if (!consumed[i])
              outid[nout++] = i;
          whole++;
        } else {
          nout = 1 + (int)rndn(4);
          for (int k = 0; k < nout; k++)
            outid[k] = (int)rndn((uint32_t)made);
          culled++;
        }
        bool expect_fail = false;
        for (int k = 0; k < nout; k++) {
          outs[k] = node[outid[k]];
          expect_fail |= needs_failure(&d, outid[k]);
        }
        size_t c = (size_t)computes % NCONFIGS;
        const tu_sched *cf = &configs[c];
        weft_compute_opts o = tu_opts(cf, executors[cf->workers]);
        int rc = tu_compute(g, (size_t)nout, outs, vp, &o);
        computes++;
        char what[160];
        snprintf(what, sizeof what,
                 "graph %d (seed %#llx, %s, %d of %d nodes built), %s "
                 "compute of %d outputs",
                 it, (unsigned long long)seed, shape_names[shape], made, n,
                 round ? "culled" : "whole", nout);
        if (rc == TU_HUNG) {
          RECORD_FAIL(c, "%s: HANG", what);
          break;
        }
        if (expect_fail && rc != WEFT_ETASK)
          RECORD_FAIL(c, "%s: %s, expected WEFT_ETASK", what,
                      weft_err_name(rc));
        if (!expect_fail && rc != 0)
          RECORD_FAIL(c, "%s: %s: %s", what, weft_err_name(rc),
                      weft_graph_error(g));
        failed += rc != 0;
        for (int k = 0; k < nout; k++) {
          /* outputs computed before a failure come back; others are none */
          if (!(rc && vals[k].type == WEFT_T_NONE)) {
            uint64_t got = 0;
            if (needs_failure(&d, outid[k]) || !decode(&vals[k], &got) ||
                got != eval(&d, outid[k])) {
              char text[96];
              weft_value_format(&vals[k], text, sizeof text);
              RECORD_FAIL(c, "%s: output %d (node %d) is %s, expected %llu",
                          what, k, outid[k], text,
                          (unsigned long long)eval(&d, outid[k]));
            }
          }
          weft_value_release(&vals[k]);
        }
        long live = atomic_load(&tu_live);
        if (live) {
          RECORD_FAIL(c, "%s: %ld counted values alive afterwards", what, live);
          atomic_store(&tu_live, 0);
        }
      }
    }
    if (tu_stuck())
      break;
    weft_graph_free(g);
    free(fails_memo);
    free(consumed);
    free(node);
    free(outs);
    free(outid);
    free(vals);
    free(vp);
    free_dag(&d);
  }
  print_message("%ld computes (%ld of all sinks, %ld culled), %ld failed as "
                "expected\n",
                computes, whole, culled, failed);
  int bad = 0;
  for (size_t c = 0; c < NCONFIGS; c++)
    if (nfail[c]) {
      print_error("%s: %d wrong computes; first: %s\n", configs[c].name,
                  nfail[c], first_fail[c]);
      bad++;
    }
  assert_int_equal(bad, 0);
}

/* ---- the environment ---- */

typedef struct env_seen {
  pthread_mutex_t mu;
  char scheduler[32];
  int workers;
  int begins;
  int max_worker;
} env_seen;

static void env_listener(const weft_event *ev, void *ud) {
  env_seen *s = ud;
  pthread_mutex_lock(&s->mu);
  if (ev->kind == WEFT_EV_COMPUTE_BEGIN) {
    snprintf(s->scheduler, sizeof s->scheduler, "%s",
             ev->scheduler ? ev->scheduler : "(null)");
    s->workers = ev->workers;
    s->begins++;
  }
  if (ev->kind == WEFT_EV_TASK_START && ev->worker > s->max_worker)
    s->max_worker = ev->worker;
  pthread_mutex_unlock(&s->mu);
}

static pthread_t caller;
static _Atomic int off_caller; /* tasks that ran on another thread */
static int where(weft_task_ctx *ctx, const weft_value *a, size_t n,
                 weft_value *out) {
  (void)ctx;
  if (!pthread_equal(pthread_self(), caller))
    atomic_fetch_add(&off_caller, 1);
  /* a little work, so a pool has time to spread it */
  uint64_t h = (uint64_t)a[0].as.i;
  for (int k = 0; k < 20000; k++)
    h = mix(h, (uint64_t)k);
  *out = weft_int((int64_t)(h & 1) + (int64_t)n * 0 + a[0].as.i);
  return 0;
}
WEFT_REGISTER(where);

/* Computes a 64-task graph with default options (the environment decides)
 * and a listener. Returns weft_compute's code. */
static int env_compute(env_seen *s, weft_graph **gout) {
  weft_graph *g = weft_graph_new();
  weft_node *parts[64];
  for (int k = 0; k < 64; k++)
    parts[k] = weft_call(g, where, k);
  weft_node *total = weft_sum(g, 64, parts);
  weft_listener l = {env_listener, s, NULL};
  weft_compute_opts o;
  weft_compute_opts_init(&o); /* scheduler DEFAULT, workers 0: from env */
  o.listener = &l;
  memset(s->scheduler, 0, sizeof s->scheduler);
  s->workers = s->begins = 0;
  s->max_worker = -1;
  atomic_store(&off_caller, 0);
  caller = pthread_self();
  weft_value v = weft_none();
  int rc = weft_compute1(g, total, &v, &o); /* on this thread */
  if (rc == 0) {
    int64_t want = 64 * 63 / 2; /* + the parity bits, recomputed below */
    for (int k = 0; k < 64; k++) {
      uint64_t h = (uint64_t)k;
      for (int j = 0; j < 20000; j++)
        h = mix(h, (uint64_t)j);
      want += (int64_t)(h & 1);
    }
    assert_int_value(v, want);
  }
  if (gout)
    *gout = g;
  else
    weft_graph_free(g);
  return rc;
}

static void test_environment(void **state) {
  (void)state;
  env_seen s;
  pthread_mutex_init(&s.mu, NULL);

  setenv("WEFT_SCHEDULER", "sync", 1);
  unsetenv("WEFT_WORKERS");
  assert_ok(env_compute(&s, NULL), NULL);
  assert_string_equal(s.scheduler, "sync");
  assert_int_equal(atomic_load(&off_caller), 0); /* all on this thread */
  assert_int_equal(s.max_worker, 0);

  /* Dask's spellings */
  setenv("WEFT_SCHEDULER", "synchronous", 1);
  assert_ok(env_compute(&s, NULL), NULL);
  assert_string_equal(s.scheduler, "sync");

  setenv("WEFT_SCHEDULER", "threads", 1);
  setenv("WEFT_WORKERS", "3", 1);
  assert_ok(env_compute(&s, NULL), NULL);
  assert_string_equal(s.scheduler, "threads");
  assert_int_equal(s.workers, 3);
  assert_in_range(s.max_worker, 0, 2);

  setenv("WEFT_SCHEDULER", "threading", 1);
  setenv("WEFT_WORKERS", "2", 1);
  assert_ok(env_compute(&s, NULL), NULL);
  assert_string_equal(s.scheduler, "threads");
  assert_int_equal(s.workers, 2);
  assert_in_range(s.max_worker, 0, 1);

  /* as people write them (issue 7): any case, blanks around, and
   * joblib's n_jobs=-1 for every core */
  {
    weft_scheduler sc = WEFT_SCHED_DEFAULT;
    assert_ok(weft_scheduler_parse(" Threads ", &sc), NULL);
    assert_int_equal(sc, WEFT_SCHED_THREADS);
    assert_ok(weft_scheduler_parse("PROCS", &sc), NULL);
    assert_int_equal(sc, WEFT_SCHED_PROCS);
    assert_rc(WEFT_EINVAL, weft_scheduler_parse("thread", &sc), NULL);
  }
  setenv("WEFT_SCHEDULER", "Sync", 1);
  assert_ok(env_compute(&s, NULL), NULL);
  assert_string_equal(s.scheduler, "sync");
  setenv("WEFT_SCHEDULER", "THREADS", 1);
  setenv("WEFT_WORKERS", "-1", 1);
  assert_ok(env_compute(&s, NULL), NULL);
  assert_string_equal(s.scheduler, "threads");
  assert_int_equal(s.workers, weft_cpu_count());

  /* options win over the environment */
  {
    weft_graph *g = weft_graph_new();
    weft_node *x = weft_call(g, where, 5);
    weft_compute_opts o;
    weft_compute_opts_init(&o);
    o.scheduler = WEFT_SCHED_SYNC;
    setenv("WEFT_SCHEDULER", "no-such-scheduler", 1);
    weft_value v;
    assert_ok(weft_compute1(g, x, &v, &o), g);
    /* ignore_env: not even read */
    weft_compute_opts_init(&o);
    o.ignore_env = 1;
    o.workers = 2;
    setenv("WEFT_WORKERS", "many", 1);
    assert_ok(weft_compute1(g, x, &v, &o), g);
    weft_graph_free(g);
  }

  /* bad values: WEFT_EINVAL, the message names the variable and value */
  weft_graph *g = NULL;
  setenv("WEFT_SCHEDULER", "no-such-scheduler", 1);
  unsetenv("WEFT_WORKERS");
  assert_rc(WEFT_EINVAL, env_compute(&s, &g), g);
  assert_contains(weft_graph_error(g), "WEFT_SCHEDULER");
  assert_contains(weft_graph_error(g), "no-such-scheduler");
  assert_int_equal(s.begins, 0); /* nothing started */
  weft_graph_free(g);

  setenv("WEFT_SCHEDULER", "threads", 1);
  const char *bad_workers[] = {
      "many", "0", "-2", "3x", "99999", "-", "99999999999999999999"};
  for (size_t k = 0; k < sizeof bad_workers / sizeof bad_workers[0]; k++) {
    setenv("WEFT_WORKERS", bad_workers[k], 1);
    assert_rc(WEFT_EINVAL, env_compute(&s, &g), g);
    assert_contains(weft_graph_error(g), "WEFT_WORKERS");
    assert_contains(weft_graph_error(g), bad_workers[k]);
    weft_graph_free(g);
  }
  /* empty variables count as unset */
  setenv("WEFT_SCHEDULER", "", 1);
  setenv("WEFT_WORKERS", "", 1);
  assert_ok(env_compute(&s, NULL), NULL);
  assert_string_equal(s.scheduler, "threads"); /* the default */
  unsetenv("WEFT_SCHEDULER");
  unsetenv("WEFT_WORKERS");
  pthread_mutex_destroy(&s.mu);
}

/* The options' defaults, scheduler names and processor counts. */
static void test_options_and_names(void **state) {
  (void)state;
  weft_compute_opts o;
  memset(&o, 0x5a, sizeof o);
  weft_compute_opts_init(&o);
  assert_int_equal(o.scheduler, WEFT_SCHED_DEFAULT);
  assert_int_equal(o.workers, 0);
  assert_null(o.executor);
  assert_null(o.listener);
  assert_int_equal(o.retries, -1);
  assert_int_equal(o.ignore_env, 0);
  weft_compute_opts_init(NULL); /* no-op */

  const struct {
    const char *name;
    weft_scheduler s;
  } names[] = {{"sync", WEFT_SCHED_SYNC},
               {"threads", WEFT_SCHED_THREADS},
               {"procs", WEFT_SCHED_PROCS},
               {"synchronous", WEFT_SCHED_SYNC},
               {"single-threaded", WEFT_SCHED_SYNC},
               {"threading", WEFT_SCHED_THREADS},
               {"processes", WEFT_SCHED_PROCS}};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    weft_scheduler s = WEFT_SCHED_DEFAULT;
    assert_ok(weft_scheduler_parse(names[k].name, &s), NULL);
    assert_int_equal(s, names[k].s);
  }
  weft_scheduler s;
  assert_rc(WEFT_EINVAL, weft_scheduler_parse("Syncs", &s), NULL);
  assert_rc(WEFT_EINVAL, weft_scheduler_parse("", &s), NULL);
  assert_rc(WEFT_EINVAL, weft_scheduler_parse("default", &s), NULL);
  assert_rc(WEFT_EINVAL, weft_scheduler_parse(NULL, &s), NULL);
  assert_rc(WEFT_EINVAL, weft_scheduler_parse("sync", NULL), NULL);
  assert_string_equal(weft_scheduler_name(WEFT_SCHED_SYNC), "sync");
  assert_string_equal(weft_scheduler_name(WEFT_SCHED_THREADS), "threads");
  assert_string_equal(weft_scheduler_name(WEFT_SCHED_PROCS), "procs");
  assert_non_null(weft_scheduler_name((weft_scheduler)99));
  assert_true(weft_scheduler_available(WEFT_SCHED_SYNC));
  assert_true(weft_scheduler_available(WEFT_SCHED_THREADS));
  int logical = weft_cpu_count(), physical = weft_physical_cpu_count();
  assert_true(logical >= 1);
  assert_in_range(physical, 1, logical);
  /* NULL options: the defaults (and the environment, unset here) */
  unsetenv("WEFT_SCHEDULER");
  unsetenv("WEFT_WORKERS");
  weft_graph *g = weft_graph_new();
  weft_node *x = weft_mul(g, weft_add(g, 20, 1), 2);
  weft_value v;
  assert_rc(0, tu_compute1(g, x, &v, NULL), g);
  assert_int_value(v, 42);
  weft_graph_free(g);
}

int main(void) {
  tu_watchdog(115);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_dags),
      cmocka_unit_test(test_wide_join),
      cmocka_unit_test(test_many_outputs),
      cmocka_unit_test(test_incremental),
      cmocka_unit_test(test_environment),
      cmocka_unit_test(test_options_and_names),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
