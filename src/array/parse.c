/* parse.c - numpy-style array expressions as text (weft_array_parse): the
 * language of `weft eval` for arrays and of the numpy comparisons in the
 * tests. A recursive-descent parser with Python's precedence that builds
 * the arrays as it reads (nothing is computed). Errors name the column. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array_impl.h"
#include "weft/error.h"
#include "weft/npy.h"

enum { V_NONE, V_ARR, V_INT, V_NUM, V_BOOL, V_TUPLE, V_STR, V_LIST };
#define MAXLIST 32

typedef struct val {
  int kind;
  weft_array *a;
  int64_t i;
  double d;
  int n; /* tuple/list items */
  struct val *items;
  char str[128];
} val;

typedef struct P {
  weft_graph *g;
  const char *s;
  size_t pos;
  size_t nvars;
  const char *const *names;
  weft_array *const *vars;
  char *err;
  size_t errsize;
  int col;
  int failed;
  int depth;
} P;

static void vfree(val *v) {
  if (v->kind == V_ARR)
    weft_array_free(v->a);
  if (v->kind == V_TUPLE || v->kind == V_LIST) {
    for (int k = 0; k < v->n; k++)
      vfree(&v->items[k]);
    free(v->items);
  }
  memset(v, 0, sizeof *v);
}

static int perr(P *p, size_t at, const char *fmt, ...) {
  if (p->failed)
    return -1;
  p->failed = 1;
  p->col = (int)at + 1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->err, p->errsize, fmt, ap);
  va_end(ap);
  return -1;
}

static void ws(P *p) {
  while (isspace((unsigned char)p->s[p->pos]))
    p->pos++;
}
static int peek(P *p, const char *t) {
  ws(p);
  return !strncmp(p->s + p->pos, t, strlen(t));
}
static int accept(P *p, const char *t) {
  if (!peek(p, t))
    return 0;
  p->pos += strlen(t);
  return 1;
}
static int expect(P *p, const char *t) {
  if (accept(p, t))
    return 0;
  return perr(p, p->pos, "expected '%s'", t);
}

/* An array from any value (numbers become Python scalars). */
static weft_array *as_array(P *p, val *v, size_t at) {
  switch (v->kind) {
  case V_ARR:
    return weft_array_retain(v->a);
  case V_INT:
    return weft_array_scalar_int(p->g, v->i);
  case V_NUM:
    return weft_array_scalar(p->g, v->d);
  case V_BOOL:
    return weft_array_scalar_bool(p->g, v->i != 0);
  }
  perr(p, at, "expected an array or a number");
  return NULL;
}

static int as_int(P *p, const val *v, size_t at, int64_t *out) {
  if (v->kind == V_INT || v->kind == V_BOOL) {
    *out = v->i;
    return 0;
  }
  return perr(p, at, "expected an integer");
}
static int as_num(P *p, const val *v, size_t at, double *out) {
  if (v->kind == V_INT || v->kind == V_BOOL) {
    *out = (double)v->i;
    return 0;
  }
  if (v->kind == V_NUM) {
    *out = v->d;
    return 0;
  }
  return perr(p, at, "expected a number");
}

static int parse_expr(P *p, val *out);

/* ---- arguments ---- */

typedef struct args {
  int n;
  val v[12];
  size_t at[12];
  char kw[12][24];
  bool used[12]; /* looked up by arg(): a keyword never looked up is an error */
} args;

static void args_free(args *a) {
  for (int i = 0; i < a->n; i++)
    vfree(&a->v[i]);
}

static int parse_args(P *p, args *a, const char *close) {
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
    if (parse_expr(p, &a->v[a->n]))
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
static int unused_kw(P *p, const args *a, const char *name, val *out) {
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

static int set_arr(P *p, val *out, weft_array *a, size_t at) {
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
  return set_arr(p, out, weft_array_reduce((weft_reduce_op)op, a, ax, &o), at);
}

static int method(P *p, val *self, const char *name, args *ar, size_t at,
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
                                     : set_arr(p, out, weft_array_astype(a, dt), at);
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
      rc = set_arr(p, out, weft_array_reshape(a, s), at);
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
      rc = set_arr(p, out, weft_array_transpose(a, n ? perm : NULL), at);
  } else if (!strcmp(name, "rechunk")) {
    weft_chunks c;
    int64_t buf[4096];
    weft_shape s = {a->ndim, {0}};
    memcpy(s.d, a->shape, sizeof s.d);
    val *v = arg(ar, 0, "chunks", &vat);
    rc = !v ? perr(p, at, "rechunk needs chunks")
         : to_chunks(p, v, vat, &s, a->dtype, &c, buf, 4096)
             ? -1
             : set_arr(p, out, weft_array_rechunk(a, c), at);
  } else if (!strcmp(name, "compute") || !strcmp(name, "copy") ||
             !strcmp(name, "persist")) {
    rc = set_arr(p, out, weft_array_retain(a), at);
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
               : set_arr(p, out, weft_array_clip(a, lo, hi), at);
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
    return set_arr(p, out, weft_full(p->g, dt, s, c, fill), at);
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
    return set_arr(p, out, weft_arange(p->g, dt, v[0], v[1], v[2], c), at);
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
    return set_arr(p, out,
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
    return set_arr(p, out, weft_eye(p->g, dt, n, m, k, c), at);
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
    return set_arr(p, out, weft_array_from_npy(p->g, fv->str, c), at);
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
    return set_arr(p, out,
                   nor ? weft_random_normal(p->g, (uint64_t)seed, p0, p1, s, c)
                       : weft_random_uniform(p->g, (uint64_t)seed, p0, p1, s, c),
                   at);
  }
  memcpy(ar->used, used, sizeof used);
  *handled = 0;
  return 0;
}

static int call(P *p, const char *name, args *ar, size_t at, val *out) {
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
      rc = set_arr(p, out, weft_array_op1((weft_array_fn)f, a), at);
    } else if (o >= 0 || !strcmp(name, "where")) {
      weft_array *b = ar->n > 1 ? as_array(p, &ar->v[1], ar->at[1]) : NULL;
      weft_array *c = o < 0 && ar->n > 2 ? as_array(p, &ar->v[2], ar->at[2]) : NULL;
      if (!b || (o < 0 && !c))
        rc = perr(p, at, "%s needs %d arrays", name, o < 0 ? 3 : 2);
      else
        rc = set_arr(p, out,
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
      rc = method(p, &self, name, &rest, at, out);
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
      rc = set_arr(p, out,
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

/* ---- the grammar ---- */

static const char *strip_prefix(const char *name) {
  static const char *const pre[] = {"np.", "numpy.", "da.", "dask.array.",
                                    "weft."};
  for (size_t i = 0; i < 5; i++)
    if (!strncmp(name, pre[i], strlen(pre[i])))
      return name + strlen(pre[i]);
  return name;
}

static int parse_atom(P *p, val *out) {
  ws(p);
  size_t at = p->pos;
  const char *s = p->s + at;
  if (++p->depth > 200)
    return perr(p, at, "expression nested too deeply");
  if (isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1]))) {
    char *end;
    double d = strtod(s, &end);
    size_t len = (size_t)(end - s);
    bool isint = true;
    for (size_t k = 0; k < len; k++)
      if (s[k] == '.' || s[k] == 'e' || s[k] == 'E')
        isint = false;
    long long ll = 0;
    if (isint) { /* an int while it fits int64 (numpy: uint64 past it) */
      errno = 0;
      ll = strtoll(s, NULL, 10);
      isint = errno != ERANGE;
    }
    if (isint) {
      out->kind = V_INT;
      out->i = ll;
    } else {
      out->kind = V_NUM;
      out->d = d;
    }
    p->pos += len;
    return 0;
  }
  if (*s == '"' || *s == '\'') {
    const char *e = strchr(s + 1, *s);
    if (!e)
      return perr(p, at, "unterminated string");
    if (e - s - 1 >= (ptrdiff_t)sizeof out->str)
      return perr(p, at, "string longer than %zu characters",
                  sizeof out->str - 1);
    out->kind = V_STR;
    snprintf(out->str, sizeof out->str, "%.*s", (int)(e - s - 1), s + 1);
    p->pos += (size_t)(e - s) + 1;
    return 0;
  }
  if (*s == '(' || *s == '[') {
    char close[2] = {*s == '(' ? ')' : ']', 0};
    p->pos++;
    args a;
    if (parse_args(p, &a, close)) {
      args_free(&a);
      return -1;
    }
    /* (x) is x; (x,) (x, y) [x, y] are tuples and lists */
    const char *before = p->s + p->pos - 2;
    while (before > s && isspace((unsigned char)*before))
      before--;
    bool tuple = *s == '[' || a.n != 1 || *before == ',';
    if (!tuple) {
      *out = a.v[0];
      return 0;
    }
    out->kind = *s == '[' ? V_LIST : V_TUPLE;
    out->n = a.n;
    out->items = calloc((size_t)(a.n ? a.n : 1), sizeof *out->items);
    if (!out->items) {
      args_free(&a);
      return perr(p, at, "out of memory");
    }
    for (int k = 0; k < a.n; k++)
      out->items[k] = a.v[k];
    return 0;
  }
  if (isalpha((unsigned char)*s) || *s == '_') {
    /* a name; module prefixes (np., da.random., ...) join the next name */
    size_t q = 0;
    for (;;) {
      while (isalnum((unsigned char)s[q]) || s[q] == '_')
        q++;
      static const char *const mods[] = {"np", "numpy", "da", "dask",
                                         "dask.array", "weft", "np.random",
                                         "numpy.random", "da.random",
                                         "random"};
      bool mod = false;
      for (size_t k = 0; k < sizeof mods / sizeof mods[0]; k++)
        mod = mod || (strlen(mods[k]) == q && !strncmp(s, mods[k], q));
      if (mod && s[q] == '.' && isalpha((unsigned char)s[q + 1])) {
        q++;
        continue;
      }
      break;
    }
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)q, s);
    p->pos += q;
    const char *nm = strip_prefix(name);
    if (accept(p, "(")) {
      args a;
      int rc = parse_args(p, &a, ")");
      if (!rc)
        rc = call(p, nm, &a, at, out);
      if (!rc)
        rc = unused_kw(p, &a, nm, out);
      args_free(&a);
      return rc;
    }
    if (!strcmp(nm, "None"))
      return out->kind = V_NONE, 0;
    if (!strcmp(nm, "True") || !strcmp(nm, "False"))
      return out->kind = V_BOOL, out->i = nm[0] == 'T', 0;
    if (!strcmp(nm, "pi"))
      return out->kind = V_NUM, out->d = 3.141592653589793, 0;
    if (!strcmp(nm, "e"))
      return out->kind = V_NUM, out->d = 2.718281828459045, 0;
    if (!strcmp(nm, "nan") || !strcmp(nm, "inf"))
      return out->kind = V_NUM, out->d = nm[0] == 'n' ? NAN : INFINITY, 0;
    for (size_t i = 0; i < p->nvars; i++)
      if (!strcmp(p->names[i], name)) {
        out->kind = V_ARR;
        out->a = weft_array_retain(p->vars[i]);
        return 0;
      }
    /* dtypes as names: np.float32 */
    out->kind = V_STR;
    snprintf(out->str, sizeof out->str, "%s", nm);
    return 0;
  }
  return perr(p, at, *s ? "unexpected '%c'" : "unexpected end of the expression",
              *s);
}

static int parse_postfix(P *p, val *out) {
  if (parse_atom(p, out))
    return -1;
  for (;;) {
    ws(p);
    size_t at = p->pos;
    if (accept(p, "[")) {
      size_t start = p->pos;
      int depth = 1;
      while (p->s[p->pos] && depth) {
        if (p->s[p->pos] == '[')
          depth++;
        if (p->s[p->pos] == ']')
          depth--;
        p->pos++;
      }
      if (depth)
        return perr(p, at, "'[' is never closed");
      char spec[512];
      snprintf(spec, sizeof spec, "%.*s", (int)(p->pos - 1 - start),
               p->s + start);
      weft_array *a = as_array(p, out, at);
      if (!a)
        return -1;
      weft_array *r = weft_array_slice(a, spec);
      weft_array_free(a);
      vfree(out);
      if (set_arr(p, out, r, start))
        return -1;
      continue;
    }
    if (peek(p, ".") && isalpha((unsigned char)p->s[p->pos + 1])) {
      p->pos++;
      size_t q = p->pos;
      while (isalnum((unsigned char)p->s[q]) || p->s[q] == '_')
        q++;
      char name[32];
      snprintf(name, sizeof name, "%.*s", (int)(q - p->pos), p->s + p->pos);
      p->pos = q;
      args a;
      memset(&a, 0, sizeof a);
      if (!strcmp(name, "T")) {
        weft_array *x = as_array(p, out, at);
        weft_array *r = x ? weft_array_transpose(x, NULL) : NULL;
        weft_array_free(x);
        vfree(out);
        if (set_arr(p, out, r, at))
          return -1;
        continue;
      }
      ws(p);
      if (p->s[p->pos] != '(') {
        /* numpy's attributes: a number or a dtype, not an array */
        return vfree(out),
               perr(p, at, "attribute '.%s' is not supported (only .T): an "
                    "expression is an array; its repr line shows shape, dtype "
                    "and chunks", name);
      }
      if (expect(p, "(") || parse_args(p, &a, ")")) {
        args_free(&a);
        return -1;
      }
      val res;
      memset(&res, 0, sizeof res);
      int rc = method(p, out, name, &a, at, &res);
      if (!rc)
        rc = unused_kw(p, &a, name, &res);
      args_free(&a);
      vfree(out);
      *out = res;
      if (rc)
        return -1;
      continue;
    }
    return 0;
  }
}

/* Python arithmetic on two numbers (ints stay ints); 1 when not folded. */
static int fold(int op, const val *a, const val *b, val *out) {
  bool ints = a->kind != V_NUM && b->kind != V_NUM;
  double x = a->kind == V_NUM ? a->d : (double)a->i;
  double y = b->kind == V_NUM ? b->d : (double)b->i;
  int64_t i = a->i, j = b->i;
  if (ints) {
    switch (op) {
    case WEFT_AOP_ADD: out->i = (int64_t)((uint64_t)i + (uint64_t)j); break;
    case WEFT_AOP_SUB: out->i = (int64_t)((uint64_t)i - (uint64_t)j); break;
    case WEFT_AOP_MUL: out->i = (int64_t)((uint64_t)i * (uint64_t)j); break;
    case WEFT_AOP_POW:
      if (j < 0)
        return 1;
      out->i = 1;
      for (int64_t k = 0; k < j && k < 64; k++)
        out->i = (int64_t)((uint64_t)out->i * (uint64_t)i);
      break;
    case WEFT_AOP_FLOORDIV:
    case WEFT_AOP_MOD: {
      if (j == 0)
        return 1;
      int64_t q = i / j, r = i % j;
      if (r != 0 && ((r < 0) != (j < 0))) {
        q--;
        r += j;
      }
      out->i = op == WEFT_AOP_MOD ? r : q;
      break;
    }
    default:
      return 1;
    }
    out->kind = V_INT;
    return 0;
  }
  switch (op) {
  case WEFT_AOP_ADD: out->d = x + y; break;
  case WEFT_AOP_SUB: out->d = x - y; break;
  case WEFT_AOP_MUL: out->d = x * y; break;
  case WEFT_AOP_DIV: out->d = x / y; break;
  case WEFT_AOP_POW: out->d = pow(x, y); break;
  default:
    return 1;
  }
  out->kind = V_NUM;
  return 0;
}

static int binop(P *p, int op, val *a, val *b, size_t at, val *out) {
  bool na = a->kind == V_INT || a->kind == V_NUM || a->kind == V_BOOL;
  bool nb = b->kind == V_INT || b->kind == V_NUM || b->kind == V_BOOL;
  if (na && nb && !(op == WEFT_AOP_DIV && a->kind != V_NUM && b->kind != V_NUM) &&
      !fold(op, a, b, out))
    return 0;
  weft_array *x = as_array(p, a, at), *y = x ? as_array(p, b, at) : NULL;
  int rc = -1;
  if (x && y)
    rc = set_arr(p, out, weft_array_op2((weft_array_op)op, x, y), at);
  weft_array_free(x);
  weft_array_free(y);
  vfree(a);
  vfree(b);
  return rc;
}

static int parse_unary(P *p, val *out);

static int parse_power(P *p, val *out) {
  if (parse_postfix(p, out))
    return -1;
  ws(p);
  size_t at = p->pos;
  if (accept(p, "**")) {
    val r;
    memset(&r, 0, sizeof r);
    if (parse_unary(p, &r))
      return vfree(out), -1;
    val l = *out;
    memset(out, 0, sizeof *out);
    return binop(p, WEFT_AOP_POW, &l, &r, at, out);
  }
  return 0;
}

/* numpy's & | ^ ~ are bitwise: on bools they are the logical ops weft has,
   on ints and floats numpy gives ints (or refuses floats); weft has no
   bitwise ops, so only bools are taken, never a silently different answer. */
static int not_bool(P *p, const val *v, const char *tok, size_t at) {
  if (v->kind == V_BOOL ||
      (v->kind == V_ARR && weft_array_dtype(v->a) == WEFT_BOOL))
    return 0;
  const char *dt = v->kind == V_ARR ? weft_dtype_name(weft_array_dtype(v->a))
                   : v->kind == V_INT ? "an int"
                   : v->kind == V_NUM ? "a float"
                                      : "a non-array";
  return perr(p, at,
              "'%s' of %s: numpy's '%s' is bitwise on integers, which weft "
              "arrays do not have; it is logical on bools only (compare "
              "first, e.g. (a > 0), or use logical_and/logical_or/"
              "logical_xor/logical_not)",
              tok, dt, tok);
}

static int parse_unary(P *p, val *out) {
  ws(p);
  size_t at = p->pos;
  if (peek(p, "-") || peek(p, "+") || peek(p, "~")) {
    char c = p->s[p->pos++];
    if (parse_unary(p, out))
      return -1;
    if (c == '+')
      return 0;
    if (out->kind == V_INT && c == '-')
      return out->i = -out->i, 0;
    if (out->kind == V_NUM && c == '-')
      return out->d = -out->d, 0;
    if (c == '~' && not_bool(p, out, "~", at))
      return vfree(out), -1;
    weft_array *a = as_array(p, out, at);
    if (!a)
      return -1;
    vfree(out);
    int rc = set_arr(p, out,
                     weft_array_op1(c == '-' ? WEFT_AFN_NEG : WEFT_AFN_NOT, a),
                     at);
    weft_array_free(a);
    return rc;
  }
  return parse_power(p, out);
}

typedef struct level {
  const char *tok[6];
  int op[6];
} level;

static const level levels[] = {
    {{"==", "!=", "<=", ">=", "<", ">"},
     {WEFT_AOP_EQ, WEFT_AOP_NE, WEFT_AOP_LE, WEFT_AOP_GE, WEFT_AOP_LT,
      WEFT_AOP_GT}},
    {{"|"}, {WEFT_AOP_OR}},
    {{"^"}, {WEFT_AOP_XOR}},
    {{"&"}, {WEFT_AOP_AND}},
    {{"+", "-"}, {WEFT_AOP_ADD, WEFT_AOP_SUB}},
    {{"//", "*", "/", "%"},
     {WEFT_AOP_FLOORDIV, WEFT_AOP_MUL, WEFT_AOP_DIV, WEFT_AOP_MOD}},
};

static int parse_level(P *p, int lv, val *out) {
  if (lv == 6)
    return parse_unary(p, out);
  if (parse_level(p, lv + 1, out))
    return -1;
  for (;;) {
    ws(p);
    size_t at = p->pos;
    int found = -1;
    for (int k = 0; k < 6 && levels[lv].tok[k]; k++)
      if (peek(p, levels[lv].tok[k]) &&
          !(levels[lv].tok[k][0] == '*' && p->s[p->pos + 1] == '*')) {
        found = k;
        break;
      }
    if (found < 0)
      return 0;
    p->pos += strlen(levels[lv].tok[found]);
    val r;
    memset(&r, 0, sizeof r);
    if (parse_level(p, lv + 1, &r))
      return vfree(out), -1;
    const char *tok = levels[lv].tok[found];
    if ((tok[0] == '&' || tok[0] == '|' || tok[0] == '^') &&
        (not_bool(p, out, tok, at) || not_bool(p, &r, tok, at)))
      return vfree(out), vfree(&r), -1;
    val l = *out;
    memset(out, 0, sizeof *out);
    if (binop(p, levels[lv].op[found], &l, &r, at, out))
      return -1;
  }
}

static int parse_expr(P *p, val *out) {
  memset(out, 0, sizeof *out);
  return parse_level(p, 0, out);
}

int weft_array_parse(weft_graph *g, const char *text, size_t nvars,
                     const char *const *names, weft_array *const *vars,
                     weft_array **out, char *err, size_t errsize, int *col) {
  char dummy[8];
  if (!err || !errsize) {
    err = dummy;
    errsize = sizeof dummy;
  }
  err[0] = 0;
  if (col)
    *col = 0;
  if (!g || !text || !out)
    return WEFT_EINVAL;
  *out = NULL;
  P p = {g, text, 0, nvars, names, vars, err, errsize, 0, 0, 0};
  val v;
  int rc = parse_expr(&p, &v);
  ws(&p);
  if (!rc && p.s[p.pos])
    rc = perr(&p, p.pos, "unexpected '%c'", p.s[p.pos]);
  if (!rc) {
    *out = as_array(&p, &v, 0);
    if (!*out)
      rc = -1;
  }
  vfree(&v);
  if (col)
    *col = p.col;
  if (rc)
    return weft_graph_status(g) ? weft_graph_status(g) : WEFT_EINVAL;
  return 0;
}
