/* procs_util.h - what the tests of the procs scheduler share
 * (test_procs.c, test_procs_crash.c, test_procs_faults.c,
 * test_procs_death.c): options and pools, hashes of values, the checks that
 * no worker process or descriptor is left behind, and a real segfault.
 * Static inline, so a test that uses a part only compiles that part. */
#ifndef WEFT_TEST_PROCS_UTIL_H
#define WEFT_TEST_PROCS_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "testutil.h"

static inline uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static inline uint64_t value_hash(const weft_value *v) {
  switch (v->type) {
  case WEFT_T_INT:
    return mix((uint64_t)v->as.i);
  case WEFT_T_STR:
  case WEFT_T_BYTES: {
    uint64_t h = 1469598103934665603ull;
    const uint8_t *p = weft_value_bytes(v);
    for (size_t i = 0; i < weft_value_len(v); i++)
      h = (h ^ p[i]) * 1099511628211ull;
    return mix(h + v->type);
  }
  case WEFT_T_LIST: {
    uint64_t h = 77;
    for (size_t i = 0; i < weft_value_len(v); i++)
      h = mix(h ^ value_hash(weft_list_get(v, i)));
    return h;
  }
  default:
    return mix(v->type);
  }
}

static inline uint64_t args_hash(const weft_value *a, size_t n) {
  uint64_t h = n;
  for (size_t i = 0; i < n; i++)
    h = mix(h * 31 + value_hash(&a[i]));
  return h;
}

static inline weft_compute_opts procs_opts(weft_procs *pool, int retries) {
  weft_compute_opts o;
  weft_compute_opts_init(&o);
  o.scheduler = WEFT_SCHED_PROCS;
  o.procs = pool;
  o.retries = retries;
  o.ignore_env = 1;
  return o;
}

static inline weft_procs *new_pool_with(int workers,
                                        const weft_procs_opts *po) {
  weft_procs *pool = NULL;
  int rc = weft_procs_new(workers, po, &pool);
  assert_int_equal(rc, 0);
  assert_non_null(pool);
  assert_int_equal(weft_procs_workers(pool), workers);
  return pool;
}

static inline weft_procs *new_pool(int workers) {
  return new_pool_with(workers, NULL);
}

static inline int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    n += e->d_name[0] != '.';
  closedir(d);
  return n - 1; /* the directory's own descriptor */
}

static inline void assert_no_children(void) {
  int st;
  errno = 0;
  assert_int_equal(waitpid(-1, &st, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
}

static inline double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A file name unique to this test process. */
static inline void temp_name(char *buf, size_t size, const char *what) {
  static int serial;
  snprintf(buf, size, "procs-%d-%s-%d", (int)getpid(), what, serial++);
  unlink(buf);
}

/* A real memory fault: a write to a page mapped without access (not a
 * NULL store, which UBSan would report and exit on first). */
static inline void segfault(void) {
  volatile int *p =
      mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p != MAP_FAILED)
    *p = 1;
  raise(SIGSEGV);
}

/* Called first in main: workers inherit these, so a segfaulting task dies
 * by SIGSEGV rather than by the sanitizer's report and exit, and messages
 * are the same in every build. */
static inline void procs_test_env(void) {
  const char *vars[] = {"ASAN_OPTIONS", "TSAN_OPTIONS"};
  for (int i = 0; i < 2; i++) {
    const char *old = getenv(vars[i]);
    char opts[512];
    snprintf(opts, sizeof opts, "%s%shandle_segv=0:handle_abort=0",
             old ? old : "", old && *old ? (i ? " " : ":") : "");
    setenv(vars[i], opts, 1);
  }
}

#endif
