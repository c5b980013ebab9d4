/* parse_call.c - the calls of array expressions (weft_array_parse, whose
 * grammar is parse.c): argument lists with numpy's keywords, shapes,
 * chunks, dtypes and axes read from them, the methods of an array
 * (a.sum(axis=1), a.astype(...), a.rechunk(...)) and the functions
 * (creation, math, reductions, where, concatenate). */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "parse_impl.h"
#include "weft/error.h"
#include "weft/npy.h"

/* ---- arguments ---- */


void weft__parse_args_free(args *a) {
  for (int i = 0; i < a->n; i++)
    vfree(&a->v[i]);
}

int weft__parse_args(P *p, args *a, const char *close) {
  memset(a, 0, sizeof *a);
  ws(p);
  if (accept(p, close))
    return 0;
  for (;;) {
    if (a->n == 12)
      return perr(p, p->pos, "too many arguments");
    ws(p);
    size_t at = p->pos, q = at;
    while (isalnum((unsigned char)p->s[q]) || p->s[q] == '_')
      q++;
    size_t r = q;
    while (isspace((unsigned char)p->s[r]))
      r++;
    if (q > at && p->s[r] == '=' && p->s[r + 1] != '=') {
      snprintf(a->kw[a->n], sizeof a->kw[a->n], "%.*s", (int)(q - at),
               p->s + at);
      p->pos = r + 1;
    }
    ws(p);
    a->at[a->n] = p->pos;
    if (weft__parse_expr(p, &a->v[a->n]))
      return -1;
    a->n++;
    if (accept(p, ",")) {
      if (accept(p, close))
        return 0; /* (x,) */
      continue;
    }
    return expect(p, close);
  }
}

/* Positional i or keyword kw; NULL when absent. */
static val *arg(args *a, int i, const char *kw, size_t *at) {
  int pos = 0;
  for (int k = 0; k < a->n; k++) {
    if (a->kw[k][0] ? !strcmp(a->kw[k], kw) : pos++ == i) {
      a->used[k] = true;
      if (at)
        *at = a->at[k];
      return &a->v[k];
    }
  }
  return NULL;
}

/* After a call that succeeded: a keyword it never looked up (numpy would
   raise TypeError; weft would silently ignore it, e.g. sum(dtype=...)). */
int weft__parse_unused_kw(P *p, const args *a, const char *name, val *out) {
  for (int k = 0; k < a->n; k++)
    if (a->kw[k][0] && !a->used[k]) {
      vfree(out);
      memset(out, 0, sizeof *out);
      return perr(p, a->at[k], "%s() got an unexpected keyword argument '%s'",
                  name, a->kw[k]);
    }
  return 0;
}

static int to_shape(P *p, const val *v, size_t at, weft_shape *s) {
  s->ndim = 0;
  if (v->kind == V_INT)
    return s->ndim = 1, s->d[0] = v->i, 0;
  if (v->kind != V_TUPLE && v->kind != V_LIST)
    return perr(p, at, "expected a shape: an integer or a tuple of them");
  if (v->n > MAXD)
    return perr(p, at, "more than %d dimensions", MAXD);
  for (int k = 0; k < v->n; k++)
    if (as_int(p, &v->items[k], at, &s->d[k]))
      return -1;
  s->ndim = v->n;
  return 0;
}

/* chunks=: an int, a tuple of ints (-1: whole axis), a tuple of tuples;
 * storage for explicit sizes in buf. Absent: one chunk up to 128 MB. */
static int to_chunks(P *p, const val *v, size_t at, const weft_shape *s,
                     weft_dtype dt, weft_chunks *c, int64_t *buf,
                     size_t bufn) {
  memset(c, 0, sizeof *c);
  if (!v || v->kind == V_NONE) {
    c->ndim = s->ndim;
    double row = (double)weft_dtype_size(dt);
    for (int k = 0; k < s->ndim; k++) {
      c->size[k] = -1;
      if (k)
        row *= (double)s->d[k];
    }
    if (s->ndim && row * (double)s->d[0] > 128e6) {
      int64_t rows = (int64_t)(128e6 / row);
      c->size[0] = rows < 1 ? 1 : rows;
    }
    return 0;
  }
  c->ndim = s->ndim;
  if (v->kind == V_INT) {
    for (int k = 0; k < s->ndim; k++)
      c->size[k] = v->i;
    return 0;
  }
  if (v->kind != V_TUPLE && v->kind != V_LIST)
    return perr(p, at, "expected chunks: an integer or a tuple");
  if (v->n != s->ndim)
    return perr(p, at, "chunks have %d axes, the shape %d", v->n, s->ndim);
  size_t used = 0;
  for (int k = 0; k < v->n; k++) {
    const val *it = &v->items[k];
    if (it->kind == V_TUPLE || it->kind == V_LIST) {
      if (used + (size_t)it->n > bufn)
        return perr(p, at, "too many explicit chunk sizes");
      for (int j = 0; j < it->n; j++)
        if (as_int(p, &it->items[j], at, &buf[used + (size_t)j]))
          return -1;
      c->sizes[k] = buf + used;
      c->nsizes[k] = (size_t)it->n;
      used += (size_t)it->n;
    } else if (as_int(p, it, at, &c->size[k])) {
      return -1;
    }
  }
  return 0;
}

static int to_dtype(P *p, const val *v, size_t at, weft_dtype *dt) {
  if (!v || v->kind == V_NONE)
    return 0;
  const char *n = v->kind == V_STR ? v->str : "";
  static const struct {
    const char *name;
    weft_dtype dt;
  } tab[] = {{"float64", WEFT_F64}, {"float", WEFT_F64}, {"f8", WEFT_F64},
             {"double", WEFT_F64},  {"float32", WEFT_F32}, {"f4", WEFT_F32},
             {"int64", WEFT_I64},   {"int", WEFT_I64},   {"i8", WEFT_I64},
             {"int32", WEFT_I32},   {"i4", WEFT_I32},    {"bool", WEFT_BOOL},
             {"bool_", WEFT_BOOL}};
  for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
    if (!strcmp(n, tab[i].name)) {
      *dt = tab[i].dt;
      return 0;
    }
  if (v->kind != V_STR)
    return perr(p, at, "a dtype is a name (float64, float32, int64, int32, "
                "bool), not a number or an array");
  return perr(p, at, "unknown dtype '%s' (float64, float32, int64, int32, "
              "bool)", n);
}

static int to_axes(P *p, const val *v, size_t at, weft_axes *ax) {
  if (!v || v->kind == V_NONE) {
    *ax = WEFT_AXES_ALL;
    return 0;
  }
  ax->n = 0;
  if (v->kind == V_INT) {
    ax->n = 1;
    ax->ax[0] = (int)v->i;
    return 0;
  }
  if (v->kind != V_TUPLE && v->kind != V_LIST)
    return perr(p, at, "expected axis: None, an integer or a tuple");
  for (int k = 0; k < v->n && k < MAXD; k++) {
    int64_t x = 0;
    if (as_int(p, &v->items[k], at, &x))
      return -1;
    ax->ax[ax->n++] = (int)x;
  }
  return 0;
}

int weft__parse_set_arr(P *p, val *out, weft_array *a, size_t at) {
  if (!a)
    return perr(p, at, "%s", weft_graph_error(p->g));
  out->kind = V_ARR;
  out->a = a;
  return 0;
}

static const char *const red_names[] = {"sum", "prod", "mean", "min",
                                        "max", "var",  "std",  "any",
                                        "all", "argmin", "argmax"};
static const char *const fn_names[] = {
    "negative", "absolute", "sqrt",   "square",  "exp",     "expm1",
    "log",      "log1p",    "log2",   "log10",   "sin",     "cos",
    "tan",      "arcsin",   "arccos", "arctan",  "sinh",    "cosh",
    "tanh",     "floor",    "ceil",   "trunc",   "rint",    "sign",
    "logical_not", "isnan", "isinf",  "isfinite"};
static const char *const op_names[] = {
    "add", "subtract", "multiply", "true_divide", "floor_divide",
    "remainder", "power", "maximum", "minimum", "equal", "not_equal",
    "less", "less_equal", "greater", "greater_equal", "logical_and",
    "logical_or", "logical_xor", "arctan2"};

static int lookup(const char *const *tab, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(tab[i], name))
      return (int)i;
  return -1;
}

/* a.sum(...), sum(a, ...) */
static int reduction(P *p, int op, weft_array *a, args *ar, size_t at,
                     val *out, int first) {
  size_t aat = at;
  weft_axes ax;
  if (to_axes(p, arg(ar, first, "axis", &aat), aat, &ax))
    return -1;
  weft_reduce_opts o = {false, 0, 0};
  val *kd = arg(ar, first + 99, "keepdims", NULL);
  if (kd)
    o.keepdims = kd->i != 0;
  val *se = arg(ar, first + 99, "split_every", NULL);
  if (se)
    o.split_every = (int)se->i;
  val *dd = arg(ar, first + 99, "ddof", NULL);
  if (dd)
    o.ddof = (int)dd->i;
  return weft__parse_set_arr(p, out, weft_array_reduce((weft_reduce_op)op, a, ax, &o), at);
}

int weft__parse_method(P *p, val *self, const char *name, args *ar, size_t at,
                  val *out) {
  weft_array *a = as_array(p, self, at);
  if (!a)
    return -1;
  int rc;
  int r = lookup(red_names, 11, name);
  size_t vat = at;
  if (r >= 0) {
    rc = reduction(p, r, a, ar, at, out, 0);
  } else if (!strcmp(name, "astype")) {
    weft_dtype dt = 0;
    val *v = arg(ar, 0, "dtype", &vat);
    rc = !v ? perr(p, at, "astype needs a dtype")
         : to_dtype(p, v, vat, &dt) ? -1
                                     : weft__parse_set_arr(p, out, weft_array_astype(a, dt), at);
  } else if (!strcmp(name, "reshape")) {
    weft_shape s;
    val *v = arg(ar, 0, "shape", &vat);
    if (ar->n > 1) { /* reshape(2, 3) */
      val t = {V_TUPLE, NULL, 0, 0, ar->n, ar->v, ""};
      rc = to_shape(p, &t, at, &s);
    } else {
      rc = !v ? perr(p, at, "reshape needs a shape") : to_shape(p, v, vat, &s);
    }
    if (!rc)
      rc = weft__parse_set_arr(p, out, weft_array_reshape(a, s), at);
  } else if (!strcmp(name, "transpose")) {
    /* numpy: a.transpose(), a.transpose(1, 0), a.transpose((1, 0)),
       a.transpose(axes=(1, 0)), transpose(a, (1, 0)) */
    int perm[MAXD];
    val *ax = arg(ar, 0, "axes", &vat);
    int n = ar->n;
    val *items = ar->v;
    if (ax && (ax->kind == V_TUPLE || ax->kind == V_LIST)) {
      n = ax->n;
      items = ax->items;
    } else if (ax && ax->kind == V_NONE) {
      n = 0;
    } else if (ax && n == 0) { /* axes=1 */
      n = 1;
      items = ax;
    }
    rc = 0;
    if (n > a->ndim)
      rc = perr(p, at, "transpose: %d axes given for the %d axes of the array",
                n, a->ndim);
    for (int k = 0; !rc && k < n; k++)
      if (items[k].kind != V_INT)
        rc = perr(p, at, "transpose: axis %d is not an integer", k);
      else
        perm[k] = (int)items[k].i;
    if (!rc)
      rc = weft__parse_set_arr(p, out, weft_array_transpose(a, n ? perm : NULL), at);
  } else if (!strcmp(name, "rechunk")) {
    weft_chunks c;
    int64_t buf[4096];
    weft_shape s = {a->ndim, {0}};
    memcpy(s.d, a->shape, sizeof s.d);
    val *v = arg(ar, 0, "chunks", &vat);
    rc = !v ? perr(p, at, "rechunk needs chunks")
         : to_chunks(p, v, vat, &s, a->dtype, &c, buf, 4096)
             ? -1
             : weft__parse_set_arr(p, out, weft_array_rechunk(a, c), at);
  } else if (!strcmp(name, "compute") || !strcmp(name, "copy") ||
             !strcmp(name, "persist")) {
    rc = weft__parse_set_arr(p, out, weft_array_retain(a), at);
  } else if (!strcmp(name, "clip")) {
    double lo = NAN, hi = NAN;
    val *l = arg(ar, 0, "min", &vat), *h = arg(ar, 1, "max", &vat);
    if ((!l || l->kind == V_NONE) && (!h || h->kind == V_NONE))
      rc = perr(p, at, "clip: one of min or max must be given (numpy's "
                "ValueError)");
    else
      rc = (l && l->kind != V_NONE && as_num(p, l, at, &lo)) ||
                   (h && h->kind != V_NONE && as_num(p, h, at, &hi))
               ? -1
               : weft__parse_set_arr(p, out, weft_array_clip(a, lo, hi), at);
  } else {
    rc = perr(p, at, "unknown method '%s'", name);
  }
  weft_array_free(a);
  return rc;
}

static bool is_creation(const char *name) {
  static const char *const names[] = {
      "arange", "empty", "eye",   "from_npy", "full",    "linspace", "load",
      "normal", "ones",  "randn", "random",   "uniform", "zeros"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (!strcmp(names[i], name))
      return true;
  return false;
}

static int creation(P *p, const char *name, args *ar, size_t at, val *out,
                    int *handled) {
  *handled = 1;
  size_t vat = at;
  weft_dtype dt = WEFT_F64;
  bool used[12]; /* restored when name is no creation function */
  memcpy(used, ar->used, sizeof used);
  val *dv = arg(ar, 99, "dtype", &vat);
  if (dv && is_creation(name) && to_dtype(p, dv, vat, &dt))
    return -1;
  weft_shape s;
  weft_chunks c;
  int64_t buf[4096];
  val *cv = arg(ar, 99, "chunks", &vat);
  size_t cat = vat;
  if (!strcmp(name, "ones") || !strcmp(name, "zeros") ||
      !strcmp(name, "empty") || !strcmp(name, "full")) {
    val *sv = arg(ar, 0, "shape", &vat);
    if (!sv)
      return perr(p, at, "%s needs a shape", name);
    if (to_shape(p, sv, vat, &s))
      return -1;
    double fill = !strcmp(name, "ones") ? 1 : 0;
    if (!strcmp(name, "full")) {
      val *fv = arg(ar, 1, "fill_value", &vat);
      if (!fv || as_num(p, fv, vat, &fill))
        return perr(p, at, "full needs a fill_value");
      if (!arg(ar, 99, "dtype", NULL))
        dt = fv->kind == V_NUM ? WEFT_F64 : fv->kind == V_BOOL ? WEFT_BOOL : WEFT_I64;
    }
    if (to_chunks(p, cv, cat, &s, dt, &c, buf, 4096))
      return -1;
    return weft__parse_set_arr(p, out, weft_full(p->g, dt, s, c, fill), at);
  }
  if (!strcmp(name, "arange")) {
    double v[3] = {0, 0, 1};
    int np = 0;
    bool ints = true;
    for (int k = 0; k < ar->n; k++)
      if (!ar->kw[k][0]) {
        if (np == 3 || as_num(p, &ar->v[k], ar->at[k], &v[np]))
          return perr(p, ar->at[k], "arange takes up to 3 numbers");
        ints = ints && ar->v[k].kind != V_NUM;
        np++;
      }
    if (np == 0)
      return perr(p, at, "arange needs a stop");
    if (np == 1) {
      v[1] = v[0];
      v[0] = 0;
    }
    if (!arg(ar, 99, "dtype", NULL))
      dt = ints ? WEFT_I64 : WEFT_F64;
    double n = ceil((v[1] - v[0]) / v[2]);
    s.ndim = 1;
    s.d[0] = n > 0 ? (int64_t)n : 0;
    if (to_chunks(p, cv, cat, &s, dt, &c, buf, 4096))
      return -1;
    return weft__parse_set_arr(p, out, weft_arange(p->g, dt, v[0], v[1], v[2], c), at);
  }
  if (!strcmp(name, "linspace")) {
    double a = 0, b = 0;
    int64_t num = 50;
    val *x;
    if (!(x = arg(ar, 0, "start", &vat)) || as_num(p, x, vat, &a) ||
        !(x = arg(ar, 1, "stop", &vat)) || as_num(p, x, vat, &b))
      return perr(p, at, "linspace needs start and stop");
    if ((x = arg(ar, 2, "num", &vat)) && as_int(p, x, vat, &num))
      return -1;
    val *ep = arg(ar, 99, "endpoint", NULL);
    s.ndim = 1;
    s.d[0] = num;
    if (to_chunks(p, cv, cat, &s, WEFT_F64, &c, buf, 4096))
      return -1;
    return weft__parse_set_arr(p, out,
                   weft_linspace(p->g, a, b, num, ep ? ep->i != 0 : true, c),
                   at);
  }
  if (!strcmp(name, "eye")) {
    int64_t n = 0, m = -1, k = 0;
    val *x;
    if (!(x = arg(ar, 0, "N", &vat)) || as_int(p, x, vat, &n))
      return perr(p, at, "eye needs N");
    if ((x = arg(ar, 1, "M", &vat)) && x->kind != V_NONE && as_int(p, x, vat, &m))
      return -1;
    if ((x = arg(ar, 2, "k", &vat)) && as_int(p, x, vat, &k))
      return -1;
    s.ndim = 2;
    s.d[0] = n;
    s.d[1] = m < 0 ? n : m;
    if (to_chunks(p, cv, cat, &s, dt, &c, buf, 4096))
      return -1;
    return weft__parse_set_arr(p, out, weft_eye(p->g, dt, n, m, k, c), at);
  }
  if (!strcmp(name, "load") || !strcmp(name, "from_npy")) {
    /* np.load("x.npy", chunks=...): the file memory-mapped, chunk by chunk */
    val *fv = arg(ar, 0, "file", &vat);
    if (!fv || fv->kind != V_STR)
      return perr(p, at, "%s needs a file name (a string)", name);
    weft_errmsg e;
    weft_npy *f;
    if (weft_npy_open(fv->str, &f, &e))
      return perr(p, vat, "%s", e.text);
    const weft_npy_info *in = weft_npy_get_info(f);
    s.ndim = in->ndim > MAXD ? MAXD : in->ndim;
    memcpy(s.d, in->shape, (size_t)s.ndim * sizeof s.d[0]);
    weft_dtype fdt = in->dtype;
    weft_npy_close(f);
    if (to_chunks(p, cv, cat, &s, fdt, &c, buf, 4096))
      return -1;
    return weft__parse_set_arr(p, out, weft_array_from_npy(p->g, fv->str, c), at);
  }
  bool uni = !strcmp(name, "random") || !strcmp(name, "uniform") ||
             !strcmp(name, "random.random") || !strcmp(name, "random.uniform");
  bool nor = !strcmp(name, "normal") || !strcmp(name, "random.normal") ||
             !strcmp(name, "randn");
  if (uni || nor) {
    bool two = strstr(name, "uniform") || nor;
    double p0 = two && nor ? 0 : 0, p1 = 1;
    val *x;
    if (two) {
      if ((x = arg(ar, 0, nor ? "loc" : "low", &vat)) && as_num(p, x, vat, &p0))
        return -1;
      if ((x = arg(ar, 1, nor ? "scale" : "high", &vat)) && as_num(p, x, vat, &p1))
        return -1;
    }
    val *sv = arg(ar, two ? 2 : 0, two ? "size" : "size", &vat);
    if (!sv)
      sv = arg(ar, 99, "shape", &vat);
    if (!sv)
      return perr(p, at, "%s needs a shape (size=)", name);
    if (to_shape(p, sv, vat, &s))
      return -1;
    int64_t seed = 0;
    if ((x = arg(ar, 99, "seed", &vat)) && as_int(p, x, vat, &seed))
      return -1;
    if (to_chunks(p, cv, cat, &s, WEFT_F64, &c, buf, 4096))
      return -1;
    return weft__parse_set_arr(p, out,
                   nor ? weft_random_normal(p->g, (uint64_t)seed, p0, p1, s, c)
                       : weft_random_uniform(p->g, (uint64_t)seed, p0, p1, s, c),
                   at);
  }
  memcpy(ar->used, used, sizeof used);
  *handled = 0;
  return 0;
}

int weft__parse_call(P *p, const char *name, args *ar, size_t at, val *out) {
  int handled;
  if (creation(p, name, ar, at, out, &handled) || handled)
    return p->failed ? -1 : 0;
  int f = lookup(fn_names, WEFT_AFN__COUNT, name);
  if (!strcmp(name, "abs"))
    f = WEFT_AFN_ABS;
  int o = lookup(op_names, WEFT_AOP__COUNT, name);
  if (!strcmp(name, "divide"))
    o = WEFT_AOP_DIV;
  if (!strcmp(name, "mod"))
    o = WEFT_AOP_MOD;
  int r = lookup(red_names, 11, name);
  if (f >= 0 || o >= 0 || r >= 0 || !strcmp(name, "where") ||
      !strcmp(name, "clip") || !strcmp(name, "transpose") ||
      !strcmp(name, "reshape") || !strcmp(name, "rechunk")) {
    if (ar->n < 1)
      return perr(p, at, "%s needs an array", name);
    weft_array *a = as_array(p, &ar->v[0], ar->at[0]);
    if (!a)
      return -1;
    int rc;
    if (f >= 0) {
      rc = weft__parse_set_arr(p, out, weft_array_op1((weft_array_fn)f, a), at);
    } else if (o >= 0 || !strcmp(name, "where")) {
      weft_array *b = ar->n > 1 ? as_array(p, &ar->v[1], ar->at[1]) : NULL;
      weft_array *c = o < 0 && ar->n > 2 ? as_array(p, &ar->v[2], ar->at[2]) : NULL;
      if (!b || (o < 0 && !c))
        rc = perr(p, at, "%s needs %d arrays", name, o < 0 ? 3 : 2);
      else
        rc = weft__parse_set_arr(p, out,
                     o >= 0 ? weft_array_op2((weft_array_op)o, a, b)
                            : weft_array_where(a, b, c),
                     at);
      weft_array_free(b);
      weft_array_free(c);
    } else if (r >= 0) {
      rc = reduction(p, r, a, ar, at, out, 1);
    } else {
      /* the method forms, with the array first */
      val self = {V_ARR, a, 0, 0, 0, NULL, ""};
      args rest;
      memset(&rest, 0, sizeof rest);
      for (int k = 1; k < ar->n; k++) {
        rest.v[rest.n] = ar->v[k];
        rest.at[rest.n] = ar->at[k];
        memcpy(rest.kw[rest.n], ar->kw[k], sizeof rest.kw[0]);
        rest.n++;
      }
      rc = weft__parse_method(p, &self, name, &rest, at, out);
      for (int k = 1; k < ar->n; k++)
        ar->used[k] = rest.used[k - 1];
    }
    weft_array_free(a);
    return rc;
  }
  if (!strcmp(name, "concatenate") || !strcmp(name, "stack")) {
    size_t vat = at;
    val *l = arg(ar, 0, "arrays", &vat);
    if (!l || (l->kind != V_LIST && l->kind != V_TUPLE) || l->n < 1)
      return perr(p, vat, "%s needs a list of arrays", name);
    weft_array *in[MAXLIST];
    int n = 0, rc = 0;
    for (int k = 0; k < l->n && !rc; k++) {
      in[n] = as_array(p, &l->items[k], vat);
      if (!in[n++])
        rc = -1;
    }
    int64_t axis = 0;
    val *ax = arg(ar, 1, "axis", &vat);
    if (!rc && ax)
      rc = as_int(p, ax, vat, &axis);
    if (!rc)
      rc = weft__parse_set_arr(p, out,
                   name[0] == 'c'
                       ? weft_array_concatenate((size_t)n, in, (int)axis)
                       : weft_array_stack((size_t)n, in, (int)axis),
                   at);
    for (int k = 0; k < n; k++)
      weft_array_free(in[k]);
    return rc;
  }
  return perr(p, at, "unknown function '%s'", name);
}

