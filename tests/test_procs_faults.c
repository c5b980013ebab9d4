/* test_procs_faults.c - behaviour of worker processes that no other test
 * exercised (issue 13: each was shown by a planted defect that passed):
 * weft_map and weft_map_reduce on a procs pool when a worker dies inside
 * an item (retried by default, WEFT_EKILLED when the retries run out, and
 * weft_map_opts.retries deciding how many times), errbuf truncation of
 * the map's message, the pool's shm_threshold (which results travel
 * through shared memory, seen in /proc/self/maps) and its start_timeout_ms
 * (workers that never greet the pool make weft_procs_new fail in that
 * time, not in the default 10 s).
 *
 * A worker "dies" by _exit(3) inside the item, so that no sanitizer has
 * anything to say about it; items that die only once leave a marker file
 * in the test's own directory. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h> /* after stdarg.h, stddef.h and setjmp.h */

#include "sched/procs/impl.h" /* weft__procs_new: the start-up message */
#include "procs_util.h"

/* ---- item functions (run in the workers) ---- */

/* x (int) -> 2x; "always" -> the worker dies; any other string names a
 * marker file: the first call creates it and dies, later calls return
 * 12345. */
static int item(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  (void)ctx, (void)n;
  if (a[0].type == WEFT_T_INT) {
    *out = weft_int(2 * a[0].as.i);
    return 0;
  }
  const char *s = weft_value_str(&a[0]);
  if (strcmp(s, "always") == 0)
    _exit(3);
  int fd = open(s, O_CREAT | O_EXCL | O_WRONLY, 0600);
  if (fd >= 0)
    _exit(3); /* the first time: die, leaving the marker */
  *out = weft_int(12345);
  return 0;
}
WEFT_REGISTER_ARITY(item, 1);

static int add2(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  (void)ctx, (void)n;
  *out = weft_int(a[0].as.i + a[1].as.i);
  return 0;
}
WEFT_REGISTER_ARITY(add2, 2);

/* x -> fails with a long message naming x (for errbuf). */
static int fails(weft_task_ctx *ctx, const weft_value *a, size_t n,
                 weft_value *out) {
  (void)n, (void)out;
  return weft_fail(ctx,
                   "item %lld failed on purpose, with a message long "
                   "enough to be cut",
                   (long long)a[0].as.i);
}
WEFT_REGISTER_ARITY(fails, 1);

/* n -> n bytes, byte k = (k * 7 + n) & 0xff. */
static int make_bytes(weft_task_ctx *ctx, const weft_value *a, size_t n,
                      weft_value *out) {
  (void)n;
  size_t len = (size_t)a[0].as.i;
  unsigned char *b = malloc(len ? len : 1);
  if (!b)
    return weft_fail(ctx, "no memory");
  for (size_t k = 0; k < len; k++)
    b[k] = (unsigned char)((k * 7 + len) & 0xff);
  int rc = weft_bytes_new(out, b, len);
  free(b);
  return rc;
}
WEFT_REGISTER_ARITY(make_bytes, 1);

/* ---- helpers ---- */

static weft_map_opts map_opts(weft_procs *pool, int retries, char *errbuf,
                              size_t size) {
  weft_map_opts o;
  weft_map_opts_init(&o);
  o.scheduler = WEFT_SCHED_PROCS;
  o.procs = pool;
  o.retries = retries;
  o.ignore_env = 1;
  o.batch_size = 8;
  o.errbuf = errbuf;
  o.errbuf_size = size;
  return o;
}

enum { N = 200, BAD = 77 };

/* inputs 0..N-1, item BAD replaced by the string s */
static void inputs_with(weft_value *in, const char *s) {
  for (int i = 0; i < N; i++)
    in[i] = weft_int(i);
  weft_value_release(&in[BAD]);
  assert_int_equal(weft_str_new(&in[BAD], s), 0);
}

static void release_all(weft_value *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    weft_value_release(&v[i]);
}

static void assert_all_none(const weft_value *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    assert_int_equal(v[i].type, WEFT_T_NONE);
}

/* ---- weft_map and weft_map_reduce when a worker dies ---- */

/* A worker that dies once inside the map: by default (retries -1: the
 * pool's 1) the batch runs again and every result is right; with retries 0
 * the map fails with WEFT_EKILLED and no result. All items go in one batch:
 * a worker that dies with several batches queued is charged for none of
 * them (each runs again alone, weft/procs.h), which would retry even with
 * retries 0. */
static void test_map_worker_dies_once(void **state) {
  (void)state;
  weft_procs *pool = new_pool(2);
  weft_value in[N], out[N];
  char marker[128], err[512];
  temp_name(marker, sizeof marker, "once");
  inputs_with(in, marker);
  weft_map_opts o = map_opts(pool, -1, err, sizeof err);
  o.batch_size = N;
  int rc = weft_map(WEFT_FN(item), N, in, out, &o);
  if (rc)
    print_error("weft_map: %s\n", err);
  assert_int_equal(rc, 0);
  assert_int_equal(access(marker, F_OK), 0); /* it did die once */
  for (int i = 0; i < N; i++)
    assert_i64(out[i].as.i, i == BAD ? 12345 : 2 * i);
  assert_string_equal(err, "");
  release_all(out, N);
  release_all(in, N);
  unlink(marker);

  temp_name(marker, sizeof marker, "once");
  inputs_with(in, marker);
  o = map_opts(pool, 0, err, sizeof err);
  o.batch_size = N;
  assert_rc(WEFT_EKILLED, weft_map(WEFT_FN(item), N, in, out, &o), NULL);
  assert_all_none(out, N);
  assert_contains(err, "killed its worker 1 time (last: exit status 3)");
  assert_int_equal(access(marker, F_OK), 0);
  release_all(in, N);
  unlink(marker);
  weft_procs_free(pool);
  assert_no_children();
}

/* An item that always kills its worker: weft_map_opts.retries decides how
 * many times it runs (retries + 1), then WEFT_EKILLED with no result. */
static void test_map_retries_option(void **state) {
  (void)state;
  weft_procs *pool = new_pool(2);
  weft_value in[N], out[N];
  char err[512];
  inputs_with(in, "always");
  const int tries[] = {0, 2, -1};
  const char *want[] = {"killed its worker 1 time (last: exit status 3)",
                        "killed its worker 3 times (last: exit status 3)",
                        "killed its worker 2 times (last: exit status 3)"};
  for (int k = 0; k < 3; k++) {
    weft_map_opts o = map_opts(pool, tries[k], err, sizeof err);
    assert_rc(WEFT_EKILLED, weft_map(WEFT_FN(item), N, in, out, &o), NULL);
    assert_all_none(out, N);
    assert_contains(err, want[k]);
  }
  /* the pool's own retries apply when the map's are -1 */
  weft_procs_free(pool);
  weft_procs_opts po;
  weft_procs_opts_init(&po);
  po.retries = 0;
  pool = new_pool_with(2, &po);
  weft_map_opts o = map_opts(pool, -1, err, sizeof err);
  assert_rc(WEFT_EKILLED, weft_map(WEFT_FN(item), N, in, out, &o), NULL);
  assert_contains(err, "killed its worker 1 time (last: exit status 3)");
  /* and the map's retries win over the pool's */
  o = map_opts(pool, 1, err, sizeof err);
  assert_rc(WEFT_EKILLED, weft_map(WEFT_FN(item), N, in, out, &o), NULL);
  assert_contains(err, "killed its worker 2 times (last: exit status 3)");
  release_all(in, N);
  weft_procs_free(pool);
  assert_no_children();
}

/* weft_map_reduce: the same, and the reduced sum checked. */
static void test_map_reduce_worker_dies(void **state) {
  (void)state;
  weft_procs *pool = new_pool(2);
  weft_value in[N], out;
  char marker[128], err[512];
  temp_name(marker, sizeof marker, "reduce");
  inputs_with(in, marker);
  weft_map_opts o = map_opts(pool, -1, err, sizeof err);
  o.batch_size = N; /* one batch: its death is charged (see above) */
  int rc = weft_map_reduce(WEFT_FN(item), WEFT_FN(add2), N, in, &out, &o);
  if (rc)
    print_error("weft_map_reduce: %s\n", err);
  assert_int_equal(rc, 0);
  int64_t want = 12345;
  for (int i = 0; i < N; i++)
    want += i == BAD ? 0 : 2 * i;
  assert_int_value(out, want);
  assert_int_equal(access(marker, F_OK), 0);
  weft_value_release(&out);
  release_all(in, N);
  unlink(marker);

  inputs_with(in, "always");
  o = map_opts(pool, 1, err, sizeof err);
  rc = weft_map_reduce(WEFT_FN(item), WEFT_FN(add2), N, in, &out, &o);
  assert_rc(WEFT_EKILLED, rc, NULL);
  assert_int_equal(out.type, WEFT_T_NONE);
  assert_contains(err, "killed its worker 2 times (last: exit status 3)");
  release_all(in, N);
  weft_procs_free(pool);
  assert_no_children();
}

/* ---- errbuf ---- */

/* The message is cut to errbuf_size - 1 characters and terminated; nothing
 * past errbuf_size is written. Threads and procs, map and map-reduce, an
 * item that fails and a call refused before it starts (a map function of
 * two arguments). */
static void test_errbuf_truncation(void **state) {
  (void)state;
  weft_procs *pool = new_pool(2);
  enum { M = 20 };
  weft_value in[M], out[M], red;
  for (int i = 0; i < M; i++)
    in[i] = weft_int(i);
  for (int c = 0; c < 8; c++) {
    int sched = c & 1, reduce = (c >> 1) & 1, refused = c >> 2;
    const weft_fn_info *fn = refused ? WEFT_FN(add2) : WEFT_FN(fails);
    int want = refused ? WEFT_EARITY : WEFT_ETASK;
    char full[512];
    weft_map_opts o = map_opts(sched ? pool : NULL, -1, full, sizeof full);
    if (!sched)
      o.scheduler = WEFT_SCHED_THREADS, o.workers = 2;
    o.batch_size = M; /* one batch: item 0 is the one that fails */
    int rc = reduce ? weft_map_reduce(fn, WEFT_FN(add2), M, in, &red, &o)
                    : weft_map(fn, M, in, out, &o);
    assert_rc(want, rc, NULL);
    assert_contains(full, refused ? "add2"
                                  : "item 0 failed on purpose, with a "
                                    "message long enough to be cut");
    size_t len = strlen(full);
    const size_t sizes[] = {1, 2, 17, len, len + 1, len + 2};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
      char buf[600];
      memset(buf, '#', sizeof buf);
      o.errbuf = buf;
      o.errbuf_size = sizes[k];
      rc = reduce ? weft_map_reduce(fn, WEFT_FN(add2), M, in, &red, &o)
                  : weft_map(fn, M, in, out, &o);
      assert_rc(want, rc, NULL);
      size_t keep = sizes[k] - 1 < len ? sizes[k] - 1 : len;
      assert_int_equal(strlen(buf), keep);
      assert_memory_equal(buf, full, keep);
      for (size_t j = sizes[k]; j < sizeof buf; j++)
        if (buf[j] != '#')
          fail_msg("errbuf_size %zu: byte %zu written", sizes[k], j);
    }
  }
  release_all(in, M);
  weft_procs_free(pool);
}

/* ---- shm_threshold ---- */

/* Whether p lies in a shared-memory mapping of a weft memfd. */
static bool in_memfd(const void *p) {
  FILE *f = fopen("/proc/self/maps", "r");
  assert_non_null(f);
  char line[512];
  bool found = false;
  uintptr_t a = (uintptr_t)p;
  while (!found && fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && a >= lo && a < hi)
      found = strstr(line, "memfd:weft-bytes") != NULL;
  }
  fclose(f);
  return found;
}

/* Computes make_bytes(len) on pool; checks the bytes; says whether they
 * came through shared memory. */
static bool via_shm(weft_procs *pool, size_t len) {
  weft_graph *g = weft_graph_new();
  weft_node *n = weft_call(g, make_bytes, (int64_t)len);
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.scheduler = WEFT_SCHED_PROCS;
  o.procs = pool;
  o.ignore_env = 1;
  weft_value v;
  assert_rc(0, weft_compute1(g, n, &v, &o), g);
  assert_int_equal(v.type, WEFT_T_BYTES);
  assert_int_equal(weft_value_len(&v), len);
  const unsigned char *b = weft_value_bytes(&v);
  for (size_t k = 0; k < len; k++)
    if (b[k] != (unsigned char)((k * 7 + len) & 0xff))
      fail_msg("%zu bytes: byte %zu is wrong", len, k);
  bool shm = len && in_memfd(b);
  weft_value_release(&v);
  weft_graph_free(g);
  return shm;
}

static void test_shm_threshold(void **state) {
  (void)state;
  weft_procs_opts po;
  weft_procs_opts_init(&po);
  weft_procs *pool = new_pool_with(2, &po); /* default: 64 KiB */
  assert_false(via_shm(pool, 4096));
  assert_false(via_shm(pool, 64 * 1024 - 1));
  assert_true(via_shm(pool, 64 * 1024));
  weft_procs_free(pool);

  po.shm_threshold = 1024;
  pool = new_pool_with(2, &po);
  assert_false(via_shm(pool, 1023));
  assert_true(via_shm(pool, 1024));
  assert_true(via_shm(pool, 4096));
  weft_procs_free(pool);

  po.shm_threshold = SIZE_MAX; /* never */
  pool = new_pool_with(2, &po);
  assert_false(via_shm(pool, 256 * 1024));
  weft_procs_free(pool);
  assert_no_children();
}

/* ---- start_timeout_ms ---- */

/* Whether process pid runs a worker: its command line has become
 * "<program> --weft-worker" (the exec happened). Before the exec the child
 * of posix_spawn shares its parent's memory (vfork) and must not be
 * stopped: the spawning thread waits for its exec. */
static bool is_worker(int pid) {
  char path[64], cmd[4096];
  snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return false;
  ssize_t len = read(fd, cmd, sizeof cmd - 1);
  close(fd);
  if (len <= 0)
    return false;
  cmd[len] = '\0';
  size_t first = strlen(cmd) + 1; /* argv[1] follows argv[0]'s NUL */
  return first < (size_t)len && strcmp(cmd + first, "--weft-worker") == 0;
}

/* Stops (SIGSTOP) every worker process of this program as soon as it has
 * been exec'd, until `stop_done`: a worker stopped before its HELLO never
 * starts. */
static _Atomic int stop_done;
static void *stopper(void *arg) {
  (void)arg;
  while (!atomic_load(&stop_done)) {
    DIR *d = opendir("/proc/self/task");
    if (!d)
      continue;
    struct dirent *e;
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.')
        continue;
      char path[300];
      snprintf(path, sizeof path, "/proc/self/task/%s/children", e->d_name);
      FILE *f = fopen(path, "r");
      if (!f)
        continue;
      int pid;
      while (fscanf(f, "%d", &pid) == 1)
        if (is_worker(pid))
          kill(pid, SIGSTOP);
      fclose(f);
    }
    closedir(d);
  }
  return NULL;
}

static void test_start_timeout(void **state) {
  (void)state;
  weft_procs_opts po;
  weft_procs_opts_init(&po);
  po.start_timeout_ms = 300;
  /* The stopper may miss a worker that greets the pool first (then the pool
   * starts): try again. An attempt the worker wins costs a spawn (about a
   * millisecond), so a hundred cost little; on a loaded machine five were
   * not always enough. */
  for (int attempt = 0; attempt < 100; attempt++) {
    atomic_store(&stop_done, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, stopper, NULL), 0);
    weft_procs *pool = NULL;
    char msg[256] = "";
    double t0 = tu_now();
    int rc = weft__procs_new(2, &po, &pool, msg, sizeof msg);
    double dt = tu_now() - t0;
    atomic_store(&stop_done, 1);
    pthread_join(th, NULL);
    if (rc == 0) { /* a worker was too quick for the stopper */
      weft_procs_free(pool);
      continue;
    }
    assert_rc(WEFT_ESYS, rc, NULL);
    assert_null(pool);
    assert_contains(msg, "did not start within 300 ms");
    /* 300 ms, not the default 10 s (a second of margin for a busy
     * machine and the sanitizers) */
    if (dt < 0.3 || dt > 1.5)
      fail_msg("weft_procs_new failed after %.3f s, not about 0.3 s", dt);
    assert_no_children();
    return;
  }
  fail_msg("in 100 attempts, no worker was stopped before it started");
}

int main(void) {
  unsetenv("WEFT_SCHEDULER");
  unsetenv("WEFT_WORKERS");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_map_worker_dies_once),
      cmocka_unit_test(test_map_retries_option),
      cmocka_unit_test(test_map_reduce_worker_dies),
      cmocka_unit_test(test_errbuf_truncation),
      cmocka_unit_test(test_shm_threshold),
      cmocka_unit_test(test_start_timeout),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
