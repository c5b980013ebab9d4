/* array.c - the weft_array object: creation of the generated arrays (ones,
 * arange, random, ...), chunks, scalars, the repr and the accessors. The
 * other operations live beside it: elem.c (elementwise), view.c (slices
 * and shapes), reduce.c (reductions), compute.c (running them). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array_impl.h"
#include "weft/error.h"

weft_array *weft__array_fail(weft_graph *g, int err, const char *fmt, ...) {
  if (!g)
    return NULL;
  char msg[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  weft__graph_fail(g, err, "%s", msg);
  return NULL;
}

bool weft__dtype_supported(weft_dtype dt) {
  return dt == WEFT_BOOL || dt == WEFT_I32 || dt == WEFT_I64 ||
         dt == WEFT_F32 || dt == WEFT_F64;
}

void weft__shape_str(int ndim, const int64_t *shape, char *buf, size_t size) {
  size_t n = (size_t)snprintf(buf, size, "(");
  for (int k = 0; k < ndim && n < size; k++)
    n += (size_t)snprintf(buf + n, size - n, "%s%lld", k ? ", " : "",
                          (long long)shape[k]);
  if (n < size)
    snprintf(buf + n, size - n, ndim == 1 ? ",)" : ")");
}

weft_array *weft__array_new(weft_graph *g, int kind, weft_dtype dt, int ndim,
                            const int64_t *shape) {
  if (!g)
    return NULL;
  if (weft_graph_status(g))
    return NULL; /* an earlier error: keep the first message */
  if (!weft__dtype_supported(dt))
    return weft__array_fail(g, WEFT_EINVAL,
                            "array dtype %s is not supported (use bool, "
                            "int32, int64, float32 or float64)",
                            weft_dtype_name(dt));
  if (ndim < 0 || ndim > MAXD)
    return weft__array_fail(g, WEFT_EINVAL,
                            "arrays have 0 to %d dimensions, not %d", MAXD,
                            ndim);
  for (int k = 0; k < ndim; k++)
    if (shape[k] < 0) {
      char s[400];
      weft__shape_str(ndim, shape, s, sizeof s);
      return weft__array_fail(g, WEFT_EINVAL,
                              "negative extent in shape %s (axis %d)", s, k);
    }
  weft_array *a = calloc(1, sizeof *a);
  if (!a)
    return weft__array_fail(g, WEFT_ENOMEM, "out of memory making an array");
  atomic_init(&a->refs, 1);
  a->g = g;
  a->kind = kind;
  a->dtype = dt;
  a->ndim = ndim;
  if (ndim)
    memcpy(a->shape, shape, (size_t)ndim * sizeof *shape);
  return a;
}

weft_array *weft_array_retain(weft_array *a) {
  if (a)
    atomic_fetch_add(&a->refs, 1);
  return a;
}

void weft_array_free(weft_array *a) {
  if (!a || atomic_fetch_sub(&a->refs, 1) != 1)
    return;
  for (int k = 0; k < MAXD; k++)
    free(a->chunks[k]);
  for (int k = 0; k < a->nkids; k++)
    weft_array_free(a->kid[k]);
  free(a->blocks);
  free(a);
}

int weft__array_set_axis_chunks(weft_array *a, int axis, size_t n,
                                const int64_t *sizes) {
  int64_t *c = malloc((n ? n : 1) * sizeof *c);
  if (!c) {
    weft__array_fail(a->g, WEFT_ENOMEM, "out of memory for chunks");
    return WEFT_ENOMEM;
  }
  if (n)
    memcpy(c, sizes, n * sizeof *c);
  free(a->chunks[axis]);
  a->chunks[axis] = c;
  a->nchunks[axis] = (int64_t)n;
  bool reg = true;
  for (size_t i = 1; i + 1 < n && reg; i++)
    reg = c[i] == c[0];
  a->regular[axis] = reg && (n < 2 || c[n - 1] <= c[0]);
  return 0;
}

void weft_chunks_axis(weft_chunks *c, int axis, size_t n,
                      const int64_t *sizes) {
  if (!c || axis < 0 || axis >= MAXD)
    return;
  while (c->ndim <= axis)
    c->size[c->ndim++] = -1;
  c->sizes[axis] = sizes;
  c->nsizes[axis] = n;
}

/* Regular chunks of size cs over an axis of extent n: ceil(n / cs) chunks
 * (one empty chunk for an empty axis, as Dask). */
static int regular_axis(weft_array *a, int axis, int64_t cs) {
  int64_t n = a->shape[axis];
  if (cs < 0 || cs > n)
    cs = n;
  if (cs == 0)
    cs = n ? 1 : 0;
  int64_t nb = n == 0 ? 1 : (n + cs - 1) / cs;
  int64_t *c = malloc((size_t)nb * sizeof *c);
  if (!c) {
    weft__array_fail(a->g, WEFT_ENOMEM, "out of memory for %lld chunks",
                     (long long)nb);
    return WEFT_ENOMEM;
  }
  for (int64_t i = 0; i < nb; i++)
    c[i] = n == 0 ? 0 : (i + 1) * cs <= n ? cs : n - i * cs;
  free(a->chunks[axis]);
  a->chunks[axis] = c;
  a->nchunks[axis] = nb;
  a->regular[axis] = true;
  return 0;
}

int weft__array_set_chunks(weft_array *a, const weft_chunks *c) {
  char s[400];
  weft__shape_str(a->ndim, a->shape, s, sizeof s);
  if (c->ndim != 0 && c->ndim != a->ndim) {
    weft__array_fail(a->g, WEFT_EINVAL,
                     "chunks have %d axes but shape %s has %d", c->ndim, s,
                     a->ndim);
    return WEFT_EINVAL;
  }
  for (int k = 0; k < a->ndim; k++) {
    if (c->ndim && c->sizes[k]) {
      int64_t total = 0;
      for (size_t i = 0; i < c->nsizes[k]; i++) {
        if (c->sizes[k][i] < 0) {
          weft__array_fail(a->g, WEFT_EINVAL,
                           "negative chunk size %lld on axis %d",
                           (long long)c->sizes[k][i], k);
          return WEFT_EINVAL;
        }
        total += c->sizes[k][i];
      }
      if (total != a->shape[k] || c->nsizes[k] == 0) {
        weft__array_fail(a->g, WEFT_EINVAL,
                         "chunks of axis %d add up to %lld, but shape %s has "
                         "%lld there",
                         k, (long long)total, s, (long long)a->shape[k]);
        return WEFT_EINVAL;
      }
      if (weft__array_set_axis_chunks(a, k, c->nsizes[k], c->sizes[k]))
        return WEFT_ENOMEM;
      continue;
    }
    int64_t cs = c->ndim ? c->size[k] : -1;
    if (cs == 0 && a->shape[k] > 0) {
      weft__array_fail(a->g, WEFT_EINVAL,
                       "chunk size 0 on axis %d of shape %s", k, s);
      return WEFT_EINVAL;
    }
    if (cs < -1) {
      weft__array_fail(a->g, WEFT_EINVAL,
                       "chunk size %lld on axis %d (use -1 for the whole axis)",
                       (long long)cs, k);
      return WEFT_EINVAL;
    }
    if (regular_axis(a, k, cs))
      return WEFT_ENOMEM;
  }
  return 0;
}

size_t weft__array_nblocks(const weft_array *a) {
  size_t n = 1;
  for (int k = 0; k < a->ndim; k++)
    n *= (size_t)a->nchunks[k];
  return n;
}

void weft__block_coords(const weft_array *a, size_t b, int64_t *idx,
                        int64_t *start, int64_t *extent) {
  for (int k = a->ndim - 1; k >= 0; k--) {
    int64_t nb = a->nchunks[k];
    idx[k] = (int64_t)(b % (size_t)nb);
    b /= (size_t)nb;
  }
  if (!start && !extent)
    return;
  for (int k = 0; k < a->ndim; k++) {
    int64_t s = 0;
    const int64_t *c = a->chunks[k];
    /* regular chunks: one multiplication; else a sum */
    if (a->regular[k])
      s = idx[k] * c[0];
    else
      for (int64_t i = 0; i < idx[k]; i++)
        s += c[i];
    if (start)
      start[k] = s;
    if (extent)
      extent[k] = c[idx[k]];
  }
}

/* ---- generated arrays ---- */

static weft_array *gen(weft_graph *g, int op, weft_dtype dt, int ndim,
                       const int64_t *shape, const weft_chunks *chunks) {
  weft_array *a = weft__array_new(g, AK_GEN, dt, ndim, shape);
  if (!a)
    return NULL;
  a->op = op;
  if (weft__array_set_chunks(a, chunks)) {
    weft_array_free(a);
    return NULL;
  }
  return a;
}

weft_array *weft_full(weft_graph *g, weft_dtype dt, weft_shape shape,
                      weft_chunks chunks, double value) {
  weft_array *a = gen(g, GEN_FULL, dt, shape.ndim, shape.d, &chunks);
  if (a) {
    a->pd[0] = value;
    /* the integer dtypes' value (C's conversion, saturated) */
    a->pi[3] = value != value ? 0
               : value >= 9.2233720368547758e18 ? INT64_MAX
               : value <= -9.2233720368547758e18 ? INT64_MIN
                                                 : (int64_t)value;
  }
  return a;
}
weft_array *weft_ones(weft_graph *g, weft_dtype dt, weft_shape shape,
                      weft_chunks chunks) {
  return weft_full(g, dt, shape, chunks, 1.0);
}
weft_array *weft_zeros(weft_graph *g, weft_dtype dt, weft_shape shape,
                       weft_chunks chunks) {
  return weft_full(g, dt, shape, chunks, 0.0);
}
weft_array *weft_empty(weft_graph *g, weft_dtype dt, weft_shape shape,
                       weft_chunks chunks) {
  return weft_full(g, dt, shape, chunks, 0.0);
}

weft_array *weft_arange(weft_graph *g, weft_dtype dt, double start,
                        double stop, double step, weft_chunks chunks) {
  if (!g || weft_graph_status(g))
    return NULL;
  if (step == 0 || !isfinite(step) || !isfinite(start) || !isfinite(stop))
    return weft__array_fail(g, WEFT_EINVAL,
                            "arange(%g, %g, %g): the step must be nonzero and "
                            "the bounds finite",
                            start, stop, step);
  double n = ceil((stop - start) / step);
  int64_t len = n > 0 ? (int64_t)n : 0;
  weft_array *a = gen(g, GEN_ARANGE, dt, 1, &len, &chunks);
  if (a) {
    a->pd[0] = start;
    a->pd[1] = step;
  }
  return a;
}

weft_array *weft_linspace(weft_graph *g, double start, double stop,
                          int64_t num, bool endpoint, weft_chunks chunks) {
  if (!g || weft_graph_status(g))
    return NULL;
  if (num < 0)
    return weft__array_fail(g, WEFT_EINVAL,
                            "linspace: num must be >= 0, not %lld",
                            (long long)num);
  int64_t div = endpoint ? num - 1 : num;
  double step = div > 0 ? (stop - start) / (double)div : 0;
  weft_array *a = gen(g, GEN_ARANGE, WEFT_F64, 1, &num, &chunks);
  if (a) {
    a->pd[0] = start;
    a->pd[1] = step;
    a->pd[2] = endpoint && num > 1 ? stop : NAN; /* last element exact */
    a->pi[1] = 1;                                /* numpy's linspace form */
    a->pi[2] = div;
  }
  return a;
}

weft_array *weft_eye(weft_graph *g, weft_dtype dt, int64_t n, int64_t m,
                     int64_t k, weft_chunks chunks) {
  int64_t shape[2] = {n, m < 0 ? n : m};
  weft_array *a = gen(g, GEN_EYE, dt, 2, shape, &chunks);
  if (a)
    a->pi[0] = k;
  return a;
}

static weft_array *random_arr(weft_graph *g, int op, uint64_t seed, double p0,
                              double p1, weft_shape shape,
                              weft_chunks chunks) {
  weft_array *a = gen(g, op, WEFT_F64, shape.ndim, shape.d, &chunks);
  if (a) {
    a->pd[0] = p0;
    a->pd[1] = p1;
    a->pi[0] = (int64_t)seed;
  }
  return a;
}
weft_array *weft_random_uniform(weft_graph *g, uint64_t seed, double low,
                                double high, weft_shape shape,
                                weft_chunks chunks) {
  return random_arr(g, GEN_UNIFORM, seed, low, high, shape, chunks);
}
weft_array *weft_random_normal(weft_graph *g, uint64_t seed, double mean,
                               double stddev, weft_shape shape,
                               weft_chunks chunks) {
  return random_arr(g, GEN_NORMAL, seed, mean, stddev, shape, chunks);
}

static weft_array *scalar(weft_graph *g, weft_dtype dt, double v, int64_t i) {
  weft_array *a = gen(g, GEN_FULL, dt, 0, NULL, &WEFT_CHUNKS_WHOLE);
  if (a) {
    a->pd[0] = v;
    a->pi[3] = i; /* the exact int64 for int scalars */
    a->weak = true;
  }
  return a;
}
weft_array *weft_array_scalar(weft_graph *g, double v) {
  return scalar(g, WEFT_F64, v, 0);
}
weft_array *weft_array_scalar_int(weft_graph *g, int64_t v) {
  return scalar(g, WEFT_I64, (double)v, v);
}
weft_array *weft_array_scalar_bool(weft_graph *g, bool v) {
  return scalar(g, WEFT_BOOL, v, v);
}

/* ---- accessors and repr ---- */

weft_graph *weft_array_graph(const weft_array *a) { return a ? a->g : NULL; }
weft_dtype weft_array_dtype(const weft_array *a) {
  return a ? a->dtype : (weft_dtype)0;
}
int weft_array_ndim(const weft_array *a) { return a ? a->ndim : -1; }
const int64_t *weft_array_shape(const weft_array *a) {
  return a ? a->shape : NULL;
}
int64_t weft_array_size(const weft_array *a) {
  if (!a)
    return 0;
  int64_t n = 1;
  for (int k = 0; k < a->ndim; k++)
    n *= a->shape[k];
  return n;
}
double weft_array_nbytes(const weft_array *a) {
  if (!a)
    return 0;
  double n = (double)weft_dtype_size(a->dtype);
  for (int k = 0; k < a->ndim; k++)
    n *= (double)a->shape[k];
  return n;
}
size_t weft_array_numblocks(const weft_array *a, int axis) {
  return a && axis >= 0 && axis < a->ndim ? (size_t)a->nchunks[axis] : 0;
}
const int64_t *weft_array_chunk_sizes(const weft_array *a, int axis) {
  return a && axis >= 0 && axis < a->ndim ? a->chunks[axis] : NULL;
}

static void human_bytes(double b, char *buf, size_t size) {
  static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (b >= 1000 && u < 5) {
    b /= 1000;
    u++;
  }
  if (u == 0)
    snprintf(buf, size, "%.0f B", b);
  else
    snprintf(buf, size, "%.2f %s", b, units[u]);
}

/* Tasks the array's blocks take, counting each stored input once. */
static size_t count_tasks(const weft_array *a, const weft_array **seen,
                          size_t *nseen, size_t cap) {
  if (a->kind == AK_CHUNKS || a->blocks) {
    for (size_t i = 0; i < *nseen; i++)
      if (seen[i] == a)
        return 0;
    if (*nseen < cap)
      seen[(*nseen)++] = a;
    return a->ntasks;
  }
  size_t n = 0;
  for (int k = 0; k < a->nkids; k++)
    n += count_tasks(a->kid[k], seen, nseen, cap);
  return n;
}

size_t weft__array_task_count(const weft_array *a) {
  const weft_array *seen[64];
  size_t nseen = 0;
  size_t n = count_tasks(a, seen, &nseen, 64);
  if (a->kind != AK_CHUNKS && !a->blocks)
    n += weft__array_nblocks(a);
  return n;
}

size_t weft_array_format(const weft_array *a, char *buf, size_t size) {
  if (!a)
    return (size_t)snprintf(buf, size, "weft_array<NULL>");
  char shape[400], cs[400], nb[32], cb[32];
  weft__shape_str(a->ndim, a->shape, shape, sizeof shape);
  int64_t first[MAXD];
  double cbytes = (double)weft_dtype_size(a->dtype);
  for (int k = 0; k < a->ndim; k++) {
    first[k] = a->chunks[k][0];
    for (int64_t i = 1; i < a->nchunks[k]; i++)
      if (a->chunks[k][i] > first[k])
        first[k] = a->chunks[k][i];
    cbytes *= (double)first[k];
  }
  weft__shape_str(a->ndim, first, cs, sizeof cs);
  human_bytes(weft_array_nbytes(a), nb, sizeof nb);
  human_bytes(cbytes, cb, sizeof cb);
  size_t nblocks = weft__array_nblocks(a);
  return (size_t)snprintf(
      buf, size,
      "weft_array<shape=%s %s chunks=%s %zu chunk%s %zu task%s %s (chunk %s)>",
      shape, weft_dtype_name(a->dtype), cs, nblocks, nblocks == 1 ? "" : "s",
      weft__array_task_count(a), weft__array_task_count(a) == 1 ? "" : "s",
      nb, cb);
}
