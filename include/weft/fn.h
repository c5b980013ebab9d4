/* weft/fn.h - task functions, the registry that finds them by name, and the
 * one-line "decorator" that turns a plain typed C function into a task.
 *
 * Every task function has one generic type, weft_fn. A function registered
 * with WEFT_REGISTER is known by name, so a worker process or an MPI rank
 * running the same program can find it again: graphs refer to functions by
 * weft_fn_info, which carries the name. WEFT_DELAYED is the C answer to
 * @dask.delayed: it wraps `double add(double, double)` into a task function
 * that checks and converts its arguments, and registers it. */
#ifndef WEFT_FN_H
#define WEFT_FN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a running task sees of its run. Valid only during the call. */
typedef struct weft_task_ctx weft_task_ctx;

/* A task: reads nargs arguments (borrowed: do not release them), writes its
 * result into *out (which it then owns, and hands over to weft), and returns
 * 0; or returns weft_fail(ctx, ...) / a negative WEFT_E* code. On failure
 * *out must be left none. Task functions run on any worker thread. */
typedef int (*weft_fn)(weft_task_ctx *ctx, const weft_value *args,
                       size_t nargs, weft_value *out);

typedef struct weft_fn_info {
  const char *name;  /* unique in the process: other processes find it by it */
  weft_fn fn;
  int arity;         /* number of arguments, or -1 for any number */
  const char *file;  /* where it was registered, for error messages */
  struct weft_fn_info *next; /* registry link; owned by the registry */
} weft_fn_info;

/* Adds info to the process's registry of task functions. info must outlive
 * every use (a static object). Registering the same info twice is a no-op;
 * a second function under a name already taken makes later look-ups of that
 * name fail with WEFT_EEXIST. Returns 0, or WEFT_EINVAL for a NULL/unnamed
 * info. Thread-safe. WEFT_REGISTER calls it before main(). */
int weft_fn_register(weft_fn_info *info);

/* Finds a registered function by name. Returns 0, WEFT_ENOTFOUND ("not
 * registered"), WEFT_EEXIST (two functions share that name) or WEFT_EINVAL.
 * Thread-safe. */
int weft_fn_find(const char *name, const weft_fn_info **out);

/* 0 when info is the function registered under its name (so another
 * process finds it); WEFT_ENOTFOUND when it is not registered (or another
 * function is, under its name), WEFT_EEXIST when two functions share its
 * name, WEFT_EINVAL for NULL. Worker processes (the procs scheduler and
 * weft_map on procs) run only such functions. Thread-safe. */
int weft_fn_registered(const weft_fn_info *info);

/* Calls fn for every registered function (order unspecified). */
void weft_fn_foreach(void (*fn)(const weft_fn_info *info, void *ud), void *ud);

/* The weft_fn_info that WEFT_REGISTER / WEFT_DELAYED made for f, in the same
 * translation unit. Another unit finds it with weft_fn_find("f"). */
#define WEFT_FN(f) (&weft__fninfo_##f)

/* Registers a generic task function under its own name. */
#define WEFT_REGISTER(f) WEFT_REGISTER_AS(f, #f, f, -1)
/* Same, declaring that it takes exactly n arguments (checked when built). */
#define WEFT_REGISTER_ARITY(f, n) WEFT_REGISTER_AS(f, #f, f, n)
/* Registers function `fn` under `name`; WEFT_FN(id) refers to it. */
#define WEFT_REGISTER_AS(id, name, fn, n)                                      \
  static weft_fn_info weft__fninfo_##id = {name, fn, n, __FILE__, NULL};       \
  __attribute__((constructor)) static void weft__register_##id(void) {         \
    (void)weft_fn_register(&weft__fninfo_##id);                                \
  }                                                                            \
  static weft_fn_info weft__fninfo_##id

/* ---- the running task ---- */

/* Marks the task as failed with a printf-style message and returns
 * WEFT_ETASK, so a task can `return weft_fail(ctx, "bad input %d", x);`.
 * The compute that needed the task fails with an error naming the task, its
 * function and this message. The first message of a task wins. ctx may be
 * NULL (outside a task): then only WEFT_ETASK is returned. */
int weft_fail(weft_task_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The task running on this thread, or NULL: lets a typed WEFT_DELAYED
 * function fail with weft_fail(weft_task_current(), ...). */
weft_task_ctx *weft_task_current(void);

/* The 0-based id of the worker running the task; -1 with a NULL ctx, and
 * for the few tasks the procs scheduler runs in the program itself (see
 * weft_event.worker). */
int weft_task_worker(const weft_task_ctx *ctx);
const weft_fn_info *weft_task_fn(const weft_task_ctx *ctx);
/* Writes the task's key (see weft_node_key) into buf; returns its length. */
size_t weft_task_key(const weft_task_ctx *ctx, char *buf, size_t size);
bool weft_task_failed(const weft_task_ctx *ctx);

/* ---- WEFT_DELAYED: a typed C function as a task, in one line ----
 *
 *   static double add(double a, double b) { return a + b; }
 *   WEFT_DELAYED(add, double, double, double);   // name, return, parameters
 *   ... weft_call(g, add, x, 2.5) ...
 *
 * Parameter and return types: bool, int, long, long long, unsigned,
 * unsigned long, unsigned long long, float, double, const char * (borrowed
 * for the call) and weft_value (borrowed as a parameter, handed over as a
 * return). Arguments convert only without loss (an int to a double, an
 * integral double to an int, the int 0 or 1 to a bool); otherwise the task
 * fails naming the argument, what it got and what it expected. One
 * exception, as in C: a float parameter takes any double in its range,
 * rounded to the nearest float. Integers travel as int64, so an unsigned
 * long long parameter receives at most INT64_MAX (a larger literal becomes
 * a double and is refused). A wrong count fails when the node is built
 * (weft_call). 1 to 8 parameters. */
#define WEFT_DELAYED(name, ret, ...)                                           \
  static int weft__typed_##name(weft_task_ctx *weft__ctx,                      \
                                const weft_value *weft__a, size_t weft__n,     \
                                weft_value *weft__out) {                       \
    if (weft__n != (size_t)WEFT__NARG(__VA_ARGS__))                            \
      return weft_fail(weft__ctx, "%s takes %d arguments, %zu given", #name,   \
                       WEFT__NARG(__VA_ARGS__), weft__n);                      \
    WEFT__CAT(WEFT__PARAMS_, WEFT__NARG(__VA_ARGS__))(__VA_ARGS__)             \
    ret weft__r = name WEFT__CAT(WEFT__CALLARGS_, WEFT__NARG(__VA_ARGS__));    \
    return WEFT__RET(weft__ctx, weft__out, weft__r);                           \
  }                                                                            \
  WEFT_REGISTER_AS(name, #name, weft__typed_##name, WEFT__NARG(__VA_ARGS__))

/* ---- macro machinery (not part of the API) ---- */
#define WEFT__CAT(a, b) WEFT__CAT_(a, b)
#define WEFT__CAT_(a, b) a##b
#define WEFT__NARG(...)                                                        \
  WEFT__NARG_(__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)
#define WEFT__NARG_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13,    \
                    _14, _15, _16, N, ...)                                     \
  N

#define WEFT__P(i, T)                                                          \
  T weft__p##i;                                                                \
  if (WEFT__FROM(weft__ctx, weft__a, i, &weft__p##i))                          \
    return WEFT_ETASK;
#define WEFT__PARAMS_1(T0) WEFT__P(0, T0)
#define WEFT__PARAMS_2(T0, T1) WEFT__PARAMS_1(T0) WEFT__P(1, T1)
#define WEFT__PARAMS_3(T0, T1, T2) WEFT__PARAMS_2(T0, T1) WEFT__P(2, T2)
#define WEFT__PARAMS_4(T0, T1, T2, T3) WEFT__PARAMS_3(T0, T1, T2) WEFT__P(3, T3)
#define WEFT__PARAMS_5(T0, T1, T2, T3, T4)                                     \
  WEFT__PARAMS_4(T0, T1, T2, T3) WEFT__P(4, T4)
#define WEFT__PARAMS_6(T0, T1, T2, T3, T4, T5)                                 \
  WEFT__PARAMS_5(T0, T1, T2, T3, T4) WEFT__P(5, T5)
#define WEFT__PARAMS_7(T0, T1, T2, T3, T4, T5, T6)                             \
  WEFT__PARAMS_6(T0, T1, T2, T3, T4, T5) WEFT__P(6, T6)
#define WEFT__PARAMS_8(T0, T1, T2, T3, T4, T5, T6, T7)                         \
  WEFT__PARAMS_7(T0, T1, T2, T3, T4, T5, T6) WEFT__P(7, T7)
#define WEFT__CALLARGS_1 (weft__p0)
#define WEFT__CALLARGS_2 (weft__p0, weft__p1)
#define WEFT__CALLARGS_3 (weft__p0, weft__p1, weft__p2)
#define WEFT__CALLARGS_4 (weft__p0, weft__p1, weft__p2, weft__p3)
#define WEFT__CALLARGS_5 (weft__p0, weft__p1, weft__p2, weft__p3, weft__p4)
#define WEFT__CALLARGS_6                                                       \
  (weft__p0, weft__p1, weft__p2, weft__p3, weft__p4, weft__p5)
#define WEFT__CALLARGS_7                                                       \
  (weft__p0, weft__p1, weft__p2, weft__p3, weft__p4, weft__p5, weft__p6)
#define WEFT__CALLARGS_8                                                       \
  (weft__p0, weft__p1, weft__p2, weft__p3, weft__p4, weft__p5, weft__p6,       \
   weft__p7)

#define WEFT__FROM(ctx, a, i, p)                                               \
  _Generic((p),                                                                \
      bool *: weft__from_bool,                                                 \
      int *: weft__from_int,                                                   \
      long *: weft__from_long,                                                 \
      long long *: weft__from_llong,                                           \
      unsigned *: weft__from_uint,                                             \
      unsigned long *: weft__from_ulong,                                       \
      unsigned long long *: weft__from_ullong,                                 \
      float *: weft__from_float,                                               \
      double *: weft__from_double,                                             \
      const char **: weft__from_cstr,                                          \
      weft_value *: weft__from_value)(ctx, a, i, p)
#define WEFT__RET(ctx, out, r)                                                 \
  _Generic((r),                                                                \
      bool: weft__ret_bool,                                                    \
      int: weft__ret_llong,                                                    \
      long: weft__ret_llong,                                                   \
      long long: weft__ret_llong,                                              \
      unsigned: weft__ret_llong,                                               \
      unsigned long: weft__ret_ullong,                                         \
      unsigned long long: weft__ret_ullong,                                    \
      float: weft__ret_double,                                                 \
      double: weft__ret_double,                                                \
      char *: weft__ret_cstr,                                                  \
      const char *: weft__ret_cstr,                                            \
      weft_value: weft__ret_value)(ctx, out, r)

int weft__from_bool(weft_task_ctx *, const weft_value *, int, bool *);
int weft__from_int(weft_task_ctx *, const weft_value *, int, int *);
int weft__from_long(weft_task_ctx *, const weft_value *, int, long *);
int weft__from_llong(weft_task_ctx *, const weft_value *, int, long long *);
int weft__from_uint(weft_task_ctx *, const weft_value *, int, unsigned *);
int weft__from_ulong(weft_task_ctx *, const weft_value *, int,
                     unsigned long *);
int weft__from_ullong(weft_task_ctx *, const weft_value *, int,
                      unsigned long long *);
int weft__from_float(weft_task_ctx *, const weft_value *, int, float *);
int weft__from_double(weft_task_ctx *, const weft_value *, int, double *);
int weft__from_cstr(weft_task_ctx *, const weft_value *, int, const char **);
int weft__from_value(weft_task_ctx *, const weft_value *, int, weft_value *);
int weft__ret_bool(weft_task_ctx *, weft_value *, bool);
int weft__ret_llong(weft_task_ctx *, weft_value *, long long);
int weft__ret_ullong(weft_task_ctx *, weft_value *, unsigned long long);
int weft__ret_double(weft_task_ctx *, weft_value *, double);
int weft__ret_cstr(weft_task_ctx *, weft_value *, const char *);
int weft__ret_value(weft_task_ctx *, weft_value *, weft_value);

#ifdef __cplusplus
}
#endif
#endif
