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
 * *out should be left none (weft releases whatever was left there). Any
 * failure makes the compute (or weft_map) return WEFT_ETASK; the code the
 * task returned is kept (weft_graph_task_code, weft_map_opts.item_code).
 * Task functions run on any worker thread. */
typedef int (*weft_fn)(weft_task_ctx *ctx, const weft_value *args,
                       size_t nargs, weft_value *out);

/* Default values of trailing parameters (WEFT_DEFAULTS): numbers only, so
 * that they are static data, the same in every process. */
typedef struct weft__fn_default {
  int type; /* WEFT_T_INT or WEFT_T_DOUBLE */
  int64_t i;
  double d;
} weft__fn_default;
typedef struct weft__fn_defaults {
  int n; /* the last n parameters have defaults */
  weft__fn_default v[8];
  const struct weft_fn_info *info;  /* set when registered */
  struct weft__fn_defaults *next;   /* the process's list of them */
} weft__fn_defaults;

typedef struct weft_fn_info {
  const char *name;  /* unique in the process: other processes find it by it */
  weft_fn fn;
  int arity;         /* number of arguments, or -1 for any number */
  const char *file;  /* where it was registered, for error messages */
  struct weft_fn_info *next; /* registry link; owned by the registry */
} weft_fn_info;

/* The fewest arguments fn takes: its arity less the parameters that have
 * defaults (WEFT_DEFAULTS); -1: any number. Thread-safe. */
int weft_fn_min_arity(const weft_fn_info *fn);

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
 * translation unit. Another unit finds it with weft_fn_find("f"). Using a
 * function that was never declared a task fails to compile with
 * "'f_is_not_a_task__declare_it_with_WEFT_DELAYED_or_WEFT_REGISTER'
 * undeclared". */
#define WEFT_FN(f) (&WEFT__INFO(f))
#define WEFT__INFO(f) f##_is_not_a_task__declare_it_with_WEFT_DELAYED_or_WEFT_REGISTER

/* Registers a generic task function under its own name. */
#define WEFT_REGISTER(f) WEFT_REGISTER_AS(f, #f, f, -1)
/* Same, declaring that it takes exactly n arguments (checked when built). */
#define WEFT_REGISTER_ARITY(f, n) WEFT_REGISTER_AS(f, #f, f, n)
/* Registers function `fn` under `name`; WEFT_FN(id) refers to it. */
#define WEFT_REGISTER_AS(id, name, fn, n)                                      \
  static weft_fn_info WEFT__INFO(id) = {name, fn, n, __FILE__, NULL};          \
  __attribute__((constructor)) static void weft__register_##id(void) {         \
    (void)weft_fn_register(&WEFT__INFO(id));                                   \
  }                                                                            \
  static weft_fn_info WEFT__INFO(id)

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

/* Failing from a typed (WEFT_DELAYED) function, which has no ctx and must
 * still return something:
 *   static double ratio(double a, double b) {
 *     if (b == 0)
 *       return WEFT_FAIL("ratio(%g, 0): division by zero", a);
 *     return a / b;
 *   }
 * The task fails with that message (as weft_fail) and the value returned
 * is ignored. WEFT_FAIL gives 0, for results that are numbers or bool;
 * WEFT_FAIL_NULL gives NULL, for const char * results (for a weft_value
 * result: `return weft_fail(weft_task_current(), ...), weft_none();`; in a
 * void function: `WEFT_FAIL(...); return;`). Outside a task they only
 * return 0 / NULL. */
#define WEFT_FAIL(...) weft__fail0(__VA_ARGS__)
#define WEFT_FAIL_NULL(...) weft__fail_null(__VA_ARGS__)
int weft__fail0(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *weft__fail_null(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

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
 * (weft_call).
 *
 * Limits and forms, each checked when the program is compiled:
 *   - 0 to 8 parameters. No parameters: WEFT_DELAYED(f, long, void) (or
 *     WEFT_DELAYED(f, long)), called as weft_call(g, f). A ninth stops the
 *     build with "WEFT_DELAYED takes at most 8 parameters".
 *   - a void return: the task's result is none; a const char * result
 *     is copied into a str (NULL gives none).
 *   - only the types above: another one stops the build at the conversion
 *     (`_Generic` has no association for it): pass it as a weft_value.
 *   - a function used in weft_call / WEFT_FN without WEFT_DELAYED or
 *     WEFT_REGISTER stops the build with "'f_is_not_a_task__declare_it_
 *     with_WEFT_DELAYED_or_WEFT_REGISTER' undeclared".
 *   - NULL as an argument of weft_call is none (a const char * parameter
 *     refuses it, a weft_value one receives none).
 *
 * Defaults for trailing parameters, Python's `def f(x, y=1)`:
 *   static long f(long x, long y) { return x + y; }
 *   WEFT_DELAYED(f, long, long, long);
 *   WEFT_DEFAULTS(f, 1);                 // y = 1: weft_call(g, f, x) works
 * WEFT_DEFAULTS(f, d...) gives the last k parameters the k values d (numbers
 * or bool: int and double values, static data, so worker processes see
 * them too); it comes after WEFT_DELAYED(f, ...) in the same file. The
 * missing arguments are filled when the task runs, on every scheduler and
 * in weft_map (so a function of two parameters with one default maps over
 * one input). A string default stops the build ("WEFT_DEFAULTS: a default
 * must be a number"). */
#define WEFT_DELAYED(name, ret, ...)                                           \
  WEFT__DELAYED(name, ret, WEFT__NPARAMS(__VA_ARGS__), WEFT__IS_VOID(ret),     \
                __VA_ARGS__)
#define WEFT_DEFAULTS(name, ...)                                               \
  _Static_assert(WEFT__NARG(__VA_ARGS__) <= weft__nparams_##name,              \
                 "WEFT_DEFAULTS: more defaults than parameters");              \
  WEFT__CAT(WEFT__DEFCHECK_, WEFT__NARG(__VA_ARGS__))(__VA_ARGS__)             \
  static weft__fn_defaults weft__defaults_##name = {                           \
      WEFT__NARG(__VA_ARGS__),                                                 \
      {WEFT__CAT(WEFT__DEFS_, WEFT__NARG(__VA_ARGS__))(__VA_ARGS__)},          \
      NULL,                                                                    \
      NULL};                                                                   \
  __attribute__((constructor)) static void weft__setdefaults_##name(void) {    \
    weft__fn_defaults_register(&WEFT__INFO(name), &weft__defaults_##name);     \
  }                                                                            \
  static weft__fn_defaults weft__defaults_##name

/* Records d as the defaults of info (for weft_fn_min_arity: the typed task
 * itself reads d directly, also in worker processes). */
void weft__fn_defaults_register(const weft_fn_info *info,
                                weft__fn_defaults *d);

/* Fills the missing trailing arguments of a typed task from its defaults
 * into full (a, n: what it was given; np: its parameters). 0, or fails ctx
 * with a message naming the counts. */
int weft__fill_defaults(weft_task_ctx *ctx, const char *name, int np,
                        const weft__fn_defaults *d, const weft_value *a,
                        size_t n, weft_value *full);

/* ---- macro machinery (not part of the API) ---- */
#define WEFT__CAT(a, b) WEFT__CAT_(a, b)
#define WEFT__CAT_(a, b) a##b
#define WEFT__NARG(...)                                                        \
  WEFT__NARG_(__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)
#define WEFT__NARG_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13,    \
                    _14, _15, _16, N, ...)                                     \
  N
/* Like WEFT__NARG, but 0 for no argument at all (GCC >= 8, Clang >= 6:
 * __VA_OPT__ in C). */
#define WEFT__NARG0(...)                                                       \
  WEFT__NARG0_(_0 __VA_OPT__(, ) __VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9,   \
               8, 7, 6, 5, 4, 3, 2, 1, 0)
#define WEFT__NARG0_(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12,    \
                     _13, _14, _15, _16, N, ...)                               \
  N
#define WEFT__SECOND(...) WEFT__SECOND_(__VA_ARGS__, 0, ~)
#define WEFT__SECOND_(a, b, ...) b
/* 1 when the type x is spelled `void`, else 0. */
#define WEFT__IS_VOID(x) WEFT__SECOND(WEFT__CAT(WEFT__VOIDPROBE_, x))
#define WEFT__VOIDPROBE_void ~, 1
/* The number of parameters: 0 for none or for `void`. */
#define WEFT__NPARAMS(...)                                                     \
  WEFT__CAT(WEFT__NP_, WEFT__NARG0(__VA_ARGS__))(__VA_ARGS__)
#define WEFT__NP_0() 0
#define WEFT__NP_1(T) WEFT__CAT(WEFT__NP1_, WEFT__IS_VOID(T))
#define WEFT__NP1_0 1
#define WEFT__NP1_1 0
#define WEFT__NP_2(...) 2
#define WEFT__NP_3(...) 3
#define WEFT__NP_4(...) 4
#define WEFT__NP_5(...) 5
#define WEFT__NP_6(...) 6
#define WEFT__NP_7(...) 7
#define WEFT__NP_8(...) 8
#define WEFT__NP_9(...) 9
#define WEFT__NP_10(...) 9
#define WEFT__NP_11(...) 9
#define WEFT__NP_12(...) 9
#define WEFT__NP_13(...) 9
#define WEFT__NP_14(...) 9
#define WEFT__NP_15(...) 9
#define WEFT__NP_16(...) 9

#define WEFT__DELAYED(name, ret, np, isvoid, ...)                              \
  WEFT__DELAYED_(name, ret, np, isvoid, __VA_ARGS__)
#define WEFT__DELAYED_(name, ret, np, isvoid, ...)                             \
  enum { weft__nparams_##name = np };                                          \
  static weft__fn_defaults weft__defaults_##name;                              \
  static int weft__typed_##name(weft_task_ctx *weft__ctx,                      \
                                const weft_value *weft__a, size_t weft__n,     \
                                weft_value *weft__out) {                       \
    weft_value weft__full[np + 1];                                             \
    if (weft__n != (size_t)np) {                                               \
      if (weft__fill_defaults(weft__ctx, #name, np, &weft__defaults_##name,    \
                              weft__a, weft__n, weft__full))                   \
        return WEFT_ETASK;                                                     \
      weft__a = weft__full;                                                    \
    }                                                                          \
    WEFT__PARAMS_##np(__VA_ARGS__)                                             \
    WEFT__CALL_##isvoid(ret, name WEFT__CALLARGS_##np)                         \
  }                                                                            \
  WEFT_REGISTER_AS(name, #name, weft__typed_##name, np)

#define WEFT__CALL_0(ret, call)                                                \
  ret weft__r = call;                                                          \
  return WEFT__RET(weft__ctx, weft__out, weft__r);
#define WEFT__CALL_1(ret, call)                                                \
  call;                                                                        \
  return weft__ret_none(weft__ctx, weft__out);

#define WEFT__P(i, T)                                                          \
  T weft__p##i;                                                                \
  if (WEFT__FROM(weft__ctx, weft__a, i, &weft__p##i))                          \
    return WEFT_ETASK;
#define WEFT__PARAMS_0(...)
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
#define WEFT__PARAMS_9(...)                                                    \
  _Static_assert(0, "WEFT_DELAYED takes at most 8 parameters: pass more as "  \
                    "a list (a weft_value parameter), or write a generic "     \
                    "weft_fn with WEFT_REGISTER");                             \
  return WEFT_ETASK;
#define WEFT__CALLARGS_0 ()
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
#define WEFT__CALLARGS_9 /* never reached: the build stopped above */

/* WEFT_DEFAULTS' values: numbers become static int or double defaults;
 * anything else stops the build with a message. */
#define WEFT__DEF(x)                                                           \
  {_Generic((x), float: WEFT_T_DOUBLE, double: WEFT_T_DOUBLE,                  \
       long double: WEFT_T_DOUBLE, default: WEFT_T_INT),                       \
   _Generic((x), float: 0, double: 0, long double: 0, char *: 0,               \
       const char *: 0, void *: 0, default: (x)),                              \
   _Generic((x), char *: 0.0, const char *: 0.0, void *: 0.0, default: (x))}
#define WEFT__DEFCHECK(x)                                                      \
  _Static_assert(_Generic((x), char *: 0, const char *: 0, void *: 0,         \
                     default: 1),                                              \
                 "WEFT_DEFAULTS: a default must be a number (int, double or "  \
                 "bool), not a string or pointer");
#define WEFT__DEFS_1(a) WEFT__DEF(a)
#define WEFT__DEFS_2(a, ...) WEFT__DEF(a), WEFT__DEFS_1(__VA_ARGS__)
#define WEFT__DEFS_3(a, ...) WEFT__DEF(a), WEFT__DEFS_2(__VA_ARGS__)
#define WEFT__DEFS_4(a, ...) WEFT__DEF(a), WEFT__DEFS_3(__VA_ARGS__)
#define WEFT__DEFS_5(a, ...) WEFT__DEF(a), WEFT__DEFS_4(__VA_ARGS__)
#define WEFT__DEFS_6(a, ...) WEFT__DEF(a), WEFT__DEFS_5(__VA_ARGS__)
#define WEFT__DEFS_7(a, ...) WEFT__DEF(a), WEFT__DEFS_6(__VA_ARGS__)
#define WEFT__DEFS_8(a, ...) WEFT__DEF(a), WEFT__DEFS_7(__VA_ARGS__)
#define WEFT__DEFCHECK_1(a) WEFT__DEFCHECK(a)
#define WEFT__DEFCHECK_2(a, ...) WEFT__DEFCHECK(a) WEFT__DEFCHECK_1(__VA_ARGS__)
#define WEFT__DEFCHECK_3(a, ...) WEFT__DEFCHECK(a) WEFT__DEFCHECK_2(__VA_ARGS__)
#define WEFT__DEFCHECK_4(a, ...) WEFT__DEFCHECK(a) WEFT__DEFCHECK_3(__VA_ARGS__)
#define WEFT__DEFCHECK_5(a, ...) WEFT__DEFCHECK(a) WEFT__DEFCHECK_4(__VA_ARGS__)
#define WEFT__DEFCHECK_6(a, ...) WEFT__DEFCHECK(a) WEFT__DEFCHECK_5(__VA_ARGS__)
#define WEFT__DEFCHECK_7(a, ...) WEFT__DEFCHECK(a) WEFT__DEFCHECK_6(__VA_ARGS__)
#define WEFT__DEFCHECK_8(a, ...) WEFT__DEFCHECK(a) WEFT__DEFCHECK_7(__VA_ARGS__)

/* Conversions: the common case (the argument already has the parameter's
 * type and fits) inline, everything else (conversions, refusals with a
 * message) in typed.c. A typed task costs about what a generic one does,
 * item after item in weft_map. */
#define WEFT__FROM(ctx, a, i, p)                                               \
  _Generic((p),                                                                \
      bool *: weft__from_bool,                                                 \
      int *: weft__fromi_int,                                                  \
      long *: weft__fromi_long,                                                \
      long long *: weft__fromi_llong,                                          \
      unsigned *: weft__from_uint,                                             \
      unsigned long *: weft__from_ulong,                                       \
      unsigned long long *: weft__from_ullong,                                 \
      float *: weft__from_float,                                               \
      double *: weft__fromi_double,                                            \
      const char **: weft__from_cstr,                                          \
      weft_value *: weft__fromi_value)(ctx, a, i, p)
/* Results: the failure a typed function may have declared with WEFT_FAIL
 * is not looked at here: whoever runs a task (the schedulers, weft_map's
 * batches, a worker process) checks the task's failed flag after the call
 * and releases the result. */
#define WEFT__RET(ctx, out, r)                                                 \
  _Generic((r),                                                                \
      bool: weft__reti_bool,                                                   \
      int: weft__reti_llong,                                                   \
      long: weft__reti_llong,                                                  \
      long long: weft__reti_llong,                                             \
      unsigned: weft__reti_llong,                                              \
      unsigned long: weft__ret_ullong,                                         \
      unsigned long long: weft__ret_ullong,                                    \
      float: weft__reti_double,                                                \
      double: weft__reti_double,                                               \
      char *: weft__ret_cstr,                                                  \
      const char *: weft__ret_cstr,                                            \
      weft_value: weft__reti_value)(ctx, out, r)

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
int weft__ret_none(weft_task_ctx *, weft_value *);

static inline int weft__fromi_int(weft_task_ctx *ctx, const weft_value *a,
                                  int i, int *p) {
  if (__builtin_expect(a[i].type == WEFT_T_INT && a[i].as.i >= -2147483647 - 1 &&
                           a[i].as.i <= 2147483647 &&
                           sizeof(int) == 4,
                       1)) {
    *p = (int)a[i].as.i;
    return 0;
  }
  return weft__from_int(ctx, a, i, p);
}
static inline int weft__fromi_long(weft_task_ctx *ctx, const weft_value *a,
                                   int i, long *p) {
  if (__builtin_expect(a[i].type == WEFT_T_INT && sizeof(long) == 8, 1)) {
    *p = (long)a[i].as.i;
    return 0;
  }
  return weft__from_long(ctx, a, i, p);
}
static inline int weft__fromi_llong(weft_task_ctx *ctx, const weft_value *a,
                                    int i, long long *p) {
  if (__builtin_expect(a[i].type == WEFT_T_INT, 1)) {
    *p = (long long)a[i].as.i;
    return 0;
  }
  return weft__from_llong(ctx, a, i, p);
}
static inline int weft__fromi_double(weft_task_ctx *ctx, const weft_value *a,
                                     int i, double *p) {
  if (__builtin_expect(a[i].type == WEFT_T_DOUBLE, 1)) {
    *p = a[i].as.d;
    return 0;
  }
  return weft__from_double(ctx, a, i, p);
}
static inline int weft__fromi_value(weft_task_ctx *ctx, const weft_value *a,
                                    int i, weft_value *p) {
  (void)ctx;
  *p = a[i]; /* borrowed for the call */
  return 0;
}
static inline int weft__reti_bool(weft_task_ctx *ctx, weft_value *out,
                                  bool v) {
  (void)ctx;
  *out = weft_bool(v);
  return 0;
}
static inline int weft__reti_llong(weft_task_ctx *ctx, weft_value *out,
                                   long long v) {
  (void)ctx;
  *out = weft_int(v);
  return 0;
}
static inline int weft__reti_double(weft_task_ctx *ctx, weft_value *out,
                                    double v) {
  (void)ctx;
  *out = weft_double(v);
  return 0;
}
static inline int weft__reti_value(weft_task_ctx *ctx, weft_value *out,
                                   weft_value v) {
  (void)ctx;
  *out = v;
  return 0;
}

#ifdef __cplusplus
}
#endif
#endif
