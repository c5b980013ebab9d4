/* test_array.c - chunked arrays against numpy: every operation on inputs
 * with regular, irregular and random chunks (empty arrays, size-1 axes, negative
 * steps and broadcasting included), written to .npy and compared by
 * tests/array_numpy.py with Debian's python3-numpy; then what numpy cannot
 * check: bit-identical results on every scheduler and worker count, fused
 * against materialized, random values independent of the chunks (and
 * Philox's published test vectors), the memory of the big mean, user
 * kernels, the callback compute, the repr, and the errors. */
#include <math.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "array_inputs.h"
#include "array_npy.h"

/* ---- inputs ---- */

static const input inputs[] = {
    {"a", WEFT_F64, WEFT_SHAPE(7, 11), WEFT_CHUNKS(3, 4), 2,
     {{2, 5, -1}, {4, 4, 3, -1}}},
    {"b", WEFT_F64, WEFT_SHAPE(7, 11), WEFT_CHUNKS(7, 5), 2,
     {{1, 6, -1}, {11, -1}}},
    {"i", WEFT_I32, WEFT_SHAPE(7, 11), WEFT_CHUNKS(4, 4), 2,
     {{3, 4, -1}, {2, 9, -1}}},
    {"j", WEFT_I64, WEFT_SHAPE(11), WEFT_CHUNKS(4), 1, {{5, 6, -1}}},
    {"f", WEFT_F32, WEFT_SHAPE(7, 11), WEFT_CHUNKS(2, 11), 2,
     {{7, -1}, {3, 3, 5, -1}}},
    {"m", WEFT_BOOL, WEFT_SHAPE(7, 11), WEFT_CHUNKS(3, 3), 2,
     {{6, 1, -1}, {5, 6, -1}}},
    {"r", WEFT_F64, WEFT_SHAPE(1, 11), WEFT_CHUNKS(1, 4), 2,
     {{1, -1}, {6, 5, -1}}},
    {"c", WEFT_F64, WEFT_SHAPE(7, 1), WEFT_CHUNKS(3, 1), 2,
     {{4, 3, -1}, {1, -1}}},
    {"z", WEFT_F64, WEFT_SHAPE(0, 4), WEFT_CHUNKS(1, 2), 2,
     {{0, -1}, {1, 3, -1}}},
    {"t", WEFT_F64, WEFT_SHAPE(3, 4, 5), WEFT_CHUNKS(2, 2, 2), 3,
     {{1, 2, -1}, {4, -1}, {2, 3, -1}}},
};

static const char *const cases[] = {
    "a + b", "a * b[::-1, ::-1]", "a - 2", "2 - a", "a / b", "a // b",
    "a % b", "a ** 2", "abs(a) ** 0.5", "abs(a) ** 1.5", "i + j", "i * 3",
    "i // 4", "i % -4", "i / 2", "i + 2.5", "i ** 2", "i + 2**40",
    "i.astype('float32') + f", "f * 2", "f + a", "f / 3", "f.max() / 3", "i.max() + 1", "f[1, 2] * 2.5",
    "f.sum(keepdims=True) + 1", "f + 65535", "f - 32769", "70000 * f",
    "f * 3.3e38", "f * 3.4e38", "np.where(m, f, 100000)", "np.maximum(f, -40000)", "f.sum(axis=0)",
    "m & (a > 0)", "m | m[::-1]", "m ^ m[:, ::-1]", "~m", "a == b",
    "a < 0.5", "i >= 0", "i != j", "np.where(m, a, i)", "np.where(a > 0, 1, -1)",
    "np.clip(a, -1, 1)", "np.clip(i, -2, 3)", "np.cos(a)", "np.sin(a)",
    "np.exp(a)", "np.log(abs(a) + 1)", "np.log1p(abs(a))", "np.sqrt(abs(a))",
    "np.floor(a)", "np.ceil(f)", "np.sign(i)", "np.sign(a)", "np.maximum(a, b)",
    "np.minimum(i, 2)", "np.arctan2(a, b)", "np.tanh(a)", "np.abs(i)", "-a",
    "-i", "a.astype('int32')", "i.astype('bool')", "m.astype('float64') * 3",
    "a.astype('float32')", "r + c", "a + r", "a * c", "c - j",
    "a[2:5, 1:9:3]", "a[-1]", "a[..., 0]", "a[None, :, 3]", "a[::-2]", "a[3]",
    "a[:, ::-1][1:6]", "a[::9223372036854775807]",
    "a[3::-9223372036854775807, ::-9223372036854775808]", "a[::7, ::-11]", "a[5:1:-2, -3:]", "a[1:1]", "a[100:]", "a.T", "a.T + b.T",
    "t.transpose(2, 0, 1)", "t.transpose((2, 0, 1))", "a.transpose([1, 0])",
    "np.transpose(t, axes=(1, 2, 0))", "np.transpose(t, (0, 2, 1))", "t[1, ::-1, 1:4]", "t[..., ::-2]", "t.T[::-1]",
    "a.sum()", "a.sum(axis=0)", "a.sum(axis=1)", "a.sum(axis=-1, keepdims=True)",
    "a.mean(axis=1, keepdims=True)", "i.sum()", "i.sum(axis=0)", "m.sum()",
    "m.sum(axis=1)", "j.sum()", "a.prod(axis=0)", "i.prod(axis=1)",
    "a.min(axis=1)", "a.max()", "i.max(axis=0)", "i.min()", "m.max(axis=0)",
    "a.var()", "a.std(axis=0)", "a.var(axis=1, ddof=1)", "f.mean()",
    "a.var(axis=0, ddof=7)", "a.std(axis=0, ddof=9)", "i.var(ddof=1000)",
    "m.any(axis=0)", "m.all()", "(a > -2.5).all(axis=1)", "a.argmin()",
    "a.argmax(axis=0)", "a.argmax(axis=1)", "i.argmin(axis=1)", "i.argmax()",
    "t.sum(axis=(0, 2))", "t.mean(axis=(1,))", "t.max(axis=2, keepdims=True)",
    "t.argmax(axis=1)", "t.sum(axis=(0, 1, 2), split_every=2)",
    "a.sum(axis=1, split_every=2)", "z.sum(axis=0)", "z.sum()", "z + 1",
    "z.max(axis=1)", "z.T", "a[1:1].sum(axis=0)", "(np.cos(a) ** 2).mean(axis=1)",
    "(a * a[::-1, ::-1]).mean()", "a.rechunk((3, 11)).reshape(77)",
    "a.rechunk((1, 11)).reshape((7, 11, 1))", "c.reshape(7)", "r.reshape((11, 1))",
    "np.concatenate([a, b], axis=0)", "np.concatenate([a, i], axis=1)",
    "np.concatenate([a, r, c.T[:, :1] + r], axis=0)", "np.stack([a, b], axis=1)",
    "np.stack([j, j * 2, j * 3])", "np.arange(10)", "np.arange(0.5, 7, 0.75)",
    "np.arange(3, 30, 4, chunks=3)", "np.linspace(0, 1, 9)",
    "np.linspace(-2, 5, 13, chunks=4)", "np.eye(5, 7, k=1)", "np.eye(6, chunks=4) * 2",
    "np.ones((4, 3), chunks=(3, 2)) * a[:4, :3]", "np.full((2, 3), 7) // 2",
    "np.zeros((5, 2), dtype='int32') + 1", "np.ones((3, 4), dtype='bool') & m[:3, :4]",
    "(np.ones((6, 8), chunks=(2, 3)) * np.ones((6, 8), chunks=(2, 3))[::-1, ::-1]).mean()",
    "(a - a.mean()).sum(axis=0)", "a[:, 2:5].sum(axis=1) + i[:, 0]",
};

static void test_numpy(void **state) {
  (void)state;
  void *data[NELEM(inputs)];
  for (size_t k = 0; k < NELEM(inputs); k++) {
    size_t n;
    data[k] = make_data(&inputs[k], &n);
    char path[64];
    snprintf(path, sizeof path, "in_%s.npy", inputs[k].name);
    assert_int_equal(tnpy_write(path, inputs[k].dt, inputs[k].shape.ndim,
                                inputs[k].shape.d, data[k]),
                     0);
  }
  FILE *cf = fopen("cases.txt", "w");
  assert_non_null(cf);
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.scheduler = WEFT_SCHED_SYNC;
  o.ignore_env = 1;
  for (int set = 0; set < 3; set++) { /* regular, irregular, random chunks */
    weft_graph *g = weft_graph_new();
    weft_array *vars[NELEM(inputs)];
    const char *names[NELEM(inputs)];
    for (size_t k = 0; k < NELEM(inputs); k++) {
      vars[k] = make_input(g, &inputs[k], data[k], set);
      names[k] = inputs[k].name;
      assert_non_null(vars[k]);
    }
    for (size_t c = 0; c < NELEM(cases); c++) {
      if (set == 0)
        fprintf(cf, "%zu\t%s\n", c, cases[c]);
      weft_array *r = NULL;
      char err[512];
      int col;
      int rc = weft_array_parse(g, cases[c], NELEM(inputs), names, vars, &r,
                                err, sizeof err, &col);
      if (rc)
        fail_msg("case %zu '%s': %s (column %d) %s", c, cases[c], err, col,
                 weft_graph_error(g));
      double nb = weft_array_nbytes(r);
      void *buf = calloc((size_t)nb + 8, 1);
      rc = weft_array_compute_buffer(r, buf, (size_t)nb + 8, &o);
      if (rc)
        fail_msg("case %zu '%s': compute: %s", c, cases[c], weft_graph_error(g));
      char path[64];
      snprintf(path, sizeof path, "out_%zu_%d.npy", c, set);
      assert_int_equal(tnpy_write(path, weft_array_dtype(r), weft_array_ndim(r),
                                  weft_array_shape(r), buf),
                       0);
      free(buf);
      weft_array_free(r);
    }
    for (size_t k = 0; k < NELEM(inputs); k++)
      weft_array_free(vars[k]);
    weft_graph_free(g);
  }
  fclose(cf);
  for (size_t k = 0; k < NELEM(inputs); k++)
    free(data[k]);
  char cmd[1024];
  const char *src = getenv("WEFT_SOURCE_DIR");
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 %s/tests/array_numpy.py > numpy.log 2>&1",
           src ? src : "..");
  int rc = system(cmd);
  char log[8192];
  read_whole("numpy.log", log, sizeof log);
  if (rc != 0)
    fail_msg("numpy comparison failed (exit %d):\n%s", rc, log);
  assert_contains(log, " 0 failures");
}

/* ---- the same bits on every scheduler ---- */

static weft_array *mixed(weft_graph *g) {
  weft_chunks ch = WEFT_CHUNKS(37, 23);
  static const int64_t rows[] = {100, 1, 60, 139};
  weft_chunks_axis(&ch, 0, 4, rows);
  weft_array *x = weft_random_normal(g, 42, 0.5, 3, WEFT_SHAPE(300, 200), ch);
  weft_array *y = weft_random_uniform(g, 7, -1, 1, WEFT_SHAPE(300, 200),
                                      WEFT_CHUNKS(50, 64));
  weft_array *ry = weft_array_slice(y, "::-1, ::-1");
  weft_array *p = weft_array_mul(x, ry);
  weft_array *c = weft_array_cos(p);
  weft_array *s = weft_array_add(c, x);
  weft_array_free(x);
  weft_array_free(y);
  weft_array_free(ry);
  weft_array_free(p);
  weft_array_free(c);
  return s;
}

static void test_schedulers_bit_identical(void **state) {
  (void)state;
  double want[3] = {0};
  const struct {
    weft_scheduler s;
    int workers;
  } runs[] = {{WEFT_SCHED_SYNC, 1},    {WEFT_SCHED_THREADS, 1},
              {WEFT_SCHED_THREADS, 2}, {WEFT_SCHED_THREADS, 7},
              {WEFT_SCHED_PROCS, 2}};
  double rows0[300];
  for (size_t k = 0; k < NELEM(runs); k++) {
    if (runs[k].s == WEFT_SCHED_PROCS && (TU_TSAN || TU_ASAN))
      continue; /* worker processes are tested by test_procs */
    weft_graph *g = weft_graph_new();
    weft_array *s = mixed(g);
    weft_reduce_opts ro = {false, 3, 0};
    weft_array *sum = weft_array_reduce(WEFT_RED_SUM, s, WEFT_AXES_ALL, &ro);
    weft_array *var = weft_array_reduce(WEFT_RED_VAR, s, WEFT_AXES_ALL, NULL);
    weft_array *rm = weft_array_reduce(WEFT_RED_MEAN, s, WEFT_AXES(1), &ro);
    weft_array *mx = weft_array_reduce(WEFT_RED_ARGMAX, s, WEFT_AXES_ALL, NULL);
    weft_compute_opts o;
    weft_compute_opts_init(&o);
    o.ignore_env = 1;
    o.scheduler = runs[k].s;
    o.workers = runs[k].workers;
    double got[3], rows[300];
    assert_ok(weft_array_compute_scalar(sum, &got[0], &o), g);
    assert_ok(weft_array_compute_scalar(var, &got[1], &o), g);
    assert_ok(weft_array_compute_scalar(mx, &got[2], &o), g);
    assert_ok(weft_array_compute_buffer(rm, rows, sizeof rows, &o), g);
    if (k == 0) {
      memcpy(want, got, sizeof want);
      memcpy(rows0, rows, sizeof rows);
    } else {
      for (int q = 0; q < 3; q++)
        assert_double_exact(got[q], want[q]);
      assert_memory_equal(rows, rows0, sizeof rows);
    }
    weft_array_free(s);
    weft_array_free(sum);
    weft_array_free(var);
    weft_array_free(rm);
    weft_array_free(mx);
    weft_graph_free(g);
  }
}

/* ---- fused and materialized agree ---- */

static void test_fused_vs_materialized(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_array *s = mixed(g);
  weft_array *m = weft_array_materialize(s);
  weft_array *a = weft_array_mean(s, WEFT_AXES_ALL);
  weft_array *b = weft_array_mean(m, WEFT_AXES_ALL);
  weft_array *ra = weft_array_reduce(WEFT_RED_STD, s, WEFT_AXES(0), NULL);
  weft_array *rb = weft_array_reduce(WEFT_RED_STD, m, WEFT_AXES(0), NULL);
  double x, y, ca[200], cb[200];
  assert_ok(weft_array_compute_scalar(a, &x, NULL), g);
  assert_ok(weft_array_compute_scalar(b, &y, NULL), g);
  assert_double_exact(x, y);
  assert_ok(weft_array_compute_buffer(ra, ca, sizeof ca, NULL), g);
  assert_ok(weft_array_compute_buffer(rb, cb, sizeof cb, NULL), g);
  assert_memory_equal(ca, cb, sizeof ca);
  /* fused elementwise blocks equal the materialized ones */
  static double fa[300 * 200], fb[300 * 200];
  assert_ok(weft_array_compute_buffer(s, fa, sizeof fa, NULL), g);
  assert_ok(weft_array_compute_buffer(m, fb, sizeof fb, NULL), g);
  assert_memory_equal(fa, fb, sizeof fa);
  /* and a plain loop over the stored values gives the mean to rounding */
  double plain = 0;
  for (size_t i = 0; i < NELEM(fa); i++)
    plain += fa[i];
  plain /= (double)NELEM(fa);
  assert_true(fabs(plain - x) <= 1e-12 * (fabs(plain) + 1));
  weft_array *list[] = {s, m, a, b, ra, rb};
  for (size_t k = 0; k < NELEM(list); k++)
    weft_array_free(list[k]);
  weft_graph_free(g);
}

/* ---- random values ---- */

static void test_random(void **state) {
  (void)state;
  /* Random123's known-answer vectors for Philox-4x32-10 */
  extern void weft__philox4x32(const uint32_t ctr[4], const uint32_t key[2],
                               uint32_t out[4]);
  uint32_t out[4];
  weft__philox4x32((uint32_t[4]){0, 0, 0, 0}, (uint32_t[2]){0, 0}, out);
  assert_int_equal(out[0], 0x6627e8d5u);
  assert_int_equal(out[1], 0xe169c58du);
  assert_int_equal(out[2], 0xbc57ac4cu);
  assert_int_equal(out[3], 0x9b00dbd8u);
  weft__philox4x32((uint32_t[4]){0xffffffffu, 0xffffffffu, 0xffffffffu,
                                 0xffffffffu},
                   (uint32_t[2]){0xffffffffu, 0xffffffffu}, out);
  assert_int_equal(out[0], 0x408f276du);
  assert_int_equal(out[1], 0x41c83b0eu);
  assert_int_equal(out[2], 0xa20bc7c6u);
  assert_int_equal(out[3], 0x6d5451fdu);
  weft__philox4x32((uint32_t[4]){0x243f6a88u, 0x85a308d3u, 0x13198a2eu,
                                 0x03707344u},
                   (uint32_t[2]){0xa4093822u, 0x299f31d0u}, out);
  assert_int_equal(out[0], 0xd16cfe09u);
  assert_int_equal(out[1], 0x94fdccebu);
  assert_int_equal(out[2], 0x5001e420u);
  assert_int_equal(out[3], 0x24126ea1u);

  /* the same values whatever the chunks */
  static double u1[97 * 61], u2[97 * 61], n1[97 * 61], n2[97 * 61];
  weft_graph *g = weft_graph_new();
  weft_array *a = weft_random_uniform(g, 5, 2, 3, WEFT_SHAPE(97, 61), WEFT_CHUNKS(10, 7));
  weft_array *b = weft_random_uniform(g, 5, 2, 3, WEFT_SHAPE(97, 61), WEFT_CHUNKS_WHOLE);
  weft_array *c = weft_random_normal(g, 9, 0, 1, WEFT_SHAPE(97, 61), WEFT_CHUNKS(96, 2));
  weft_array *d = weft_random_normal(g, 9, 0, 1, WEFT_SHAPE(97, 61), WEFT_CHUNKS(1, 61));
  assert_ok(weft_array_compute_buffer(a, u1, sizeof u1, NULL), g);
  assert_ok(weft_array_compute_buffer(b, u2, sizeof u2, NULL), g);
  assert_ok(weft_array_compute_buffer(c, n1, sizeof n1, NULL), g);
  assert_ok(weft_array_compute_buffer(d, n2, sizeof n2, NULL), g);
  assert_memory_equal(u1, u2, sizeof u1);
  assert_memory_equal(n1, n2, sizeof n1);
  /* math functions too: a value never depends on its place in a tile */
  static double c1[97 * 61], c2[97 * 61];
  weft_array *cosa = weft_array_cos(a), *cosb = weft_array_cos(b);
  weft_array *ca = weft_array_exp(cosa);
  weft_array *cb = weft_array_exp(cosb);
  assert_ok(weft_array_compute_buffer(ca, c1, sizeof c1, NULL), g);
  assert_ok(weft_array_compute_buffer(cb, c2, sizeof c2, NULL), g);
  assert_memory_equal(c1, c2, sizeof c1);
  for (size_t i = 0; i < NELEM(c1); i++)
    assert_true(fabs(c1[i] - exp(cos(u1[i]))) <= 4e-16 * c1[i] * 4);
  weft_array_free(ca);
  weft_array_free(cb);
  weft_array_free(cosa);
  weft_array_free(cosb);
  /* in range, mean and spread as expected */
  double su = 0, sn = 0, sn2 = 0;
  for (size_t i = 0; i < NELEM(u1); i++) {
    assert_true(u1[i] >= 2 && u1[i] < 3);
    su += u1[i];
    sn += n1[i];
    sn2 += n1[i] * n1[i];
  }
  size_t N = NELEM(u1);
  assert_true(fabs(su / (double)N - 2.5) < 0.02);
  assert_true(fabs(sn / (double)N) < 0.05);
  assert_true(fabs(sn2 / (double)N - 1) < 0.05);
  /* every element: Philox(counter i / 2, key 5), half i % 2 (the vector
   * path gives the scalar function's bits) */
  for (uint64_t i = 0; i < NELEM(u1); i++) {
    weft__philox4x32((uint32_t[4]){(uint32_t)(i >> 1), 0, 0, 0},
                     (uint32_t[2]){5, 0}, out);
    uint64_t bits = (i & 1) ? (out[2] | (uint64_t)out[3] << 32)
                            : (out[0] | (uint64_t)out[1] << 32);
    assert_double_exact(u1[i], 2 + 1.0 * ((double)(bits >> 11) * 0x1p-53));
  }
  /* element 0 of seed 5 is Philox(counter 0, key 5)'s first 64 bits */
  weft__philox4x32((uint32_t[4]){0, 0, 0, 0}, (uint32_t[2]){5, 0}, out);
  double u0 = 2 + (double)((out[0] | (uint64_t)out[1] << 32) >> 11) * 0x1p-53;
  assert_double_exact(u1[0], u0);
  weft_array *l[] = {a, b, c, d};
  for (size_t k = 0; k < NELEM(l); k++)
    weft_array_free(l[k]);
  weft_graph_free(g);
}

/* ---- the big mean in little memory ---- */

static long max_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static void test_big_mean_memory(void **state) {
  (void)state;
  int64_t rows = TU_ASAN || TU_TSAN ? 20000 : 200000;
  weft_graph *g = weft_graph_new();
  weft_array *a = weft_ones(g, WEFT_F64, WEFT_SHAPE(rows, 4000), WEFT_CHUNKS(1000, 1000));
  weft_array *r = weft_array_slice(a, "::-1, ::-1");
  weft_array *p = weft_array_mul(a, r);
  weft_array *m = weft_array_mean(p, WEFT_AXES_ALL);
  weft_array *c = weft_array_cos(a);
  weft_array *c2 = weft_array_op2s(WEFT_AOP_POW, c, 2);
  weft_array *rm = weft_array_mean(c2, WEFT_AXES(1));
  long before = max_rss_kb();
  double v;
  assert_ok(weft_array_compute_scalar(m, &v, NULL), g);
  assert_double_exact(v, 1.0);
  double *out = malloc((size_t)rows * sizeof *out);
  assert_ok(weft_array_compute_buffer(rm, out, (size_t)rows * sizeof *out, NULL), g);
  double want = cos(1.0) * cos(1.0);
  for (int64_t i = 0; i < rows; i++)
    assert_true(fabs(out[i] - want) < 1e-15);
  free(out);
  long grown = max_rss_kb() - before;
  /* the array is 6.4 GB (640 MB under sanitizers); the computes may add a
   * few chunk-sized scratch buffers per worker, no more */
  assert_le(grown, 64 * 1024);
  weft_array *l[] = {a, r, p, m, c, c2, rm};
  for (size_t k = 0; k < NELEM(l); k++)
    weft_array_free(l[k]);
  weft_graph_free(g);
}

/* ---- user kernels, callbacks, repr ---- */

static int twice(weft_task_ctx *ctx, const weft_value *args, size_t n,
                 weft_value *out) {
  weft_chunk_info c;
  if (n != 2 || weft_chunk_get(&args[0], &c) || c.dtype != WEFT_F64)
    return weft_fail(ctx, "twice wants a float64 chunk");
  double k = args[1].as.d, *d;
  if (weft_chunk_new(out, WEFT_F64, c.ndim, c.shape, (void **)&d))
    return weft_fail(ctx, "out of memory");
  for (size_t i = 0; i < c.count; i++)
    d[i] = ((const double *)c.data)[i] * k;
  return 0;
}
WEFT_REGISTER_ARITY(twice, 2);

/* block (i, j) of a 2-d array: i * 100 + j everywhere */
static int block_id(weft_task_ctx *ctx, const weft_value *args, size_t n,
                    weft_value *out) {
  (void)n;
  const weft_value *idx = &args[0];
  int64_t i = weft_list_get(idx, 0)->as.i, j = weft_list_get(idx, 1)->as.i;
  int64_t shape[2] = {i == 1 ? 2 : 3, j == 0 ? 4 : 1};
  if (args[2].type == WEFT_T_INT && args[2].as.i == 1 && i == 1 && j == 1)
    shape[0] = 5; /* a wrong block, on request */
  int32_t *d;
  if (weft_chunk_new(out, WEFT_I32, 2, shape, (void **)&d))
    return weft_fail(ctx, "out of memory");
  for (int k = 0; k < shape[0] * shape[1]; k++)
    d[k] = (int32_t)(i * 100 + j);
  return 0;
}
WEFT_REGISTER(block_id);

static int sum_blocks(const weft_array_block *blk, void *ud) {
  double *acc = ud;
  const double *d = blk->chunk.data;
  for (size_t i = 0; i < blk->chunk.count; i++)
    acc[blk->index[0]] += d[i];
  return 0;
}
static int stop_at_two(const weft_array_block *blk, void *ud) {
  (void)ud;
  return blk->index[0] == 2;
}

static void test_kernels_and_callbacks(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_array *a = weft_arange(g, WEFT_F64, 0, 20, 1, WEFT_CHUNKS(6));
  weft_array *t = weft_array_map_blocks(WEFT_FN(twice), WEFT_F64, 1, &a,
                                        weft_double(1.5));
  double v;
  weft_array *ts = weft_array_sum(t, WEFT_AXES_ALL);
  assert_ok(weft_array_compute_scalar(ts, &v, NULL), g);
  assert_double_exact(v, 1.5 * 190);
  weft_array_free(ts);
  double acc[4] = {0};
  assert_ok(weft_array_compute_blocks(t, sum_blocks, acc, NULL), g);
  assert_double_exact(acc[0], 1.5 * 15);
  assert_double_exact(acc[3], 1.5 * (18 + 19));
  assert_rc(WEFT_ECANCELED, weft_array_compute_blocks(t, stop_at_two, NULL, NULL), g);
  /* from_blocks: shape (5, 5) with chunks ((3, 2), (4, 1)) */
  weft_chunks ch = WEFT_CHUNKS(-1, -1);
  weft_chunks_axis(&ch, 0, 2, (const int64_t[]){3, 2});
  weft_chunks_axis(&ch, 1, 2, (const int64_t[]){4, 1});
  weft_array *fb = weft_array_from_blocks(g, WEFT_FN(block_id), WEFT_I32,
                                          WEFT_SHAPE(5, 5), ch, weft_int(0));
  int32_t buf[25];
  assert_ok(weft_array_compute_buffer(fb, buf, sizeof buf, NULL), g);
  assert_int_equal(buf[0], 0);
  assert_int_equal(buf[4], 1);
  assert_int_equal(buf[3 * 5 + 0], 100);
  assert_int_equal(buf[4 * 5 + 4], 101);
  char repr[300];
  weft_array_format(fb, repr, sizeof repr);
  assert_string_equal(repr, "weft_array<shape=(5, 5) int32 chunks=(3, 4) 4 "
                            "chunks 8 tasks 100 B (chunk 48 B)>");
  weft_array *l[] = {a, t, fb};
  for (size_t k = 0; k < NELEM(l); k++)
    weft_array_free(l[k]);
  weft_graph_free(g);
  /* a block of the wrong shape fails the compute, naming it */
  g = weft_graph_new();
  fb = weft_array_from_blocks(g, WEFT_FN(block_id), WEFT_I32, WEFT_SHAPE(5, 5),
                              ch, weft_int(1));
  assert_rc(WEFT_ETASK, weft_array_compute_buffer(fb, buf, sizeof buf, NULL), g);
  assert_contains(weft_graph_error(g), "int32 chunk of shape (5, 1); the block is int32 (2, 1)");
  weft_array_free(fb);
  weft_graph_free(g);
  /* the seed's repr */
  g = weft_graph_new();
  a = weft_ones(g, WEFT_F64, WEFT_SHAPE(200000, 4000), WEFT_CHUNKS(1000, 1000));
  weft_array_format(a, repr, sizeof repr);
  assert_string_equal(repr, "weft_array<shape=(200000, 4000) float64 "
                            "chunks=(1000, 1000) 800 chunks 800 tasks 6.40 GB "
                            "(chunk 8.00 MB)>");
  /* pictures: a big array by layer, a small one task by task */
  weft_array *r = weft_array_slice(a, "::-1, ::-1");
  weft_array *p = weft_array_mul(a, r);
  weft_array *m = weft_array_mean(p, WEFT_AXES_ALL);
  assert_ok(weft_array_visualize(m, "big.dot", NULL), g);
  char dot[4096];
  read_whole("big.dot", dot, sizeof dot);
  assert_contains(dot, "916 tasks");
  assert_contains(dot, "ones\\n(200000, 4000) float64\\n800 chunks (fused)");
  assert_contains(dot, "multiply");
  assert_contains(dot, "mean\\n() float64\\n1 chunk\"");
  weft_array *small = weft_ones(g, WEFT_F64, WEFT_SHAPE(4, 4), WEFT_CHUNKS(2, 2));
  weft_array *ss = weft_array_sum(small, WEFT_AXES_ALL);
  assert_ok(weft_array_visualize(ss, "small.dot", NULL), g);
  read_whole("small.dot", dot, sizeof dot);
  assert_contains(dot, "array.partial");
  assert_contains(dot, "array.combine");
  weft_array *l2[] = {r, p, m, small, ss};
  for (size_t k = 0; k < NELEM(l2); k++)
    weft_array_free(l2[k]);
  weft_array_free(a);
  weft_graph_free(g);
}

/* ---- a million chunks ---- */

static void test_million_chunks(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  /* the builder's CPU time (one thread), which a busy machine does not
   * inflate as it does wall time */
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  double t0 = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
  weft_array *a = weft_ones(g, WEFT_F64, WEFT_SHAPE(1000, 1000), WEFT_CHUNKS(1, 1));
  weft_array *s = weft_array_sum(a, WEFT_AXES_ALL);
  size_t n;
  weft_node *const *nodes;
  assert_ok(weft_array_blocks(s, &n, &nodes), g);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  double built = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 - t0;
  assert_true(weft_graph_size(g) > 1000000);
  if (!TU_ASAN && !TU_TSAN)
    assert_true(built < 1.5); /* about 0.3 s here */
  double v;
  assert_ok(weft_array_compute_scalar(s, &v, NULL), g);
  assert_double_exact(v, 1e6);
  weft_array_free(a);
  weft_array_free(s);
  weft_graph_free(g);
}

/* ---- errors ---- */

static void expect_error(const char *text, const char *needle) {
  weft_graph *g = weft_graph_new();
  weft_array *a = weft_ones(g, WEFT_F64, WEFT_SHAPE(7, 11), WEFT_CHUNKS(3, 4));
  weft_array *b = weft_ones(g, WEFT_F64, WEFT_SHAPE(3), WEFT_CHUNKS(2));
  weft_array *m = weft_ones(g, WEFT_BOOL, WEFT_SHAPE(3), WEFT_CHUNKS(2));
  const char *names[] = {"a", "b", "m"};
  weft_array *vars[] = {a, b, m};
  weft_array *r = NULL;
  char err[512];
  int col;
  int rc = weft_array_parse(g, text, 3, names, vars, &r, err, sizeof err, &col);
  if (!rc)
    fail_msg("'%s' was accepted", text);
  if (!strstr(err, needle) && !strstr(weft_graph_error(g), needle))
    fail_msg("'%s': message '%s' / '%s' lacks '%s'", text, err,
             weft_graph_error(g), needle);
  weft_array_free(a);
  weft_array_free(b);
  weft_array_free(m);
  weft_graph_free(g);
}

/* Chunks of sizes whose pool slot (pool.c) once came out negative: 160000
 * bytes wrote outside the pool's lists. Every element of 2 * x against a
 * loop over x, twice (the second time from reused buffers). */
static void test_pool_sizes(void **state) {
  (void)state;
  static const int64_t cols[] = {100, 125, 333};
  for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
    weft_graph *g = weft_graph_new();
    weft_array *x = weft_random_uniform(g, 3, 0, 1, WEFT_SHAPE(400, 2 * cols[k]),
                                        WEFT_CHUNKS(200, cols[k]));
    weft_array *two = weft_array_scalar(g, 2);
    weft_array *y = weft_array_mul(x, two);
    assert_non_null(y);
    size_t n = (size_t)(400 * 2 * cols[k]);
    double *px = malloc(n * sizeof *px), *py = malloc(n * sizeof *py);
    assert_true(px && py);
    assert_ok(weft_array_compute_buffer(x, px, n * sizeof *px, NULL), g);
    for (int rep = 0; rep < 2; rep++) {
      assert_ok(weft_array_compute_buffer(y, py, n * sizeof *py, NULL), g);
      for (size_t i = 0; i < n; i++)
        assert_true(py[i] == 2 * px[i]);
    }
    free(px);
    free(py);
    weft_array_free(y);
    weft_array_free(two);
    weft_array_free(x);
    weft_graph_free(g);
  }
}

static void test_errors(void **state) {
  (void)state;
  expect_error("a + b", "could not be broadcast together with shapes (7, 11) (3,)");
  expect_error("a[::0]", "slice step cannot be zero");
  expect_error("a[1:2:x]", "bad index \"1:2:x\" at column 5 for shape (7, 11)");
  expect_error("a[7]", "index 7 is out of bounds for axis 0 with size 7");
  expect_error("a[0, -12]", "index -12 is out of bounds for axis 1 with size 11");
  expect_error("a[1, 2, 3]", "too many indices for array: array is 2-dimensional, but 3 were indexed");
  expect_error("a[..., ...]", "single ellipsis");
  expect_error("a.sum(axis=2)", "axis 2 is out of bounds for array of dimension 2");
  expect_error("a.sum(axis=(0, 0))", "duplicate value in 'axis'");
  expect_error("a.argmax(axis=(0, 1, 0))", "duplicate");
  expect_error("a.reshape(77)", "weft_array_rechunk");
  expect_error("a.reshape(78)", "cannot reshape array of size 77");
  expect_error("a.rechunk(((3, 3), 4))", "chunks of axis 0 add up to 6, but shape (7, 11) has 7");
  expect_error("m - m", "subtract of two bool arrays");
  expect_error("np.cos(m)", "float16");
  expect_error("a.astype('float16')", "unknown dtype 'float16'");
  expect_error("a +", "unexpected end of the expression");
  expect_error("a.foo()", "unknown method 'foo'");
  expect_error("np.concatenate([a, b])", "all extents but axis 0 must match");
  expect_error("ones((2, -3))", "negative extent in shape (2, -3)");
  expect_error("zeros((0, 3)).max()", "zero-size array");
  expect_error("i & 3", "numpy's '&' is bitwise on integers");
  expect_error("a.sum(dtype='float32')", "sum() got an unexpected keyword argument 'dtype'");
  expect_error("np.mean(a, foo=1)", "mean() got an unexpected keyword argument 'foo'");
  expect_error("np.ones(3, foo=1)", "ones() got an unexpected keyword argument 'foo'");
  expect_error("a.astype(3)", "a dtype is a name");
  expect_error("np.clip(a, None, None)", "clip: one of min or max must be given");
  expect_error("m ** 2", "power of a bool array and a Python int gives int8");
  expect_error("a.shape", "attribute '.shape' is not supported (only .T)");
  expect_error("a.transpose((1, 0, 2))", "3 axes given for the 2 axes");
  /* from C: unsupported dtypes, chunks that do not fit */
  weft_graph *g = weft_graph_new();
  {
    weft_array *x = weft_ones(g, WEFT_F64, WEFT_SHAPE(7, 5), WEFT_CHUNKS(3, 2));
    weft_array *y = weft_ones(g, WEFT_F64, WEFT_SHAPE(7, 5), WEFT_CHUNKS(2, 2));
    weft_array *in[2] = {x, y};
    assert_null(weft_array_map_blocks(WEFT_FN(twice), WEFT_F64, 2, in, weft_double(1)));
    assert_contains(weft_graph_error(g),
                    "input 1 (shape (7, 5)) has chunks (2, 2, 2, 1) on axis 0, input 0 (3, 3, 1)");
    weft_array_free(x);
    weft_array_free(y);
    weft_graph_free(g);
    g = weft_graph_new();
  }
  assert_null(weft_ones(g, WEFT_U8, WEFT_SHAPE(3), WEFT_CHUNKS(1)));
  assert_contains(weft_graph_error(g), "dtype uint8 is not supported");
  weft_graph_free(g);
  g = weft_graph_new();
  assert_null(weft_ones(g, WEFT_F64, WEFT_SHAPE(3, 4), WEFT_CHUNKS(1)));
  assert_contains(weft_graph_error(g), "chunks have 1 axes but shape (3, 4) has 2");
  weft_graph_free(g);
  g = weft_graph_new();
  weft_array *a = weft_ones(g, WEFT_F64, WEFT_SHAPE(3, 4), WEFT_CHUNKS(2, 2));
  double v;
  assert_rc(WEFT_EINVAL, weft_array_compute_scalar(a, &v, NULL), g);
  assert_contains(weft_graph_error(g), "shape (3, 4), not one element");
  weft_array_free(a);
  weft_graph_free(g);
  /* an integer power with a negative exponent fails the task */
  g = weft_graph_new();
  a = weft_arange(g, WEFT_I64, 1, 5, 1, WEFT_CHUNKS(2));
  weft_array *e = weft_arange(g, WEFT_I64, -1, 3, 1, WEFT_CHUNKS(2));
  weft_array *p = weft_array_op2(WEFT_AOP_POW, a, e);
  int64_t out[4];
  assert_rc(WEFT_ETASK, weft_array_compute_buffer(p, out, sizeof out, NULL), g);
  assert_contains(weft_graph_error(g), "negative integer powers");
  weft_array_free(a);
  weft_array_free(e);
  weft_array_free(p);
  weft_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_numpy),
      cmocka_unit_test(test_schedulers_bit_identical),
      cmocka_unit_test(test_fused_vs_materialized),
      cmocka_unit_test(test_random),
      cmocka_unit_test(test_big_mean_memory),
      cmocka_unit_test(test_kernels_and_callbacks),
      cmocka_unit_test(test_million_chunks),
      cmocka_unit_test(test_pool_sizes),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
