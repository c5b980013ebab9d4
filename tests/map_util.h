/* map_util.h - the task functions and helpers of the map tests
 * (test_map.c, test_map_pack.c): each test program registers the functions
 * (a procs worker is a copy of the program), the helpers are static inline
 * so a program compiles only what it uses. */
#ifndef WEFT_TEST_MAP_UTIL_H
#define WEFT_TEST_MAP_UTIL_H

#include "testutil.h"

#include <math.h>

/* ---- task functions ---- */

static inline int64_t mix64(int64_t x) {
  uint64_t z = (uint64_t)x + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return (int64_t)(z ^ (z >> 31));
}

/* int -> mixed int; double -> x*x + 1; anything else fails. */
static int tmix(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  (void)n;
  if (a[0].type == WEFT_T_INT)
    *out = weft_int(mix64(a[0].as.i));
  else if (a[0].type == WEFT_T_DOUBLE)
    *out = weft_double(a[0].as.d * a[0].as.d + 1);
  else
    return weft_fail(ctx, "tmix: got a %s", weft_type_name(a[0].type));
  return 0;
}
WEFT_REGISTER_ARITY(tmix, 1);

static inline double tsq(double x) { return x * x; }
WEFT_DELAYED(tsq, double, double);

/* int -> 3x after a 5 ms nap: batches long enough to overlap. */
static int tnap(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  (void)ctx, (void)n;
  struct timespec ts = {0, 5000000};
  nanosleep(&ts, NULL);
  *out = weft_int(3 * a[0].as.i);
  return 0;
}
WEFT_REGISTER_ARITY(tnap, 1);

/* Fails on 4321 with a message, returns WEFT_ETYPE without one on -7. */
static int tfail(weft_task_ctx *ctx, const weft_value *a, size_t n,
                 weft_value *out) {
  (void)n;
  if (a[0].as.i == 4321)
    return weft_fail(ctx, "bad input %lld", (long long)a[0].as.i);
  if (a[0].as.i == -7)
    return WEFT_ETYPE;
  *out = weft_int(a[0].as.i + 1);
  return 0;
}
WEFT_REGISTER_ARITY(tfail, 1);

/* int -> a counted heap value (in-process only); fails on 4321. */
static int ttracked(weft_task_ctx *ctx, const weft_value *a, size_t n,
                    weft_value *out) {
  (void)n;
  if (a[0].as.i == 4321)
    return weft_fail(ctx, "tracked item refused");
  return tu_tracked_new(out, a[0].as.i);
}
WEFT_REGISTER_ARITY(ttracked, 1);

/* int -> its decimal text. */
static int tstr(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  (void)ctx;
  (void)n;
  return weft_str_printf(out, "%lld,", (long long)a[0].as.i);
}
WEFT_REGISTER_ARITY(tstr, 1);

static int tadd(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  (void)n;
  if (a[0].type != WEFT_T_INT || a[1].type != WEFT_T_INT)
    return weft_fail(ctx, "tadd: not ints");
  *out = weft_int((int64_t)((uint64_t)a[0].as.i + (uint64_t)a[1].as.i));
  return 0;
}
WEFT_REGISTER_ARITY(tadd, 2);

static inline long long tmax(long long a, long long b) { return a > b ? a : b; }
WEFT_DELAYED(tmax, long long, long long, long long);

/* String concatenation: associative, not commutative. */
static int tcat(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  (void)n;
  const char *x = weft_value_str(&a[0]), *y = weft_value_str(&a[1]);
  if (!x || !y)
    return weft_fail(ctx, "tcat: not strings");
  return weft_str_printf(out, "%s%s", x, y);
}
WEFT_REGISTER_ARITY(tcat, 2);

/* A reduce that fails when the sum passes 1000. */
static int tadd_small(weft_task_ctx *ctx, const weft_value *a, size_t n,
                      weft_value *out) {
  (void)n;
  if (a[0].as.i + a[1].as.i > 1000)
    return weft_fail(ctx, "sum too big");
  *out = weft_int(a[0].as.i + a[1].as.i);
  return 0;
}
WEFT_REGISTER_ARITY(tadd_small, 2);

/* Not registered: worker processes could not find it. */
static int hidden(weft_task_ctx *ctx, const weft_value *a, size_t n,
                  weft_value *out) {
  (void)ctx;
  (void)n;
  *out = a[0];
  return 0;
}
static weft_fn_info hidden_info __attribute__((unused)) = {"hidden_fn", hidden, 1, __FILE__, NULL};

/* weft_map inside an item, on its own pool: sum of tmix over 0..x-1. */
static int tnested(weft_task_ctx *ctx, const weft_value *a, size_t n,
                   weft_value *out) {
  (void)n;
  int64_t m = a[0].as.i;
  weft_value in[64], res[64];
  for (int64_t i = 0; i < m; i++)
    in[i] = weft_int(i);
  weft_map_opts o;
  weft_map_opts_init(&o);
  o.workers = 2;
  o.ignore_env = 1;
  int rc = weft_map(WEFT_FN(tmix), (size_t)m, in, res, &o);
  if (rc)
    return weft_fail(ctx, "nested map failed: %s", weft_strerror(rc));
  uint64_t s = 0;
  for (int64_t i = 0; i < m; i++)
    s += (uint64_t)res[i].as.i;
  *out = weft_int((int64_t)s);
  return 0;
}
WEFT_REGISTER_ARITY(tnested, 1);

/* int x -> [x, x+1, ..., x + x%5 - 1] (0 to 4 items); a list -> its sum
 * (a list input must hold ints). */
static int tlist(weft_task_ctx *ctx, const weft_value *a, size_t n,
                 weft_value *out) {
  (void)n;
  if (a[0].type == WEFT_T_LIST) {
    int64_t sum = 0;
    for (size_t k = 0; k < weft_value_len(&a[0]); k++) {
      const weft_value *v = weft_list_get(&a[0], k);
      if (v->type != WEFT_T_INT)
        return weft_fail(ctx, "tlist: a list of %s", weft_type_name(v->type));
      sum += v->as.i;
    }
    *out = weft_int(sum);
    return 0;
  }
  int64_t x = a[0].as.i, len = x % 5;
  int rc = weft_list_new(out, (size_t)len);
  for (int64_t k = 0; k < len && !rc; k++)
    rc = weft_list_set(out, (size_t)k, weft_int(x + k));
  return rc;
}
WEFT_REGISTER_ARITY(tlist, 1);

/* str -> its length. */
static int tlen(weft_task_ctx *ctx, const weft_value *a, size_t n,
                weft_value *out) {
  (void)n;
  if (a[0].type != WEFT_T_STR)
    return weft_fail(ctx, "tlen: not a string");
  *out = weft_int((int64_t)weft_value_len(&a[0]));
  return 0;
}
WEFT_REGISTER_ARITY(tlen, 1);

/* Runs a weft_map on the executor that runs this task: gives the code. */
static weft_executor *busy_ex __attribute__((unused));
static int tbusy(weft_task_ctx *ctx, const weft_value *a, size_t n,
                 weft_value *out) {
  (void)ctx;
  (void)n;
  weft_value res;
  weft_map_opts o;
  weft_map_opts_init(&o);
  o.executor = busy_ex;
  *out = weft_int(weft_map(WEFT_FN(tmix), 1, a, &res, &o));
  return 0;
}
WEFT_REGISTER_ARITY(tbusy, 1);

/* ---- helpers ---- */

static uint64_t rng_state __attribute__((unused)) = 88172645463325252ull;
static inline int64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (int64_t)(rng_state >> 1);
}

/* Random ints, with a double every 5th item when `mixed`. */
static inline weft_value *random_inputs(size_t n, bool mixed) {
  weft_value *v = malloc((n ? n : 1) * sizeof *v);
  assert_non_null(v);
  for (size_t i = 0; i < n; i++)
    v[i] = mixed && i % 5 == 0 ? weft_double((double)(rnd() % 100000) / 7.0)
                               : weft_int(rnd() % 1000000007);
  return v;
}

static inline void expect_mix(const weft_value *in, const weft_value *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    weft_value want = weft_none();
    assert_int_equal(tmix(NULL, &in[i], 1, &want), 0);
    if (!weft_value_equal(&out[i], &want)) {
      char a[64], b[64];
      weft_value_format(&out[i], a, sizeof a);
      weft_value_format(&want, b, sizeof b);
      fail_msg("item %zu of %zu is %s, expected %s", i, n, a, b);
    }
  }
}

static inline void release_all(weft_value *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    weft_value_release(&v[i]);
}

static inline bool have_procs(void) {
  return weft_scheduler_available(WEFT_SCHED_PROCS);
}

/* The configurations the map runs under. */
typedef struct map_conf {
  const char *name;
  weft_scheduler scheduler;
  int workers;
  bool executor;
} map_conf;

static const map_conf confs[] __attribute__((unused)) = {
    {"sync", WEFT_SCHED_SYNC, 1, false},
    {"threads-1", WEFT_SCHED_THREADS, 1, false},
    {"threads-2", WEFT_SCHED_THREADS, 2, false},
    {"threads-4-executor", WEFT_SCHED_THREADS, 4, true},
    {"procs-2", WEFT_SCHED_PROCS, 2, false},
};
#define NCONFS (sizeof confs / sizeof confs[0])

static char errbuf[2048] __attribute__((unused));

static inline weft_map_opts conf_opts(const map_conf *c, weft_executor *ex) {
  weft_map_opts o;
  weft_map_opts_init(&o);
  o.scheduler = c->scheduler;
  o.workers = c->workers;
  o.executor = c->executor ? ex : NULL;
  o.ignore_env = 1;
  o.errbuf = errbuf;
  o.errbuf_size = sizeof errbuf;
  return o;
}

#define assert_map_ok(rc)                                                      \
  do {                                                                         \
    int rc_ = (rc);                                                            \
    if (rc_)                                                                   \
      fail_msg("%s returned %s: %s", #rc, weft_err_name(rc_), errbuf);         \
  } while (0)


#endif
