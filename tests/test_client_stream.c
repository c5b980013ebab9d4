/* test_client_stream.c - reactive streams on random input, each output
 * compared with a plain sequential computation of the same thing: map,
 * filter, key_by, scan, rolling mean and max per key, merge, throttle (item
 * times), debounce (the clock), sinks, fd line sources, and errors of a
 * step. */
#include "testutil.h"

#include <math.h>

static weft_client *new_client(int workers) {
  weft_client_opts o;
  weft_client_opts_init(&o);
  o.workers = workers;
  o.ignore_env = 1;
  weft_client *c = NULL;
  assert_rc(0, weft_client_new(&o, &c), NULL);
  return c;
}

static int twice(uint64_t key, const weft_value *in, weft_value *out,
                 void *ud) {
  (void)key;
  (void)ud;
  double x;
  if (weft_value_to_double(in, &x))
    return WEFT_ETYPE;
  *out = weft_double(2 * x);
  return 0;
}

static bool below(uint64_t key, const weft_value *in, void *ud) {
  (void)key;
  return in->as.d < *(double *)ud;
}

static int running_sum(uint64_t key, weft_value *acc, const weft_value *in,
                       void *ud) {
  (void)key;
  (void)ud;
  acc->as.d += in->as.d;
  return 0;
}

static uint64_t key_of_value(const weft_value *in, void *ud) {
  (void)ud;
  return (uint64_t)(int64_t)floor(in->as.d * 10) % 5; /* 0..4 */
}

/* The per-key sequence of a collector's items, in order. */
static size_t per_key(weft_stream_collector *col, uint64_t key, double *out,
                      size_t max) {
  size_t n = weft_stream_collector_count(col), k = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t kk;
    weft_value v;
    assert_rc(0, weft_stream_collector_get(col, i, &kk, &v), NULL);
    if (kk == key) {
      assert_true(k < max);
      out[k++] = v.as.d;
    }
    weft_value_release(&v);
  }
  return k;
}

enum { N = 4000, K = 7, W = 4 };

static void test_random_pipeline(void **state) {
  (void)state;
  weft_client *c = new_client(3);
  weft_stream *src = weft_stream_source(c);
  assert_non_null(src);
  double limit = 1.6;
  weft_stream *m = weft_stream_map(src, twice, NULL);
  weft_stream *f = weft_stream_filter(m, below, &limit);
  weft_stream *sum = weft_stream_scan(f, running_sum, weft_double(0), NULL);
  weft_stream *mean = weft_stream_rolling(f, W, WEFT_ROLL_MEAN);
  weft_stream *mx = weft_stream_rolling(f, W, WEFT_ROLL_MAX);
  weft_stream_collector *csum = weft_stream_collect(sum);
  weft_stream_collector *cmean = weft_stream_collect(mean);
  weft_stream_collector *cmax = weft_stream_collect(mx);
  weft_stream *rekey = weft_stream_key_by(f, key_of_value, NULL);
  weft_stream_collector *ckey = weft_stream_collect(rekey);
  assert_non_null(csum);
  assert_non_null(ckey);

  static double in[N];
  static uint64_t keys[N];
  unsigned seed = 77;
  for (int i = 0; i < N; i++) {
    in[i] = (double)(rand_r(&seed) % 1000) / 1000.0;
    keys[i] = rand_r(&seed) % K;
    assert_rc(0, weft_stream_push_key(src, keys[i], weft_double(in[i])),
              NULL);
  }
  assert_rc(0, weft_stream_flush(c, 30), NULL);

  /* the same, sequentially */
  static double got[N];
  size_t total_sum = 0;
  for (uint64_t k = 0; k < K; k++) {
    static double seq[N], want_sum[N], want_mean[N], want_max[N];
    size_t ns = 0, nw = 0;
    double acc = 0;
    for (int i = 0; i < N; i++) {
      if (keys[i] != k || !(2 * in[i] < limit))
        continue;
      seq[ns] = 2 * in[i];
      acc += seq[ns];
      want_sum[ns] = acc;
      ns++;
      if (ns >= W) {
        double s = 0, mxv = -INFINITY;
        for (size_t j = ns - W; j < ns; j++) {
          s += seq[j];
          mxv = seq[j] > mxv ? seq[j] : mxv;
        }
        want_mean[nw] = s / W;
        want_max[nw] = mxv;
        nw++;
      }
    }
    size_t n = per_key(csum, k, got, N);
    assert_i64(n, ns);
    for (size_t i = 0; i < n; i++)
      assert_double_exact(got[i], want_sum[i]);
    total_sum += n;
    n = per_key(cmean, k, got, N);
    assert_i64(n, nw);
    for (size_t i = 0; i < n; i++)
      assert_double_exact(got[i], want_mean[i]);
    n = per_key(cmax, k, got, N);
    assert_i64(n, nw);
    for (size_t i = 0; i < n; i++)
      assert_double_exact(got[i], want_max[i]);
  }
  assert_true(total_sum > N / 2);
  /* key_by: the new key is a function of the value; counts per key */
  size_t want_cnt[5] = {0}, got_cnt[5] = {0};
  for (int i = 0; i < N; i++)
    if (2 * in[i] < limit)
      want_cnt[(uint64_t)(int64_t)floor(2 * in[i] * 10) % 5]++;
  size_t nk = weft_stream_collector_count(ckey);
  for (size_t i = 0; i < nk; i++) {
    uint64_t kk;
    weft_value v;
    assert_rc(0, weft_stream_collector_get(ckey, i, &kk, &v), NULL);
    assert_true(kk < 5);
    assert_i64(kk, key_of_value(&v, NULL));
    got_cnt[kk]++;
  }
  for (int k = 0; k < 5; k++)
    assert_i64(got_cnt[k], want_cnt[k]);
  assert_int_equal(weft_stream_status(mean), 0);
  weft_client_close(c);
}

typedef struct sink_state {
  pthread_mutex_t mu;
  int64_t sum;
  int n;
  int64_t last[4];
  bool in_order;
} sink_state;

static void sink_fn(uint64_t key, const weft_value *v, void *ud) {
  sink_state *s = ud;
  pthread_mutex_lock(&s->mu);
  s->sum += v->as.i;
  s->n++;
  if (v->as.i <= s->last[key])
    s->in_order = false;
  s->last[key] = v->as.i;
  pthread_mutex_unlock(&s->mu);
}

static void *pusher(void *arg) {
  void **a = arg;
  weft_stream *src = a[0];
  int64_t base = (int64_t)(intptr_t)a[1];
  for (int64_t i = 1; i <= 1000; i++)
    weft_stream_push_key(src, (uint64_t)base, weft_int(base * 100000 + i));
  return NULL;
}

static void test_merge_sink_threads(void **state) {
  (void)state;
  weft_client *c = new_client(2);
  weft_stream *a = weft_stream_source(c), *b = weft_stream_source(c);
  weft_stream *m = weft_stream_merge(2, (weft_stream *[]){a, b});
  assert_non_null(m);
  sink_state s = {.in_order = true};
  pthread_mutex_init(&s.mu, NULL);
  assert_rc(0, weft_stream_sink(m, sink_fn, &s), NULL);
  pthread_t th[4];
  void *args[4][2];
  for (int i = 0; i < 4; i++) { /* key i from one thread each */
    args[i][0] = i % 2 ? b : a;
    args[i][1] = (void *)(intptr_t)i;
    pthread_create(&th[i], NULL, pusher, args[i]);
  }
  for (int i = 0; i < 4; i++)
    pthread_join(th[i], NULL);
  assert_rc(0, weft_stream_flush(c, 30), NULL);
  int64_t want = 0;
  for (int64_t k = 0; k < 4; k++)
    for (int64_t i = 1; i <= 1000; i++)
      want += k * 100000 + i;
  assert_int_equal(s.n, 4000);
  assert_i64(s.sum, want);
  assert_true(s.in_order); /* each key's items in push order */
  assert_rc(WEFT_EINVAL, weft_stream_push(m, weft_int(1)), NULL);
  assert_null(weft_stream_merge(0, NULL));
  weft_client_close(c);
  pthread_mutex_destroy(&s.mu);
}

static void test_throttle_debounce(void **state) {
  (void)state;
  weft_client *c = new_client(2);
  weft_stream *src = weft_stream_source(c);
  weft_stream_collector *thr =
      weft_stream_collect(weft_stream_throttle(src, 0.010));
  /* item times given: throttle is exact */
  uint64_t t0 = 1000000000000ull;
  unsigned seed = 5;
  uint64_t t = t0;
  static int64_t want[2][3000];
  size_t nwant[2] = {0, 0};
  uint64_t last[2] = {0, 0};
  bool any[2] = {false, false};
  for (int i = 0; i < 3000; i++) {
    t += rand_r(&seed) % 3000000; /* 0-3 ms apart */
    uint64_t k = rand_r(&seed) % 2;
    if (!any[k] || t - last[k] >= 10000000ull) {
      want[k][nwant[k]++] = i;
      last[k] = t;
      any[k] = true;
    }
    weft_stream_push_at(src, k, weft_int(i), t);
  }
  assert_rc(0, weft_stream_flush(c, 30), NULL);
  for (uint64_t k = 0; k < 2; k++) {
    size_t n = weft_stream_collector_count(thr), j = 0;
    for (size_t i = 0; i < n; i++) {
      uint64_t kk;
      weft_value v;
      weft_stream_collector_get(thr, i, &kk, &v);
      if (kk != k)
        continue;
      assert_true(j < nwant[k]);
      assert_i64(v.as.i, want[k][j]);
      j++;
    }
    assert_i64(j, nwant[k]);
  }

  /* debounce: bursts of pushes, quiet gaps well above the interval: one
   * item (the last) per burst and key */
  weft_stream *src2 = weft_stream_source(c);
  weft_stream_collector *deb =
      weft_stream_collect(weft_stream_debounce(src2, 0.1));
  for (int burst = 0; burst < 3; burst++) {
    for (int i = 0; i < 20; i++) {
      weft_stream_push_key(src2, 1, weft_int(burst * 100 + i));
      weft_stream_push_key(src2, 2, weft_int(burst * 1000 + i));
    }
    usleep(350000);
  }
  assert_rc(0, weft_stream_flush(c, 30), NULL);
  int64_t got1[8], got2[8];
  int n1 = 0, n2 = 0;
  size_t n = weft_stream_collector_count(deb);
  for (size_t i = 0; i < n; i++) {
    uint64_t kk;
    weft_value v;
    weft_stream_collector_get(deb, i, &kk, &v);
    if (kk == 1 && n1 < 8)
      got1[n1++] = v.as.i;
    if (kk == 2 && n2 < 8)
      got2[n2++] = v.as.i;
  }
  assert_int_equal(n1, 3);
  assert_int_equal(n2, 3);
  for (int b = 0; b < 3; b++) {
    assert_i64(got1[b], b * 100 + 19);
    assert_i64(got2[b], b * 1000 + 19);
  }
  weft_client_close(c);
}

static void test_fd_and_errors(void **state) {
  (void)state;
  weft_client *c = new_client(2);
  int p[2];
  assert_int_equal(pipe(p), 0);
  weft_stream *lines = weft_stream_from_fd(c, p[0]);
  assert_non_null(lines);
  weft_stream_collector *col = weft_stream_collect(lines);
  /* a number per line, the last without a newline, one with \r\n */
  char text[64 * 1000];
  size_t len = 0;
  for (int i = 0; i < 1000; i++)
    len += (size_t)snprintf(text + len, sizeof text - len, "line %d%s", i,
                            i == 999 ? "" : i == 5 ? "\r\n" : "\n");
  for (size_t off = 0; off < len;) { /* in uneven pieces */
    size_t piece = len - off < 777 ? len - off : 777;
    assert_true(write(p[1], text + off, piece) == (ssize_t)piece);
    off += piece;
  }
  close(p[1]);
  assert_rc(0, weft_stream_fd_wait(lines, 30), NULL);
  assert_i64(weft_stream_collector_count(col), 1000);
  for (size_t i = 0; i < 1000; i++) {
    weft_value v;
    char want[32];
    snprintf(want, sizeof want, "line %zu", i);
    assert_rc(0, weft_stream_collector_get(col, i, NULL, &v), NULL);
    assert_string_equal(weft_value_str(&v), want);
    weft_value_release(&v);
  }
  close(p[0]);

  /* a step that fails drops the item and says why */
  weft_stream *src = weft_stream_source(c);
  weft_stream *roll = weft_stream_rolling(src, 2, WEFT_ROLL_MEAN);
  weft_stream_collector *rc = weft_stream_collect(roll);
  weft_value s;
  weft_str_new(&s, "hot");
  weft_stream_push(src, s);
  weft_stream_push(src, weft_int(1));
  weft_stream_push(src, weft_int(2));
  assert_rc(0, weft_stream_flush(c, 30), NULL);
  assert_rc(WEFT_ETYPE, weft_stream_status(roll), NULL);
  assert_contains(weft_stream_error(roll), "str, not a number");
  assert_i64(weft_stream_collector_count(rc), 1); /* mean of 1 and 2 */
  weft_value v;
  weft_stream_collector_get(rc, 0, NULL, &v);
  assert_double_exact(v.as.d, 1.5);
  assert_null(weft_stream_rolling(src, 0, WEFT_ROLL_MAX));
  assert_null(weft_stream_map(src, NULL, NULL));
  assert_null(weft_stream_from_fd(c, -1));
  weft_client_close(c);
  assert_null(weft_stream_source(NULL));
}

/* A sink that flushes its own client's streams would wait for its own
 * item: refused with WEFT_EBUSY at once (it used to wait out its timeout,
 * or for ever with -1). */
typedef struct {
  weft_client *c;
  atomic_int rc, calls;
} flush_in_sink;
static void flush_sink(uint64_t key, const weft_value *v, void *ud) {
  (void)key;
  (void)v;
  flush_in_sink *f = ud;
  atomic_store(&f->rc, weft_stream_flush(f->c, 2));
  atomic_fetch_add(&f->calls, 1);
}

static void test_flush_from_sink(void **state) {
  (void)state;
  weft_client *c = new_client(2);
  flush_in_sink f = {.c = c};
  atomic_init(&f.rc, 1);
  atomic_init(&f.calls, 0);
  weft_stream *src = weft_stream_source(c);
  assert_non_null(src);
  assert_int_equal(weft_stream_sink(src, flush_sink, &f), 0);
  double t0 = tu_now();
  assert_int_equal(weft_stream_push(src, weft_int(7)), 0);
  assert_int_equal(weft_stream_flush(c, 10), 0);
  assert_true(tu_now() - t0 < 1.5); /* not the sink's 2 s timeout */
  assert_int_equal(atomic_load(&f.calls), 1);
  assert_int_equal(atomic_load(&f.rc), WEFT_EBUSY);
  weft_client_close(c);
}

/* Timeouts: one too long for the clock waits (1e30 s and INFINITY timed
 * out at once: the conversion to nanoseconds overflowed); NaN is refused. */
static void test_flush_timeouts(void **state) {
  (void)state;
  weft_client *c = new_client(2);
  weft_stream *src = weft_stream_source(c);
  weft_stream *slow = weft_stream_debounce(src, 0.05); /* in flight 50 ms */
  weft_stream_collector *col = weft_stream_collect(slow);
  assert_non_null(col);
  const double longs[] = {1e30, INFINITY, 1e12};
  for (int k = 0; k < 3; k++) {
    assert_int_equal(weft_stream_push(src, weft_int(k)), 0);
    assert_int_equal(weft_stream_flush(c, longs[k]), 0);
    assert_int_equal(weft_stream_collector_count(col), (size_t)k + 1);
  }
  assert_int_equal(weft_stream_flush(c, NAN), WEFT_EINVAL);
  weft_client_close(c);
}

int main(void) {
  tu_watchdog(TU_TSAN ? 240 : 100);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_pipeline),
      cmocka_unit_test(test_merge_sink_threads),
      cmocka_unit_test(test_throttle_debounce),
      cmocka_unit_test(test_fd_and_errors),
      cmocka_unit_test(test_flush_from_sink),
      cmocka_unit_test(test_flush_timeouts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
