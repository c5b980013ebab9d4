/* weft/plot.h - a line plot of 1-d data to PNG or SVG (matplotlib's
 * plt.plot(y) and plt.savefig), for results such as the row means of an
 * array.
 *
 * Drawn by PLplot 5 (Debian: libplplot17 and plplot-driver-cairo; weft
 * declares the few PLplot calls it makes, so libplplot-dev is not needed,
 * and expects PLplot's double-precision build, Debian's): PNG through its
 * cairo driver
 * (pngcairo, anti-aliased), SVG through its own svg driver (text stays
 * text: titles and labels can be searched and read). PLplot is opened with
 * dlopen on the first plot, so programs that draw nothing never load it,
 * and without it weft_plot fails with a message naming the library;
 * WEFT_PLPLOT_LIB names another library file to open (testing, unusual
 * installs).
 *
 *   double rows[200000];                       // e.g. computed row means
 *   weft_plot_opts o;
 *   weft_plot_opts_init(&o);
 *   o.title = "(cos(big_ones) ** 2).mean(axis=1)";
 *   weft_errmsg err;
 *   if (weft_plot("rows.png", 200000, NULL, rows, &o, &err) != 0)
 *     fprintf(stderr, "%s\n", err.text);
 *
 * The picture: a box with ticks and numeric labels on both axes, the axis
 * labels and the title, one line through the points. The y range is the
 * data's, widened by 5% on each side (a constant series gets a band around
 * its value), the x range exactly the data's.
 *
 * Thread-safety: PLplot keeps global state, so plots are drawn one at a
 * time (a lock inside); any thread may call weft_plot. */
#ifndef WEFT_PLOT_H
#define WEFT_PLOT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct weft_plot_opts {
  const char *title;  /* NULL: none */
  const char *xlabel; /* NULL: none */
  const char *ylabel; /* NULL: none */
  const char *format; /* "png" or "svg"; NULL: the path's extension */
  int width, height;  /* pixels (PNG) or points (SVG); default 800 x 600 */
  bool grid;          /* grid lines at the major ticks */
} weft_plot_opts;

/* All fields to their defaults (NULL, 800 x 600, no grid). */
void weft_plot_opts_init(weft_plot_opts *opts);

/* Draws the n points (x[i], y[i]) joined by a line into path; x NULL means
 * 0, 1, ..., n - 1 (plt.plot(y)). opts NULL: defaults. Returns 0, or
 * WEFT_EINVAL (NULL path or y, n == 0, a NaN or infinite value — named with
 * its index —, a format other than png or svg, a size outside 16..16384),
 * WEFT_EIO (path cannot be written), WEFT_ENOTSUP (PLplot or its driver
 * missing: the message names the library or the package), with the
 * message in err->text when err is not NULL. */
int weft_plot(const char *path, size_t n, const double *x, const double *y,
              const weft_plot_opts *opts, weft_errmsg *err);

#ifdef __cplusplus
}
#endif
#endif
