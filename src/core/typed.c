/* typed.c - argument and result conversions behind WEFT_DELAYED, which
 * lets a plain typed C function run as a task. A conversion that would lose
 * information fails the task with a message naming the argument. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "task.h"
#include "weft/error.h"
#include "weft/fn.h"

static int mismatch(weft_task_ctx *ctx, const weft_value *a, int i,
                    const char *want) {
  const char *fn = ctx && ctx->fn ? ctx->fn->name : "task";
  char shown[64];
  weft_value_format(&a[i], shown, sizeof shown);
  return weft_fail(ctx, "%s: argument %d is %s %s, expected %s", fn, i + 1,
                   weft_type_name(a[i].type), shown, want);
}

static int get_int(weft_task_ctx *ctx, const weft_value *a, int i,
                   long long lo, long long hi, const char *want,
                   long long *out) {
  int64_t v = 0;
  if (a[i].type == WEFT_T_NONE || weft_value_to_int64(&a[i], &v) != 0 ||
      v < lo || v > hi)
    return mismatch(ctx, a, i, want);
  *out = v;
  return 0;
}

int weft__from_bool(weft_task_ctx *ctx, const weft_value *a, int i, bool *p) {
  /* an int is a bool only when it is 0 or 1: 2 -> true would lose it */
  if (a[i].type == WEFT_T_BOOL)
    *p = a[i].as.b;
  else if (a[i].type == WEFT_T_INT && (a[i].as.i == 0 || a[i].as.i == 1))
    *p = a[i].as.i == 1;
  else
    return mismatch(ctx, a, i, "bool (or the int 0 or 1)");
  return 0;
}

int weft__from_int(weft_task_ctx *ctx, const weft_value *a, int i, int *p) {
  long long v = 0;
  int rc = get_int(ctx, a, i, INT_MIN, INT_MAX, "int", &v);
  if (!rc)
    *p = (int)v;
  return rc;
}

int weft__from_long(weft_task_ctx *ctx, const weft_value *a, int i, long *p) {
  long long v = 0;
  int rc = get_int(ctx, a, i, LONG_MIN, LONG_MAX, "long", &v);
  if (!rc)
    *p = (long)v;
  return rc;
}

int weft__from_llong(weft_task_ctx *ctx, const weft_value *a, int i,
                     long long *p) {
  return get_int(ctx, a, i, LLONG_MIN, LLONG_MAX, "long long", p);
}

int weft__from_uint(weft_task_ctx *ctx, const weft_value *a, int i,
                    unsigned *p) {
  long long v = 0;
  int rc = get_int(ctx, a, i, 0, UINT_MAX, "unsigned", &v);
  if (!rc)
    *p = (unsigned)v;
  return rc;
}

int weft__from_ulong(weft_task_ctx *ctx, const weft_value *a, int i,
                     unsigned long *p) {
  long long v = 0;
  int rc = get_int(ctx, a, i, 0, LLONG_MAX, "unsigned long", &v);
  if (!rc)
    *p = (unsigned long)v;
  return rc;
}

int weft__from_ullong(weft_task_ctx *ctx, const weft_value *a, int i,
                      unsigned long long *p) {
  long long v = 0;
  int rc = get_int(ctx, a, i, 0, LLONG_MAX, "unsigned long long", &v);
  if (!rc)
    *p = (unsigned long long)v;
  return rc;
}

int weft__from_double(weft_task_ctx *ctx, const weft_value *a, int i,
                      double *p) {
  if (a[i].type == WEFT_T_NONE || weft_value_to_double(&a[i], p) != 0)
    return mismatch(ctx, a, i, "double");
  return 0;
}

int weft__from_float(weft_task_ctx *ctx, const weft_value *a, int i,
                     float *p) {
  double d;
  if (a[i].type == WEFT_T_NONE || weft_value_to_double(&a[i], &d) != 0 ||
      (isfinite(d) && fabs(d) > FLT_MAX))
    return mismatch(ctx, a, i, "float");
  *p = (float)d;
  return 0;
}

int weft__from_cstr(weft_task_ctx *ctx, const weft_value *a, int i,
                    const char **p) {
  if (a[i].type != WEFT_T_STR)
    return mismatch(ctx, a, i, "str");
  *p = weft_value_str(&a[i]);
  return 0;
}

int weft__from_value(weft_task_ctx *ctx, const weft_value *a, int i,
                     weft_value *p) {
  (void)ctx;
  *p = a[i]; /* borrowed for the call */
  return 0;
}

/* A typed function may have called weft_fail(weft_task_current(), ...):
 * then its return value is not a result. */
static int finish(weft_task_ctx *ctx, weft_value *out, weft_value v) {
  if (ctx && ctx->failed) {
    weft_value_release(&v);
    *out = weft_none();
    return WEFT_ETASK;
  }
  *out = v;
  return 0;
}

int weft__ret_bool(weft_task_ctx *ctx, weft_value *out, bool v) {
  return finish(ctx, out, weft_bool(v));
}

int weft__ret_llong(weft_task_ctx *ctx, weft_value *out, long long v) {
  return finish(ctx, out, weft_int(v));
}

int weft__ret_ullong(weft_task_ctx *ctx, weft_value *out,
                     unsigned long long v) {
  if (v > (unsigned long long)INT64_MAX) {
    const char *fn = ctx && ctx->fn ? ctx->fn->name : "task";
    return weft_fail(ctx, "%s: result %llu does not fit in an int64", fn, v);
  }
  return finish(ctx, out, weft_int((int64_t)v));
}

int weft__ret_double(weft_task_ctx *ctx, weft_value *out, double v) {
  return finish(ctx, out, weft_double(v));
}

int weft__ret_cstr(weft_task_ctx *ctx, weft_value *out, const char *s) {
  if (ctx && ctx->failed)
    return finish(ctx, out, weft_none());
  if (!s)
    return finish(ctx, out, weft_none());
  weft_value v;
  if (weft_str_new(&v, s) != 0)
    return weft_fail(ctx, "out of memory copying a result string");
  return finish(ctx, out, v);
}

int weft__ret_value(weft_task_ctx *ctx, weft_value *out, weft_value v) {
  return finish(ctx, out, v);
}

int weft__ret_none(weft_task_ctx *ctx, weft_value *out) {
  return finish(ctx, out, weft_none());
}

int weft__fill_defaults(weft_task_ctx *ctx, const char *name, int np,
                        const weft__fn_defaults *d, const weft_value *a,
                        size_t n, weft_value *full) {
  int nd = d ? d->n : 0;
  if (n > (size_t)np || n + (size_t)nd < (size_t)np) {
    if (nd)
      return weft_fail(ctx, "%s takes %d to %d arguments, %zu given", name,
                       np - nd, np, n);
    return weft_fail(ctx, "%s takes %d argument%s, %zu given", name, np,
                     np == 1 ? "" : "s", n);
  }
  if (n)
    memcpy(full, a, n * sizeof *a);
  for (size_t k = n; k < (size_t)np; k++) {
    const weft__fn_default *v = &d->v[k - (size_t)(np - nd)];
    full[k] = v->type == WEFT_T_DOUBLE ? weft_double(v->d) : weft_int(v->i);
  }
  return 0;
}
