/* elem.c - elementwise arrays: numpy's broadcasting and its type promotion
 * (numpy 1.24, with value-based casting of Python scalars), the casts that
 * promotion inserts, where, clip and astype. Building an elementwise array
 * makes no task: its values are computed inside the tasks of whatever needs
 * them (src/opt/blockwise.c). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "array_impl.h"
#include "weft/error.h"

static const char *const op_names[WEFT_AOP__COUNT] = {
    "add",     "subtract", "multiply",   "true_divide",   "floor_divide",
    "remainder", "power",  "maximum",    "minimum",       "equal",
    "not_equal", "less",   "less_equal", "greater",       "greater_equal",
    "logical_and", "logical_or", "logical_xor", "arctan2"};
static const char *const fn_names[WEFT_AFN__COUNT] = {
    "negative", "absolute", "sqrt",   "square",  "exp",     "expm1",
    "log",      "log1p",    "log2",   "log10",   "sin",     "cos",
    "tan",      "arcsin",   "arccos", "arctan",  "sinh",    "cosh",
    "tanh",     "floor",    "ceil",   "trunc",   "rint",    "sign",
    "logical_not", "isnan", "isinf",  "isfinite"};

const char *weft__aop_name(int op) {
  return op >= 0 && op < WEFT_AOP__COUNT ? op_names[op] : "?";
}
const char *weft__afn_name(int fn) {
  return fn >= 0 && fn < WEFT_AFN__COUNT ? fn_names[fn] : "?";
}

static int kind_of(weft_dtype dt) { /* 0 bool, 1 int, 2 float */
  return dt == WEFT_BOOL ? 0 : (dt == WEFT_F32 || dt == WEFT_F64) ? 2 : 1;
}

/* numpy's promotion of two array dtypes (bool < int32 < int64, float32 <
 * float64, an int with float32 gives float64). */
static weft_dtype promote_dt(weft_dtype a, weft_dtype b) {
  if (a == b)
    return a;
  if (a == WEFT_BOOL)
    return b;
  if (b == WEFT_BOOL)
    return a;
  int ka = kind_of(a), kb = kind_of(b);
  if (ka == 1 && kb == 1)
    return WEFT_I64;
  if (ka == 2 && kb == 2)
    return WEFT_F64;
  weft_dtype f = ka == 2 ? a : b; /* int with float */
  return f == WEFT_F32 ? WEFT_F64 : f;
}

/* The dtype a weak (Python) scalar takes beside an array of dtype dt. */
static weft_dtype weak_beside(const weft_array *s, weft_dtype dt) {
  int ks = kind_of(s->dtype), kd = kind_of(dt);
  if (ks > kd)
    return promote_dt(dt, s->dtype); /* bool arr + int: int64 ... */
  if (ks == 1 && dt == WEFT_I32 &&
      (s->pi[3] < INT32_MIN || s->pi[3] > INT32_MAX))
    return WEFT_I64;
  /* numpy 1.24 promotes float32 with the scalar's min_scalar_type: an int
     past int16/uint16 (-32768..65535) is int32/uint32 or wider, which
     float32 cannot hold (float64); a finite float outside numpy's
     (-3.4e38, 3.4e38), literally, is float64 */
  if (ks == 1 && dt == WEFT_F32 && (s->pi[3] < -32768 || s->pi[3] > 65535))
    return WEFT_F64;
  if (ks == 2 && dt == WEFT_F32 && isfinite(s->pd[0]) &&
      !(s->pd[0] > -3.4e38 && s->pd[0] < 3.4e38))
    return WEFT_F64;
  return dt;
}

static weft_dtype promote(const weft_array *a, const weft_array *b) {
  /* numpy 1.24 casts by value only when arrays meet scalars: a 0-d array
     (a full reduction's result) with a Python scalar promotes as two
     dtypes (float32 0-d / 3 is float64, int32 0-d + 1 int64) */
  if (a->weak && !b->weak)
    return b->ndim == 0 ? promote_dt(b->dtype, a->dtype)
                        : weak_beside(a, b->dtype);
  if (b->weak && !a->weak)
    return a->ndim == 0 ? promote_dt(a->dtype, b->dtype)
                        : weak_beside(b, a->dtype);
  return promote_dt(a->dtype, b->dtype);
}

/* Output shape and chunks of broadcasting n arrays; 0 or a graph error
 * that names the shapes. */
static int broadcast(weft_graph *g, const char *what, int n,
                     weft_array *const in[], int *ndim, int64_t *shape,
                     const weft_array **chunk_src, int *src_axis) {
  int nd = 0;
  for (int i = 0; i < n; i++)
    if (in[i]->ndim > nd)
      nd = in[i]->ndim;
  for (int k = 0; k < nd; k++) {
    shape[k] = 1;
    chunk_src[k] = NULL;
    for (int i = 0; i < n; i++) {
      int j = k - (nd - in[i]->ndim);
      if (j < 0)
        continue;
      int64_t e = in[i]->shape[j];
      if (e != 1 && shape[k] != 1 && e != shape[k]) {
        char msg[800];
        size_t len = (size_t)snprintf(msg, sizeof msg,
                                      "%s: operands could not be broadcast "
                                      "together with shapes",
                                      what);
        for (int q = 0; q < n && len < sizeof msg; q++) {
          char s[300];
          weft__shape_str(in[q]->ndim, in[q]->shape, s, sizeof s);
          len += (size_t)snprintf(msg + len, sizeof msg - len, " %s", s);
        }
        weft__array_fail(g, WEFT_EINVAL, "%s", msg);
        return WEFT_EINVAL;
      }
      if (e != 1)
        shape[k] = e;
    }
    for (int i = 0; i < n && !chunk_src[k]; i++) {
      int j = k - (nd - in[i]->ndim);
      if (j >= 0 && in[i]->shape[j] == shape[k]) {
        chunk_src[k] = in[i];
        src_axis[k] = j;
      }
    }
  }
  *ndim = nd;
  return 0;
}

static weft_array *elem_new(weft_graph *g, int op, weft_dtype dt, int n,
                            weft_array *const in[], const char *what) {
  int nd;
  int64_t shape[MAXD];
  const weft_array *src[MAXD];
  int sax[MAXD];
  if (broadcast(g, what, n, in, &nd, shape, src, sax))
    return NULL;
  weft_array *a = weft__array_new(g, AK_ELEM, dt, nd, shape);
  if (!a)
    return NULL;
  a->op = op;
  bool weak = true;
  for (int i = 0; i < n; i++) {
    a->kid[i] = weft_array_retain(in[i]);
    weak = weak && in[i]->weak;
  }
  a->nkids = n;
  a->weak = weak;
  for (int k = 0; k < nd; k++)
    if (weft__array_set_axis_chunks(a, k, (size_t)src[k]->nchunks[sax[k]],
                                    src[k]->chunks[sax[k]])) {
      weft_array_free(a);
      return NULL;
    }
  return a;
}

/* a cast to dt (a new reference; a itself when it already is dt). */
static weft_array *cast(weft_array *a, weft_dtype dt) {
  if (a->dtype == dt)
    return weft_array_retain(a);
  weft_array *c = elem_new(a->g, EOP_CAST, dt, 1, &a, "astype");
  if (c)
    c->weak = a->weak;
  return c;
}

static bool bad(weft_array *a) { return !a || weft_graph_status(a->g); }

static weft_array *fail_dtypes(weft_graph *g, const char *what,
                               weft_dtype a, weft_dtype b) {
  return weft__array_fail(g, WEFT_ETYPE,
                          "%s is not supported for dtypes %s and %s", what,
                          weft_dtype_name(a), weft_dtype_name(b));
}

weft_array *weft_array_op2(weft_array_op op, weft_array *a, weft_array *b) {
  if (bad(a) || bad(b))
    return NULL;
  if (a->g != b->g)
    return weft__array_fail(a->g, WEFT_EGRAPH,
                            "%s of arrays of two different graphs",
                            weft__aop_name(op));
  if ((unsigned)op >= WEFT_AOP__COUNT)
    return weft__array_fail(a->g, WEFT_EINVAL, "unknown array operator %d",
                            (int)op);
  const char *name = op_names[op];
  weft_dtype t = promote(a, b), rt = t;
  switch (op) {
  case WEFT_AOP_SUB:
    if (t == WEFT_BOOL)
      return weft__array_fail(a->g, WEFT_ETYPE,
                              "subtract of two bool arrays is not supported "
                              "(numpy: use logical_xor)");
    break;
  case WEFT_AOP_FLOORDIV:
  case WEFT_AOP_MOD:
  case WEFT_AOP_POW:
    if (t == WEFT_BOOL)
      return fail_dtypes(a->g, name, a->dtype, b->dtype); /* numpy: int8 */
    /* numpy: a bool array ** a Python int is int8 (power has no bool loop
       and the int is value-cast), not int64; % and // take int64 there */
    if (op == WEFT_AOP_POW && a->dtype == WEFT_BOOL && !a->weak && b->weak &&
        kind_of(b->dtype) == 1)
      return weft__array_fail(a->g, WEFT_ETYPE,
                              "power of a bool array and a Python int gives "
                              "int8 in numpy, which weft arrays do not have: "
                              "astype first");
    break;
  case WEFT_AOP_DIV:
  case WEFT_AOP_ATAN2:
    if (kind_of(t) < 2)
      t = rt = WEFT_F64;
    break;
  case WEFT_AOP_EQ: case WEFT_AOP_NE: case WEFT_AOP_LT: case WEFT_AOP_LE:
  case WEFT_AOP_GT: case WEFT_AOP_GE:
    rt = WEFT_BOOL;
    break;
  case WEFT_AOP_AND: case WEFT_AOP_OR: case WEFT_AOP_XOR:
    t = rt = WEFT_BOOL; /* logical_*: operands as truth values */
    break;
  default:
    break;
  }
  weft_array *ca = cast(a, t), *cb = ca ? cast(b, t) : NULL;
  weft_array *r = NULL;
  if (ca && cb) {
    weft_array *in[2] = {ca, cb};
    r = elem_new(a->g, EOP_BIN + op, rt, 2, in, name);
  }
  weft_array_free(ca);
  weft_array_free(cb);
  return r;
}

static weft_array *number(weft_graph *g, double s) {
  if (s == trunc(s) && fabs(s) < 9.2e18)
    return weft_array_scalar_int(g, (int64_t)s);
  return weft_array_scalar(g, s);
}

weft_array *weft_array_op2s(weft_array_op op, weft_array *a, double s) {
  if (bad(a))
    return NULL;
  weft_array *b = number(a->g, s);
  weft_array *r = weft_array_op2(op, a, b);
  weft_array_free(b);
  return r;
}

weft_array *weft_array_rop2s(weft_array_op op, double s, weft_array *a) {
  if (bad(a))
    return NULL;
  weft_array *b = number(a->g, s);
  weft_array *r = weft_array_op2(op, b, a);
  weft_array_free(b);
  return r;
}

weft_array *weft_array_op1(weft_array_fn fn, weft_array *a) {
  if (bad(a))
    return NULL;
  if ((unsigned)fn >= WEFT_AFN__COUNT)
    return weft__array_fail(a->g, WEFT_EINVAL, "unknown array function %d",
                            (int)fn);
  weft_dtype t = a->dtype, rt = t;
  int k = kind_of(t);
  switch (fn) {
  case WEFT_AFN_NEG:
  case WEFT_AFN_SQUARE:
  case WEFT_AFN_SIGN:
    if (k == 0)
      return weft__array_fail(a->g, WEFT_ETYPE,
                              "%s of a bool array is not supported",
                              fn_names[fn]);
    break;
  case WEFT_AFN_ABS:
    break;
  case WEFT_AFN_NOT:
    t = rt = WEFT_BOOL;
    break;
  case WEFT_AFN_ISNAN:
  case WEFT_AFN_ISINF:
  case WEFT_AFN_ISFINITE:
    rt = WEFT_BOOL;
    break;
  default: /* float functions */
    if (k == 0)
      return weft__array_fail(a->g, WEFT_ETYPE,
                              "%s of a bool array gives float16 in numpy, "
                              "which weft arrays do not have: astype first",
                              fn_names[fn]);
    if (k == 1)
      t = rt = WEFT_F64;
    break;
  }
  weft_array *c = cast(a, t);
  weft_array *r = c ? elem_new(a->g, EOP_UN + fn, rt, 1, &c, fn_names[fn])
                    : NULL;
  weft_array_free(c);
  return r;
}

weft_array *weft_array_where(weft_array *cond, weft_array *a, weft_array *b) {
  if (bad(cond) || bad(a) || bad(b))
    return NULL;
  if (cond->g != a->g || a->g != b->g)
    return weft__array_fail(a->g, WEFT_EGRAPH,
                            "where of arrays of different graphs");
  weft_dtype t = promote(a, b);
  weft_array *cc = cast(cond, WEFT_BOOL);
  weft_array *ca = cc ? cast(a, t) : NULL, *cb = ca ? cast(b, t) : NULL;
  weft_array *r = NULL;
  if (cb) {
    weft_array *in[3] = {cc, ca, cb};
    r = elem_new(a->g, EOP_WHERE, t, 3, in, "where");
  }
  weft_array_free(cc);
  weft_array_free(ca);
  weft_array_free(cb);
  return r;
}

weft_array *weft_array_clip(weft_array *a, double lo, double hi) {
  if (bad(a))
    return NULL;
  weft_dtype t = a->dtype;
  for (int i = 0; i < 2; i++) {
    double v = i ? hi : lo;
    if (isnan(v))
      continue;
    weft_array *s = number(a->g, v);
    if (!s)
      return NULL;
    weft_dtype u = weak_beside(s, t);
    t = u;
    weft_array_free(s);
  }
  if (t == WEFT_BOOL)
    t = WEFT_I64;
  weft_array *c = cast(a, t);
  weft_array *r = c ? elem_new(a->g, EOP_CLIP, t, 1, &c, "clip") : NULL;
  if (r) {
    r->pd[0] = lo;
    r->pd[1] = hi;
  }
  weft_array_free(c);
  return r;
}

weft_array *weft_array_astype(weft_array *a, weft_dtype dt) {
  if (bad(a))
    return NULL;
  if (!weft__dtype_supported(dt))
    return weft__array_fail(a->g, WEFT_EINVAL,
                            "astype(%s): dtype not supported by arrays",
                            weft_dtype_name(dt));
  if (a->dtype == dt) /* numpy copies; a lazy array needs no copy */
    return weft_array_retain(a);
  weft_array *r = elem_new(a->g, EOP_CAST, dt, 1, &a, "astype");
  return r;
}
