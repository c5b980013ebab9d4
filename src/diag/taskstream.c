/* taskstream.c - the task stream as a picture: an SVG written from a trace
 * (weft_trace_svg), one row per worker, a bar per task from its start to
 * its end coloured by function, a legend and a time axis, like Dask's task
 * stream, for people who read a report rather than open Perfetto.
 *
 * The picture has a fixed width, so a bar is at least a pixel wide: tasks
 * narrower than a pixel that follow a bar of their function on a row
 * closer than a pixel are drawn into it, which keeps the file small for a
 * million tasks (its title says how many tasks it stands for). Failed tasks are
 * outlined in red; retries, cancellations and worker deaths are marks above the
 * row. SVG is text, written here directly. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diag_impl.h"
#include "weft/error.h"

#define W_PLOT 1000.0 /* plot width in pixels */
#define X0 150.0      /* left margin: row labels */
#define ROW_H 24.0
#define TOP 40.0

typedef struct legend {
  const char *name;
  uint64_t tasks;
  double busy_ns;
} legend;

static void note_fn(legend **lg, size_t *n, size_t *cap, const char *name,
                    double ns) {
  for (size_t i = 0; i < *n; i++)
    if (strcmp((*lg)[i].name, name) == 0) {
      (*lg)[i].tasks++;
      (*lg)[i].busy_ns += ns;
      return;
    }
  if (*n == *cap) {
    size_t c = *cap ? 2 * *cap : 16;
    legend *v = realloc(*lg, c * sizeof *v);
    if (!v)
      return;
    *lg = v;
    *cap = c;
  }
  (*lg)[(*n)++] = (legend){name, 1, ns};
}

/* One bar of n tasks of function fn from x0 to x1 on the row at y. */
static void bar(FILE *f, double x0, double x1, double y, const char *fn,
                size_t n, bool failed) {
  double w = x1 - x0 < 0.5 ? 0.5 : x1 - x0;
  fprintf(f,
          "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.0f\" "
          "fill=\"%s\" stroke=\"%s\" stroke-width=\"%s\"><title>",
          x0, y + 4, w, ROW_H - 8, weft__fn_colour(fn),
          failed ? "#d62728" : "white", failed ? "2" : "0.5");
  weft__xml_str(f, fn);
  fprintf(f, ": %zu task%s%s</title></rect>\n", n, n == 1 ? "" : "s",
          failed ? " (failed)" : "");
}

static void nice_step(double span_s, double *step, const char **unit,
                      double *scale) {
  double raw = span_s / 8, p = 1e-9;
  while (p * 10 <= raw)
    p *= 10;
  *step = raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
  if (*step >= 1) {
    *unit = "s";
    *scale = 1;
  } else if (*step >= 1e-3) {
    *unit = "ms";
    *scale = 1e3;
  } else {
    *unit = "us";
    *scale = 1e6;
  }
}

int weft_trace_svg(const weft_trace *t, const char *path, char *errbuf,
                   size_t errsize) {
  if (errbuf && errsize)
    errbuf[0] = '\0';
  if (!t || !path || !*path) {
    if (errbuf && errsize)
      snprintf(errbuf, errsize, "weft_trace_svg: NULL %s",
               t ? "path" : "trace");
    return WEFT_EINVAL;
  }
  /* rows: (compute, lane) pairs that hold records */
  size_t nrows = 0;
  uint64_t tmax = t->t0;
  for (size_t c = 0; c < t->ncomps; c++)
    for (int k = 0; k < t->comps[c]->nlanes; k++) {
      const weft__lane *l = &t->comps[c]->lanes[k];
      nrows += l->n > 0 || l->ne > 0 || (k > 0 && t->comps[c]->stride == 1);
      weft__lane_it it;
      weft__trec rec;
      weft__lane_first(l, &it);
      while (weft__lane_next(t->comps[c], l, &it, &rec))
        if (rec.end > tmax)
          tmax = rec.end;
      for (size_t i = 0; i < l->ne; i++)
        if (l->e[i].r.end > tmax)
          tmax = l->e[i].r.end;
    }
  double span = (double)(tmax - t->t0);
  if (span <= 0)
    span = 1;
  double px = W_PLOT / span; /* pixels per ns */
  FILE *f = fopen(path, "w");
  if (!f) {
    if (errbuf && errsize)
      snprintf(errbuf, errsize, "cannot write the task stream to '%s': %s",
               path, strerror(errno));
    return WEFT_EIO;
  }
  legend *lg = NULL;
  size_t nlg = 0, lgcap = 0;
  double height = TOP + (double)nrows * ROW_H + 60;
  fprintf(f,
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
          "height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
          "<title>weft task stream</title>\n"
          "<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" "
          "fill=\"white\"/>\n"
          "<text x=\"%.0f\" y=\"18\" font-size=\"14\">Task stream: %zu "
          "compute%s, %.3f s</text>\n",
          X0 + W_PLOT + 220, height, X0, t->ncomps, t->ncomps == 1 ? "" : "s",
          span / 1e9);
  size_t row = 0;
  for (size_t c = 0; c < t->ncomps; c++) {
    const weft__tcomp *cp = t->comps[c];
    for (int k = 0; k < cp->nlanes; k++) {
      const weft__lane *l = &cp->lanes[k];
      if (!l->n && !l->ne && (k == 0 || cp->stride > 1))
        continue; /* (mpi: the lanes of threads that ran nothing) */
      double y = TOP + (double)row * ROW_H;
      fprintf(f, "<text x=\"4\" y=\"%.1f\">", y + 16);
      if (k == 0)
        fprintf(f, "c%u program", cp->id);
      else if (cp->stride > 1) { /* mpi: rank / thread */
        char name[64];
        weft__tcomp_lane_name(cp, k, name, sizeof name);
        fprintf(f, "c%u %s", cp->id, name);
      } else
        fprintf(f, "c%u worker %d", cp->id, k - 1);
      fprintf(f,
              "</text>\n<rect x=\"%.0f\" y=\"%.1f\" width=\"%.0f\" "
              "height=\"%.0f\" fill=\"#f4f4f4\"/>\n",
              X0, y + 2, W_PLOT, ROW_H - 4);
      /* bars: a lane's tasks are in time order (one worker) */
      double bx0 = -1, bx1 = -1;
      const char *bfn = NULL;
      size_t bn = 0;
      weft__lane_it it;
      weft__trec rec;
      weft__lane_first(l, &it);
      for (size_t i = 0; i <= l->n; i++) {
        const weft__trec *r =
            i < l->n && weft__lane_next(cp, l, &it, &rec) ? &rec : NULL;
        double x0 = r ? X0 + (double)(r->start - t->t0) * px : 0;
        double x1 = r ? X0 + (double)(r->end - t->t0) * px : 0;
        const char *fn = r ? (r->fn ? r->fn->name : "?") : NULL;
        if (r) {
          note_fn(&lg, &nlg, &lgcap, fn, (double)(r->end - r->start));
          if (bfn && fn == bfn && x0 - bx1 < 1.0 && x1 - x0 < 1.0) {
            bx1 = x1; /* merge into the open bar */
            bn++;
            continue;
          }
        }
        if (bfn)
          bar(f, bx0, bx1, y, bfn, bn, false);
        bfn = fn;
        bx0 = x0;
        bx1 = x1;
        bn = 1;
      }
      /* failures as bars outlined in red; the rest as marks above */
      for (size_t i = 0; i < l->ne; i++) {
        const weft__tevt *e = &l->e[i];
        const weft__trec *r = &e->r;
        if (r->kind == WEFT__TR_FAILED && r->start < r->end) {
          bar(f, X0 + (double)(r->start - t->t0) * px,
              X0 + (double)(r->end - t->t0) * px, y, r->fn ? r->fn->name : "?",
              1, true);
          continue;
        }
        const char *col = r->kind == WEFT__TR_WSTART   ? "#59a14f"
                          : r->kind == WEFT__TR_FAILED ? "#d62728"
                                                       : "#333333";
        double x = X0 + (double)(r->end - t->t0) * px;
        fprintf(f, "<path d=\"M%.1f %.1f l-4 -6 h8 z\" fill=\"%s\"><title>", x,
                y + 8, col);
        static const char *const what[] = {"task",           "failed",
                                           "retry",          "cancelled",
                                           "worker started", "worker lost"};
        fprintf(f, "%s", what[r->kind]);
        if (r->fn) {
          char key[600];
          weft__trec_key(cp, r, key, sizeof key);
          fputs(" ", f);
          weft__xml_str(f, key);
        }
        if (e->msg) {
          fputs(": ", f);
          weft__xml_str(f, e->msg);
        }
        fputs("</title></path>\n", f);
      }
      row++;
    }
  }
  /* time axis */
  double ya = TOP + (double)nrows * ROW_H + 10, step, scale;
  const char *unit;
  nice_step(span / 1e9, &step, &unit, &scale);
  fprintf(f,
          "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" "
          "stroke=\"black\"/>\n",
          X0, ya, X0 + W_PLOT, ya);
  for (double s = 0; s <= span / 1e9 + 1e-12; s += step) {
    double x = X0 + s * 1e9 * px;
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"black\"/><text x=\"%.1f\" y=\"%.1f\" "
            "text-anchor=\"middle\">%g %s</text>\n",
            x, ya, x, ya + 5, x, ya + 20, s * scale, unit);
  }
  /* legend: functions by busy time */
  for (size_t i = 0; i < nlg; i++)
    for (size_t j = i + 1; j < nlg; j++)
      if (lg[j].busy_ns > lg[i].busy_ns) {
        legend x = lg[i];
        lg[i] = lg[j];
        lg[j] = x;
      }
  for (size_t i = 0; i < nlg && i < 30; i++) {
    double y = TOP + (double)i * 18;
    fprintf(f,
            "<rect x=\"%.0f\" y=\"%.1f\" width=\"12\" height=\"12\" "
            "fill=\"%s\"/><text x=\"%.0f\" y=\"%.1f\">",
            X0 + W_PLOT + 20, y, weft__fn_colour(lg[i].name), X0 + W_PLOT + 38,
            y + 11);
    weft__xml_str(f, lg[i].name);
    fprintf(f, " (%llu)</text>\n", (unsigned long long)lg[i].tasks);
  }
  fputs("</svg>\n", f);
  free(lg);
  int bad = ferror(f), err = errno;
  if (fclose(f) || bad) {
    if (errbuf && errsize)
      snprintf(errbuf, errsize, "cannot write the task stream to '%s': %s",
               path, strerror(bad ? err : errno));
    return WEFT_EIO;
  }
  return 0;
}
