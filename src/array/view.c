/* view.c - slicing and shape: numpy's basic indexing (from a slice string
 * like "::-1, ::-1" or from weft_index items), transpose, rechunk, reshape,
 * concatenate and stack.
 *
 * Slices, integer indices, new axes, transposes and rechunks are one kind
 * of layer, a VIEW: each output axis reads one source axis at start + i *
 * step, so a view of a view of a generated array is still computed inside
 * the consuming task, reading only the elements it needs. Reshape,
 * concatenate and stack arrange stored chunks instead (their inputs'
 * blocks become tasks when they are not already). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array_impl.h"
#include "weft/error.h"

static bool bad(weft_array *a) { return !a || weft_graph_status(a->g); }

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
static int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

/* How many of the len indices start + i * step fall in [lo, hi), and the
 * first such i. */
static int64_t count_in(int64_t start, int64_t step, int64_t len, int64_t lo,
                        int64_t hi) {
  int64_t i0, i1;
  if (step > 0) {
    i0 = ceil_div(lo - start, step);
    i1 = ceil_div(hi - start, step);
  } else {
    int64_t s = -step;
    i0 = floor_div(start - hi, s) + 1;
    i1 = floor_div(start - lo, s) + 1;
  }
  if (i0 < 0)
    i0 = 0;
  if (i1 > len)
    i1 = len;
  return i1 > i0 ? i1 - i0 : 0;
}

/* Chunks of a strided selection of an axis with chunks c[0..nc). */
static int slice_chunks(weft_array *out, int k, const int64_t *c, int64_t nc,
                        int64_t start, int64_t step, int64_t len) {
  int64_t *sz = malloc((size_t)(nc ? nc : 1) * sizeof *sz);
  if (!sz) {
    weft__array_fail(out->g, WEFT_ENOMEM, "out of memory slicing");
    return WEFT_ENOMEM;
  }
  size_t n = 0;
  if (len > 0) {
    int64_t lo = 0;
    int64_t *bounds = malloc((size_t)(nc + 1) * sizeof *bounds);
    if (!bounds) {
      free(sz);
      weft__array_fail(out->g, WEFT_ENOMEM, "out of memory slicing");
      return WEFT_ENOMEM;
    }
    for (int64_t b = 0; b < nc; b++) {
      bounds[b] = lo;
      lo += c[b];
    }
    bounds[nc] = lo;
    for (int64_t q = 0; q < nc; q++) {
      int64_t b = step > 0 ? q : nc - 1 - q;
      int64_t m = count_in(start, step, len, bounds[b], bounds[b + 1]);
      if (m)
        sz[n++] = m;
    }
    free(bounds);
  } else {
    sz[n++] = 0;
  }
  int rc = weft__array_set_axis_chunks(out, k, n, sz);
  free(sz);
  return rc;
}

static weft_array *view_new(weft_array *a, int ndim, const int64_t *shape) {
  weft_array *v = weft__array_new(a->g, AK_VIEW, a->dtype, ndim, shape);
  if (!v)
    return NULL;
  v->kid[0] = weft_array_retain(a);
  v->nkids = 1;
  v->weak = a->weak && ndim == 0;
  return v;
}

static weft_array *index_fail(weft_array *a, const char *spec, int col,
                              const char *fmt, const char *detail) {
  char s[300];
  weft__shape_str(a->ndim, a->shape, s, sizeof s);
  if (spec)
    return weft__array_fail(a->g, WEFT_EINVAL,
                            "bad index \"%s\" at column %d for shape %s: %s",
                            spec, col + 1, s, detail ? detail : fmt);
  return weft__array_fail(a->g, WEFT_EINVAL, "bad index for shape %s: %s", s,
                          detail ? detail : fmt);
}

/* The index items applied to a; spec/cols name the text for messages. */
static weft_array *apply_index(weft_array *a, size_t n, const weft_index *idx,
                               const char *spec, const int *cols) {
  size_t consumed = 0, ellipses = 0;
  for (size_t i = 0; i < n; i++) {
    if (idx[i].kind == WEFT_IDX_SLICE || idx[i].kind == WEFT_IDX_INT)
      consumed++;
    else if (idx[i].kind == WEFT_IDX_ELLIPSIS)
      ellipses++;
    else if (idx[i].kind != WEFT_IDX_NEWAXIS)
      return index_fail(a, spec, cols ? cols[i] : 0, "unknown index kind",
                        NULL);
  }
  char d[300];
  if (ellipses > 1)
    return index_fail(a, spec, cols ? cols[n - 1] : 0,
                      "an index can only have a single ellipsis ('...')",
                      NULL);
  if (consumed > (size_t)a->ndim) {
    snprintf(d, sizeof d,
             "too many indices for array: array is %d-dimensional, but %zu "
             "were indexed",
             a->ndim, consumed);
    return index_fail(a, spec, cols ? cols[n - 1] : 0, d, d);
  }
  int64_t shape[MAXD];
  int vaxis[MAXD];
  int64_t vstart[MAXD], vstep[MAXD];
  bool fixed[MAXD] = {false};
  int64_t fixidx[MAXD] = {0};
  int nd = 0, src = 0;
  size_t total = n + (ellipses ? 0 : 1); /* a trailing implicit ellipsis */
  for (size_t i = 0; i < total; i++) {
    weft_index it = i < n ? idx[i] : weft_ellipsis();
    int col = cols && i < n ? cols[i] : 0;
    if (it.kind == WEFT_IDX_ELLIPSIS) {
      int64_t fill = a->ndim - (int64_t)consumed;
      for (int64_t q = 0; q < fill; q++) {
        if (nd >= MAXD)
          return index_fail(a, spec, col, "too many dimensions", NULL);
        vaxis[nd] = src;
        vstart[nd] = 0;
        vstep[nd] = 1;
        shape[nd++] = a->shape[src++];
      }
      consumed = (size_t)a->ndim; /* no further ellipsis fill */
      continue;
    }
    if (it.kind == WEFT_IDX_NEWAXIS) {
      if (nd >= MAXD)
        return index_fail(a, spec, col, "too many dimensions", NULL);
      vaxis[nd] = -1;
      vstart[nd] = 0;
      vstep[nd] = 1;
      shape[nd++] = 1;
      continue;
    }
    int64_t e = a->shape[src];
    if (it.kind == WEFT_IDX_INT) {
      int64_t j = it.start < 0 ? it.start + e : it.start;
      if (j < 0 || j >= e) {
        snprintf(d, sizeof d, "index %lld is out of bounds for axis %d with "
                 "size %lld", (long long)it.start, src, (long long)e);
        return index_fail(a, spec, col, d, d);
      }
      fixed[src] = true;
      fixidx[src++] = j;
      continue;
    }
    int64_t step = it.step;
    if (step == 0)
      return index_fail(a, spec, col, "slice step cannot be zero", NULL);
    /* a step past the extent takes one element at most, as that extent
       does: clamped, the count below cannot overflow (::INT64_MAX took
       nothing, ::-2**63 everything, forward) */
    if (step > e || step < -e)
      step = step > 0 ? (e > 0 ? e : 1) : (e > 0 ? -e : -1);
    int64_t start = it.start, stop = it.stop;
    if (step > 0) {
      if (start == WEFT_IDX_NONE)
        start = 0;
      else if (start < 0)
        start = start + e < 0 ? 0 : start + e;
      else if (start > e)
        start = e;
      if (stop == WEFT_IDX_NONE)
        stop = e;
      else if (stop < 0)
        stop = stop + e < 0 ? 0 : stop + e;
      else if (stop > e)
        stop = e;
    } else {
      if (start == WEFT_IDX_NONE)
        start = e - 1;
      else if (start < 0)
        start = start + e < 0 ? -1 : start + e;
      else if (start >= e)
        start = e - 1;
      if (stop == WEFT_IDX_NONE)
        stop = -1;
      else if (stop < 0)
        stop = stop + e < 0 ? -1 : stop + e;
      else if (stop >= e)
        stop = e - 1;
    }
    int64_t len = step > 0 ? (stop > start ? (stop - start + step - 1) / step : 0)
                           : (start > stop ? (start - stop - 1) / (-step) + 1 : 0);
    if (nd >= MAXD)
      return index_fail(a, spec, col, "too many dimensions", NULL);
    vaxis[nd] = src++;
    vstart[nd] = len ? start : 0;
    vstep[nd] = step;
    shape[nd++] = len;
  }
  weft_array *v = view_new(a, nd, shape);
  if (!v)
    return NULL;
  memcpy(v->vaxis, vaxis, sizeof vaxis);
  memcpy(v->vstart, vstart, sizeof vstart);
  memcpy(v->vstep, vstep, sizeof vstep);
  memcpy(v->fixed, fixed, sizeof fixed);
  memcpy(v->fixidx, fixidx, sizeof fixidx);
  for (int k = 0; k < nd; k++) {
    int s = vaxis[k];
    int rc;
    if (s < 0) {
      int64_t one = 1;
      rc = weft__array_set_axis_chunks(v, k, 1, &one);
    } else {
      rc = slice_chunks(v, k, a->chunks[s], a->nchunks[s], vstart[k],
                        vstep[k], shape[k]);
    }
    if (rc) {
      weft_array_free(v);
      return NULL;
    }
  }
  return v;
}

weft_array *weft_array_index(weft_array *a, size_t n, const weft_index *idx) {
  if (bad(a))
    return NULL;
  if (n && !idx)
    return weft__array_fail(a->g, WEFT_EINVAL, "NULL index items");
  return apply_index(a, n, idx, NULL, NULL);
}

/* ---- the slice-string parser ---- */

static const char *skip(const char *p) {
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

/* An optional signed integer: 1 and *v when found, 0 when absent, -1 bad. */
static int parse_int(const char **pp, int64_t *v) {
  const char *p = skip(*pp);
  const char *q = p;
  if (*q == '-' || *q == '+')
    q++;
  if (!isdigit((unsigned char)*q)) {
    if (q != p)
      return -1;
    *pp = p;
    return 0;
  }
  char *end;
  long long x = strtoll(p, &end, 10);
  if (isalpha((unsigned char)*end) || *end == '.')
    return -1;
  /* -2**63 (or less, saturated) is WEFT_IDX_NONE, "omitted": one more
     selects the same elements, as start, stop or step */
  *v = x == INT64_MIN ? INT64_MIN + 1 : x;
  *pp = skip(end);
  return 1;
}

weft_array *weft_array_slice(weft_array *a, const char *spec) {
  if (bad(a))
    return NULL;
  if (!spec)
    return weft__array_fail(a->g, WEFT_EINVAL, "NULL slice string");
  weft_index items[64];
  int cols[64];
  size_t n = 0;
  const char *p = skip(spec);
  if (!*p)
    return apply_index(a, 0, NULL, spec, NULL);
  for (;;) {
    if (n == 64)
      return index_fail(a, spec, (int)(p - spec), "too many index items",
                        NULL);
    cols[n] = (int)(p - spec);
    weft_index it;
    if (!strncmp(p, "...", 3)) {
      it = weft_ellipsis();
      p = skip(p + 3);
    } else if (!strncmp(p, "None", 4) && !isalnum((unsigned char)p[4])) {
      it = weft_newaxis();
      p = skip(p + 4);
    } else if (!strncmp(p, "newaxis", 7) && !isalnum((unsigned char)p[7])) {
      it = weft_newaxis();
      p = skip(p + 7);
    } else {
      int64_t v[3] = {WEFT_IDX_NONE, WEFT_IDX_NONE, WEFT_IDX_NONE};
      int parts = 0;
      for (;;) {
        int64_t x;
        int r = parse_int(&p, &x);
        if (r < 0)
          return index_fail(a, spec, (int)(skip(p) - spec),
                            "expected an integer, ':', '...', 'None' or ','",
                            NULL);
        if (r > 0)
          v[parts] = x;
        parts++;
        if (*p == ':' && parts < 3) {
          p++;
          continue;
        }
        break;
      }
      if (parts == 1 && v[0] == WEFT_IDX_NONE)
        return index_fail(a, spec, (int)(p - spec),
                          "expected an integer, ':', '...', 'None' or ','",
                          NULL);
      if (parts == 1)
        it = weft_at(v[0]);
      else
        it = weft_slice(v[0], v[1], v[2] == WEFT_IDX_NONE ? 1 : v[2]);
      if (parts == 3 && v[2] == 0)
        return index_fail(a, spec, cols[n], "slice step cannot be zero",
                          NULL);
    }
    items[n++] = it;
    p = skip(p);
    if (*p == ',') {
      p = skip(p + 1);
      if (!*p)
        break; /* "0," as in Python */
      continue;
    }
    if (*p)
      return index_fail(a, spec, (int)(p - spec),
                        "expected ',' or the end of the index", NULL);
    break;
  }
  return apply_index(a, n, items, spec, cols);
}

/* ---- transpose, rechunk ---- */

weft_array *weft_array_transpose(weft_array *a, const int *perm) {
  if (bad(a))
    return NULL;
  int p[MAXD];
  bool used[MAXD] = {false};
  for (int k = 0; k < a->ndim; k++) {
    p[k] = perm ? perm[k] : a->ndim - 1 - k;
    if (p[k] < 0)
      p[k] += a->ndim;
    if (p[k] < 0 || p[k] >= a->ndim || used[p[k]]) {
      char s[300];
      weft__shape_str(a->ndim, a->shape, s, sizeof s);
      return weft__array_fail(a->g, WEFT_EINVAL,
                              "transpose: axes are not a permutation of the "
                              "%d axes of shape %s (axis %d of it: %d)",
                              a->ndim, s, k, perm ? perm[k] : p[k]);
    }
    used[p[k]] = true;
  }
  int64_t shape[MAXD];
  for (int k = 0; k < a->ndim; k++)
    shape[k] = a->shape[p[k]];
  weft_array *v = view_new(a, a->ndim, shape);
  if (!v)
    return NULL;
  for (int k = 0; k < a->ndim; k++) {
    v->vaxis[k] = p[k];
    v->vstep[k] = 1;
    if (weft__array_set_axis_chunks(v, k, (size_t)a->nchunks[p[k]],
                                    a->chunks[p[k]])) {
      weft_array_free(v);
      return NULL;
    }
  }
  return v;
}

weft_array *weft_array_rechunk(weft_array *a, weft_chunks chunks) {
  if (bad(a))
    return NULL;
  weft_array *v = view_new(a, a->ndim, a->shape);
  if (!v)
    return NULL;
  for (int k = 0; k < a->ndim; k++) {
    v->vaxis[k] = k;
    v->vstep[k] = 1;
  }
  if (weft__array_set_chunks(v, &chunks)) {
    weft_array_free(v);
    return NULL;
  }
  return v;
}
