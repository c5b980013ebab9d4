/* progress.c - the progress bar (Dask's ProgressBar, joblib's verbose): a
 * listener that counts finished tasks (or, for weft_map, items) and a
 * thread of its own that draws them a few times a second.
 *
 * Workers only count: each adds to a counter of its own (one cache line
 * per worker), so they never contend; the drawing thread adds them up. The
 * thread starts at the outermost COMPUTE_BEGIN or MAP_BEGIN and is stopped
 * (and joined) at the matching end, which then writes the final line. On a
 * terminal the bar is redrawn in place ("\r", erase to the end of the line)
 * every interval; elsewhere a plain line is written every interval (5 s by
 * default), so a log gets a few lines rather than thousands. Writes go
 * straight to the descriptor, never through stdio buffers the program
 * uses. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diag_impl.h"
#include "weft/error.h"

typedef struct pcount {
  _Atomic uint64_t done, items, failed;
} __attribute__((aligned(64))) pcount;

struct weft_progress {
  weft_listener l;
  int fd, tty, width;
  double interval, min_s;
  bool drawn;         /* something was drawn for this compute */
  pthread_mutex_t mu; /* the drawing thread's start and stop */
  pthread_cond_t cv;
  pthread_t th;
  bool running, stop;
  int depth;         /* begin events seen minus ends (caller thread) */
  const void *graph; /* the outermost compute's graph */
  bool items_mode;   /* a weft_map: count items */
  uint64_t total;
  uint64_t t0;
  int nlanes;
  pcount *lanes; /* per worker + 1 */
  _Atomic uint64_t cancelled;
  int status;
  bool ended;
};

void weft_progress_opts_init(weft_progress_opts *opts) {
  if (!opts)
    return;
  memset(opts, 0, sizeof *opts);
  opts->fd = 2;
  opts->tty = -1;
}

static void sums(weft_progress *p, uint64_t *done, uint64_t *failed) {
  uint64_t d = 0, f = 0;
  for (int k = 0; k < p->nlanes; k++) {
    d += atomic_load_explicit(p->items_mode ? &p->lanes[k].items
                                            : &p->lanes[k].done,
                              memory_order_relaxed);
    f += atomic_load_explicit(&p->lanes[k].failed, memory_order_relaxed);
  }
  *done = d;
  *failed = f;
}

static void thousands(char *b, size_t n, uint64_t x) {
  char t[32];
  int len = snprintf(t, sizeof t, "%llu", (unsigned long long)x);
  size_t o = 0;
  for (int i = 0; i < len && o + 2 < n; i++) {
    if (i && (len - i) % 3 == 0)
      b[o++] = ',';
    b[o++] = t[i];
  }
  b[o] = '\0';
}

static void fmt_secs(char *b, size_t n, double s) {
  if (s < 60)
    snprintf(b, n, "%.1f s", s);
  else if (s < 3600)
    snprintf(b, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
  else
    snprintf(b, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

static void write_all(int fd, const char *s, size_t n) {
  while (n) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    s += w;
    n -= (size_t)w;
  }
}

/* One line of the bar; final: the last one. */
static void draw(weft_progress *p, bool final) {
  if (!p->drawn && (double)(weft_now_ns() - p->t0) / 1e9 < p->min_s)
    return; /* a short compute: nothing at all */
  p->drawn = true;
  uint64_t done, failed;
  sums(p, &done, &failed);
  uint64_t total = p->total;
  if (done > total)
    total = done;
  double el = (double)(weft_now_ns() - p->t0) / 1e9;
  double frac = total ? (double)done / (double)total : (final ? 1.0 : 0.0);
  char bar[256], a[32], b[32], e[32], left[48] = "", extra[96] = "";
  int w = p->width;
  int fill = (int)(frac * w + 1e-9);
  for (int k = 0; k < w; k++)
    bar[k] = k < fill ? '#' : ' ';
  bar[w] = '\0';
  thousands(a, sizeof a, done);
  thousands(b, sizeof b, total);
  fmt_secs(e, sizeof e, el);
  if (!final && done > 0 && done < total) {
    char r[32];
    fmt_secs(r, sizeof r, el * (double)(total - done) / (double)done);
    snprintf(left, sizeof left, " | ~%s left", r);
  }
  uint64_t canc = atomic_load(&p->cancelled);
  if (failed || canc)
    snprintf(extra, sizeof extra, " | %llu failed", (unsigned long long)failed);
  if (canc)
    snprintf(extra + strlen(extra), sizeof extra - strlen(extra),
             ", %llu cancelled", (unsigned long long)canc);
  char line[512];
  int n = snprintf(line, sizeof line, "%s[%s] %3d%% | %s/%s %s | %s%s%s%s",
                   p->tty ? "\r" : "", bar, (int)(frac * 100 + 1e-9), a, b,
                   p->items_mode ? "items" : "tasks", e, left, extra,
                   final ? (p->status ? " | failed" : " | done") : "");
  if (n < 0)
    return;
  if ((size_t)n >= sizeof line)
    n = sizeof line - 1;
  write_all(p->fd, line, (size_t)n);
  if (p->tty && !final)
    write_all(p->fd, "\033[K", 3);
  else if (p->tty)
    write_all(p->fd, "\033[K\n", 4);
  else
    write_all(p->fd, "\n", 1);
}

static void *draw_main(void *arg) {
  weft_progress *p = arg;
  pthread_mutex_lock(&p->mu);
  while (!p->stop) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double s = (double)ts.tv_nsec / 1e9 + p->interval;
    ts.tv_sec += (time_t)s;
    ts.tv_nsec = (long)((s - (double)(time_t)s) * 1e9);
    while (!p->stop &&
           pthread_cond_timedwait(&p->cv, &p->mu, &ts) != ETIMEDOUT) {
    }
    if (p->stop)
      break;
    pthread_mutex_unlock(&p->mu);
    draw(p, false);
    pthread_mutex_lock(&p->mu);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

static void start(weft_progress *p, const weft_event *ev, bool items) {
  int workers = ev->workers > 0 ? ev->workers : 64; /* map: not known yet */
  p->nlanes = workers + 1;
  size_t lb = sizeof(pcount) * (size_t)p->nlanes;
  free(p->lanes);
  p->lanes = aligned_alloc(64, (lb + 63) / 64 * 64);
  if (!p->lanes) {
    p->nlanes = 0;
    return;
  }
  memset(p->lanes, 0, lb);
  p->items_mode = items;
  p->total = items ? ev->items : ev->ntasks;
  p->graph = ev->graph;
  p->t0 = ev->time_ns;
  p->status = 0;
  atomic_store(&p->cancelled, 0);
  p->stop = false;
  p->drawn = false;
  if (p->tty)
    draw(p, false); /* at once: the first redraw comes after an interval */
  p->running = pthread_create(&p->th, NULL, draw_main, p) == 0;
}

static void finish(weft_progress *p) {
  if (p->running) {
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->th, NULL);
    p->running = false;
  }
  if (p->nlanes)
    draw(p, true);
}

void weft__progress_event(const weft_event *ev, void *ud) {
  weft_progress *p = ud;
  switch (ev->kind) {
  case WEFT_EV_MAP_BEGIN:
  case WEFT_EV_COMPUTE_BEGIN:
    if (p->depth++ == 0)
      start(p, ev, ev->kind == WEFT_EV_MAP_BEGIN);
    else if (p->items_mode && p->depth == 2)
      p->graph = ev->graph; /* the map's compute: its events count */
    return;
  case WEFT_EV_MAP_END:
  case WEFT_EV_COMPUTE_END:
    if (p->depth > 0 && --p->depth == 0) {
      p->status = ev->status;
      finish(p);
    }
    return;
  default:
    break;
  }
  if (!p->nlanes || ev->worker < -1 || ev->worker + 1 >= p->nlanes ||
      (ev->graph && p->graph && ev->graph != p->graph))
    return;
  pcount *c = &p->lanes[ev->worker + 1];
  /* one writer per lane: a relaxed load and store, no read-modify-write */
  switch (ev->kind) {
  case WEFT_EV_TASK_END:
    atomic_store_explicit(
        &c->done, atomic_load_explicit(&c->done, memory_order_relaxed) + 1,
        memory_order_relaxed);
    return;
  case WEFT_EV_MAP_ITEMS:
    atomic_store_explicit(
        &c->items,
        atomic_load_explicit(&c->items, memory_order_relaxed) + ev->items,
        memory_order_relaxed);
    return;
  case WEFT_EV_TASK_FAIL:
    atomic_store_explicit(
        &c->failed, atomic_load_explicit(&c->failed, memory_order_relaxed) + 1,
        memory_order_relaxed);
    return;
  case WEFT_EV_TASK_CANCEL:
    atomic_fetch_add(&p->cancelled, 1); /* after the run: no contention */
    return;
  default:
    return;
  }
}

int weft_progress_new(const weft_progress_opts *opts, weft_progress **out) {
  if (!out)
    return WEFT_EINVAL;
  *out = NULL;
  weft_progress_opts def;
  if (!opts) {
    weft_progress_opts_init(&def);
    opts = &def;
  }
  if (opts->fd < 0 || opts->width < 0 || opts->width > 200 ||
      opts->interval_s < 0 || opts->interval_s > 3600 || opts->min_s < 0)
    return WEFT_EINVAL;
  weft_progress *p = calloc(1, sizeof *p);
  if (!p)
    return WEFT_ENOMEM;
  p->fd = opts->fd;
  p->tty = opts->tty < 0 ? isatty(opts->fd) : opts->tty != 0;
  p->width = opts->width ? opts->width : 30;
  p->interval = opts->interval_s > 0 ? opts->interval_s : p->tty ? 0.1 : 5.0;
  p->min_s = opts->min_s;
  pthread_mutex_init(&p->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&p->cv, &ca);
  pthread_condattr_destroy(&ca);
  p->l.fn = weft__progress_event;
  p->l.ud = p;
  atomic_init(&p->cancelled, 0);
  *out = p;
  return 0;
}

const weft_listener *weft_progress_listener(weft_progress *p) {
  return p ? &p->l : NULL;
}

void weft_progress_free(weft_progress *p) {
  if (!p)
    return;
  if (p->running)
    finish(p);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p->lanes);
  free(p);
}
