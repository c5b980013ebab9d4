/* trace.c - the trace: a listener that records every task of a compute
 * (worker, function, start, end, result bytes) and what happened to the
 * workers, and writes it as Chrome trace event JSON, the format Perfetto
 * and chrome://tracing open (docs/trace.md says which events it holds).
 *
 * Recording is the hot part: each worker appends to a lane of its own (one
 * per worker and compute, lane 0 for the program's own tasks under procs),
 * so workers never share a lock or a cache line; a task is one record of
 * plain numbers. Keys are copied only for keyed nodes, once the compute
 * ends (automatic keys are "function-node" and are remade when written).
 * The JSON is written by a streaming writer: strings escaped, invalid UTF-8
 * replaced; the tests read every file back with a JSON parser. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../core/graph_impl.h"
#include "../sched/mpi/hook.h"
#include "diag_impl.h"
#include "weft/error.h"

/* ---- colours and escaping (shared with taskstream.c and dot.c) ---- */

const char *weft__fn_colour(const char *name) {
  static const char *const palette[] = {
      "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
      "#b07aa1", "#ff9da7", "#9c755f", "#86bcb6", "#d37295", "#8cd17d"};
  uint32_t h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)(name ? name : ""); *p;
       p++)
    h = (h ^ *p) * 16777619u;
  return palette[h % (sizeof palette / sizeof palette[0])];
}

/* Length of the valid UTF-8 sequence at p (0: invalid). */
static size_t utf8_len(const unsigned char *p) {
  if (p[0] < 0x80)
    return 1;
  size_t n = p[0] >= 0xf0 && p[0] <= 0xf4  ? 4
             : p[0] >= 0xe0                ? 3
             : p[0] >= 0xc2 && p[0] < 0xe0 ? 2
                                           : 0;
  for (size_t k = 1; k < n; k++)
    if ((p[k] & 0xc0) != 0x80)
      return 0;
  return n;
}

void weft__json_str(FILE *f, const char *s) {
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  fputc('"', f);
  while (*p) {
    size_t n = utf8_len(p);
    if (!n) {
      fputs("\\ufffd", f);
      p++;
    } else if (n > 1) {
      fwrite(p, 1, n, f);
      p += n;
    } else {
      if (*p == '"' || *p == '\\')
        fprintf(f, "\\%c", *p);
      else if (*p < 0x20)
        fprintf(f, "\\u%04x", *p);
      else
        fputc(*p, f);
      p++;
    }
  }
  fputc('"', f);
}

void weft__xml_str(FILE *f, const char *s) {
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  while (*p) {
    size_t n = utf8_len(p);
    if (!n || (n == 1 && *p < 0x20 && *p != '\t' && *p != '\n')) {
      fputs(n ? " " : "\xef\xbf\xbd", f);
      p++;
    } else if (n > 1) {
      fwrite(p, 1, n, f);
      p += n;
    } else {
      switch (*p) {
      case '<':
        fputs("&lt;", f);
        break;
      case '>':
        fputs("&gt;", f);
        break;
      case '&':
        fputs("&amp;", f);
        break;
      case '"':
        fputs("&quot;", f);
        break;
      default:
        fputc(*p, f);
      }
      p++;
    }
  }
}

static const char *key_of(const weft__tcomp *c, uint32_t task) {
  size_t lo = 0, hi = c->nkeys;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (c->keys[mid].task < task)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < c->nkeys && c->keys[lo].task == task ? c->keys[lo].key : NULL;
}

void weft__trec_key(const weft__tcomp *c, const weft__trec *r, char *buf,
                    size_t size) {
  const char *k = key_of(c, r->task);
  if (k)
    snprintf(buf, size, "%s", k);
  else
    snprintf(buf, size, "%s-%u", r->fn ? r->fn->name : "?", r->task);
}

/* ---- recording ---- */

/* Chunks of 1 MiB, by mmap (pre-faulted); those of freed traces are kept
 * (up to 64 MiB, for the whole process) and reused by the next lanes. */
#define CHUNK_BYTES ((size_t)1 << 20)
#define CHUNK_SLOTS ((CHUNK_BYTES - sizeof(weft__tchunk)) / sizeof(weft__tslot))
#define CACHE_MAX 64

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static weft__tchunk *cache;
static int ncache;

static weft__tchunk *chunk_new(void) {
  pthread_mutex_lock(&cache_mu);
  weft__tchunk *c = cache;
  if (c) {
    cache = c->next;
    ncache--;
  }
  pthread_mutex_unlock(&cache_mu);
  if (!c) {
    void *p = mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED)
      return NULL;
    c = p;
  }
  c->next = NULL;
  c->n = 0;
  return c;
}

static void chunks_free(weft__tchunk *c) {
  while (c) {
    weft__tchunk *next = c->next;
    pthread_mutex_lock(&cache_mu);
    bool keep = ncache < CACHE_MAX;
    if (keep) {
      c->next = cache;
      cache = c;
      ncache++;
    }
    pthread_mutex_unlock(&cache_mu);
    if (!keep)
      munmap(c, CHUNK_BYTES);
    c = next;
  }
}

static void lane_seal(weft__lane *l) {
  if (l->tail)
    l->tail->n = (size_t)(l->cur - l->tail->s);
}

bool weft__lane_grow(weft__lane *l) {
  if (l->oom)
    return false;
  weft__tchunk *c = chunk_new();
  if (!c) {
    l->oom = true;
    return false;
  }
  lane_seal(l);
  if (l->tail)
    l->tail->next = c;
  else
    l->head = c;
  l->tail = c;
  l->cur = c->s;
  l->end = c->s + CHUNK_SLOTS;
  return true;
}

void weft__lane_big(weft__lane *l, uint64_t bytes) {
  if (l->nbig == l->bigcap) {
    size_t cap = l->bigcap ? 2 * l->bigcap : 16;
    uint64_t *v = realloc(l->big, cap * sizeof *v);
    if (!v) {
      l->oom = true;
      return;
    }
    l->big = v;
    l->bigcap = cap;
  }
  l->big[l->nbig++] = bytes;
}

void weft__lane_first(const weft__lane *l, weft__lane_it *it) {
  memset(it, 0, sizeof *it);
  it->ch = l->head;
}

static size_t chunk_used(const weft__lane *l, const weft__tchunk *ch) {
  return ch == l->tail ? (size_t)(l->cur - l->tail->s) : ch->n;
}

/* From slot i of ch on (an untimed task): the group's size and end, the
 * time of its first timed slot (0 when it was never closed). */
static void group_scan(const weft__lane *l, const weft__tchunk *ch, size_t i,
                       uint32_t *n, uint64_t *end) {
  *n = 0;
  *end = 0;
  for (; ch; ch = ch->next, i = 0)
    for (size_t m = chunk_used(l, ch); i < m; i++) {
      if (ch->s[i].task == WEFT__TSLOT_MARK)
        return;
      ++*n;
      if (ch->s[i].t) {
        *end = ch->s[i].t;
        return;
      }
    }
}

bool weft__lane_next(const weft__tcomp *c, const weft__lane *l,
                     weft__lane_it *it, weft__trec *r) {
  for (;;) {
    if (!it->ch)
      return false;
    if (it->i >= chunk_used(l, it->ch)) {
      it->ch = it->ch->next;
      it->i = 0;
      continue;
    }
    const weft__tslot *s = &it->ch->s[it->i];
    if (s->task == WEFT__TSLOT_MARK) {
      it->prev = s->t;
      it->i++;
      continue;
    }
    uint64_t start = it->prev, end = s->t;
    r->group = 1;
    if (it->gn || !s->t) { /* a task of a group */
      if (!it->gn) {
        group_scan(l, it->ch, it->i, &it->gn, &it->g1);
        it->g0 = it->prev;
        it->gk = 0;
        if (it->g1 < it->g0)
          it->g1 = it->g0; /* never closed: no duration */
      }
      uint64_t span = it->g1 - it->g0;
      start = it->g0 + span * it->gk / it->gn;
      end = it->g0 + span * (it->gk + 1) / it->gn;
      r->group = it->gn;
      if (++it->gk == it->gn || s->t) {
        it->gn = 0;
        it->prev = it->g1;
      }
    } else {
      it->prev = s->t;
    }
    it->i++;
    r->fn = s->fn;
    r->start = weft__clock_ns(&c->clk, start);
    r->end = weft__clock_ns(&c->clk, end);
    r->bytes = s->bytes;
    if (s->bytes == WEFT__TSLOT_BIG)
      r->bytes = it->big < l->nbig ? l->big[it->big++] : 0;
    r->task = s->task;
    r->kind = WEFT__TR_TASK;
    return true;
  }
}

static weft__tevt *lane_event(weft__lane *l) {
  if (l->ne == l->ecap) {
    size_t cap = l->ecap ? 2 * l->ecap : 16;
    weft__tevt *v = realloc(l->e, cap * sizeof *v);
    if (!v) {
      l->oom = true;
      return NULL;
    }
    l->e = v;
    l->ecap = cap;
  }
  weft__tevt *e = &l->e[l->ne++];
  memset(e, 0, sizeof *e);
  return e;
}

static void comp_free(weft__tcomp *c) {
  if (!c)
    return;
  for (int k = 0; k < c->nlanes; k++) {
    for (size_t i = 0; i < c->lanes[k].ne; i++)
      free(c->lanes[k].e[i].msg);
    chunks_free(c->lanes[k].head);
    free(c->lanes[k].big);
    free(c->lanes[k].e);
  }
  for (size_t i = 0; i < c->nkeys; i++)
    free(c->keys[i].key);
  free(c->keys);
  free(c->lanes);
  free(c->msg);
  free(c);
}

static void begin(weft_trace *t, const weft_event *ev) {
  if (atomic_load(&t->active))
    return; /* another compute is being recorded: this one is not */
  int workers = ev->workers > 0 ? ev->workers : 1;
  /* mpi: a lane per rank and compute thread (events name both) */
  bool mpi = ev->scheduler && strcmp(ev->scheduler, "mpi") == 0;
  int stride = mpi ? weft__mpi_threads() : 1;
  size_t lb = sizeof(weft__lane) * ((size_t)workers * stride + 1);
  weft__tcomp *c = calloc(1, sizeof *c);
  if (c)
    c->lanes = aligned_alloc(64, (lb + 63) / 64 * 64);
  if (c && c->lanes && t->ncomps == t->ccap) {
    size_t cap = t->ccap ? 2 * t->ccap : 8;
    weft__tcomp **v = realloc(t->comps, cap * sizeof *v);
    if (v) {
      t->comps = v;
      t->ccap = cap;
    }
  }
  if (!c || !c->lanes || t->ncomps == t->ccap) {
    t->oom = true;
    if (c)
      free(c->lanes);
    free(c);
    return;
  }
  memset(c->lanes, 0, lb);
  c->graph = ev->graph;
  c->workers = workers;
  c->stride = stride;
  c->nlanes = workers * stride + 1;
  c->begin = ev->time_ns;
  weft__clock_fallback(&c->clk); /* times in ns, unless made direct */
  snprintf(c->sched, sizeof c->sched, "%s", ev->scheduler ? ev->scheduler : "");
  if (!t->ncomps)
    t->t0 = ev->time_ns;
  c->id = (unsigned)t->ncomps + 1;
  t->comps[t->ncomps++] = c;
  atomic_store_explicit(&t->active, c, memory_order_release);
}

static int by_task(const void *a, const void *b) {
  const weft__tkey *x = a, *y = b;
  return x->task < y->task ? -1 : x->task > y->task;
}

/* The keys of keyed nodes, copied while the graph is alive (automatic keys
 * are remade from function and node when written). */
static void end(weft_trace *t, weft__tcomp *c, const weft_event *ev) {
  const weft_graph *g = ev->graph;
  if (g->keys.n && (c->keys = calloc(g->keys.n, sizeof *c->keys))) {
    for (size_t i = 0; i < g->keys.n; i++) {
      const weft__key_entry *e = &g->keys.ents[i];
      if (!e->key || e->idx >= g->nnodes ||
          !(c->keys[c->nkeys].key = strdup(e->key)))
        continue;
      c->keys[c->nkeys++].task = e->idx;
    }
    qsort(c->keys, c->nkeys, sizeof *c->keys, by_task);
  } else if (g->keys.n) {
    t->oom = true;
  }
  for (int k = 0; k < c->nlanes; k++)
    lane_seal(&c->lanes[k]);
  c->end = ev->time_ns;
  c->status = ev->status;
  c->msg = ev->message ? strdup(ev->message) : NULL;
  c->ended = true;
  atomic_store(&t->active, NULL);
}

void weft__trace_event(const weft_event *ev, void *ud) {
  weft_trace *t = ud;
  if (ev->kind == WEFT_EV_COMPUTE_BEGIN) {
    begin(t, ev);
    return;
  }
  weft__tcomp *c = atomic_load_explicit(&t->active, memory_order_acquire);
  if (!c || ev->graph != c->graph)
    return;
  if (ev->kind == WEFT_EV_COMPUTE_END) {
    end(t, c, ev);
    return;
  }
  if (ev->worker < -1 || ev->worker >= c->workers)
    return;
  int th = ev->thread > 0 && ev->thread < c->stride ? ev->thread : 0;
  weft__lane *l =
      &c->lanes[ev->worker < 0 ? 0 : 1 + ev->worker * c->stride + th];
  if (__builtin_expect(ev->kind == WEFT_EV_TASK_END, 1)) {
    if (!c->direct) /* (direct: the scheduler wrote it already) */
      weft__lane_put(l, ev->fn, ev->task, ev->start_ns, ev->time_ns, ev->bytes);
    return;
  }
  weft__tevt *e;
  switch (ev->kind) {
  case WEFT_EV_TASK_FAIL:
  case WEFT_EV_TASK_RETRY:
  case WEFT_EV_TASK_CANCEL:
  case WEFT_EV_WORKER_START:
  case WEFT_EV_WORKER_LOST:
    if (!(e = lane_event(l)))
      return;
    e->r.kind = ev->kind == WEFT_EV_TASK_FAIL      ? WEFT__TR_FAILED
                : ev->kind == WEFT_EV_TASK_RETRY   ? WEFT__TR_RETRY
                : ev->kind == WEFT_EV_TASK_CANCEL  ? WEFT__TR_CANCEL
                : ev->kind == WEFT_EV_WORKER_START ? WEFT__TR_WSTART
                                                   : WEFT__TR_WLOST;
    e->r.task = ev->task;
    e->r.fn = ev->fn;
    e->r.end = ev->time_ns;
    e->r.start = ev->start_ns ? ev->start_ns : ev->time_ns;
    e->signal = ev->signal;
    e->pid = ev->pid;
    e->msg = ev->message ? strdup(ev->message) : NULL;
    return;
  default:
    return;
  }
}

weft__lane *weft__trace_sink(const weft_listener *chain, const void *graph,
                             const weft__clock *clk, int *nlanes,
                             const weft_listener **which) {
  for (const weft_listener *l = chain; l; l = l->next) {
    if (l->fn != weft__trace_event)
      continue;
    weft_trace *t = l->ud;
    weft__tcomp *c = atomic_load_explicit(&t->active, memory_order_acquire);
    if (!c || c->graph != graph || c->direct)
      continue;
    for (int k = 0; k < c->nlanes; k++)
      if (c->lanes[k].n || c->lanes[k].ne)
        return NULL; /* (cannot happen: called before any task ran) */
    c->direct = true;
    c->clk = *clk;
    *nlanes = c->nlanes;
    *which = l;
    return c->lanes;
  }
  return NULL;
}

int weft_trace_new(weft_trace **out) {
  if (!out)
    return WEFT_EINVAL;
  weft_trace *t = calloc(1, sizeof *t);
  if (!(*out = t))
    return WEFT_ENOMEM;
  t->l.fn = weft__trace_event;
  t->l.ud = t;
  atomic_init(&t->active, NULL);
  return 0;
}

const weft_listener *weft_trace_listener(weft_trace *t) {
  return t ? &t->l : NULL;
}

void weft_trace_free(weft_trace *t) {
  if (!t)
    return;
  for (size_t i = 0; i < t->ncomps; i++)
    comp_free(t->comps[i]);
  free(t->comps);
  free(t);
}

/* ---- reading ---- */

static int by_start(const void *a, const void *b) {
  const weft_trace_task *x = a, *y = b;
  if (x->compute != y->compute)
    return x->compute < y->compute ? -1 : 1;
  if (x->worker != y->worker)
    return x->worker < y->worker ? -1 : 1;
  return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

int weft_trace_tasks(const weft_trace *t, weft_trace_task **tasks, size_t *n) {
  if (!t || !tasks || !n)
    return WEFT_EINVAL;
  *tasks = NULL;
  *n = 0;
  size_t cnt = 0;
  for (size_t c = 0; c < t->ncomps; c++)
    for (int k = 0; k < t->comps[c]->nlanes; k++) {
      cnt += t->comps[c]->lanes[k].n;
      for (size_t i = 0; i < t->comps[c]->lanes[k].ne; i++)
        cnt += t->comps[c]->lanes[k].e[i].r.kind == WEFT__TR_FAILED;
    }
  if (!cnt)
    return 0;
  weft_trace_task *v = malloc(cnt * sizeof *v);
  if (!v)
    return WEFT_ENOMEM;
  size_t m = 0;
  for (size_t c = 0; c < t->ncomps; c++) {
    weft__tcomp *cp = t->comps[c];
    for (int k = 0; k < cp->nlanes; k++) {
      const weft__lane *l = &cp->lanes[k];
      weft__lane_it it;
      weft__trec rec;
      weft__lane_first(l, &it);
      for (size_t i = 0; i < l->n + l->ne; i++) {
        const weft__trec *r = &rec;
        if (i < l->n) {
          if (!weft__lane_next(cp, l, &it, &rec))
            break;
        } else {
          r = &l->e[i - l->n].r;
        }
        if (r->kind > WEFT__TR_FAILED)
          continue;
        weft_trace_task *x = &v[m++];
        x->compute = cp->id;
        x->worker = weft__tcomp_worker(cp, k);
        x->task = r->task;
        x->fn = r->fn ? r->fn->name : "?";
        x->key = key_of(cp, r->task); /* NULL: automatic */
        x->start_ns = r->start - t->t0;
        x->end_ns = r->end - t->t0;
        x->bytes = r->bytes;
        x->failed = r->kind == WEFT__TR_FAILED;
        x->group = r->kind == WEFT__TR_TASK && r->group > 1 ? r->group : 1;
      }
    }
  }
  qsort(v, m, sizeof *v, by_start);
  *tasks = v;
  *n = m;
  return 0;
}

/* ---- writing ---- */

static double us(const weft_trace *t, uint64_t ns) {
  return ns >= t->t0 ? (double)(ns - t->t0) / 1000.0 : 0.0;
}

static void meta(FILE *f, bool *first, unsigned pid, int tid, const char *what,
                 const char *name, int sort) {
  fprintf(f,
          "%s\n{\"name\":\"%s\",\"ph\":\"M\",\"pid\":%u,\"tid\":%d,"
          "\"args\":{\"%s\":",
          *first ? "" : ",", what, pid, tid, sort >= 0 ? "sort_index" : "name");
  if (sort >= 0)
    fprintf(f, "%d}}", sort);
  else {
    weft__json_str(f, name);
    fputs("}}", f);
  }
  *first = false;
}

static void write_rec(FILE *f, const weft_trace *t, const weft__tcomp *c,
                      int tid, const weft__trec *r, const weft__tevt *e) {
  char key[600];
  static const char *const names[] = {"task",   "failed",       "retry",
                                      "cancel", "worker-start", "worker-lost"};
  if (r->kind == WEFT__TR_TASK ||
      (r->kind == WEFT__TR_FAILED && r->start < r->end)) {
    fprintf(f, ",\n{\"name\":");
    weft__json_str(f, r->fn ? r->fn->name : "?");
    fprintf(f,
            ",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":%u,\"tid\":%d,"
            "\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"key\":",
            r->kind == WEFT__TR_TASK ? "task" : "task,failed", c->id, tid,
            us(t, r->start), (double)(r->end - r->start) / 1000.0);
  } else {
    fprintf(f,
            ",\n{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"i\",\"s\":\"t\","
            "\"pid\":%u,\"tid\":%d,\"ts\":%.3f,\"args\":{\"key\":",
            names[r->kind], names[r->kind], c->id, tid, us(t, r->end));
  }
  if (r->fn) {
    weft__trec_key(c, r, key, sizeof key);
    weft__json_str(f, key);
    fprintf(f, ",\"function\":");
    weft__json_str(f, r->fn->name);
    fprintf(f, ",\"node\":%u", r->task);
  } else {
    fputs("null", f);
  }
  if (r->kind == WEFT__TR_TASK)
    fprintf(f, ",\"bytes\":%llu", (unsigned long long)r->bytes);
  if (r->kind == WEFT__TR_TASK && r->group > 1)
    fprintf(f, ",\"timed_with\":%u", r->group);
  if (e && (r->kind == WEFT__TR_WSTART || r->kind == WEFT__TR_WLOST))
    fprintf(f, ",\"pid\":%d", e->pid);
  if (e && r->kind == WEFT__TR_WLOST)
    fprintf(f, ",\"signal\":%d", e->signal);
  if (e && e->msg) {
    fputs(",\"message\":", f);
    weft__json_str(f, e->msg);
  }
  fputs("}}", f);
}

void weft__tcomp_lane_name(const weft__tcomp *c, int k, char *buf, size_t n) {
  bool mpi = strcmp(c->sched, "mpi") == 0;
  int w = weft__tcomp_worker(c, k);
  if (k == 0)
    snprintf(buf, n, "%s",
             mpi ? "rank 0 (the program)" : "program (tasks run in the caller)");
  else if (mpi && c->stride > 1)
    snprintf(buf, n, "rank %d / thread %d", w, (k - 1) % c->stride);
  else
    snprintf(buf, n, mpi ? "rank %d" : "worker %d", w);
}

static int io_fail(char *errbuf, size_t errsize, const char *what,
                   const char *path, int err) {
  if (errbuf && errsize)
    snprintf(errbuf, errsize, "cannot write the %s to '%s': %s", what, path,
             strerror(err));
  return WEFT_EIO;
}

int weft_trace_write(const weft_trace *t, const char *path, char *errbuf,
                     size_t errsize) {
  if (errbuf && errsize)
    errbuf[0] = '\0';
  if (!t || !path || !*path) {
    if (errbuf && errsize)
      snprintf(errbuf, errsize, "weft_trace_write: NULL %s",
               t ? "path" : "trace");
    return WEFT_EINVAL;
  }
  FILE *f = fopen(path, "w");
  if (!f)
    return io_fail(errbuf, errsize, "trace", path, errno);
  bool first = true;
  fputs("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"generator\":\"weft\","
        "\"format\":\"weft trace 1\"},\n\"traceEvents\":[",
        f);
  for (size_t ci = 0; ci < t->ncomps; ci++) {
    const weft__tcomp *c = t->comps[ci];
    char name[128];
    snprintf(name, sizeof name, "compute %u (%s, %d worker%s)", c->id, c->sched,
             c->workers, c->workers == 1 ? "" : "s");
    meta(f, &first, c->id, 0, "process_name", name, -1);
    meta(f, &first, c->id, 0, "process_sort_index", NULL, (int)c->id);
    /* mpi: the event's worker is the rank and its thread is the rank's
     * compute thread; rank 0's tasks run in the program, so worker 0's
     * lanes stay empty: one track per rank and thread that ran tasks */
    bool mpi = strcmp(c->sched, "mpi") == 0;
    for (int k = 0; k < c->nlanes; k++) {
      if ((k == 0 || mpi) && !c->lanes[k].n && !c->lanes[k].ne)
        continue;
      weft__tcomp_lane_name(c, k, name, sizeof name);
      meta(f, &first, c->id, k, "thread_name", name, -1);
      meta(f, &first, c->id, k, "thread_sort_index", NULL, k);
    }
    fprintf(f,
            ",\n{\"name\":\"compute\",\"cat\":\"compute\",\"ph\":\"i\","
            "\"s\":\"p\",\"pid\":%u,\"tid\":0,\"ts\":%.3f,"
            "\"args\":{\"event\":\"begin\",\"scheduler\":",
            c->id, us(t, c->begin));
    weft__json_str(f, c->sched);
    fprintf(f, ",\"workers\":%d}}", c->workers);
    for (int k = 0; k < c->nlanes; k++) {
      weft__lane_it it;
      weft__trec rec;
      weft__lane_first(&c->lanes[k], &it);
      while (weft__lane_next(c, &c->lanes[k], &it, &rec))
        write_rec(f, t, c, k, &rec, NULL);
      for (size_t i = 0; i < c->lanes[k].ne; i++)
        write_rec(f, t, c, k, &c->lanes[k].e[i].r, &c->lanes[k].e[i]);
    }
    if (c->ended) {
      fprintf(f,
              ",\n{\"name\":\"compute\",\"cat\":\"compute\",\"ph\":\"i\","
              "\"s\":\"p\",\"pid\":%u,\"tid\":0,\"ts\":%.3f,"
              "\"args\":{\"event\":\"end\",\"status\":%d,\"message\":",
              c->id, us(t, c->end), c->status);
      if (c->msg)
        weft__json_str(f, c->msg);
      else
        fputs("null", f);
      fputs("}}", f);
    }
  }
  fputs("\n]}\n", f);
  int bad = ferror(f);
  int err = errno;
  if (fclose(f) || bad)
    return io_fail(errbuf, errsize, "trace", path, bad ? err : errno);
  bool lost = t->oom;
  for (size_t ci = 0; ci < t->ncomps; ci++)
    for (int k = 0; k < t->comps[ci]->nlanes; k++)
      lost |= t->comps[ci]->lanes[k].oom;
  if (lost) {
    if (errbuf && errsize)
      snprintf(errbuf, errsize,
               "the trace ran out of memory: '%s' misses "
               "a compute",
               path);
    return WEFT_ENOMEM;
  }
  return 0;
}
