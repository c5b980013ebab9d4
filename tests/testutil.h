/* testutil.h - helpers shared by the C tests: asserts that print both sides
 * (error codes by name, the graph's message, 64-bit integers in decimal,
 * doubles to the last bit), heap values whose creation and destruction are
 * counted (to prove that weft frees every value exactly once, and early),
 * the scheduler configurations the scheduler tests run under, computes that
 * report a hang instead of hanging the test (tu_compute), a clock and a
 * watchdog for the whole program.
 *
 * Include after <cmocka.h>'s prerequisites; every helper is static inline
 * so a test uses what it needs without unused-function warnings. */
#ifndef WEFT_TESTUTIL_H
#define WEFT_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after stdarg.h, stddef.h and setjmp.h */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"

/* True in a sanitizer build (timing-sensitive sizes are scaled down). */
#if defined(__SANITIZE_THREAD__)
#define TU_TSAN 1
#else
#define TU_TSAN 0
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TU_ASAN 1
#else
#define TU_ASAN 0
#endif
/* Seconds after which a compute counts as hung. */
#define TU_HANG_DEFAULT (TU_TSAN ? 40.0 : 20.0)

/* What tu_compute returns for a compute that hangs (see below). */
#define TU_HUNG 1000

/* weft_err_name, knowing TU_HUNG. */
static inline const char *tu_err_name(int rc) {
  return rc == TU_HUNG ? "HANG (the compute did not return)"
                       : weft_err_name(rc);
}

/* ---- asserts that print both sides ---- */

/* The call `got` returned `want` (WEFT_E* codes, printed by name, with the
 * graph's message when g is not NULL). */
#define assert_rc(want, got, g)                                                \
  tu__assert_rc((want), (got), (g), #got, __FILE__, __LINE__)
#define assert_ok(got, g) assert_rc(0, (got), (g))

static inline void tu__assert_rc(int want, int got, const weft_graph *g,
                                 const char *expr, const char *file, int line) {
  if (want == got)
    return;
  print_error("%s returned %s (%d), expected %s (%d); graph message: '%s'\n",
              expr, tu_err_name(got), got, weft_err_name(want), want,
              g ? weft_graph_error(g) : "(no graph)");
  _fail(file, line);
}

/* Signed 64-bit equality, printed in decimal. */
#define assert_i64(got, want)                                                  \
  tu__assert_i64((int64_t)(got), (int64_t)(want), #got, __FILE__, __LINE__)
static inline void tu__assert_i64(int64_t got, int64_t want, const char *expr,
                                  const char *file, int line) {
  if (got == want)
    return;
  print_error("%s is %" PRId64 ", expected %" PRId64 "\n", expr, got, want);
  _fail(file, line);
}

/* got <= bound, printed in decimal. */
#define assert_le(got, bound)                                                  \
  tu__assert_le((int64_t)(got), (int64_t)(bound), #got, #bound, __FILE__,      \
                __LINE__)
static inline void tu__assert_le(int64_t got, int64_t bound, const char *e1,
                                 const char *e2, const char *file, int line) {
  if (got <= bound)
    return;
  print_error("%s is %" PRId64 ", expected at most %s = %" PRId64 "\n", e1, got,
              e2, bound);
  _fail(file, line);
}

/* Bit-exact double equality (so 0.0 and -0.0 differ, NaN equals NaN). */
#define assert_double_exact(got, want)                                         \
  tu__assert_double((got), (want), #got, __FILE__, __LINE__)
static inline void tu__assert_double(double got, double want, const char *expr,
                                     const char *file, int line) {
  if (memcmp(&got, &want, sizeof got) == 0)
    return;
  print_error("%s is %.17g, expected %.17g\n", expr, got, want);
  _fail(file, line);
}

/* haystack contains needle. */
#define assert_contains(hay, needle)                                           \
  tu__assert_contains((hay), (needle), #hay, __FILE__, __LINE__)
static inline void tu__assert_contains(const char *hay, const char *needle,
                                       const char *expr, const char *file,
                                       int line) {
  if (hay && needle && strstr(hay, needle))
    return;
  print_error("%s = '%s' does not contain '%s'\n", expr, hay ? hay : "(NULL)",
              needle ? needle : "(NULL)");
  _fail(file, line);
}
#define assert_not_contains(hay, needle)                                       \
  tu__assert_not_contains((hay), (needle), #hay, __FILE__, __LINE__)
static inline void tu__assert_not_contains(const char *hay, const char *needle,
                                           const char *expr, const char *file,
                                           int line) {
  if (hay && needle && !strstr(hay, needle))
    return;
  print_error("%s = '%s' contains '%s'\n", expr, hay ? hay : "(NULL)",
              needle ? needle : "(NULL)");
  _fail(file, line);
}

/* v is a value of type `type` (weft_type), printed by name with v's text. */
#define assert_type(v, type)                                                   \
  do {                                                                         \
    weft_value tu__tv = (v);                                                   \
    tu__assert_type(&tu__tv, (type), #v, __FILE__, __LINE__);                  \
  } while (0)
static inline void tu__assert_type(const weft_value *v, uint32_t type,
                                   const char *expr, const char *file,
                                   int line) {
  if (v->type == type)
    return;
  char buf[128];
  weft_value_format(v, buf, sizeof buf);
  print_error("%s is a %s (%s), expected a %s\n", expr, weft_type_name(v->type),
              buf, weft_type_name(type));
  _fail(file, line);
}

/* v is the int want. */
#define assert_int_value(v, want)                                              \
  do {                                                                         \
    weft_value tu__iv = (v);                                                   \
    tu__assert_type(&tu__iv, WEFT_T_INT, #v, __FILE__, __LINE__);              \
    tu__assert_i64(tu__iv.as.i, (int64_t)(want), #v, __FILE__, __LINE__);      \
  } while (0)
/* v is the double want, bit for bit. */
#define assert_double_value(v, want)                                           \
  do {                                                                         \
    weft_value tu__dv = (v);                                                   \
    tu__assert_type(&tu__dv, WEFT_T_DOUBLE, #v, __FILE__, __LINE__);           \
    tu__assert_double(tu__dv.as.d, (want), #v, __FILE__, __LINE__);            \
  } while (0)

/* ---- counted heap values ----
 *
 * tu_tracked_new makes a user-pointer value holding an int64 payload; its
 * destructor counts. tu_live is how many exist now, tu_peak the most that
 * ever existed at once since tu_track_reset, tu_made how many were made. */
static _Atomic long tu_live __attribute__((unused));
static _Atomic long tu_made __attribute__((unused));
static _Atomic long tu_peak __attribute__((unused));
static _Atomic long tu_freed __attribute__((unused));

static inline void tu_track_reset(void) {
  atomic_store(&tu_live, 0);
  atomic_store(&tu_made, 0);
  atomic_store(&tu_peak, 0);
  atomic_store(&tu_freed, 0);
}

#define TU_MAGIC 0x7e57ed5a11ce5ull
typedef struct tu__tracked {
  uint64_t magic; /* TU_MAGIC while alive */
  int64_t payload;
} tu__tracked;

static inline void tu__tracked_dtor(void *p) {
  /* Poison the object: a read after free shows as "not tracked" even
   * without ASan. */
  volatile tu__tracked *t = p;
  t->magic = 0xdeadull;
  t->payload = INT64_MIN + 12345;
  free(p);
  atomic_fetch_add(&tu_freed, 1);
  atomic_fetch_sub(&tu_live, 1);
}

/* 0 and *out set, or a WEFT_E* code. */
static inline int tu_tracked_new(weft_value *out, int64_t payload) {
  tu__tracked *p = malloc(sizeof *p);
  if (!p)
    return WEFT_ENOMEM;
  p->magic = TU_MAGIC;
  p->payload = payload;
  int rc = weft_ptr_new(out, p, tu__tracked_dtor);
  if (rc) {
    free(p);
    return rc;
  }
  atomic_fetch_add(&tu_made, 1);
  long live = atomic_fetch_add(&tu_live, 1) + 1;
  long peak = atomic_load(&tu_peak);
  while (live > peak && !atomic_compare_exchange_weak(&tu_peak, &peak, live))
    ;
  return 0;
}

/* Whether v is a live tracked value. */
static inline bool tu_is_tracked(const weft_value *v) {
  if (v->type != WEFT_T_PTR || !weft_value_ptr(v))
    return false;
  return ((const tu__tracked *)weft_value_ptr(v))->magic == TU_MAGIC;
}

/* The payload of a tracked value (INT64_MIN when v is not one). */
static inline int64_t tu_tracked_get(const weft_value *v) {
  if (!tu_is_tracked(v))
    return INT64_MIN;
  return ((const tu__tracked *)weft_value_ptr(v))->payload;
}

/* ---- scheduler configurations ---- */

typedef struct tu_sched {
  const char *name;
  weft_scheduler scheduler;
  int workers;   /* threads: pool size */
  bool executor; /* threads: on a reused weft_executor of `workers` */
} tu_sched;

/* Options for configuration c; ex is the executor a reusing configuration
 * runs on. The environment is ignored, so CI settings cannot change what a
 * test tests. */
static inline weft_compute_opts tu_opts(const tu_sched *c, weft_executor *ex) {
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.scheduler = c->scheduler;
  o.workers = c->workers;
  o.executor = c->executor ? ex : NULL;
  o.ignore_env = 1;
  return o;
}

/* ---- computes that cannot hang the test ----
 *
 * tu_compute is weft_compute run on a helper thread while the test waits at
 * most tu_hang_seconds: a compute that does not return in that time (a
 * deadlock, a lost wake-up) is reported as TU_HUNG, and the test fails
 * there with a message instead of the whole program timing out. Once one
 * compute hung, the helper is stuck and every later tu_compute returns
 * TU_HUNG at once (tu_stuck() tells teardown code not to free executors the
 * hung compute may hold). Task functions run on the helper thread (or the
 * pool's): they must not use cmocka asserts. */
static double tu_hang_seconds __attribute__((unused)) = TU_HANG_DEFAULT;

typedef struct tu__runner {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool started, stuck, busy, has_job;
  pthread_t thread;
  weft_graph *g;
  size_t n;
  weft_node *const *nodes;
  weft_value *const *outs;
  const weft_compute_opts *opts;
  int rc;
} tu__runner;
static tu__runner tu__run __attribute__((unused)) = {
    .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static inline void *tu__runner_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&tu__run.mu);
  for (;;) {
    while (!tu__run.has_job)
      pthread_cond_wait(&tu__run.cv, &tu__run.mu);
    weft_graph *g = tu__run.g;
    size_t n = tu__run.n;
    weft_node *const *nodes = tu__run.nodes;
    weft_value *const *outs = tu__run.outs;
    const weft_compute_opts *opts = tu__run.opts;
    pthread_mutex_unlock(&tu__run.mu);
    int rc = weft_compute(g, n, nodes, outs, opts);
    pthread_mutex_lock(&tu__run.mu);
    tu__run.rc = rc;
    tu__run.has_job = false;
    tu__run.busy = false;
    pthread_cond_broadcast(&tu__run.cv);
  }
  return NULL;
}

static inline bool tu_stuck(void) {
  pthread_mutex_lock(&tu__run.mu);
  bool s = tu__run.stuck;
  pthread_mutex_unlock(&tu__run.mu);
  return s;
}

static inline int tu_compute(weft_graph *g, size_t n, weft_node *const nodes[],
                             weft_value *const outs[],
                             const weft_compute_opts *opts) {
  pthread_mutex_lock(&tu__run.mu);
  if (tu__run.stuck) {
    pthread_mutex_unlock(&tu__run.mu);
    return TU_HUNG;
  }
  if (!tu__run.started) {
    if (pthread_create(&tu__run.thread, NULL, tu__runner_main, NULL)) {
      pthread_mutex_unlock(&tu__run.mu);
      return weft_compute(g, n, nodes, outs, opts); /* unguarded */
    }
    pthread_detach(tu__run.thread);
    tu__run.started = true;
  }
  tu__run.g = g;
  tu__run.n = n;
  tu__run.nodes = nodes;
  tu__run.outs = outs;
  tu__run.opts = opts;
  tu__run.has_job = tu__run.busy = true;
  pthread_cond_broadcast(&tu__run.cv);
  struct timespec dl;
  clock_gettime(CLOCK_REALTIME, &dl);
  double whole = (double)(long)tu_hang_seconds;
  dl.tv_sec += (time_t)whole;
  dl.tv_nsec += (long)((tu_hang_seconds - whole) * 1e9);
  if (dl.tv_nsec >= 1000000000L) {
    dl.tv_sec++;
    dl.tv_nsec -= 1000000000L;
  }
  int w = 0;
  while (tu__run.busy && w != ETIMEDOUT)
    w = pthread_cond_timedwait(&tu__run.cv, &tu__run.mu, &dl);
  int rc;
  if (tu__run.busy) {
    tu__run.stuck = true;
    rc = TU_HUNG;
    print_error("weft_compute did not return within %.0f s: it hangs\n",
                tu_hang_seconds);
  } else {
    rc = tu__run.rc;
  }
  pthread_mutex_unlock(&tu__run.mu);
  return rc;
}

static inline int tu_compute1(weft_graph *g, weft_node *node, weft_value *out,
                              const weft_compute_opts *opts) {
  return tu_compute(g, 1, &node, &out, opts);
}

/* ---- time, watchdog ---- */

static inline double tu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void tu__watchdog_fired(int sig) {
  (void)sig;
  static const char msg[] =
      "\n[watchdog] the test did not finish in time: a hang (deadlock or "
      "lost wake-up)\n";
  ssize_t w = write(2, msg, sizeof msg - 1);
  (void)w;
  _exit(3);
}

/* Fails the whole test program with a message if it still runs after
 * `seconds` (0 disarms). A hang then reads as a hang, not as a timeout. */
static inline void tu_watchdog(unsigned seconds) {
  signal(SIGALRM, tu__watchdog_fired);
  alarm(seconds);
}

#endif
