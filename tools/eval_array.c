/* eval_array.c - `weft eval` for numpy-style array expressions: "(ones((200000,
 * 4000), chunks=(1000, 1000)) * ...).mean()". The text becomes a weft
 * array (weft_array_parse); the command prints its repr, computes it on the
 * chosen scheduler, prints the result as numpy would (scalars in full
 * precision, big arrays summarised) and the wall time, and on request draws
 * the graph (--svg, --dot), stores the result (--npy, through weft_npy_save)
 * and draws a 1-d result (--plot, through weft_plot). */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "weft.h"

/* Python's repr of a double (float32: numpy's repr of its scalar): the
   shortest digits that read back the same, in fixed notation for exponents
   -4 to 15 (300000000.0, 0.0001), else scientific (1e+16, 1e-05). */
static void print_shortest(double d, bool f32) {
  char buf[64];
  if (isnan(d)) { /* whatever its sign bit ("-nan" in C) */
    fputs("nan", stdout);
    return;
  }
  if (isinf(d)) {
    fputs(d < 0 ? "-inf" : "inf", stdout);
    return;
  }
  int prec = 1;
  for (; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
    if (f32 ? strtof(buf, NULL) == (float)d : strtod(buf, NULL) == d)
      break;
  }
  /* buf: [-]D.DDDe[+-]XX */
  char digits[32];
  int nd = 0, neg = buf[0] == '-';
  const char *q = buf + neg;
  for (; *q && *q != 'e'; q++)
    if (*q != '.')
      digits[nd++] = *q;
  while (nd > 1 && digits[nd - 1] == '0')
    nd--;
  digits[nd] = 0;
  int ex = atoi(q + 1);
  char out[96];
  int o = 0;
  if (neg)
    out[o++] = '-';
  if (ex < -4 || ex >= 16) {
    out[o++] = digits[0];
    if (nd > 1) {
      out[o++] = '.';
      for (int k = 1; k < nd; k++)
        out[o++] = digits[k];
    }
    o += snprintf(out + o, sizeof out - (size_t)o, "e%c%02d", ex < 0 ? '-' : '+',
                  ex < 0 ? -ex : ex);
  } else if (ex < 0) {
    out[o++] = '0';
    out[o++] = '.';
    for (int k = -1; k > ex; k--)
      out[o++] = '0';
    for (int k = 0; k < nd; k++)
      out[o++] = digits[k];
  } else {
    for (int k = 0; k <= ex; k++)
      out[o++] = k < nd ? digits[k] : '0';
    out[o++] = '.';
    if (nd > ex + 1)
      for (int k = ex + 1; k < nd; k++)
        out[o++] = digits[k];
    else
      out[o++] = '0';
  }
  out[o] = 0;
  fputs(out, stdout);
}

static void print_double(double d) { print_shortest(d, false); }
static void print_float(float f) { print_shortest((double)f, true); }

static double element(const void *data, weft_dtype dt, size_t i) {
  switch (dt) {
  case WEFT_BOOL: return ((const uint8_t *)data)[i];
  case WEFT_I8: return ((const int8_t *)data)[i];
  case WEFT_I16: return ((const int16_t *)data)[i];
  case WEFT_I32: return ((const int32_t *)data)[i];
  case WEFT_I64: return (double)((const int64_t *)data)[i];
  case WEFT_U8: return ((const uint8_t *)data)[i];
  case WEFT_U16: return ((const uint16_t *)data)[i];
  case WEFT_U32: return ((const uint32_t *)data)[i];
  case WEFT_U64: return (double)((const uint64_t *)data)[i];
  case WEFT_F32: return ((const float *)data)[i];
  default: return ((const double *)data)[i];
  }
}

/* The repr below follows numpy 1.24's array_repr with its default print
 * options (precision 8, floatmode 'maxprec', suppress False, threshold
 * 1000, edgeitems 3, linewidth 75), so that `weft eval` output can be
 * pasted next to numpy's and compared character for character. */

typedef struct sbuf {
  char *p;
  size_t n, cap;
} sbuf;

static void sb_add(sbuf *s, const char *t, size_t n) {
  if (s->n + n + 1 > s->cap) {
    size_t c = s->cap ? s->cap : 64;
    while (c < s->n + n + 1)
      c *= 2;
    char *q = realloc(s->p, c);
    if (!q) {
      fprintf(stderr, "weft eval: out of memory printing the result\n");
      exit(1);
    }
    s->p = q;
    s->cap = c;
  }
  memcpy(s->p + s->n, t, n);
  s->n += n;
  s->p[s->n] = '\0';
}
static void sb_str(sbuf *s, const char *t) { sb_add(s, t, strlen(t)); }
static void sb_spaces(sbuf *s, int k) {
  for (; k > 0; k--)
    sb_add(s, " ", 1);
}

static bool is_float(weft_dtype dt) { return dt == WEFT_F32 || dt == WEFT_F64; }

static void int_text(const void *data, weft_dtype dt, size_t i, char *buf,
                     size_t cap) {
  if (dt == WEFT_U64)
    snprintf(buf, cap, "%llu",
             (unsigned long long)((const uint64_t *)data)[i]);
  else if (dt == WEFT_I64)
    snprintf(buf, cap, "%lld", (long long)((const int64_t *)data)[i]);
  else
    snprintf(buf, cap, "%.0f", element(data, dt, i));
}

/* A finite float as numpy's dragon4 "unique" mode writes it with precision
 * 8 and trim '.': the shortest digits that read back as the same value
 * (as a float for float32), at most 8 after the point, trailing zeros cut
 * but the point kept. ip gets the sign and integer part, fp the fraction;
 * sci: d.ddd with *e the exponent. */
static void float_parts(double x, bool f32, bool sci, char *ip, char *fp,
                        int *e) {
  char buf[64];
  int ndig = 17;
  for (int prec = 0; prec <= 16; prec++) {
    snprintf(buf, sizeof buf, "%.*e", prec, x);
    if (f32 ? strtof(buf, NULL) == (float)x : strtod(buf, NULL) == x) {
      ndig = prec + 1;
      break;
    }
  }
  int exp10 = atoi(strchr(buf, 'e') + 1);
  int nfrac = sci ? ndig - 1 : ndig - 1 - exp10;
  nfrac = nfrac < 0 ? 0 : nfrac > 8 ? 8 : nfrac;
  snprintf(buf, sizeof buf, sci ? "%.*e" : "%.*f", nfrac, x);
  char *ep = strchr(buf, 'e');
  if (sci && ep) {
    *e = atoi(ep + 1);
    *ep = '\0';
  }
  char *dot = strchr(buf, '.');
  if (dot) {
    *dot = '\0';
    size_t k = strlen(dot + 1);
    while (k > 0 && dot[k] == '0')
      dot[k--] = '\0';
    strcpy(fp, dot + 1);
  } else {
    fp[0] = '\0';
  }
  strcpy(ip, buf);
}

static int exp_digits(int e) {
  int d = 1;
  for (e = e < 0 ? -e : e; e >= 10; e /= 10)
    d++;
  return d < 2 ? 2 : d;
}

/* FloatingFormat / IntegerFormat / BoolFormat, fitted to the elements
 * that get printed (all of them, or the edge items of a summary). */
typedef struct fmt {
  const void *data;
  weft_dtype dt;
  int width;         /* ints: the widest of str(max), str(min) */
  bool sci;          /* floats: scientific notation */
  int pad_left;      /* characters before the point */
  int pad_right;     /* characters after it (with the exponent) */
  int prec, exp_size; /* scientific: fraction digits, exponent digits */
} fmt;

static void fmt_fit(fmt *f, const size_t *idx, size_t n) {
  char ip[64], fp[64];
  int e = 0;
  if (!is_float(f->dt)) {
    for (size_t k = 0; k < n; k++) {
      if (f->dt == WEFT_BOOL)
        continue;
      int_text(f->data, f->dt, idx[k], ip, sizeof ip);
      int w = (int)strlen(ip);
      if (w > f->width)
        f->width = w;
    }
    return;
  }
  bool f32 = f->dt == WEFT_F32, any_finite = false, nonfinite = false,
       neginf = false;
  double mx = 0, mn = 0;
  bool any_nz = false;
  for (size_t k = 0; k < n; k++) {
    double x = element(f->data, f->dt, idx[k]);
    if (!isfinite(x)) {
      nonfinite = true;
      neginf |= isinf(x) && x < 0;
      continue;
    }
    any_finite = true;
    double a = fabs(x);
    if (a == 0)
      continue;
    if (!any_nz || a > mx)
      mx = a;
    if (!any_nz || a < mn)
      mn = a;
    any_nz = true;
  }
  if (any_nz) {
    if (f32)
      f->sci = (float)mx >= 1e8f || (float)mn < 0.0001f ||
               (float)mx / (float)mn > 1000.f;
    else
      f->sci = mx >= 1e8 || mn < 0.0001 || mx / mn > 1000.;
  }
  if (any_finite) {
    for (size_t k = 0; k < n; k++) {
      double x = element(f->data, f->dt, idx[k]);
      if (!isfinite(x))
        continue;
      float_parts(x, f32, f->sci, ip, fp, &e);
      int l = (int)strlen(ip), r = (int)strlen(fp);
      if (l > f->pad_left)
        f->pad_left = l;
      if (f->sci) {
        if (r > f->prec)
          f->prec = r;
        if (exp_digits(e) > f->exp_size)
          f->exp_size = exp_digits(e);
      } else if (r > f->pad_right) {
        f->pad_right = r;
      }
    }
    if (f->sci)
      f->pad_right = f->exp_size + 2 + f->prec;
  }
  if (nonfinite) {
    int off = f->pad_right + 1;
    if (3 - off > f->pad_left)
      f->pad_left = 3 - off;
    if (3 + neginf - off > f->pad_left)
      f->pad_left = 3 + neginf - off;
  }
}

static void fmt_elem(sbuf *s, const fmt *f, size_t i) {
  char ip[64], fp[64];
  int e = 0;
  if (f->dt == WEFT_BOOL) {
    sb_str(s, ((const uint8_t *)f->data)[i] ? " True" : "False");
    return;
  }
  if (!is_float(f->dt)) {
    int_text(f->data, f->dt, i, ip, sizeof ip);
    sb_spaces(s, f->width - (int)strlen(ip));
    sb_str(s, ip);
    return;
  }
  double x = element(f->data, f->dt, i);
  if (!isfinite(x)) {
    const char *t = isnan(x) ? "nan" : x < 0 ? "-inf" : "inf";
    sb_spaces(s, f->pad_left + f->pad_right + 1 - (int)strlen(t));
    sb_str(s, t);
    return;
  }
  if (f->sci) {
    /* every element gets prec fraction digits: numpy's min_digits prints
     * the value's own further digits (not zeros), rounded */
    char m[64];
    snprintf(m, sizeof m, "%.*e", f->prec, x);
    char *ep = strchr(m, 'e');
    e = atoi(ep + 1);
    *ep = '\0';
    char *dot = strchr(m, '.');
    if (dot)
      *dot = '\0';
    sb_spaces(s, f->pad_left - (int)strlen(m));
    sb_str(s, m);
    sb_str(s, ".");
    if (dot)
      sb_str(s, dot + 1);
    char eb[16];
    snprintf(eb, sizeof eb, "e%c%0*d", e < 0 ? '-' : '+', f->exp_size,
             e < 0 ? -e : e);
    sb_str(s, eb);
  } else {
    float_parts(x, f->dt == WEFT_F32, false, ip, fp, &e);
    sb_spaces(s, f->pad_left - (int)strlen(ip));
    sb_str(s, ip);
    sb_str(s, ".");
    sb_str(s, fp);
    sb_spaces(s, f->pad_right - (int)strlen(fp));
  }
}

/* The flat offsets of the elements printed, in order: past 1000 elements,
 * the first and last three of each axis longer than six. */
static void collect(const int64_t *shape, int nd, int k, size_t off, bool cut,
                    size_t *out, size_t *n) {
  if (k == nd) {
    out[(*n)++] = off;
    return;
  }
  size_t inner = 1;
  for (int j = k + 1; j < nd; j++)
    inner *= (size_t)shape[j];
  for (int64_t i = 0; i < shape[k]; i++) {
    if (cut && shape[k] > 6 && i == 3)
      i = shape[k] - 3;
    collect(shape, nd, k + 1, off + (size_t)i * inner, cut, out, n);
  }
}

/* Appends word to line, first moving line to s when it would pass width
 * (unless line holds only its indent: wrapping would not help). */
static void extend_line(sbuf *s, sbuf *line, const char *word, int width,
                        int hang) {
  if ((int)(line->n + strlen(word)) > width && (int)line->n > hang) {
    size_t k = line->n;
    while (k > 0 && line->p[k - 1] == ' ')
      k--;
    sb_add(s, line->p, k);
    sb_str(s, "\n");
    line->n = 0;
    sb_spaces(line, hang);
  }
  sb_str(line, word);
}

/* numpy's _formatArray: axis k from offset off, continuation lines indented
 * by hang, lines at most width wide. */
static sbuf format_axis(const fmt *f, const int64_t *shape, int nd, int k,
                        size_t off, bool cut, int hang, int width) {
  sbuf s = {0};
  if (k == nd) {
    fmt_elem(&s, f, off);
    return s;
  }
  size_t inner = 1;
  for (int j = k + 1; j < nd; j++)
    inner *= (size_t)shape[j];
  int64_t len = shape[k];
  bool summary = cut && len > 6;
  int64_t lead = summary ? 3 : 0, trail = summary ? 3 : len;
  if (k == nd - 1) {
    int ew = width - 1;
    sbuf line = {0};
    sb_spaces(&line, hang);
    for (int64_t i = 0; i < len; i++) {
      if (i == lead && summary) {
        extend_line(&s, &line, "...", ew, hang);
        sb_str(&line, ", ");
        i = len - trail;
      }
      sbuf w = {0};
      fmt_elem(&w, f, off + (size_t)i * inner);
      extend_line(&s, &line, w.p, ew, hang);
      free(w.p);
      if (i + 1 < len)
        sb_str(&line, ", ");
    }
    sb_add(&s, line.p, line.n);
    free(line.p);
  } else {
    char sep[16] = ",";
    for (int j = 0; j < nd - k - 1 && j < 14; j++)
      strcat(sep, "\n");
    for (int64_t i = 0; i < len; i++) {
      if (i == lead && summary) {
        sb_spaces(&s, hang);
        sb_str(&s, "...");
        sb_str(&s, sep);
        i = len - trail;
      }
      sbuf w = format_axis(f, shape, nd, k + 1, off + (size_t)i * inner, cut,
                           hang + 1, width - 1);
      sb_spaces(&s, hang);
      sb_add(&s, w.p, w.n);
      free(w.p);
      if (i + 1 < len)
        sb_str(&s, sep);
    }
  }
  sbuf r = {0};
  sb_str(&r, "[");
  sb_str(&r, s.n >= (size_t)hang ? s.p + hang : "");
  sb_str(&r, "]");
  free(s.p);
  return r;
}

/* numpy's repr of an array of 1 dimension or more. */
static void print_array(const void *data, weft_dtype dt, int nd,
                        const int64_t *shape) {
  size_t size = 1, shown = 1;
  bool cut;
  for (int j = 0; j < nd; j++)
    size *= (size_t)shape[j];
  cut = size > 1000;
  for (int j = 0; j < nd; j++)
    shown *= cut && shape[j] > 6 ? 6 : (size_t)shape[j];
  bool implied = dt == WEFT_BOOL || dt == WEFT_I64 || dt == WEFT_F64;
  bool skipdtype = implied && size > 0;
  sbuf out = {0};
  sb_str(&out, "array(");
  if (size == 0) {
    sb_str(&out, "[]");
    if (nd != 1) {
      sb_str(&out, ", shape=(");
      for (int j = 0; j < nd; j++) {
        char b[32];
        snprintf(b, sizeof b, "%s%lld", j ? ", " : "", (long long)shape[j]);
        sb_str(&out, b);
      }
      sb_str(&out, ")");
    }
  } else {
    size_t *idx = malloc(shown * sizeof *idx), n = 0;
    if (!idx) {
      fprintf(stderr, "weft eval: out of memory printing the result\n");
      exit(1);
    }
    collect(shape, nd, 0, 0, cut, idx, &n);
    fmt f = {.data = data, .dt = dt};
    fmt_fit(&f, idx, n);
    free(idx);
    sbuf body = format_axis(&f, shape, nd, 0, 0, cut, 7, 74);
    sb_add(&out, body.p, body.n);
    free(body.p);
  }
  sb_str(&out, skipdtype ? ")" : ",");
  if (!skipdtype) {
    char ds[48];
    snprintf(ds, sizeof ds, "dtype=%s)", weft_dtype_name(dt));
    const char *nl = strrchr(out.p, '\n');
    size_t last = out.n - (nl ? (size_t)(nl + 1 - out.p) : 0);
    sb_str(&out, last + strlen(ds) + 1 > 75 ? "\n      " : " ");
    sb_str(&out, ds);
  }
  puts(out.p);
  free(out.p);
}

/* --plot: a 1-d result as a line (plt.plot(y)), through weft_plot. */
static int plot_result(const char *path, const char *text, weft_array *a,
                       const void *buf) {
  if (weft_array_ndim(a) != 1) {
    fprintf(stderr, "weft eval: --plot draws 1-d results; this one has %d "
                    "dimensions\n", weft_array_ndim(a));
    return -1;
  }
  size_t n = (size_t)weft_array_size(a);
  double *y = malloc((n ? n : 1) * sizeof *y);
  if (!y) {
    fprintf(stderr, "weft eval: out of memory for the plot\n");
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    y[i] = element(buf, weft_array_dtype(a), i);
  weft_plot_opts o;
  weft_plot_opts_init(&o);
  o.title = text;
  o.xlabel = "index";
  weft_errmsg e;
  int rc = weft_plot(path, n, NULL, y, &o, &e);
  free(y);
  if (rc)
    fprintf(stderr, "weft eval: %s\n", e.text);
  return rc ? -1 : 0;
}

/* The scheduler and worker count of the compute, from its COMPUTE_BEGIN
 * event (published on the calling thread), for the wall-time line. */
typedef struct array_run {
  int workers;
  const char *scheduler;
} array_run;

static void on_begin(const weft_event *ev, void *ud) {
  array_run *r = ud;
  if (ev->kind == WEFT_EV_COMPUTE_BEGIN) {
    r->workers = ev->workers;
    r->scheduler = ev->scheduler;
  }
}

int cli_eval_array(const char *text, weft_scheduler sched, int workers,
                   const char *svg, const char *dot, const char *rankdir,
                   const char *npy, const char *plot, int quiet) {
  weft_graph *g = weft_graph_new();
  weft_array *a = NULL;
  char err[600];
  int col = 0, status = 1;
  void *buf = NULL;
  if (!g) {
    fprintf(stderr, "weft eval: out of memory\n");
    return 1;
  }
  if (weft_array_parse(g, text, 0, NULL, NULL, &a, err, sizeof err, &col)) {
    fprintf(stderr, "error: %s at column %d\n  %s\n  %*s^\n", err, col, text,
            col > 0 ? col - 1 : 0, "");
    goto out;
  }
  char repr[400];
  weft_array_format(a, repr, sizeof repr);
  if (!quiet)
    printf("%s\n", repr);
  size_t n;
  weft_node *const *nodes;
  if (weft_array_blocks(a, &n, &nodes)) {
    fprintf(stderr, "error: %s\n", weft_graph_error(g));
    goto out;
  }
  weft_visualize_opts vo;
  weft_visualize_opts_init(&vo);
  vo.rankdir = rankdir;
  const char *pics[2] = {dot, svg};
  for (int k = 0; k < 2; k++) {
    if (!pics[k])
      continue;
    vo.format = k ? "svg" : "dot";
    if (weft_array_visualize(a, pics[k], &vo)) {
      fprintf(stderr, "error: %s\n", weft_graph_error(g));
      goto out;
    } else if (!quiet) {
      printf("graph: %s\n", pics[k]);
    }
  }
  weft_compute_opts co;
  weft_compute_opts_init(&co);
  co.scheduler = sched;
  co.workers = workers;
  array_run run = {0, NULL};
  weft_listener lis = {on_begin, &run, NULL};
  co.listener = &lis;
  size_t bytes = (size_t)weft_array_nbytes(a);
  buf = malloc(bytes ? bytes : 1);
  if (!buf) {
    fprintf(stderr, "weft eval: the result (%zu bytes) does not fit in "
                    "memory\n", bytes);
    goto out;
  }
  uint64_t t0 = weft_now_ns();
  if (weft_array_compute_buffer(a, buf, bytes, &co)) {
    fprintf(stderr, "error: %s\n", weft_graph_error(g));
    goto out;
  }
  double wall = (double)(weft_now_ns() - t0) / 1e9;
  weft_dtype dt = weft_array_dtype(a);
  int nd = weft_array_ndim(a);
  if (nd == 0) {
    if (dt == WEFT_F32)
      print_float(((const float *)buf)[0]);
    else if (is_float(dt))
      print_double(element(buf, dt, 0));
    else if (dt == WEFT_BOOL)
      fputs(((const uint8_t *)buf)[0] ? "True" : "False", stdout);
    else {
      char t[32];
      int_text(buf, dt, 0, t, sizeof t);
      fputs(t, stdout);
    }
    putchar('\n');
  } else {
    print_array(buf, dt, nd, weft_array_shape(a));
  }
  weft_errmsg e;
  if (npy && weft_npy_save(npy, dt, nd, weft_array_shape(a), buf, &e)) {
    fprintf(stderr, "weft eval: %s\n", e.text);
    goto out;
  }
  if (npy && !quiet)
    printf("npy: %s\n", npy);
  if (plot && plot_result(plot, text, a, buf))
    goto out;
  if (plot && !quiet)
    printf("plot: %s\n", plot);
  if (!quiet)
    printf("wall time: %.6f s (%zu chunk%s, %s scheduler, %d worker%s)\n", wall,
           n, n == 1 ? "" : "s", run.scheduler ? run.scheduler : "?",
           run.workers, run.workers == 1 ? "" : "s");
  status = 0;
out:
  free(buf);
  weft_array_free(a);
  weft_graph_free(g);
  return status;
}
