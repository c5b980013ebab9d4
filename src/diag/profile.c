/* profile.c - the profile: a listener that adds up, per function, how many
 * tasks ran, how long they took (total, mean, max), the bytes of their
 * results and their share of the wall time, and how busy each worker was;
 * weft_profile_get hands the numbers to the program, weft_profile_print
 * prints the table (WEFT_PROFILE=1 prints it after each compute).
 *
 * Each worker adds into a table of its own (one per worker and compute), so
 * the workers share nothing; the tables are merged on the calling thread
 * when the compute ends.
 *
 * Under weft_map / weft_map_reduce the tasks are the map's own batch
 * functions (weft.map.*), which would hide whose work they do: between
 * MAP_BEGIN and MAP_END their rows are kept apart per map function and
 * named after it, "factorize [weft.map.local]". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag_impl.h"
#include "weft/error.h"

typedef struct fstat {
  const weft_fn_info *fn;
  const weft_fn_info *map; /* the map function a weft.map.* task served */
  char *name;              /* with map, "map [fn]" (the merged table only) */
  uint64_t calls, failed, total, max, bytes;
} fstat;

typedef struct ptab { /* open addressing on the function pointer */
  fstat *v;
  size_t cap, n;
  uint64_t tasks, busy;
  bool oom;
} __attribute__((aligned(64))) ptab;

typedef struct pcomp {
  const void *graph;
  const weft_fn_info *map_fn; /* set when the compute is a map's */
  int nlanes;
  ptab *lanes;
  uint64_t begin;
} pcomp;

struct weft_profile {
  weft_listener l;
  _Atomic(pcomp *) active;
  const weft_fn_info *map_fn; /* between MAP_BEGIN and MAP_END */
  ptab total;    /* merged over computes */
  ptab *workers; /* per worker + 1, merged */
  int nworkers;  /* entries of workers */
  int maxworkers;
  uint64_t wall, tasks;
  unsigned computes;
  bool oom;
};

static size_t tab_hash(const weft_fn_info *fn, const weft_fn_info *map) {
  return ((uintptr_t)fn >> 4) ^ ((uintptr_t)map >> 4) * 31;
}

static fstat *tab_get(ptab *t, const weft_fn_info *fn,
                      const weft_fn_info *map) {
  if (t->n * 2 >= t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 16;
    fstat *v = calloc(cap, sizeof *v);
    if (!v) {
      t->oom = true;
      return NULL;
    }
    for (size_t i = 0; i < t->cap; i++)
      if (t->v[i].fn) {
        size_t h = tab_hash(t->v[i].fn, t->v[i].map) & (cap - 1);
        while (v[h].fn)
          h = (h + 1) & (cap - 1);
        v[h] = t->v[i];
      }
    free(t->v);
    t->v = v;
    t->cap = cap;
  }
  size_t h = tab_hash(fn, map) & (t->cap - 1);
  while (t->v[h].fn && (t->v[h].fn != fn || t->v[h].map != map))
    h = (h + 1) & (t->cap - 1);
  if (!t->v[h].fn) {
    t->v[h].fn = fn;
    t->v[h].map = map;
    t->n++;
  }
  return &t->v[h];
}

static void tab_merge(ptab *dst, const ptab *src) {
  for (size_t i = 0; i < src->cap; i++) {
    const fstat *s = &src->v[i];
    fstat *d;
    if (!s->fn || !(d = tab_get(dst, s->fn, s->map)))
      continue;
    if (s->map && !d->name) {
      size_t len = strlen(s->map->name) + strlen(s->fn->name) + 4;
      if ((d->name = malloc(len)))
        snprintf(d->name, len, "%s [%s]", s->map->name, s->fn->name);
      else
        dst->oom = true;
    }
    d->calls += s->calls;
    d->failed += s->failed;
    d->total += s->total;
    d->bytes += s->bytes;
    if (s->max > d->max)
      d->max = s->max;
  }
  dst->tasks += src->tasks;
  dst->busy += src->busy;
  dst->oom |= src->oom;
}

static void comp_free(pcomp *c) {
  if (!c)
    return;
  for (int k = 0; k < c->nlanes; k++)
    free(c->lanes[k].v);
  free(c->lanes);
  free(c);
}

static void begin(weft_profile *p, const weft_event *ev) {
  if (atomic_load(&p->active))
    return;
  int workers = ev->workers > 0 ? ev->workers : 1;
  size_t lb = sizeof(ptab) * (size_t)(workers + 1);
  pcomp *c = calloc(1, sizeof *c);
  if (c && !(c->lanes = aligned_alloc(64, (lb + 63) / 64 * 64))) {
    free(c);
    c = NULL;
  }
  if (!c) {
    p->oom = true;
    return;
  }
  memset(c->lanes, 0, lb);
  c->graph = ev->graph;
  c->map_fn = p->map_fn;
  c->nlanes = workers + 1;
  c->begin = ev->time_ns;
  atomic_store_explicit(&p->active, c, memory_order_release);
}

static void end(weft_profile *p, pcomp *c, const weft_event *ev) {
  if (c->nlanes > p->nworkers) {
    ptab *v = realloc(p->workers, (size_t)c->nlanes * sizeof *v);
    if (v) {
      memset(v + p->nworkers, 0, (size_t)(c->nlanes - p->nworkers) * sizeof *v);
      p->workers = v;
      p->nworkers = c->nlanes;
    } else {
      p->oom = true;
    }
  }
  for (int k = 0; k < c->nlanes; k++) {
    tab_merge(&p->total, &c->lanes[k]);
    if (k < p->nworkers) {
      p->workers[k].tasks += c->lanes[k].tasks;
      p->workers[k].busy += c->lanes[k].busy;
    }
  }
  if (c->nlanes - 1 > p->maxworkers)
    p->maxworkers = c->nlanes - 1;
  p->wall += ev->time_ns - c->begin;
  p->computes++;
  atomic_store(&p->active, NULL);
  comp_free(c);
}

void weft__profile_event(const weft_event *ev, void *ud) {
  weft_profile *p = ud;
  if (ev->kind == WEFT_EV_COMPUTE_BEGIN) {
    begin(p, ev);
    return;
  }
  if (ev->kind == WEFT_EV_MAP_BEGIN || ev->kind == WEFT_EV_MAP_END) {
    p->map_fn = ev->kind == WEFT_EV_MAP_BEGIN ? ev->fn : NULL;
    return;
  }
  pcomp *c = atomic_load_explicit(&p->active, memory_order_acquire);
  if (!c || ev->graph != c->graph)
    return;
  if (ev->kind == WEFT_EV_COMPUTE_END) {
    end(p, c, ev);
    return;
  }
  if ((ev->kind != WEFT_EV_TASK_END && ev->kind != WEFT_EV_TASK_FAIL) ||
      ev->worker < -1 || ev->worker + 1 >= c->nlanes || !ev->fn)
    return;
  ptab *t = &c->lanes[ev->worker + 1];
  const weft_fn_info *map =
      c->map_fn && strncmp(ev->fn->name, "weft.map.", 9) == 0 ? c->map_fn
                                                              : NULL;
  fstat *s = tab_get(t, ev->fn, map);
  if (!s)
    return;
  uint64_t d = ev->start_ns && ev->time_ns > ev->start_ns
                   ? ev->time_ns - ev->start_ns
                   : 0;
  if (ev->kind == WEFT_EV_TASK_END) {
    s->calls++;
    s->bytes += ev->bytes;
  } else {
    s->failed++;
  }
  s->total += d;
  if (d > s->max)
    s->max = d;
  t->tasks++;
  t->busy += d;
}

int weft_profile_new(weft_profile **out) {
  if (!out)
    return WEFT_EINVAL;
  weft_profile *p = calloc(1, sizeof *p);
  if (!(*out = p))
    return WEFT_ENOMEM;
  p->l.fn = weft__profile_event;
  p->l.ud = p;
  atomic_init(&p->active, NULL);
  return 0;
}

const weft_listener *weft_profile_listener(weft_profile *p) {
  return p ? &p->l : NULL;
}

void weft_profile_free(weft_profile *p) {
  if (!p)
    return;
  comp_free(atomic_load(&p->active));
  for (size_t i = 0; i < p->total.cap; i++)
    free(p->total.v[i].name);
  free(p->total.v);
  free(p->workers);
  free(p);
}

static int by_total(const void *a, const void *b) {
  const weft_profile_row *x = a, *y = b;
  return x->total_s < y->total_s   ? 1
         : x->total_s > y->total_s ? -1
                                   : strcmp(x->fn, y->fn);
}

void weft_profile_report_clear(weft_profile_report *r) {
  if (!r)
    return;
  free(r->rows);
  free(r->per_worker);
  memset(r, 0, sizeof *r);
}

int weft_profile_get(const weft_profile *p, weft_profile_report *out) {
  if (!p || !out)
    return WEFT_EINVAL;
  memset(out, 0, sizeof *out);
  out->wall_s = (double)p->wall / 1e9;
  out->computes = p->computes;
  out->workers = p->maxworkers;
  size_t n = p->total.n;
  out->rows = calloc(n ? n : 1, sizeof *out->rows);
  out->per_worker =
      calloc(p->nworkers ? (size_t)p->nworkers : 1, sizeof *out->per_worker);
  if (!out->rows || !out->per_worker) {
    weft_profile_report_clear(out);
    return WEFT_ENOMEM;
  }
  double cap = out->wall_s * (p->maxworkers > 0 ? p->maxworkers : 1);
  for (size_t i = 0; i < p->total.cap; i++) {
    const fstat *s = &p->total.v[i];
    if (!s->fn)
      continue;
    weft_profile_row *r = &out->rows[out->nrows++];
    r->fn = s->name ? s->name : s->fn->name;
    r->calls = s->calls;
    r->failed = s->failed;
    r->total_s = (double)s->total / 1e9;
    r->mean_s =
        s->calls + s->failed ? r->total_s / (double)(s->calls + s->failed) : 0;
    r->max_s = (double)s->max / 1e9;
    r->bytes = s->bytes;
    r->share = cap > 0 ? r->total_s / cap : 0;
    out->tasks += s->calls + s->failed;
  }
  qsort(out->rows, out->nrows, sizeof *out->rows, by_total);
  for (int k = 0; k < p->nworkers; k++) {
    if (k == 0 && !p->workers[0].tasks)
      continue; /* no tasks ran in the program itself */
    weft_profile_worker *w = &out->per_worker[out->nworkers++];
    w->worker = k - 1;
    w->tasks = p->workers[k].tasks;
    w->busy_s = (double)p->workers[k].busy / 1e9;
    w->busy_share = out->wall_s > 0 ? w->busy_s / out->wall_s : 0;
  }
  return p->oom || p->total.oom ? WEFT_ENOMEM : 0;
}

static void human_bytes(char *b, size_t n, uint64_t x) {
  if (x < 10000)
    snprintf(b, n, "%llu B", (unsigned long long)x);
  else if (x < 10000000)
    snprintf(b, n, "%.1f kB", (double)x / 1e3);
  else if (x < 10000000000ull)
    snprintf(b, n, "%.1f MB", (double)x / 1e6);
  else
    snprintf(b, n, "%.1f GB", (double)x / 1e9);
}

static void human_time(char *b, size_t n, double s) {
  if (s < 1e-6)
    snprintf(b, n, "%.0f ns", s * 1e9);
  else if (s < 1e-3)
    snprintf(b, n, "%.1f us", s * 1e6);
  else if (s < 1)
    snprintf(b, n, "%.1f ms", s * 1e3);
  else
    snprintf(b, n, "%.2f s", s);
}

int weft_profile_print(const weft_profile *p, FILE *f) {
  if (!p || !f)
    return WEFT_EINVAL;
  weft_profile_report r;
  int rc = weft_profile_get(p, &r);
  if (rc == WEFT_ENOMEM && !r.rows)
    return rc;
  char tt[32], mt[32], xt[32], bt[32];
  human_time(tt, sizeof tt, r.wall_s);
  fprintf(f,
          "weft profile: %llu task%s in %u compute%s, %s wall, %d "
          "worker%s\n",
          (unsigned long long)r.tasks, r.tasks == 1 ? "" : "s", r.computes,
          r.computes == 1 ? "" : "s", tt, r.workers, r.workers == 1 ? "" : "s");
  int wid = 28; /* the function column: the longest name, up to 56 */
  for (size_t i = 0; i < r.nrows; i++) {
    size_t len = strlen(r.rows[i].fn);
    if (len > (size_t)wid)
      wid = len > 56 ? 56 : (int)len;
  }
  fprintf(f, "  %-*s %10s %10s %10s %10s %10s %6s\n", wid, "function",
          "calls", "total", "mean", "max", "bytes", "share");
  for (size_t i = 0; i < r.nrows; i++) {
    const weft_profile_row *w = &r.rows[i];
    human_time(tt, sizeof tt, w->total_s);
    human_time(mt, sizeof mt, w->mean_s);
    human_time(xt, sizeof xt, w->max_s);
    human_bytes(bt, sizeof bt, w->bytes);
    char calls[48];
    if (w->failed)
      snprintf(calls, sizeof calls, "%llu+%llu!", (unsigned long long)w->calls,
               (unsigned long long)w->failed);
    else
      snprintf(calls, sizeof calls, "%llu", (unsigned long long)w->calls);
    fprintf(f, "  %-*.*s %10s %10s %10s %10s %10s %5.1f%%\n", wid, wid, w->fn,
            calls, tt, mt, xt, bt, 100 * w->share);
  }
  for (size_t i = 0; i < r.nworkers; i++) {
    const weft_profile_worker *w = &r.per_worker[i];
    human_time(tt, sizeof tt, w->busy_s);
    if (w->worker < 0)
      fprintf(f, "  program: %llu tasks, busy %s (%.1f%%)\n",
              (unsigned long long)w->tasks, tt, 100 * w->busy_share);
    else
      fprintf(f, "  worker %d: %llu tasks, busy %s (%.1f%%)\n", w->worker,
              (unsigned long long)w->tasks, tt, 100 * w->busy_share);
  }
  weft_profile_report_clear(&r);
  return ferror(f) ? WEFT_EIO : rc;
}
