/* procs_tasks.h - task functions that test_procs.c and test_procs_crash.c
 * both run in worker processes (each test program registers them: a
 * worker is a copy of the test program). */
#ifndef WEFT_TEST_PROCS_TASKS_H
#define WEFT_TEST_PROCS_TASKS_H

#include "procs_util.h"

/* h(args...) -> int */
static int t_hash(weft_task_ctx *ctx, const weft_value *a, size_t n,
                  weft_value *out) {
  (void)ctx;
  *out = weft_int((int64_t)(args_hash(a, n) >> 2));
  return 0;
}
WEFT_REGISTER(t_hash);

/* -> [hash, "str", [args...]] */
static int t_list(weft_task_ctx *ctx, const weft_value *a, size_t n,
                  weft_value *out) {
  (void)ctx;
  weft_value l, s, inner;
  if (weft_list_new(&l, 3))
    return WEFT_ENOMEM;
  weft_list_set(&l, 0, weft_int((int64_t)(args_hash(a, n) & 0xffff)));
  if (weft_str_printf(&s, "n%zu", n) || weft_list_new(&inner, n)) {
    weft_value_release(&l);
    return WEFT_ENOMEM;
  }
  for (size_t i = 0; i < n; i++)
    weft_list_set(&inner, i, weft_value_retain(&a[i]));
  weft_list_set(&l, 1, s);
  weft_list_set(&l, 2, inner);
  *out = l;
  return 0;
}
WEFT_REGISTER(t_list);

static int t_segv(weft_task_ctx *ctx, const weft_value *a, size_t n,
                  weft_value *out) {
  (void)ctx, (void)a, (void)n, (void)out;
  segfault();
  return 0;
}
WEFT_REGISTER_AS(t_segv, "crash", t_segv, -1);

/* (pidfile, x): on its first run writes its pid to pidfile and sleeps
 * (for the test to kill it); later runs (the file exists) return x + 1. */
static int t_sleeper(weft_task_ctx *ctx, const weft_value *a, size_t n,
                     weft_value *out) {
  (void)ctx, (void)n;
  const char *path = weft_value_str(&a[0]);
  char tmp[300];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  if (access(path, F_OK) != 0) {
    FILE *f = fopen(tmp, "w");
    if (f) {
      fprintf(f, "%d\n", (int)getpid());
      fclose(f);
      rename(tmp, path); /* appears whole */
    }
    for (int i = 0; i < 3000; i++) { /* 30 s at most */
      struct timespec ts = {0, 10000000};
      nanosleep(&ts, NULL);
    }
  }
  *out = weft_int(a[1].as.i + 1);
  return 0;
}
WEFT_REGISTER_ARITY(t_sleeper, 2);

static int t_add1(weft_task_ctx *ctx, const weft_value *a, size_t n,
                  weft_value *out) {
  (void)ctx, (void)n;
  *out = weft_int(a[0].as.i + 1);
  return 0;
}
WEFT_REGISTER_ARITY(t_add1, 1);

#endif
