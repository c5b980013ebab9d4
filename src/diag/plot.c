/* plot.c - line plots through PLplot (weft/plot.h), opened with dlopen on the
 * first plot like Graphviz (gv_load.c): a program that never plots never
 * loads PLplot, cairo and their fonts.
 *
 * PLplot's C API is declared here (PLFLT is double and PLINT int32_t in
 * Debian's build), so weft builds without its headers and plots wherever the
 * library is installed. PLplot keeps global state (a current stream) and
 * ends the process on a fatal error (plexit); so a lock draws one plot at a
 * time on a stream of its own, everything plexit could trip on (no device,
 * a file that cannot be written, ranges, NaN) is checked first, and the
 * exit handler jumps back here as a last resort, after which PLplot is not
 * used again in this process. PNG comes from the cairo driver (pngcairo),
 * SVG from PLplot's own svg driver, which keeps text as <text>. */
#include "weft/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dlib.h"

typedef double PLFLT;
typedef int32_t PLINT;

typedef struct plplot {
  void (*mkstrm)(PLINT *);
  void (*gstrm)(PLINT *);
  void (*sstrm)(PLINT);
  void (*sdev)(const char *);
  void (*sfnam)(const char *);
  void (*spage)(PLFLT, PLFLT, PLINT, PLINT, PLINT, PLINT);
  void (*scolbg)(PLINT, PLINT, PLINT);
  void (*scol0)(PLINT, PLINT, PLINT, PLINT);
  void (*init)(void);
  void (*env)(PLFLT, PLFLT, PLFLT, PLFLT, PLINT, PLINT);
  void (*lab)(const char *, const char *, const char *);
  void (*col0)(PLINT);
  void (*width)(PLFLT);
  void (*line)(PLINT, const PLFLT *, const PLFLT *);
  void (*box)(const char *, PLFLT, PLINT, const char *, PLFLT, PLINT);
  void (*end1)(void);
  void (*gDevs)(const char ***, const char ***, int *);
  void (*sexit)(int (*)(const char *));
  void (*sabort)(void (*)(const char *));
} plplot;

/* Debian 12's soname, then the development link as a last resort. */
static const char *const libs[] = {"libplplot.so.17", "libplplot.so"};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static plplot pl;
static const plplot *loaded;
static char why_not[512];

#define SYM(field, name)                                                       \
  do {                                                                         \
    if (!weft__dl_sym(h, lib, name, (void **)&pl.field, why_not,               \
                      sizeof why_not))                                         \
      return;                                                                  \
  } while (0)

static void load(void) {
  const char *lib, *error;
  void *h = weft__dl_open("WEFT_PLPLOT_LIB", libs, sizeof libs / sizeof libs[0],
                          true, &lib, &error);
  if (!h) {
    snprintf(why_not, sizeof why_not,
             "cannot load PLplot: %s (%s); install libplplot17 and "
             "plplot-driver-cairo (scripts/deps.sh build)",
             lib, error);
    return;
  }
  SYM(mkstrm, "c_plmkstrm");
  SYM(gstrm, "c_plgstrm");
  SYM(sstrm, "c_plsstrm");
  SYM(sdev, "c_plsdev");
  SYM(sfnam, "c_plsfnam");
  SYM(spage, "c_plspage");
  SYM(scolbg, "c_plscolbg");
  SYM(scol0, "c_plscol0");
  SYM(init, "c_plinit");
  SYM(env, "c_plenv");
  SYM(lab, "c_pllab");
  SYM(col0, "c_plcol0");
  SYM(width, "c_plwidth");
  SYM(line, "c_plline");
  SYM(box, "c_plbox");
  SYM(end1, "c_plend1");
  SYM(gDevs, "plgDevs");
  SYM(sexit, "plsexit");
  SYM(sabort, "plsabort");
  loaded = &pl; /* the handle stays open for the life of the process */
}

/* ---- one plot at a time ---- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static jmp_buf on_exit_jump; /* where plexit's handler returns */
static char pl_msg[256];     /* PLplot's last abort or exit message */
static char broken[300];     /* set when PLplot died inside a plot */

static int exit_handler(const char *msg) {
  snprintf(pl_msg, sizeof pl_msg, "%s", msg ? msg : "fatal error");
  longjmp(on_exit_jump, 1);
}

static void abort_handler(const char *msg) {
  if (!pl_msg[0])
    snprintf(pl_msg, sizeof pl_msg, "%s", msg ? msg : "error");
}

static int fail(weft_errmsg *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(weft_errmsg *err, int code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof err->text, fmt, ap);
    va_end(ap);
  }
  return code;
}

void weft_plot_opts_init(weft_plot_opts *opts) {
  if (!opts)
    return;
  memset(opts, 0, sizeof *opts);
  opts->width = 800;
  opts->height = 600;
}

/* PLplot reads '#' as the start of an escape: "#" is written "##". */
static char *escape_text(const char *s) {
  if (!s)
    s = "";
  size_t n = strlen(s), extra = 0;
  for (size_t i = 0; i < n; i++)
    extra += s[i] == '#';
  char *out = malloc(n + extra + 1), *o = out;
  if (!out)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    *o++ = s[i];
    if (s[i] == '#')
      *o++ = '#';
  }
  *o = 0;
  return out;
}

/* [lo, hi] widened by frac of its span on each side; a single value gets a
 * band of frac of its magnitude (1 around 0). */
static void widen(double *lo, double *hi, double frac) {
  double span = *hi / 2 - *lo / 2; /* halves: no overflow */
  double pad = span > 0 ? 2 * span * frac : fmax(fabs(*lo) * frac, 0);
  if (pad == 0)
    pad = 1;
  if (isfinite(*lo - pad) && isfinite(*hi + pad) && (*lo - pad < *lo)) {
    *lo -= pad;
    *hi += pad;
  }
}

static bool has_device(const plplot *p, const char *dev) {
  enum { MAXDEV = 256 };
  const char *menu[MAXDEV], *names[MAXDEV];
  const char **pm = menu, **pn = names;
  int n = MAXDEV;
  p->gDevs(&pm, &pn, &n);
  for (int k = 0; k < n && k < MAXDEV; k++)
    if (names[k] && strcmp(names[k], dev) == 0)
      return true;
  return false;
}

/* Draws under the lock; 0 or an error. */
static int draw(const plplot *p, const char *path, const char *dev, PLINT n,
                const double *x, const double *y, const weft_plot_opts *o,
                double xr[2], double yr[2], char *const text[3],
                weft_errmsg *err) {
  pl_msg[0] = 0;
  p->sexit(exit_handler);
  p->sabort(abort_handler);
  if (setjmp(on_exit_jump)) {
    snprintf(broken, sizeof broken, "PLplot failed fatally earlier (%s)",
             pl_msg);
    return fail(err, WEFT_EIO, "%s: PLplot failed: %s", path, pl_msg);
  }
  if (!has_device(p, dev))
    return fail(err, WEFT_ENOTSUP, "%s: PLplot has no '%s' device%s", path, dev,
                strcmp(dev, "pngcairo") == 0
                    ? ": install plplot-driver-cairo (scripts/deps.sh build)"
                    : "");
  PLINT old = 0, strm = 0;
  p->gstrm(&old);
  p->mkstrm(&strm);
  p->sdev(dev);
  p->sfnam(path);
  p->spage(0, 0, o->width, o->height, 0, 0);
  p->scolbg(255, 255, 255);   /* white page */
  p->scol0(1, 0, 0, 0);       /* black box, ticks and text */
  p->scol0(2, 31, 119, 180);  /* the line: matplotlib's first blue */
  p->scol0(3, 210, 210, 210); /* the grid: light grey */
  p->init();
  p->col0(1);
  p->env(xr[0], xr[1], yr[0], yr[1], 0, 0);
  if (o->grid) {
    p->col0(3);
    p->box("g", 0, 0, "g", 0, 0);
    p->col0(1);
    p->box("bc", 0, 0, "bc", 0, 0); /* the box again, over the grid */
  }
  p->lab(text[1], text[2], text[0]);
  p->col0(2);
  p->width(1.5);
  p->line(n, x, y);
  p->end1();
  p->sstrm(old);
  if (pl_msg[0])
    return fail(err, WEFT_EIO, "%s: PLplot: %s", path, pl_msg);
  return 0;
}

int weft_plot(const char *path, size_t n, const double *x, const double *y,
              const weft_plot_opts *opts, weft_errmsg *err) {
  weft_plot_opts o;
  weft_plot_opts_init(&o);
  if (opts)
    o = *opts;
  if (!path || !y)
    return fail(err, WEFT_EINVAL, "weft_plot: NULL %s", path ? "y" : "path");
  if (n == 0)
    return fail(err, WEFT_EINVAL, "%s: no points to plot", path);
  if (n > INT32_MAX)
    return fail(err, WEFT_EINVAL, "%s: %zu points: at most %d", path, n,
                INT32_MAX);
  const char *fmt = o.format;
  if (!fmt) {
    const char *dot = strrchr(path, '.');
    fmt = dot && !strchr(dot, '/') ? dot + 1 : "";
  }
  const char *dev;
  if (strcasecmp(fmt, "png") == 0)
    dev = "pngcairo";
  else if (strcasecmp(fmt, "svg") == 0)
    dev = "svg";
  else
    return fail(err, WEFT_EINVAL,
                "%s: format '%s' is not one weft_plot draws (png, svg)", path,
                fmt);
  if (o.width < 16 || o.width > 16384 || o.height < 16 || o.height > 16384)
    return fail(err, WEFT_EINVAL,
                "%s: size %d x %d is outside 16..16384 on a side", path,
                o.width, o.height);
  double xr[2] = {x ? x[0] : 0, x ? x[0] : (double)(n - 1)};
  double yr[2] = {y[0], y[0]};
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(y[i]))
      return fail(err, WEFT_EINVAL, "%s: y[%zu] is %s: cannot be plotted", path,
                  i, isnan(y[i]) ? "NaN" : "infinite");
    if (x && !isfinite(x[i]))
      return fail(err, WEFT_EINVAL, "%s: x[%zu] is %s: cannot be plotted", path,
                  i, isnan(x[i]) ? "NaN" : "infinite");
    yr[0] = fmin(yr[0], y[i]);
    yr[1] = fmax(yr[1], y[i]);
    if (x) {
      xr[0] = fmin(xr[0], x[i]);
      xr[1] = fmax(xr[1], x[i]);
    }
  }
  widen(&yr[0], &yr[1], 0.05);
  if (xr[0] == xr[1])
    widen(&xr[0], &xr[1], 0.05);

  /* the file first: PLplot would end the process if it could not open it */
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return fail(err, WEFT_EIO, "%s: cannot write: %s", path, strerror(errno));
  close(fd);

  pthread_once(&once, load);
  if (!loaded) {
    unlink(path);
    return fail(err, WEFT_ENOTSUP, "%s: %s", path, why_not);
  }
  double *xs = NULL;
  char *text[3] = {escape_text(o.title), escape_text(o.xlabel),
                   escape_text(o.ylabel)};
  if (!x) {
    xs = malloc(n * sizeof *xs);
    if (xs)
      for (size_t i = 0; i < n; i++)
        xs[i] = (double)i;
  }
  int rc;
  if ((!x && !xs) || !text[0] || !text[1] || !text[2]) {
    rc = fail(err, WEFT_ENOMEM, "%s: out of memory", path);
  } else {
    pthread_mutex_lock(&lock);
    if (broken[0])
      rc = fail(err, WEFT_EIO, "%s: %s", path, broken);
    else
      rc = draw(loaded, path, dev, (PLINT)n, x ? x : xs, y, &o, xr, yr, text,
                err);
    pthread_mutex_unlock(&lock);
  }
  if (rc)
    unlink(path);
  free(xs);
  for (int k = 0; k < 3; k++)
    free(text[k]);
  return rc;
}
