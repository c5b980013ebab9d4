/* threads.c - the default scheduler: a pool of worker threads with
 * work-stealing deques (weft_executor), and the loop each worker runs.
 *
 * What keeps a task in the tens of nanoseconds:
 * - a worker that finishes a task runs one newly ready successor itself at
 *   once (no queue round trip) and pushes only the others on its own deque;
 * - the roots are one "range" item, split in halves only when a worker is
 *   hungry (lazy splitting), so a million independent tasks cost a handful
 *   of pushes, while four one-second tasks still spread over the workers;
 * - a root feeding a big join (>= 64 inputs) does not decrement the join's
 *   counter each time: decrements are batched per range, so two workers do
 *   not fight over one cache line a million times;
 * - idle workers spin-steal briefly, then sleep on a condition variable
 *   (an event count: no lost wake-ups, no core burnt at 100% while idle).
 * The calling thread of a compute is worker 0. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "deque.h"
#include "run.h"

#define WEFT__RANGE_BIT (1ull << 63)
#define WEFT__DEFER_MIN 64
#define WEFT__SPIN 2048

typedef struct weft__worker {
  weft__deque dq;
  weft_task_ctx ctx;
  weft__scratch sc;
  pthread_t thread;
  int id;
  bool started;
  struct weft_executor *ex;
} __attribute__((aligned(64))) weft__worker;

struct weft_executor {
  int n;
  weft__worker *w;
  pthread_mutex_t compute_mu; /* one compute at a time */
  pthread_mutex_t mu;         /* run hand-out and shutdown */
  pthread_cond_t start_cv, end_cv;
  uint64_t gen;
  bool shutdown;
  weft__run *run;
  _Atomic int in_run; /* pool threads still inside the current run */
  /* parking inside a run */
  _Alignas(64) pthread_mutex_t park_mu;
  pthread_cond_t park_cv;
  _Atomic uint32_t epoch;
  _Atomic int sleepers;
  _Alignas(64) _Atomic int hungry;
};

static _Thread_local weft_executor *running_executor;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static void wake_all(weft_executor *ex) {
  pthread_mutex_lock(&ex->park_mu);
  atomic_fetch_add(&ex->epoch, 1);
  pthread_cond_broadcast(&ex->park_cv);
  pthread_mutex_unlock(&ex->park_mu);
}

static inline void wake_one(weft_executor *ex) {
  /* Paired with the seq_cst increment of sleepers in park(): either the
   * sleeper sees the pushed item, or we see the sleeper. */
  if (atomic_load_explicit(&ex->sleepers, memory_order_seq_cst) > 0) {
    pthread_mutex_lock(&ex->park_mu);
    atomic_fetch_add(&ex->epoch, 1);
    pthread_cond_signal(&ex->park_cv);
    pthread_mutex_unlock(&ex->park_mu);
  }
}

static inline bool stopping(const weft__run *r) {
  return atomic_load_explicit(&r->stop, memory_order_relaxed);
}

static inline void push(weft_executor *ex, weft__worker *w, weft__run *r,
                        uint64_t item) {
  if (!weft__deque_push(&w->dq, item)) {
    weft__run_fail(r, &w->ctx, (uint32_t)item, WEFT_ENOMEM);
    wake_all(ex);
    return;
  }
  wake_one(ex);
}

/* After task i finished: count down its successors; the first that becomes
 * ready is returned to run next, the others are pushed. */
static inline uint32_t release_successors(weft_executor *ex, weft__worker *w,
                                          weft__run *r, uint32_t i) {
  uint32_t next = UINT32_MAX;
  weft__node *n = &r->nodes[i];
  WEFT__FOREACH_SUCC(r->nodes, r->edges, n, s, {
    if (!weft__run_needs(r, s))
      continue;
    if (!weft__run_ready(r, s))
      continue;
    if (next == UINT32_MAX)
      next = s;
    else
      push(ex, w, r, s);
  });
  return next;
}

/* Runs task i and then, depth-first, the successors it makes ready. */
static void run_chain(weft_executor *ex, weft__worker *w, weft__run *r,
                      uint32_t i) {
  while (i != UINT32_MAX && !stopping(r)) {
    int st = weft__run_task(r, &w->ctx, &w->sc, i);
    if (st) {
      wake_all(ex); /* done, or failed: sleepers must look */
      if (st < 0)
        return;
    }
    i = release_successors(ex, w, r, i);
  }
}

static void flush_deferred(weft_executor *ex, weft__worker *w, weft__run *r,
                           uint32_t s, int32_t cnt) {
  if (cnt && atomic_fetch_sub_explicit(&r->nodes[s].pending, cnt,
                                       memory_order_acq_rel) == cnt)
    run_chain(ex, w, r, s);
}

static void run_range(weft_executor *ex, weft__worker *w, weft__run *r,
                      uint32_t s, uint32_t e) {
  uint32_t deferred = UINT32_MAX;
  int32_t dcnt = 0;
  /* A range just taken is shared out before its first task runs, or a few
   * long roots would run one after another while the other workers wait
   * for a hungry check that only comes between tasks: a small range is
   * pushed task by task, a big one is halved once (then lazily). */
  if (ex->n > 1 && e - s > 1) {
    if (e - s <= 2 * (uint32_t)ex->n) {
      while (e - s > 1)
        push(ex, w, r, r->plan.roots[--e]);
    } else {
      uint32_t mid = s + (e - s) / 2;
      push(ex, w, r, WEFT__RANGE_BIT | (uint64_t)mid << 32 | e);
      e = mid;
    }
  }
  while (s < e && !stopping(r)) {
    if (e - s > 1 &&
        atomic_load_explicit(&ex->hungry, memory_order_relaxed)) {
      atomic_store_explicit(&ex->hungry, 0, memory_order_relaxed);
      uint32_t mid = s + (e - s) / 2;
      push(ex, w, r, WEFT__RANGE_BIT | (uint64_t)mid << 32 | e);
      e = mid;
    }
    uint32_t i = r->plan.roots[s++];
    int st = weft__run_task(r, &w->ctx, &w->sc, i);
    if (st) {
      wake_all(ex);
      if (st < 0)
        return;
    }
    uint32_t next = UINT32_MAX;
    weft__node *n = &r->nodes[i];
    WEFT__FOREACH_SUCC(r->nodes, r->edges, n, sc, {
      if (!weft__run_needs(r, sc))
        continue;
      if (r->nodes[sc].nrefs >= WEFT__DEFER_MIN) {
        if (sc != deferred) {
          flush_deferred(ex, w, r, deferred, dcnt);
          deferred = sc;
          dcnt = 0;
        }
        dcnt++;
        continue;
      }
      if (!weft__run_ready(r, sc))
        continue;
      if (next == UINT32_MAX)
        next = sc;
      else
        push(ex, w, r, sc);
    });
    run_chain(ex, w, r, next);
  }
  if (deferred != UINT32_MAX)
    flush_deferred(ex, w, r, deferred, dcnt);
}

static void process(weft_executor *ex, weft__worker *w, weft__run *r,
                    uint64_t item) {
  if (item & WEFT__RANGE_BIT)
    run_range(ex, w, r, (uint32_t)(item >> 32) & 0x7fffffffu,
              (uint32_t)item);
  else
    run_chain(ex, w, r, (uint32_t)item);
}

static bool steal_any(weft_executor *ex, weft__worker *w, uint64_t *item) {
  for (int k = 1; k < ex->n; k++) {
    weft__worker *v = &ex->w[(w->id + k) % ex->n];
    if (weft__deque_steal(&v->dq, item))
      return true;
  }
  return false;
}

static bool any_work(weft_executor *ex) {
  for (int k = 0; k < ex->n; k++)
    if (!weft__deque_empty(&ex->w[k].dq))
      return true;
  return false;
}

static inline bool finished(const weft__run *r) {
  return atomic_load_explicit(&r->done, memory_order_acquire) || stopping(r);
}

/* Nothing to do: spin-steal for a while, then sleep until woken. Returns
 * true with *item when it found work. */
static bool idle(weft_executor *ex, weft__worker *w, weft__run *r,
                 uint64_t *item) {
  if (!atomic_load_explicit(&ex->hungry, memory_order_relaxed))
    atomic_store_explicit(&ex->hungry, 1, memory_order_relaxed);
  for (int spin = 0; spin < WEFT__SPIN; spin++) {
    if (steal_any(ex, w, item))
      return true;
    if (finished(r))
      return false;
    cpu_relax();
  }
  uint32_t e = atomic_load_explicit(&ex->epoch, memory_order_seq_cst);
  atomic_fetch_add_explicit(&ex->sleepers, 1, memory_order_seq_cst);
  if (!any_work(ex) && !finished(r)) {
    pthread_mutex_lock(&ex->park_mu);
    while (atomic_load_explicit(&ex->epoch, memory_order_relaxed) == e)
      pthread_cond_wait(&ex->park_cv, &ex->park_mu);
    pthread_mutex_unlock(&ex->park_mu);
  }
  atomic_fetch_sub_explicit(&ex->sleepers, 1, memory_order_seq_cst);
  return false;
}

static void worker_loop(weft_executor *ex, weft__worker *w, weft__run *r) {
  weft_task_ctx *outer = weft_task_current();
  weft_executor *outer_ex = running_executor;
  w->ctx = (weft_task_ctx){r->g, NULL, 0, w->id, false, NULL, NULL};
  w->sc.last_t = 0;
  w->sc.left = 0;
  w->sc.stride = 1;
  weft__task_set_current(&w->ctx);
  running_executor = ex;
  uint64_t item;
  for (;;) {
    if (weft__deque_pop(&w->dq, &item) || steal_any(ex, w, &item) ||
        (!finished(r) && idle(ex, w, r, &item))) {
      if (!stopping(r))
        process(ex, w, r, item);
      if (r->listener) /* (events) time between items is no task's */
        weft__run_pause(r, &w->sc, w->id);
      continue;
    }
    if (finished(r))
      break;
  }
  running_executor = outer_ex;
  weft__task_set_current(outer);
}

static void *pool_main(void *arg) {
  weft__worker *w = arg;
  weft_executor *ex = w->ex;
  uint64_t seen = 0;
  for (;;) {
    pthread_mutex_lock(&ex->mu);
    while (ex->gen == seen && !ex->shutdown)
      pthread_cond_wait(&ex->start_cv, &ex->mu);
    if (ex->shutdown) {
      pthread_mutex_unlock(&ex->mu);
      return NULL;
    }
    seen = ex->gen;
    weft__run *r = ex->run;
    pthread_mutex_unlock(&ex->mu);
    worker_loop(ex, w, r);
    if (atomic_fetch_sub(&ex->in_run, 1) == 1) {
      pthread_mutex_lock(&ex->mu);
      pthread_cond_broadcast(&ex->end_cv);
      pthread_mutex_unlock(&ex->mu);
    }
  }
}

int weft_executor_new(int workers, weft_executor **out) {
  if (!out)
    return WEFT_EINVAL;
  *out = NULL;
  if (workers <= 0)
    workers = weft_cpu_count();
  if (workers > 4096)
    return WEFT_EINVAL;
  weft_executor *ex = calloc(1, sizeof *ex);
  if (!ex)
    return WEFT_ENOMEM;
  ex->n = workers;
  if (posix_memalign((void **)&ex->w, 64, sizeof(weft__worker) * workers)) {
    free(ex);
    return WEFT_ENOMEM;
  }
  memset(ex->w, 0, sizeof(weft__worker) * workers);
  pthread_mutex_init(&ex->compute_mu, NULL);
  pthread_mutex_init(&ex->mu, NULL);
  pthread_cond_init(&ex->start_cv, NULL);
  pthread_cond_init(&ex->end_cv, NULL);
  pthread_mutex_init(&ex->park_mu, NULL);
  pthread_cond_init(&ex->park_cv, NULL);
  int rc = 0;
  for (int k = 0; k < workers && !rc; k++) {
    ex->w[k].id = k;
    ex->w[k].ex = ex;
    if (weft__deque_init(&ex->w[k].dq, 256))
      rc = WEFT_ENOMEM;
  }
  for (int k = 1; k < workers && !rc; k++) {
    if (pthread_create(&ex->w[k].thread, NULL, pool_main, &ex->w[k]))
      rc = WEFT_ESYS;
    else
      ex->w[k].started = true;
  }
  if (rc) {
    weft_executor_free(ex);
    return rc;
  }
  *out = ex;
  return 0;
}

void weft_executor_free(weft_executor *ex) {
  if (!ex)
    return;
  if (running_executor == ex) { /* it would wait for its own compute */
    fprintf(stderr, "weft_executor_free: called from a task running on that "
                    "executor, which would wait for itself; ignored (free "
                    "it once its compute has returned)\n");
    return;
  }
  pthread_mutex_lock(&ex->compute_mu); /* waits for a running compute */
  pthread_mutex_lock(&ex->mu);
  ex->shutdown = true;
  pthread_cond_broadcast(&ex->start_cv);
  pthread_mutex_unlock(&ex->mu);
  for (int k = 1; k < ex->n; k++)
    if (ex->w[k].started)
      pthread_join(ex->w[k].thread, NULL);
  for (int k = 0; k < ex->n; k++) {
    weft__deque_destroy(&ex->w[k].dq);
    free(ex->w[k].sc.args);
  }
  pthread_mutex_unlock(&ex->compute_mu);
  pthread_mutex_destroy(&ex->compute_mu);
  pthread_mutex_destroy(&ex->mu);
  pthread_cond_destroy(&ex->start_cv);
  pthread_cond_destroy(&ex->end_cv);
  pthread_mutex_destroy(&ex->park_mu);
  pthread_cond_destroy(&ex->park_cv);
  free(ex->w);
  free(ex);
}

int weft_executor_workers(const weft_executor *ex) { return ex ? ex->n : 0; }

int weft__sched_threads(weft__run *r, weft_executor *ex) {
  if (running_executor == ex) {
    snprintf(r->msg, sizeof r->msg,
             "a task computed a graph on the executor that runs it; use "
             "another executor or none");
    return WEFT_EBUSY;
  }
  pthread_mutex_lock(&ex->compute_mu);
  for (int k = 0; k < ex->n; k++)
    weft__deque_reset(&ex->w[k].dq);
  atomic_store(&ex->hungry, 0);
  r->workers = ex->n;
  weft__worker *w0 = &ex->w[0];
  uint64_t first = r->plan.nroots == 1
                       ? r->plan.roots[0]
                       : WEFT__RANGE_BIT | (uint64_t)r->plan.nroots;
  if (r->plan.nroots && !weft__deque_push(&w0->dq, first)) {
    pthread_mutex_unlock(&ex->compute_mu);
    return WEFT_ENOMEM;
  }
  if (ex->n > 1) {
    atomic_store(&ex->in_run, ex->n - 1);
    pthread_mutex_lock(&ex->mu);
    ex->run = r;
    ex->gen++;
    pthread_cond_broadcast(&ex->start_cv);
    pthread_mutex_unlock(&ex->mu);
  }
  worker_loop(ex, w0, r);
  if (ex->n > 1) {
    pthread_mutex_lock(&ex->mu);
    while (atomic_load(&ex->in_run) > 0)
      pthread_cond_wait(&ex->end_cv, &ex->mu);
    ex->run = NULL;
    pthread_mutex_unlock(&ex->mu);
  }
  pthread_mutex_unlock(&ex->compute_mu);
  return 0;
}
