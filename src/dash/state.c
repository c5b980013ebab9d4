/* state.c - the dashboard's event side. The listener copies each event into
 * a bounded ring (one short mutex, no I/O, no allocation but one summary
 * per compute begin), so a compute is never held up by the dashboard; the
 * dashboard's own thread drains the ring into the panels' state (computes,
 * progress per function, workers, recent task bars, a log) that the HTTP
 * side renders as JSON. When the thread falls behind, the oldest events
 * are overwritten and counted as dropped. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../core/graph_impl.h"
#include "dash_impl.h"
#include "weft/error.h"

enum {
  RING = 1 << 14,   /* task events waiting for the thread */
  CRING = 1 << 10,  /* compute, map and worker events waiting */
  NTASKS = 1 << 14, /* finished task bars kept for the task stream */
  NLOG = 256,       /* log lines kept */
  NCOMP = 16,       /* computes kept (running and recent) */
  NFN = 64,         /* functions per compute (more: "(other)") */
  NEDGE = 128,      /* function-to-function edges per compute */
  NWORK = 1024,     /* workers shown (ids beyond: not shown) */
};

/* ---- text buffer ---- */

void weft__dbuf_add(weft__dbuf *b, const char *s, size_t n) {
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void weft__dbuf_puts(weft__dbuf *b, const char *s) {
  weft__dbuf_add(b, s, strlen(s));
}

void weft__dbuf_printf(weft__dbuf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n < sizeof tmp) {
    weft__dbuf_add(b, tmp, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1); /* longer than tmp: once more */
  if (!big) {
    b->oom = 1;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  weft__dbuf_add(b, big, (size_t)n);
  free(big);
}

void weft__dbuf_str(weft__dbuf *b, const char *s) {
  weft__dbuf_puts(b, "\"");
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    if (*p == '"' || *p == '\\') {
      char e[2] = {'\\', (char)*p};
      weft__dbuf_add(b, e, 2);
    } else if (*p < 0x20 || *p == 0x7f) {
      weft__dbuf_printf(b, "\\u%04x", *p);
    } else {
      weft__dbuf_add(b, (const char *)p, 1);
    }
  }
  weft__dbuf_puts(b, "\"");
}

/* ---- the ring ---- */

typedef struct gsum { /* a graph summarised by function, made at begin */
  unsigned nfn, nedge;
  struct {
    char name[40];
    uint64_t nodes;
  } fn[NFN];
  struct {
    uint16_t from, to;
    uint64_t n;
  } edge[NEDGE];
} gsum;

typedef struct slot {
  uint64_t seq;
  int kind, worker, workers, status, pid, sig;
  int tid; /* the thread that published it (a threads worker's CPU) */
  uint32_t task;
  const void *graph; /* an identity only: never read by the thread */
  uint64_t time_ns, start_ns;
  size_t n; /* ntasks, items */
  gsum *sum;
  char sched[12], fn[40], key[48], msg[160];
} slot;

typedef struct fnstat {
  char name[40];
  uint64_t total, done, running, failed, cancelled, retried;
  uint64_t busy_ns;
} fnstat;

typedef struct comp {
  unsigned id; /* 0: unused */
  const void *graph;
  int map, running, status;
  char sched[12];
  size_t ntasks;
  int workers;
  uint64_t t0, t1; /* ns */
  uint64_t done, failed, cancelled, retried, run_now;
  unsigned nfn;
  fnstat fn[NFN + 1]; /* + "(other)" */
  gsum *sum;
} comp;

typedef struct worker {
  int seen, pid, tid;
  uint64_t tasks, failed, busy_ns;
  uint64_t cur_start; /* 0: idle */
  char cur_key[48], cur_fn[40];
  double cpu, rss_mb;
  uint64_t cpu_ticks, cpu_at;
} worker;

typedef struct tbar {
  unsigned compute;
  int worker, failed;
  uint64_t start, end; /* ns from the dashboard's start */
  char fn[40], key[48];
} tbar;

typedef struct logl {
  uint64_t t;
  unsigned compute;
  int worker;
  char what[16], fn[40], key[48], msg[160];
} logl;

struct weft__dstate {
  weft_listener l;
  /* the ring: listener side */
  pthread_mutex_t rmu;
  slot *ring, *cring; /* task events; the others (never crowded out) */
  uint64_t head, tail, chead, ctail;
  uint64_t seq; /* the order of both */
  atomic_ullong dropped;
  /* the thread */
  pthread_t th;
  atomic_int stop;
  /* the state: thread writes, HTTP side reads */
  pthread_mutex_t smu;
  atomic_ullong version;
  uint64_t t0;
  unsigned next_comp;
  comp *comps; /* NCOMP, a ring by id */
  worker *workers;
  int maxworker; /* highest index used + 1 */
  tbar *tasks;
  uint64_t ntask; /* bars ever added: seq of the next */
  logl *log;
  uint64_t nlog;
  double proc_cpu, proc_rss_mb;
  uint64_t proc_ticks, proc_at;
};

static void cpy(char *dst, size_t size, const char *src) {
  snprintf(dst, size, "%s", src ? src : "");
}

static gsum *summarise(const weft_graph *g) {
  gsum *s = calloc(1, sizeof *s);
  if (!s || !g)
    return s;
  uint16_t *idx = malloc((g->nnodes ? g->nnodes : 1) * sizeof *idx);
  if (!idx)
    return s;
  for (uint32_t i = 0; i < g->nnodes; i++) {
    const weft_fn_info *f = g->nodes[i].fn;
    const char *name = f && f->name ? f->name : "(literal)";
    unsigned k = 0;
    while (k < s->nfn && strcmp(s->fn[k].name, name))
      k++;
    if (k == s->nfn && s->nfn < NFN)
      cpy(s->fn[s->nfn++].name, sizeof s->fn[0].name, name);
    if (k == NFN) /* out of room: the last row holds the rest */
      k = NFN - 1;
    s->fn[k].nodes++;
    idx[i] = (uint16_t)k;
  }
  for (uint32_t i = 0; i < g->nnodes; i++) {
    uint32_t succ = g->nodes[i].succ1, e = g->nodes[i].succ_more;
    while (succ || e) {
      uint32_t to;
      if (succ) {
        to = succ - 1;
        succ = 0;
      } else {
        to = g->edges[e - 1].node;
        e = g->edges[e - 1].next;
      }
      unsigned k = 0;
      while (k < s->nedge &&
             !(s->edge[k].from == idx[i] && s->edge[k].to == idx[to]))
        k++;
      if (k == s->nedge) {
        if (s->nedge == NEDGE)
          continue;
        s->edge[k].from = idx[i];
        s->edge[k].to = idx[to];
        s->nedge++;
      }
      s->edge[k].n++;
    }
  }
  free(idx);
  return s;
}

static void on_event(const weft_event *ev, void *ud) {
  weft__dstate *s = ud;
  gsum *sum = NULL;
  if (ev->kind == WEFT_EV_COMPUTE_BEGIN) /* the caller's thread, before
                                            any task runs */
    sum = summarise(ev->graph);
  char key[48] = "";
  if (ev->graph &&
      (ev->kind == WEFT_EV_TASK_START || ev->kind == WEFT_EV_TASK_END ||
       ev->kind == WEFT_EV_TASK_FAIL || ev->kind == WEFT_EV_TASK_RETRY ||
       ev->kind == WEFT_EV_TASK_CANCEL))
    weft_event_key(ev, key, sizeof key);
  static _Thread_local int tid; /* one system call per thread */
  if (!tid)
    tid = (int)syscall(SYS_gettid);
  /* Task events (the many) and the others go to two rings, so that a
   * flood of tasks never crowds out a compute's begin or end: a full task
   * ring drops the new task event; a full ring of the others (1,024
   * waiting: the thread is stuck) drops its oldest. */
  int many = ev->kind == WEFT_EV_TASK_START || ev->kind == WEFT_EV_TASK_END ||
             ev->kind == WEFT_EV_TASK_FAIL || ev->kind == WEFT_EV_TASK_QUEUED ||
             ev->kind == WEFT_EV_TASK_CANCEL || ev->kind == WEFT_EV_MAP_ITEMS;
  gsum *old = NULL;
  slot *o;
  pthread_mutex_lock(&s->rmu);
  if (many) {
    if (s->head - s->tail == RING) {
      pthread_mutex_unlock(&s->rmu);
      atomic_fetch_add_explicit(&s->dropped, 1, memory_order_relaxed);
      return;
    }
    o = &s->ring[s->head++ % RING];
  } else {
    if (s->chead - s->ctail == CRING) {
      old = s->cring[s->ctail++ % CRING].sum;
      atomic_fetch_add_explicit(&s->dropped, 1, memory_order_relaxed);
    }
    o = &s->cring[s->chead++ % CRING];
  }
  o->seq = s->seq++;
  o->kind = (int)ev->kind;
  o->worker = ev->worker;
  o->workers = ev->workers;
  o->status = ev->status;
  o->pid = ev->pid;
  o->sig = ev->signal;
  /* the mpi scheduler publishes a rank's task events from rank 0's
   * scheduling thread: that thread's CPU is not the rank's */
  o->tid = ev->scheduler && !strcmp(ev->scheduler, "mpi") ? 0 : tid;
  o->task = ev->task;
  o->graph = ev->graph;
  o->time_ns = ev->time_ns;
  o->start_ns = ev->start_ns;
  o->n = ev->kind == WEFT_EV_COMPUTE_BEGIN ? ev->ntasks : ev->items;
  o->sum = sum;
  cpy(o->sched, sizeof o->sched, ev->scheduler);
  cpy(o->fn, sizeof o->fn, ev->fn ? ev->fn->name : "");
  memcpy(o->key, key, sizeof key);
  cpy(o->msg, sizeof o->msg, ev->message);
  pthread_mutex_unlock(&s->rmu);
  free(old);
}

/* ---- the thread: events into state ---- */

static comp *find_comp(weft__dstate *s, const void *graph, int map) {
  comp *best = NULL; /* the newest running one of that graph */
  for (int k = 0; k < NCOMP; k++) {
    comp *c = &s->comps[k];
    if (c->id && c->running && c->graph == graph && c->map == map &&
        (!best || c->id > best->id))
      best = c;
  }
  return best;
}

static fnstat *find_fn(comp *c, const char *name) {
  for (unsigned k = 0; k < c->nfn; k++)
    if (!strcmp(c->fn[k].name, name))
      return &c->fn[k];
  if (c->nfn < NFN) {
    cpy(c->fn[c->nfn].name, sizeof c->fn[0].name, name);
    return &c->fn[c->nfn++];
  }
  cpy(c->fn[NFN].name, sizeof c->fn[0].name, "(other)");
  return &c->fn[NFN];
}

static worker *find_worker(weft__dstate *s, int w) {
  int k = w + 1; /* -1: the program itself */
  if (k < 0 || k >= NWORK)
    return NULL;
  if (k + 1 > s->maxworker)
    s->maxworker = k + 1;
  s->workers[k].seen = 1;
  return &s->workers[k];
}

static void add_log(weft__dstate *s, const slot *e, unsigned compute,
                    const char *what) {
  logl *l = &s->log[s->nlog++ % NLOG];
  l->t = e->time_ns > s->t0 ? e->time_ns - s->t0 : 0;
  l->compute = compute;
  l->worker = e->worker;
  cpy(l->what, sizeof l->what, what);
  cpy(l->fn, sizeof l->fn, e->fn);
  cpy(l->key, sizeof l->key, e->key);
  if (e->kind == WEFT_EV_WORKER_LOST || e->kind == WEFT_EV_WORKER_START)
    snprintf(l->msg, sizeof l->msg, "pid %d%s%.130s", e->pid,
             e->msg[0] ? ": " : "", e->msg);
  else
    cpy(l->msg, sizeof l->msg, e->msg);
}

static uint64_t rel(const weft__dstate *s, uint64_t t) {
  return t > s->t0 ? t - s->t0 : 0;
}

static void apply(weft__dstate *s, slot *e) {
  int map = e->kind == WEFT_EV_MAP_BEGIN || e->kind == WEFT_EV_MAP_ITEMS ||
            e->kind == WEFT_EV_MAP_END;
  if (e->kind == WEFT_EV_COMPUTE_BEGIN || e->kind == WEFT_EV_MAP_BEGIN) {
    comp *c = &s->comps[s->next_comp % NCOMP];
    free(c->sum);
    memset(c, 0, sizeof *c);
    c->id = ++s->next_comp;
    c->graph = e->graph;
    c->map = map;
    c->running = 1;
    cpy(c->sched, sizeof c->sched, map ? "map" : e->sched);
    c->ntasks = e->n;
    c->workers = e->workers;
    c->t0 = rel(s, e->time_ns);
    c->sum = e->sum;
    e->sum = NULL;
    if (c->sum)
      for (unsigned k = 0; k < c->sum->nfn; k++)
        find_fn(c, c->sum->fn[k].name)->total = c->sum->fn[k].nodes;
    if (map)
      find_fn(c, e->fn)->total = e->n;
    return;
  }
  comp *c = find_comp(s, map ? NULL : e->graph, map);
  unsigned cid = c ? c->id : 0;
  int on_worker =
      e->kind == WEFT_EV_TASK_START || e->kind == WEFT_EV_TASK_END ||
      e->kind == WEFT_EV_TASK_FAIL || e->kind == WEFT_EV_TASK_RETRY ||
      e->kind == WEFT_EV_WORKER_START || e->kind == WEFT_EV_WORKER_LOST;
  worker *w = on_worker ? find_worker(s, e->worker) : NULL;
  fnstat *f = c && e->fn[0] ? find_fn(c, e->fn) : NULL;
  switch (e->kind) {
  case WEFT_EV_TASK_START:
    if (c) {
      c->run_now++;
      if (f)
        f->running++;
    }
    if (w) {
      w->tid = e->tid;
      w->cur_start = e->time_ns ? e->time_ns : 1;
      cpy(w->cur_key, sizeof w->cur_key, e->key);
      cpy(w->cur_fn, sizeof w->cur_fn, e->fn);
    }
    break;
  case WEFT_EV_TASK_END:
  case WEFT_EV_TASK_FAIL: {
    int failed = e->kind == WEFT_EV_TASK_FAIL;
    if (c) {
      if (c->run_now && (!failed || e->start_ns))
        c->run_now--;
      failed ? c->failed++ : c->done++;
      if (f) {
        if (f->running && (!failed || e->start_ns))
          f->running--;
        failed ? f->failed++ : f->done++;
        if (e->start_ns && e->time_ns > e->start_ns)
          f->busy_ns += e->time_ns - e->start_ns;
      }
    }
    if (w) {
      w->tasks += !failed;
      w->failed += failed;
      if (e->start_ns && e->time_ns > e->start_ns)
        w->busy_ns += e->time_ns - e->start_ns;
      w->cur_start = 0;
      w->cur_key[0] = w->cur_fn[0] = '\0';
    }
    tbar *b = &s->tasks[s->ntask++ % NTASKS];
    b->compute = cid;
    b->worker = e->worker;
    b->failed = failed;
    b->start = rel(s, e->start_ns ? e->start_ns : e->time_ns);
    b->end = rel(s, e->time_ns);
    cpy(b->fn, sizeof b->fn, e->fn);
    cpy(b->key, sizeof b->key, e->key);
    if (failed)
      add_log(s, e, cid, "failed");
    break;
  }
  case WEFT_EV_TASK_RETRY:
    if (c) {
      c->retried++;
      if (f) {
        f->retried++;
        if (f->running)
          f->running--;
      }
      if (c->run_now)
        c->run_now--;
    }
    if (w)
      w->cur_start = 0;
    add_log(s, e, cid, "retry");
    break;
  case WEFT_EV_TASK_CANCEL:
    if (c) {
      c->cancelled++;
      if (f)
        f->cancelled++;
    }
    add_log(s, e, cid, "cancelled");
    break;
  case WEFT_EV_WORKER_START:
    if (w) {
      w->pid = e->pid;
      w->cpu_at = 0; /* a new process: sampled from now */
    }
    break;
  case WEFT_EV_WORKER_LOST:
    if (w) {
      w->cur_start = 0;
      w->pid = 0;
      w->cpu_at = 0; /* its numbers are gone with it */
    }
    add_log(s, e, cid, "worker lost");
    break;
  case WEFT_EV_MAP_ITEMS:
    if (c) {
      c->done += e->n;
      if (f)
        f->done += e->n;
    }
    break;
  case WEFT_EV_COMPUTE_END:
  case WEFT_EV_MAP_END:
    if (c) {
      c->running = 0;
      c->status = e->status;
      c->t1 = rel(s, e->time_ns);
      c->run_now = 0;
      /* what was not needed or never ran is not waiting any more */
      for (unsigned k = 0; k <= c->nfn && k <= NFN; k++) {
        fnstat *g = &c->fn[k];
        g->running = 0;
        uint64_t seen = g->done + g->failed + g->cancelled;
        if (g->total > seen)
          g->total = seen;
      }
      if (e->status)
        add_log(s, e, cid, "compute failed");
    }
    break;
  default:
    break;
  }
}

/* CPU ticks (utime + stime) and resident memory of a process. */
static int proc_sample(int pid, int tid, uint64_t *ticks, double *rss_mb) {
  char path[64], buf[1024];
  if (tid)
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
  else
    snprintf(path, sizeof path, pid ? "/proc/%d/stat" : "/proc/self/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')'); /* the name may hold spaces */
  if (!p)
    return -1;
  unsigned long ut = 0, st = 0;
  long rss = 0;
  /* fields 3.. after the name: state ... utime(14) stime(15) ... rss(24) */
  if (sscanf(p + 2,
             "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d "
             "%*d %*d %*d %*d %*u %*u %ld",
             &ut, &st, &rss) != 3)
    return -1;
  *ticks = ut + st;
  *rss_mb = (double)rss * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
  return 0;
}

static void sample(weft__dstate *s, uint64_t now) {
  double hz = (double)sysconf(_SC_CLK_TCK);
  uint64_t t;
  double rss;
  if (!proc_sample(0, 0, &t, &rss)) {
    if (s->proc_at && now > s->proc_at)
      s->proc_cpu = 100.0 * (double)(t - s->proc_ticks) / hz /
                    ((double)(now - s->proc_at) / 1e9);
    s->proc_ticks = t;
    s->proc_at = now;
    s->proc_rss_mb = rss;
  }
  for (int k = 0; k < s->maxworker; k++) {
    worker *w = &s->workers[k];
    /* a worker process's own numbers; a thread's CPU (its memory is the
     * process's); nothing for the program's row (k == 0) */
    int tid = w->pid || k == 0 ? 0 : w->tid;
    if ((!w->pid && !tid) || proc_sample(w->pid, tid, &t, &rss))
      continue;
    if (tid)
      rss = -1;
    if (w->cpu_at && now > w->cpu_at && t >= w->cpu_ticks)
      w->cpu = 100.0 * (double)(t - w->cpu_ticks) / hz /
               ((double)(now - w->cpu_at) / 1e9);
    w->cpu_ticks = t;
    w->cpu_at = now;
    w->rss_mb = rss;
  }
}

static void *thread_main(void *arg) {
  weft__dstate *s = arg;
  enum { BATCH = 256 };
  slot *batch = malloc(BATCH * sizeof *batch);
  uint64_t last_sample = 0;
  while (batch) {
    int stopping = atomic_load(&s->stop);
    size_t n = 0;
    pthread_mutex_lock(&s->rmu);
    while (n < BATCH && (s->tail < s->head || s->ctail < s->chead)) {
      /* the two rings merged back into publishing order */
      slot *t = s->tail < s->head ? &s->ring[s->tail % RING] : NULL;
      slot *c = s->ctail < s->chead ? &s->cring[s->ctail % CRING] : NULL;
      if (t && (!c || t->seq < c->seq)) {
        batch[n++] = *t;
        s->tail++;
      } else {
        batch[n++] = *c;
        s->ctail++;
      }
    }
    pthread_mutex_unlock(&s->rmu);
    uint64_t now = weft_now_ns();
    if (n || now - last_sample > 500000000ull) {
      pthread_mutex_lock(&s->smu);
      for (size_t k = 0; k < n; k++) {
        apply(s, &batch[k]);
        free(batch[k].sum); /* NULL unless a compute record was not made */
      }
      if (now - last_sample > 500000000ull) {
        sample(s, now);
        last_sample = now;
      }
      pthread_mutex_unlock(&s->smu);
      atomic_fetch_add(&s->version, 1);
    }
    if (n == BATCH)
      continue;
    if (stopping)
      break;
    struct timespec ts = {0, 20 * 1000 * 1000}; /* 20 ms */
    nanosleep(&ts, NULL);
  }
  free(batch);
  return NULL;
}

int weft__dstate_new(weft__dstate **out) {
  weft__dstate *s = calloc(1, sizeof *s);
  if (!s)
    return WEFT_ENOMEM;
  s->ring = calloc(RING + CRING, sizeof *s->ring);
  s->cring = s->ring ? s->ring + RING : NULL;
  s->comps = calloc(NCOMP, sizeof *s->comps);
  s->workers = calloc(NWORK, sizeof *s->workers);
  s->tasks = calloc(NTASKS, sizeof *s->tasks);
  s->log = calloc(NLOG, sizeof *s->log);
  if (!s->ring || !s->comps || !s->workers || !s->tasks || !s->log) {
    free(s->ring);
    free(s->comps);
    free(s->workers);
    free(s->tasks);
    free(s->log);
    free(s);
    return WEFT_ENOMEM;
  }
  pthread_mutex_init(&s->rmu, NULL);
  pthread_mutex_init(&s->smu, NULL);
  s->t0 = weft_now_ns();
  s->l.fn = on_event;
  s->l.ud = s;
  if (pthread_create(&s->th, NULL, thread_main, s)) {
    s->th = 0;
    weft__dstate_free(s);
    return WEFT_ESYS;
  }
  *out = s;
  return 0;
}

void weft__dstate_free(weft__dstate *s) {
  if (!s)
    return;
  atomic_store(&s->stop, 1);
  if (s->th)
    pthread_join(s->th, NULL);
  for (uint64_t k = s->ctail; k < s->chead; k++)
    free(s->cring[k % CRING].sum);
  for (int k = 0; k < NCOMP; k++)
    free(s->comps[k].sum);
  pthread_mutex_destroy(&s->rmu);
  pthread_mutex_destroy(&s->smu);
  free(s->ring);
  free(s->comps);
  free(s->workers);
  free(s->tasks);
  free(s->log);
  free(s);
}

const weft_listener *weft__dstate_listener(weft__dstate *s) {
  return s ? &s->l : NULL;
}

unsigned long long weft__dstate_dropped(const weft__dstate *s) {
  return s ? atomic_load(&((weft__dstate *)s)->dropped) : 0;
}

uint64_t weft__dstate_version(weft__dstate *s) {
  return atomic_load(&s->version);
}

/* ---- JSON ---- */

static double ms(uint64_t ns) { return (double)ns / 1e6; }

static const comp *sorted_comps(weft__dstate *s, const comp **out) {
  /* oldest first */
  int n = 0;
  for (unsigned id = s->next_comp > NCOMP ? s->next_comp - NCOMP + 1 : 1;
       id <= s->next_comp; id++) {
    const comp *c = &s->comps[(id - 1) % NCOMP];
    if (c->id == id)
      out[n++] = c;
  }
  out[n] = NULL;
  return n ? out[n - 1] : NULL;
}

static void comp_json(weft__dbuf *b, const comp *c, int with_fns) {
  weft__dbuf_printf(b, "{\"id\":%u,\"kind\":\"%s\",\"scheduler\":", c->id,
                    c->map ? "map" : "compute");
  weft__dbuf_str(b, c->sched);
  weft__dbuf_printf(
      b,
      ",\"running\":%s,\"status\":%d,\"ntasks\":%zu,\"workers\":%d,"
      "\"done\":%llu,\"running_tasks\":%llu,\"failed\":%llu,"
      "\"cancelled\":%llu,\"retried\":%llu,\"start_ms\":%.3f,\"end_ms\":%.3f",
      c->running ? "true" : "false", c->status, c->ntasks, c->workers,
      (unsigned long long)c->done, (unsigned long long)c->run_now,
      (unsigned long long)c->failed, (unsigned long long)c->cancelled,
      (unsigned long long)c->retried, ms(c->t0), c->running ? -1.0 : ms(c->t1));
  if (with_fns) {
    weft__dbuf_puts(b, ",\"functions\":[");
    for (unsigned k = 0; k <= c->nfn && k <= NFN; k++) {
      const fnstat *f = &c->fn[k];
      if (k == c->nfn && k < NFN)
        break;
      if (k == NFN && !f->name[0])
        break;
      uint64_t seen = f->done + f->running + f->failed + f->cancelled;
      weft__dbuf_puts(b, k ? ",{\"name\":" : "{\"name\":");
      weft__dbuf_str(b, f->name);
      weft__dbuf_printf(
          b,
          ",\"total\":%llu,\"done\":%llu,\"running\":%llu,\"waiting\":%llu,"
          "\"failed\":%llu,\"cancelled\":%llu,\"retried\":%llu,"
          "\"busy_ms\":%.3f}",
          (unsigned long long)f->total, (unsigned long long)f->done,
          (unsigned long long)f->running,
          (unsigned long long)(f->total > seen ? f->total - seen : 0),
          (unsigned long long)f->failed, (unsigned long long)f->cancelled,
          (unsigned long long)f->retried, ms(f->busy_ns));
    }
    weft__dbuf_puts(b, "]");
  }
  weft__dbuf_puts(b, "}");
}

void weft__dstate_status(weft__dstate *s, weft__dbuf *b) {
  const comp *list[NCOMP + 1];
  pthread_mutex_lock(&s->smu);
  sorted_comps(s, list);
  weft__dbuf_printf(b,
                    "{\"uptime_ms\":%.3f,\"dropped_events\":%llu,"
                    "\"tasks_recorded\":%llu,\"computes\":[",
                    ms(weft_now_ns() - s->t0),
                    (unsigned long long)atomic_load(&s->dropped),
                    (unsigned long long)s->ntask);
  for (int k = 0; list[k]; k++) {
    if (k)
      weft__dbuf_puts(b, ",");
    comp_json(b, list[k], 0);
  }
  weft__dbuf_puts(b, "]}");
  pthread_mutex_unlock(&s->smu);
}

void weft__dstate_progress(weft__dstate *s, weft__dbuf *b) {
  const comp *list[NCOMP + 1];
  pthread_mutex_lock(&s->smu);
  sorted_comps(s, list);
  weft__dbuf_puts(b, "{\"computes\":[");
  for (int k = 0; list[k]; k++) {
    if (k)
      weft__dbuf_puts(b, ",");
    comp_json(b, list[k], 1);
  }
  weft__dbuf_puts(b, "]}");
  pthread_mutex_unlock(&s->smu);
}

void weft__dstate_workers(weft__dstate *s, weft__dbuf *b) {
  pthread_mutex_lock(&s->smu);
  uint64_t now = weft_now_ns();
  double up = (double)(now - s->t0) / 1e9;
  weft__dbuf_printf(b,
                    "{\"process\":{\"pid\":%d,\"cpu_percent\":%.1f,"
                    "\"rss_mb\":%.1f},\"workers\":[",
                    (int)getpid(), s->proc_cpu, s->proc_rss_mb);
  int first = 1;
  for (int k = 0; k < s->maxworker; k++) {
    const worker *w = &s->workers[k];
    if (!w->seen)
      continue;
    weft__dbuf_printf(
        b,
        "%s{\"worker\":%d,\"pid\":%d,\"tasks\":%llu,\"failed\":%llu,"
        "\"busy_ms\":%.3f,\"busy_share\":%.4f,\"cpu_percent\":%.1f,"
        "\"rss_mb\":%.1f,\"current\":",
        first ? "" : ",", k - 1, w->pid, (unsigned long long)w->tasks,
        (unsigned long long)w->failed, ms(w->busy_ns),
        up > 0 ? (double)w->busy_ns / 1e9 / up : 0.0, w->cpu_at ? w->cpu : -1.0,
        w->cpu_at ? w->rss_mb : -1.0);
    first = 0;
    if (w->cur_start) {
      weft__dbuf_puts(b, "{\"key\":");
      weft__dbuf_str(b, w->cur_key);
      weft__dbuf_puts(b, ",\"fn\":");
      weft__dbuf_str(b, w->cur_fn);
      weft__dbuf_printf(b, ",\"for_ms\":%.3f}",
                        now > w->cur_start ? ms(now - w->cur_start) : 0.0);
    } else {
      weft__dbuf_puts(b, "null");
    }
    weft__dbuf_puts(b, "}");
  }
  weft__dbuf_puts(b, "]}");
  pthread_mutex_unlock(&s->smu);
}

void weft__dstate_graph(weft__dstate *s, weft__dbuf *b) {
  const comp *list[NCOMP + 1];
  pthread_mutex_lock(&s->smu);
  const comp *c = sorted_comps(s, list);
  while (c && !c->sum) { /* the newest compute with a graph (not a map) */
    int k = 0;
    while (list[k] != c)
      k++;
    c = k ? list[k - 1] : NULL;
  }
  if (!c) {
    weft__dbuf_puts(b, "{\"compute\":0,\"functions\":[],\"edges\":[]}");
  } else {
    weft__dbuf_printf(b, "{\"compute\":%u,\"functions\":[", c->id);
    for (unsigned k = 0; k < c->sum->nfn; k++) {
      weft__dbuf_puts(b, k ? ",{\"name\":" : "{\"name\":");
      weft__dbuf_str(b, c->sum->fn[k].name);
      weft__dbuf_printf(b, ",\"nodes\":%llu}",
                        (unsigned long long)c->sum->fn[k].nodes);
    }
    weft__dbuf_puts(b, "],\"edges\":[");
    for (unsigned k = 0; k < c->sum->nedge; k++) {
      weft__dbuf_puts(b, k ? ",{\"from\":" : "{\"from\":");
      weft__dbuf_str(b, c->sum->fn[c->sum->edge[k].from].name);
      weft__dbuf_puts(b, ",\"to\":");
      weft__dbuf_str(b, c->sum->fn[c->sum->edge[k].to].name);
      weft__dbuf_printf(b, ",\"count\":%llu}",
                        (unsigned long long)c->sum->edge[k].n);
    }
    weft__dbuf_puts(b, "]}");
  }
  pthread_mutex_unlock(&s->smu);
}

void weft__dstate_tasks(weft__dstate *s, weft__dbuf *b, uint64_t since,
                        uint64_t *next) {
  pthread_mutex_lock(&s->smu);
  uint64_t first = s->ntask > NTASKS ? s->ntask - NTASKS : 0;
  uint64_t from = since < first ? first : since;
  if (from > s->ntask)
    from = s->ntask;
  /* at most 5,000 bars per answer: ask again from "next" */
  uint64_t to = s->ntask - from > 5000 ? from + 5000 : s->ntask;
  weft__dbuf_printf(b,
                    "{\"since\":%llu,\"next\":%llu,\"lost\":%llu,"
                    "\"tasks\":[",
                    (unsigned long long)since, (unsigned long long)to,
                    (unsigned long long)(from - (since < from ? since : from)));
  for (uint64_t q = from; q < to; q++) {
    const tbar *t = &s->tasks[q % NTASKS];
    weft__dbuf_printf(b,
                      "%s{\"seq\":%llu,\"compute\":%u,\"worker\":%d,"
                      "\"start_ms\":%.3f,\"end_ms\":%.3f,\"failed\":%s,"
                      "\"fn\":",
                      q == from ? "" : ",", (unsigned long long)q, t->compute,
                      t->worker, ms(t->start), ms(t->end),
                      t->failed ? "true" : "false");
    weft__dbuf_str(b, t->fn);
    weft__dbuf_puts(b, ",\"key\":");
    weft__dbuf_str(b, t->key);
    weft__dbuf_puts(b, "}");
  }
  weft__dbuf_puts(b, "]}");
  if (next)
    *next = to;
  pthread_mutex_unlock(&s->smu);
}

void weft__dstate_log(weft__dstate *s, weft__dbuf *b, uint64_t since,
                      uint64_t *next) {
  pthread_mutex_lock(&s->smu);
  uint64_t first = s->nlog > NLOG ? s->nlog - NLOG : 0;
  uint64_t from = since < first ? first : since > s->nlog ? s->nlog : since;
  weft__dbuf_printf(b,
                    "{\"since\":%llu,\"next\":%llu,\"lost\":%llu,"
                    "\"entries\":[",
                    (unsigned long long)since, (unsigned long long)s->nlog,
                    (unsigned long long)(from - (since < from ? since : from)));
  for (uint64_t q = from; q < s->nlog; q++) {
    const logl *l = &s->log[q % NLOG];
    weft__dbuf_printf(b,
                      "%s{\"seq\":%llu,\"time_ms\":%.3f,\"compute\":%u,"
                      "\"worker\":%d,\"what\":",
                      q == from ? "" : ",", (unsigned long long)q, ms(l->t),
                      l->compute, l->worker);
    weft__dbuf_str(b, l->what);
    weft__dbuf_puts(b, ",\"fn\":");
    weft__dbuf_str(b, l->fn);
    weft__dbuf_puts(b, ",\"key\":");
    weft__dbuf_str(b, l->key);
    weft__dbuf_puts(b, ",\"message\":");
    weft__dbuf_str(b, l->msg);
    weft__dbuf_puts(b, "}");
  }
  weft__dbuf_puts(b, "]}");
  if (next)
    *next = s->nlog;
  pthread_mutex_unlock(&s->smu);
}
