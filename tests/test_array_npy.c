/* test_array_npy.c - chunked arrays and .npy files (weft_array_from_npy,
 * weft_array_to_npy, load() in weft_array_parse) against numpy.
 *
 * numpy (Debian's python3-numpy, through tests/array_npy_rt.py) writes the
 * inputs with np.save: C-order float64, Fortran-order int32, big-endian
 * float64, bool. weft reads them memory-mapped with irregular chunks,
 * computes expressions of them (written once, as text both weft and numpy
 * evaluate) and stores each result chunk by chunk with weft_array_to_npy on
 * the sync, threads and procs schedulers; numpy then loads every result
 * and compares it with its own evaluation. Row chunks of a C-order file
 * must be views of the file's mapping (their addresses lie in a mapping of
 * that file in /proc/self/maps). Missing files, a dtype arrays lack, and an
 * unwritable output give their code and a message naming the file. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int helper(const char *args) {
  const char *src = getenv("WEFT_SOURCE_DIR");
  assert_non_null(src);
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/array_npy_rt.py %s",
           src, args);
  int st = system(cmd);
  if (st != 0)
    print_error("`%s` failed (status %d): is python3-numpy installed? "
                "(scripts/deps.sh build)\n",
                cmd, st);
  return st;
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/weft_array_npy_XXXXXX");
  if (!mkdtemp(dir))
    return -1;
  char args[200];
  snprintf(args, sizeof args, "make %s", dir);
  return helper(args) ? -1 : 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) ? -1 : 0;
}

static weft_array *input(weft_graph *g, const char *name, weft_chunks c) {
  char path[200];
  snprintf(path, sizeof path, "%s/%s.npy", dir, name);
  weft_array *a = weft_array_from_npy(g, path, c);
  if (!a)
    print_error("from_npy %s: %s\n", path, weft_graph_error(g));
  assert_non_null(a);
  return a;
}

/* Expressions in the common part of numpy's and weft_array_parse's
 * language, of the inputs a, f, w, b. */
static const char *const exprs[] = {
    "a",
    "f",
    "w",
    "b",
    "(np.cos(a) ** 2 + a[::-1, ::-1]).sum(axis=0)",
    "a.mean(axis=1)",
    "f.T * 3 - 7",
    "(f // 7).sum(axis=1)",
    "w[::-2] * 2.5",
    "b & (a[:9, :8] > 0)",
    "a.T[5:30, 1:50:3]",
};
#define NEXPR (sizeof exprs / sizeof exprs[0])

static void round_trip(weft_scheduler sched, const char *tag) {
  weft_graph *g = weft_graph_new();
  assert_non_null(g);
  weft_chunks ca = WEFT_CHUNKS(10, 8);
  static const int64_t rows[] = {1, 12, 10};
  weft_chunks cf = WEFT_CHUNKS(-1, 4);
  weft_chunks_axis(&cf, 0, 3, rows);
  weft_array *in[4] = {input(g, "a", ca), input(g, "f", cf),
                       input(g, "w", WEFT_CHUNKS(6)),
                       input(g, "b", WEFT_CHUNKS(4, 5))};
  const char *names[4] = {"a", "f", "w", "b"};
  char cases[200];
  snprintf(cases, sizeof cases, "%s/cases_%s.txt", dir, tag);
  FILE *cf_out = fopen(cases, "w");
  assert_non_null(cf_out);
  weft_compute_opts co;
  weft_compute_opts_init(&co);
  co.scheduler = sched;
  co.workers = 2;
  for (size_t i = 0; i < NEXPR; i++) {
    weft_array *r = NULL;
    char err[400];
    int col;
    int rc = weft_array_parse(g, exprs[i], 4, names, in, &r, err, sizeof err,
                              &col);
    if (rc)
      print_error("%s: %s (column %d)\n", exprs[i], err, col);
    assert_int_equal(rc, 0);
    char out[200];
    snprintf(out, sizeof out, "%s/%s_%zu.npy", dir, tag, i);
    assert_ok(weft_array_to_npy(r, out, &co), g);
    fprintf(cf_out, "%s_%zu.npy %s\n", tag, i, exprs[i]);
    weft_array_free(r);
  }
  fclose(cf_out);
  for (int k = 0; k < 4; k++)
    weft_array_free(in[k]);
  weft_graph_free(g);
  char args[400];
  snprintf(args, sizeof args, "check %s %s", dir, cases);
  assert_int_equal(helper(args), 0);
}

static void test_round_trip_sync(void **state) {
  (void)state;
  round_trip(WEFT_SCHED_SYNC, "sync");
}
static void test_round_trip_threads(void **state) {
  (void)state;
  round_trip(WEFT_SCHED_THREADS, "threads");
}
static void test_round_trip_procs(void **state) {
  (void)state;
  round_trip(WEFT_SCHED_PROCS, "procs");
}

/* Does [p, p + n) lie in a mapping of path (/proc/self/maps)? */
static bool in_mapping_of(const void *p, size_t n, const char *path) {
  FILE *m = fopen("/proc/self/maps", "r");
  assert_non_null(m);
  char line[1024];
  bool found = false;
  uintptr_t a = (uintptr_t)p;
  while (!found && fgets(line, sizeof line, m)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && strstr(line, path))
      found = a >= lo && a + n <= hi;
  }
  fclose(m);
  return found;
}

static void test_row_chunks_are_views(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  weft_array *a = input(g, "a", WEFT_CHUNKS(10, -1));
  weft_array *f = input(g, "f", WEFT_CHUNKS(5, -1));
  size_t n, nf;
  weft_node *const *nodes, *const *fnodes;
  assert_ok(weft_array_blocks(a, &n, &nodes), g);
  assert_ok(weft_array_blocks(f, &nf, &fnodes), g);
  assert_int_equal(n, 6);
  char path[200];
  snprintf(path, sizeof path, "%s/a.npy", dir);
  for (size_t b = 0; b < n; b++) {
    weft_value v;
    assert_ok(weft_compute1(g, nodes[b], &v, NULL), g);
    weft_chunk_info c;
    assert_int_equal(weft_chunk_get(&v, &c), 0);
    assert_i64(c.shape[0], b < 5 ? 10 : 3);
    assert_i64(c.shape[1], 37);
    assert_true(in_mapping_of(c.data, c.count * 8, path));
    weft_value_release(&v);
  }
  /* a Fortran-order file is copied: its chunks are not in its mapping */
  snprintf(path, sizeof path, "%s/f.npy", dir);
  weft_value v;
  assert_ok(weft_compute1(g, fnodes[0], &v, NULL), g);
  weft_chunk_info c;
  assert_int_equal(weft_chunk_get(&v, &c), 0);
  assert_false(in_mapping_of(c.data, c.count * 4, path));
  weft_value_release(&v);
  weft_array_free(a);
  weft_array_free(f);
  weft_graph_free(g);
}

static void test_errors(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  char path[200];
  snprintf(path, sizeof path, "%s/missing.npy", dir);
  assert_null(weft_array_from_npy(g, path, WEFT_CHUNKS_WHOLE));
  assert_contains(weft_graph_error(g), "missing.npy");
  weft_graph_free(g);

  g = weft_graph_new();
  snprintf(path, sizeof path, "%s/i8.npy", dir);
  assert_null(weft_array_from_npy(g, path, WEFT_CHUNKS_WHOLE));
  assert_int_equal(weft_graph_status(g), WEFT_ENOTSUP);
  assert_contains(weft_graph_error(g), "i8.npy holds int8");
  weft_graph_free(g);

  g = weft_graph_new();
  snprintf(path, sizeof path, "%s/a.npy", dir);
  assert_null(weft_array_from_npy(g, path, WEFT_CHUNKS(10)));
  assert_contains(weft_graph_error(g), "chunks have 1 axes");
  weft_graph_free(g);

  /* an output that cannot be made: the error names it, nothing is left */
  g = weft_graph_new();
  weft_array *o = weft_ones(g, WEFT_F64, WEFT_SHAPE(4, 4), WEFT_CHUNKS(2, 2));
  snprintf(path, sizeof path, "%s/no/such/dir/out.npy", dir);
  assert_true(weft_array_to_npy(o, path, NULL) < 0);
  assert_contains(weft_graph_error(g), "no/such/dir/out.npy");
  weft_array_free(o);
  weft_graph_free(g);

  /* load() in the text: the file's error at the file's column */
  g = weft_graph_new();
  char text[300], err[400];
  int col = 0;
  weft_array *r = NULL;
  snprintf(text, sizeof text, "np.load('%s/missing.npy', chunks=3) + 1", dir);
  assert_int_not_equal(
      weft_array_parse(g, text, 0, NULL, NULL, &r, err, sizeof err, &col), 0);
  assert_contains(err, "missing.npy");
  assert_int_equal(col, 9);
  weft_graph_free(g);
}

/* load() with the default chunks and a chunk count the shape fixes */
static void test_parse_load(void **state) {
  (void)state;
  weft_graph *g = weft_graph_new();
  char text[300], err[400];
  int col = 0;
  weft_array *r = NULL;
  snprintf(text, sizeof text, "load('%s/a.npy', chunks=(20, 10))", dir);
  assert_int_equal(
      weft_array_parse(g, text, 0, NULL, NULL, &r, err, sizeof err, &col), 0);
  assert_int_equal(weft_array_numblocks(r, 0), 3);
  assert_int_equal(weft_array_numblocks(r, 1), 4);
  assert_int_equal(weft_array_dtype(r), WEFT_F64);
  weft_array_free(r);
  snprintf(text, sizeof text, "np.load(\"%s/w.npy\").sum()", dir);
  assert_int_equal(
      weft_array_parse(g, text, 0, NULL, NULL, &r, err, sizeof err, &col), 0);
  double s, want = 0;
  assert_ok(weft_array_compute_scalar(r, &s, NULL), g);
  weft_array_free(r);
  /* the same sum from the file read whole (weft_npy_load, big-endian
   * swapped) in a plain loop */
  snprintf(text, sizeof text, "%s/w.npy", dir);
  weft_value whole;
  weft_errmsg e;
  assert_int_equal(weft_npy_load(text, &whole, &e), 0);
  weft_chunk_info c;
  assert_int_equal(weft_chunk_get(&whole, &c), 0);
  assert_int_equal(c.count, 41);
  for (size_t i = 0; i < c.count; i++)
    want += ((const double *)c.data)[i];
  weft_value_release(&whole);
  assert_true(fabs(s - want) <= 1e-12 * fabs(want));
  weft_graph_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_sync),
      cmocka_unit_test(test_round_trip_threads),
      cmocka_unit_test(test_round_trip_procs),
      cmocka_unit_test(test_row_chunks_are_views),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_parse_load),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
