/* test_mpi_array.c - array graphs on the mpi scheduler, run by CTest under
 * `mpirun -n 2`, `-n 3` and `-n 4 --oversubscribe`: every expression is
 * computed with the threads scheduler and with mpi, and the two results must
 * be the same bytes (memcmp); the mpi results are also written to .npy and
 * compared with numpy by tests/array_numpy.py (Debian's python3-numpy).
 *
 * Inputs are the caller's buffers (regular, irregular and random chunks:
 * whole-row chunks travel as literals, the others are copied out by tasks
 * that run on rank 0) and generated arrays (ones, arange, random uniform and
 * normal), whose blocks, reductions and combines run on any rank by their
 * registered names. Also: the big-mean shapes (ones * ones[::-1, ::-1]).mean()
 * and cos(x)**2 row means, reductions along each axis with split_every, and
 * registered user kernel (map_blocks) travels; one that is not registered is
 * named, not crashed. */
#include <math.h>

#include "array_inputs.h"
#include "array_npy.h"
#include "sched/mpi/impl.h" /* weft__mpi_stats: which mode ran */
#include "testutil.h"
#include "weft/mpi.h"

static const input inputs[] = {
    {"a",
     WEFT_F64,
     WEFT_SHAPE(7, 11),
     WEFT_CHUNKS(3, 4),
     2, {{2, 5, -1}, {4, 4, 3, -1}}},
    {"b",
     WEFT_F64,
     WEFT_SHAPE(7, 11),
     WEFT_CHUNKS(7, 5),
     2, {{1, 6, -1}, {11, -1}}},
    {"i",
     WEFT_I32,
     WEFT_SHAPE(7, 11),
     WEFT_CHUNKS(4, 4),
     2, {{3, 4, -1}, {2, 9, -1}}},
    {"j", WEFT_I64, WEFT_SHAPE(11), WEFT_CHUNKS(4), 1, {{5, 6, -1}, {-1}}},
    {"f",
     WEFT_F32,
     WEFT_SHAPE(7, 11),
     WEFT_CHUNKS(2, 11),
     2, {{7, -1}, {3, 3, 5, -1}}},
    {"m",
     WEFT_BOOL,
     WEFT_SHAPE(7, 11),
     WEFT_CHUNKS(3, 3),
     2, {{6, 1, -1}, {5, 6, -1}}},
};

static const char *const cases[] = {
    "a + b",
    "a * b[::-1, ::-1]",
    "2 - a",
    "a / b",
    "a // b",
    "a ** 2",
    "i + j",
    "i // 4",
    "i ** 2",
    "i.astype('float32') + f",
    "f / 3",
    "m & (a > 0)",
    "~m",
    "np.where(m, a, i)",
    "np.clip(a, -1, 1)",
    "np.cos(a)",
    "np.exp(a)",
    "np.arctan2(a, b)",
    "a[2:5, 1:9:3]",
    "a[::-2]",
    "a[:, ::-1][1:6]",
    "a[5:1:-2, -3:]",
    "a.T + b.T",
    "a.sum()",
    "a.sum(axis=0)",
    "a.sum(axis=1, split_every=2)",
    "i.sum(axis=0)",
    "m.sum(axis=1)",
    "a.prod(axis=0)",
    "a.min(axis=1)",
    "i.max(axis=0)",
    "a.var()",
    "a.std(axis=0)",
    "f.mean()",
    "m.any(axis=0)",
    "a.argmin()",
    "a.argmax(axis=1)",
    "(np.cos(a) ** 2).mean(axis=1)",
    "(a * a[::-1, ::-1]).mean()",
    "a.rechunk((3, 11)).reshape(77)",
    "np.concatenate([a, i], axis=1)",
    "np.stack([j, j * 2, j * 3])",
    "np.arange(3, 30, 4, chunks=3)",
    "np.eye(6, chunks=4) * 2",
    "(np.ones((6, 8), chunks=(2, 3)) * np.ones((6, 8), chunks=(2, 3))[::-1, "
    "::-1]).mean()",
    "(a - a.mean()).sum(axis=0)",
};

static weft_compute_opts opts_for(weft_scheduler s) {
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.scheduler = s;
  o.workers = s == WEFT_SCHED_THREADS ? 2 : 0;
  o.ignore_env = 1;
  return o;
}

/* Tasks that started on a worker rank (rank >= 1) in the mpi computes. */
static _Atomic long on_ranks;
static void on_event(const weft_event *ev, void *ud) {
  (void)ud;
  if (ev->kind == WEFT_EV_TASK_START && ev->worker >= 1)
    on_ranks++;
}

/* Computes r on threads and on mpi; the bytes must be equal. Returns the
 * mpi result (the caller frees it) and its size. */
static void *both(weft_array *r, const char *what, size_t *size) {
  weft_graph *g = weft_array_graph(r);
  size_t nb = (size_t)weft_array_nbytes(r);
  void *t = calloc(nb + 8, 1), *m = calloc(nb + 8, 1);
  assert_true(t && m);
  weft_compute_opts ot = opts_for(WEFT_SCHED_THREADS),
                    om = opts_for(WEFT_SCHED_MPI);
  weft_listener l = {on_event, NULL, NULL};
  om.listener = &l;
  int rc = weft_array_compute_buffer(r, t, nb + 8, &ot);
  if (rc)
    fail_msg("'%s' on threads: %s", what, weft_graph_error(g));
  rc = weft_array_compute_buffer(r, m, nb + 8, &om);
  if (rc)
    fail_msg("'%s' on mpi: %s", what, weft_graph_error(g));
  if (memcmp(t, m, nb) != 0)
    fail_msg("'%s': mpi and threads differ (%zu bytes)", what, nb);
  free(t);
  *size = nb;
  return m;
}

/* The caller's buffers with three chunkings, every case: mpi == threads,
 * and numpy agrees with mpi. */
static void test_numpy_cases(void **state) {
  (void)state;
  void *data[NELEM(inputs)];
  for (size_t k = 0; k < NELEM(inputs); k++) {
    size_t count;
    data[k] = make_data(&inputs[k], &count);
    char path[64];
    snprintf(path, sizeof path, "in_%s.npy", inputs[k].name);
    assert_int_equal(tnpy_write(path, inputs[k].dt, inputs[k].shape.ndim,
                                inputs[k].shape.d, data[k]),
                     0);
  }
  FILE *cf = fopen("cases.txt", "w");
  assert_non_null(cf);
  for (int set = 0; set < 3; set++) {
    weft_graph *g = weft_graph_new();
    weft_array *vars[NELEM(inputs)];
    const char *names[NELEM(inputs)];
    for (size_t k = 0; k < NELEM(inputs); k++) {
      vars[k] = make_input(g, &inputs[k], data[k], set);
      names[k] = inputs[k].name;
      if (!vars[k])
        fail_msg("input %s: %s", names[k], weft_graph_error(g));
    }
    for (size_t c = 0; c < NELEM(cases); c++) {
      if (set == 0)
        fprintf(cf, "%zu\t%s\n", c, cases[c]);
      weft_array *r = NULL;
      char err[512];
      int col;
      if (weft_array_parse(g, cases[c], NELEM(inputs), names, vars, &r, err,
                           sizeof err, &col))
        fail_msg("case '%s': %s (column %d)", cases[c], err, col);
      size_t nb;
      void *m = both(r, cases[c], &nb);
      char path[64];
      snprintf(path, sizeof path, "out_%zu_%d.npy", c, set);
      assert_int_equal(tnpy_write(path, weft_array_dtype(r), weft_array_ndim(r),
                                  weft_array_shape(r), m),
                       0);
      free(m);
      weft_array_free(r);
    }
    for (size_t k = 0; k < NELEM(inputs); k++)
      weft_array_free(vars[k]);
    weft_graph_free(g);
  }
  fclose(cf);
  for (size_t k = 0; k < NELEM(inputs); k++)
    free(data[k]);
  if (weft_mpi_size() > 1)
    assert_true(on_ranks > 0);
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 %s/tests/array_numpy.py > numpy.log 2>&1",
           WEFT_TEST_SOURCE_DIR);
  int rc = system(cmd);
  char log[8192];
  read_whole("numpy.log", log, sizeof log);
  if (rc != 0)
    fail_msg("numpy comparison failed (exit %d):\n%s", rc, log);
  assert_contains(log, " 0 failures");
}

/* Generated inputs only: every task (blocks, partial reductions, combines)
 * may run on a worker rank. The big-mean shapes, random arrays, reductions
 * along each axis, slices with negative steps; mpi == threads, and the
 * closed forms where there are some. */
static void test_generated(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_chunks ch = WEFT_CHUNKS(37, 23);
  static const int64_t rows[] = {100, 1, 60, 139};
  weft_chunks_axis(&ch, 0, 4, rows);
  weft_array *x = weft_random_normal(g, 42, 0.5, 3, WEFT_SHAPE(300, 200), ch);
  weft_array *y = weft_random_uniform(g, 7, -1, 1, WEFT_SHAPE(300, 200),
                                      WEFT_CHUNKS(50, 64));
  weft_array *ry = weft_array_slice(y, "::-1, ::-1");
  weft_array *p = weft_array_mul(x, ry);
  weft_array *cs = weft_array_cos(p);
  weft_array *s = weft_array_add(cs, x);
  weft_array *o =
      weft_ones(g, WEFT_F64, WEFT_SHAPE(600, 400), WEFT_CHUNKS(100, 100));
  weft_array *ro = weft_array_slice(o, "::-1, ::-1");
  weft_array *oo = weft_array_mul(o, ro);
  weft_array *cx = weft_array_cos(x);
  weft_array *c2 = weft_array_mul(cx, cx);
  weft_array *st = weft_array_transpose(s, NULL);
  weft_reduce_opts r3 = {false, 3, 0}, r2k = {true, 2, 1};
  struct {
    const char *what;
    weft_array *a;
  } runs[] = {
      {"(ones * ones[::-1, ::-1]).mean()", weft_array_mean(oo, WEFT_AXES_ALL)},
      {"(cos(x) ** 2).mean(axis=1)", weft_array_mean(c2, WEFT_AXES(1))},
      {"s.sum(split_every=3)",
       weft_array_reduce(WEFT_RED_SUM, s, WEFT_AXES_ALL, &r3)},
      {"s.var(axis=0, keepdims, ddof=1, split_every=2)",
       weft_array_reduce(WEFT_RED_VAR, s, WEFT_AXES(0), &r2k)},
      {"s.argmax()",
       weft_array_reduce(WEFT_RED_ARGMAX, s, WEFT_AXES_ALL, NULL)},
      {"s.max(axis=1)", weft_array_reduce(WEFT_RED_MAX, s, WEFT_AXES(1), NULL)},
      {"s", weft_array_retain(s)},
      {"s.T[::3, 1:-1]", weft_array_slice(st, "::3, 1:-1")},
  };
  for (size_t k = 0; k < NELEM(runs); k++) {
    if (!runs[k].a)
      fail_msg("'%s': %s", runs[k].what, weft_graph_error(g));
    size_t nb;
    void *m = both(runs[k].a, runs[k].what, &nb);
    if (k == 0)
      assert_double_exact(*(double *)m, 1.0);
    if (k == 1) { /* cos^2 row means: a plain loop agrees to rounding */
      static double xs[300 * 200];
      size_t n;
      free(both(x, "x", &n));
      weft_compute_opts om = opts_for(WEFT_SCHED_MPI);
      assert_ok(weft_array_compute_buffer(x, xs, sizeof xs, &om), g);
      for (int r = 0; r < 300; r++) {
        double acc = 0;
        for (int c = 0; c < 200; c++)
          acc += cos(xs[r * 200 + c]) * cos(xs[r * 200 + c]);
        double got = ((double *)m)[r];
        assert_true(fabs(got - acc / 200) <= 1e-12);
      }
    }
    free(m);
    weft_array_free(runs[k].a);
  }
  /* the blocks did travel: worker ranks ran tasks (none without them) */
  if (weft_mpi_size() > 1)
    assert_true(on_ranks > 0);
  else
    assert_true(on_ranks == 0);
  weft_array_free(x);
  weft_array_free(y);
  weft_array_free(ry);
  weft_array_free(p);
  weft_array_free(cs);
  weft_array_free(s);
  weft_array_free(o);
  weft_array_free(ro);
  weft_array_free(oo);
  weft_array_free(cx);
  weft_array_free(c2);
  weft_array_free(st);
  weft_graph_free(g);
}

/* A user kernel: each element times 3, plus its block's first element. */
static int triple(weft_task_ctx *ctx, const weft_value *args, size_t nargs,
                  weft_value *out) {
  (void)nargs;
  weft_chunk_info ci;
  if (weft_chunk_get(&args[0], &ci) || ci.dtype != WEFT_F64)
    return weft_fail(ctx, "triple: not a float64 chunk");
  double *d;
  if (weft_chunk_new(out, WEFT_F64, ci.ndim, ci.shape, (void **)&d))
    return weft_fail(ctx, "out of memory");
  const double *in = ci.data;
  for (size_t i = 0; i < ci.count; i++)
    d[i] = in[i] * 3 + in[0];
  return 0;
}
WEFT_REGISTER_ARITY(triple, 2);
/* The same function under a name no rank has registered. */
static weft_fn_info unregistered = {"tma.unregistered", triple, 2, __FILE__,
                                    NULL};

/* A registered kernel runs on the ranks and gives threads' bytes; one that
 * is not registered fails the compute naming it (no crash, no hang). */
static void test_kernels(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_array *x = weft_random_uniform(g, 11, 0, 1, WEFT_SHAPE(120, 90),
                                      WEFT_CHUNKS(40, 30));
  weft_array *t =
      weft_array_map_blocks(WEFT_FN(triple), WEFT_F64, 1, &x, weft_none());
  weft_array *m = weft_array_mean(t, WEFT_AXES(0));
  assert_non_null(m);
  size_t nb;
  free(both(m, "map_blocks(triple).mean(axis=0)", &nb));
  weft_array *u =
      weft_array_map_blocks(&unregistered, WEFT_F64, 1, &x, weft_none());
  assert_non_null(u);
  double out[120 * 90];
  weft_compute_opts om = opts_for(WEFT_SCHED_MPI);
  int rc = weft_array_compute_buffer(u, out, sizeof out, &om);
  if (weft_mpi_size() > 1) {
    assert_true(rc < 0);
    assert_contains(weft_graph_error(g), "tma.unregistered");
  } else {
    assert_int_equal(rc, 0);
  }
  weft_array_free(u);
  weft_array_free(m);
  weft_array_free(t);
  weft_array_free(x);
  weft_graph_free(g);
}

/* Chunks of 160 kB (over the 64 KiB past which the replicated mode sends a
 * value alone in its message): the product with its reverse travels rank
 * to rank and comes back to rank 0 whole; the column means of it, against
 * a plain loop over threads' product; chunks of the caller's buffer go
 * from rank 0 to the ranks. */
static void test_big_chunks(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_array *x = weft_random_uniform(g, 7, 0, 1, WEFT_SHAPE(600, 400),
                                      WEFT_CHUNKS(200, 100));
  weft_array *r = weft_array_slice(x, "::-1, ::-1");
  weft_array *y = weft_array_mul(x, r);
  weft_array *m = weft_array_mean(y, WEFT_AXES(0));
  assert_non_null(m);
  size_t ny, nm;
  double *py = both(y, "(x * x[::-1, ::-1])", &ny);
  double *pm = both(m, "(x * x[::-1, ::-1]).mean(axis=0)", &nm);
  assert_int_equal(ny, 600 * 400 * sizeof(double));
  assert_int_equal(nm, 400 * sizeof(double));
  for (int j = 0; j < 400; j++) {
    double sum = 0;
    for (int i = 0; i < 600; i++)
      sum += py[i * 400 + j];
    assert_true(fabs(pm[j] - sum / 600) < 1e-12);
  }
  free(py);
  free(pm);
  /* the caller's buffer in chunks narrower than its rows: copied out on
   * rank 0, and from there to the ranks (160 kB each) */
  double *d = malloc(600 * 400 * sizeof *d);
  assert_non_null(d);
  for (int i = 0; i < 600 * 400; i++)
    d[i] = (i % 97) * 0.5;
  weft_array *z =
      weft_array_from_buffer(g, WEFT_F64, WEFT_SHAPE(600, 400),
                             WEFT_CHUNKS(200, 100), d);
  weft_array *two = weft_array_scalar(g, 2);
  weft_array *z2 = weft_array_mul(z, two);
  assert_non_null(z2);
  double *pz = both(z2, "from_buffer * 2", &ny);
  for (int i = 0; i < 600 * 400; i++)
    assert_true(pz[i] == 2 * d[i]);
  free(pz);
  free(d);
  weft_array_free(z2);
  weft_array_free(two);
  weft_array_free(z);
  weft_array_free(m);
  weft_array_free(y);
  weft_array_free(r);
  weft_array_free(x);
  weft_graph_free(g);
}

/* Under WEFT_MPI_MODE=replicated the array computes above ran in that
 * mode (their graphs have no task that must run in the program, except
 * those of the caller's buffers that weft_map-like unpacking may add),
 * else none did. */
static void test_mode_used(void **state) {
  (void)state;
  weft__mstats st;
  weft__mpi_stats(&st);
  const char *mode = getenv("WEFT_MPI_MODE");
  if (mode && strcmp(mode, "replicated") == 0 && weft_mpi_size() > 1) {
    print_message("%llu array computes ran replicated\n",
                  (unsigned long long)st.rep_computes);
    assert_true(st.rep_computes >= 40);
  } else
    assert_int_equal(st.rep_computes, 0);
}

int main(int argc, char **argv) {
  if (weft_mpi_init(&argc, &argv))
    return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_generated),
      cmocka_unit_test(test_numpy_cases),
      cmocka_unit_test(test_kernels),
      cmocka_unit_test(test_big_chunks),
      cmocka_unit_test(test_mode_used),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
