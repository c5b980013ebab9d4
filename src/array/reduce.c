/* reduce.c - reductions along any axes: checks the axes, works out the
 * result's dtype (numpy's), shape and chunks, and has src/opt/blockwise.c
 * add the tree of tasks (reduce_run.c runs them). */
#include <stdio.h>
#include <stdlib.h>

#include "array_impl.h"
#include "prog.h"
#include "weft/error.h"

int weft__array_lower_reduce(weft_array *out, weft_array *x,
                             const prog_red *red, int split_every);

static const char *const red_names[WEFT_RED__COUNT] = {
    "sum", "prod", "mean", "min", "max", "var",
    "std", "any",  "all",  "argmin", "argmax"};

weft_array *weft_array_reduce(weft_reduce_op op, weft_array *x,
                              weft_axes axes, const weft_reduce_opts *opts) {
  if (!x || weft_graph_status(x->g))
    return NULL;
  if ((unsigned)op >= WEFT_RED__COUNT)
    return weft__array_fail(x->g, WEFT_EINVAL, "unknown reduction %d",
                            (int)op);
  const char *name = red_names[op];
  weft_reduce_opts o = {false, 8, 0};
  if (opts)
    o = *opts;
  if (o.split_every <= 1)
    o.split_every = 8;
  prog_red red = {0};
  red.op = op;
  red.keepdims = o.keepdims;
  red.ddof = o.ddof;
  char s[300];
  weft__shape_str(x->ndim, x->shape, s, sizeof s);
  int nred = 0;
  if (axes.n < 0) {
    for (int k = 0; k < x->ndim; k++)
      red.axes[k] = 1;
    nred = x->ndim;
  } else {
    if (axes.n > MAXD)
      return weft__array_fail(x->g, WEFT_EINVAL, "%s: too many axes", name);
    for (int i = 0; i < axes.n; i++) {
      int a = axes.ax[i];
      if (a < -x->ndim || a >= x->ndim)
        return weft__array_fail(x->g, WEFT_EINVAL,
                                "%s: axis %d is out of bounds for array of "
                                "dimension %d (shape %s)",
                                name, a, x->ndim, s);
      if (a < 0)
        a += x->ndim;
      if (red.axes[a])
        return weft__array_fail(x->g, WEFT_EINVAL,
                                "%s: duplicate value in 'axis' (%d)", name, a);
      red.axes[a] = 1;
      nred++;
    }
  }
  if ((op == WEFT_RED_ARGMIN || op == WEFT_RED_ARGMAX) && nred != 1 &&
      nred != x->ndim)
    return weft__array_fail(x->g, WEFT_EINVAL,
                            "%s takes one axis or all of them, not %d of the "
                            "%d axes of shape %s",
                            name, nred, x->ndim, s);
  double count = 1;
  for (int k = 0; k < x->ndim; k++)
    if (red.axes[k])
      count *= (double)x->shape[k];
  red.count = count;
  if (count == 0 && (op == WEFT_RED_MIN || op == WEFT_RED_MAX ||
                     op == WEFT_RED_ARGMIN || op == WEFT_RED_ARGMAX)) {
    bool empty_out = false;
    for (int k = 0; k < x->ndim; k++)
      if (!red.axes[k] && x->shape[k] == 0)
        empty_out = true;
    if (!empty_out)
      return weft__array_fail(x->g, WEFT_EINVAL,
                              "%s: zero-size array (shape %s) to reduction "
                              "operation which has no identity",
                              name, s);
  }
  int xct = weft__ctype(x->dtype);
  bool flt = xct == CT_F64;
  weft_dtype odt;
  switch (op) {
  case WEFT_RED_SUM:
  case WEFT_RED_PROD:
    odt = flt ? x->dtype : WEFT_I64;
    red.ct = flt ? CT_F64 : CT_I64;
    break;
  case WEFT_RED_MEAN:
  case WEFT_RED_VAR:
  case WEFT_RED_STD:
    odt = x->dtype == WEFT_F32 ? WEFT_F32 : WEFT_F64;
    red.ct = CT_F64;
    break;
  case WEFT_RED_MIN:
  case WEFT_RED_MAX:
    odt = x->dtype;
    red.ct = flt ? CT_F64 : CT_I64;
    break;
  case WEFT_RED_ANY:
  case WEFT_RED_ALL:
    odt = WEFT_BOOL;
    red.ct = CT_I64;
    break;
  default:
    odt = WEFT_I64;
    red.ct = flt ? CT_F64 : CT_I64;
    break;
  }
  red.out_dtype = odt;
  int64_t shape[MAXD];
  int nd = 0;
  for (int k = 0; k < x->ndim; k++)
    if (!red.axes[k] || o.keepdims)
      shape[nd++] = red.axes[k] ? 1 : x->shape[k];
  weft_array *out = weft__array_new(x->g, AK_CHUNKS, odt, nd, shape);
  if (!out)
    return NULL;
  int q = 0;
  for (int k = 0; k < x->ndim; k++) {
    if (red.axes[k] && !o.keepdims)
      continue;
    int rc;
    if (red.axes[k]) {
      int64_t one = 1;
      rc = weft__array_set_axis_chunks(out, q, 1, &one);
    } else {
      rc = weft__array_set_axis_chunks(out, q, (size_t)x->nchunks[k],
                                       x->chunks[k]);
    }
    q++;
    if (rc) {
      weft_array_free(out);
      return NULL;
    }
  }
  snprintf(out->label, sizeof out->label, "%s", name);
  out->kid[0] = weft_array_retain(x); /* for pictures; not evaluated */
  out->nkids = 1;
  if (weft__array_lower_reduce(out, x, &red, o.split_every)) {
    weft_array_free(out);
    return NULL;
  }
  return out;
}
