/* future.c - futures: submitting, running, finishing, cancelling, waiting.
 *
 * A future's life is a small state machine in one atomic word:
 *   PENDING (inputs not finished) -> QUEUED -> RUNNING -> DONE | ERROR
 * and from any of the first three, CANCELLED (or ERROR when an input
 * failed). Whoever moves a future to a terminal state first "claims" it
 * (compare-and-swap to FINISHING), writes the result or the error, then
 * publishes the terminal state; nobody else writes those fields, so a
 * cancel racing with the end of the task is decided by one CAS: the loser's
 * result is dropped.
 *
 * What must happen when a future finishes is a list of hooks under a tiny
 * per-future spinlock (the future's dependents, weft_future_then callbacks,
 * as_completed iterators). The finisher takes the list in the same critical
 * section that publishes the terminal state, so a hook is either run by the
 * finisher or refused to the one adding it (who then acts at once). Hooks
 * are processed from a per-thread queue, not recursively, so cancelling the
 * head of a chain of a million futures does not overflow the stack.
 * Callbacks are queued as jobs on the CPU pool: they never run under a lock
 * and never in the finisher's stack.
 *
 * Blocking waits spin briefly, then sleep on the client's condition
 * variable, which a finisher signals only when the future has waiters. A
 * pool thread that waits runs queued jobs of its pool meanwhile, which is
 * why a task may wait for futures without deadlocking the pool. */
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/task.h"
#include "impl.h"

#define WEFT__WAIT_SPIN 20000

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static inline void flock(weft_future *f) {
  int spins = 0;
  while (atomic_exchange_explicit(&f->lock, 1, memory_order_acquire)) {
    if (++spins > 64)
      sched_yield();
    else
      cpu_relax();
  }
}
static inline void funlock(weft_future *f) {
  atomic_store_explicit(&f->lock, 0, memory_order_release);
}

static void run_future(weft__job *j);

weft_future *weft__future_alloc(weft_client *c, const weft_fn_info *fn,
                                size_t nargs, bool io) {
  if (nargs > UINT32_MAX)
    return NULL;
  weft_future *f = malloc(sizeof *f + nargs * sizeof(weft_value));
  if (!f)
    return NULL;
  memset(f, 0, sizeof *f);
  f->job.run = run_future;
  atomic_init(&f->refs, 1);
  atomic_init(&f->state, WEFT__FS_PENDING);
  atomic_init(&f->pending, 1);
  atomic_init(&f->waiters, 0);
  atomic_init(&f->lock, 0);
  f->io = io;
  f->c = c;
  f->fn = fn;
  f->id = atomic_fetch_add_explicit(&c->next_id, 1, memory_order_relaxed);
  f->result = weft_none();
  f->nargs = (uint32_t)nargs;
  for (size_t i = 0; i < nargs; i++)
    f->args[i] = weft_none();
  atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
  return f;
}

static void release_args(weft_future *f) {
  for (uint32_t i = 0; i < f->nargs; i++) {
    if (f->args[i].type == WEFT__T_FUTURE)
      weft_future_release((weft_future *)(void *)f->args[i].as.obj);
    else
      weft_value_release(&f->args[i]);
    f->args[i] = weft_none();
  }
}

weft_future *weft_future_retain(weft_future *f) {
  if (f)
    atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
  return f;
}

void weft_future_release(weft_future *f) {
  if (!f || atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
    return;
  release_args(f);
  weft_value_release(&f->result);
  /* hooks of a future that never finished (its inputs were dropped) */
  for (weft__hook *h = f->hooks, *nx; h; h = nx) {
    nx = h->next;
    if (h->kind == WEFT__HOOK_CHILD) {
      weft_future_release(h->p);
      free(h);
    }
  }
  free(f->msg);
  free(f->key);
  weft_client *c = f->c;
  free(f);
  weft__client_unref(c);
}

/* ---- finishing ---- */

static bool claim(weft_future *f, uint32_t from) {
  uint32_t s = from;
  return atomic_compare_exchange_strong(&f->state, &s, WEFT__FS_FINISHING);
}

/* Claims f from any state before FINISHING; false when someone else did. */
static bool claim_any(weft_future *f) {
  uint32_t s = atomic_load(&f->state);
  while (s < WEFT__FS_FINISHING)
    if (atomic_compare_exchange_weak(&f->state, &s, WEFT__FS_FINISHING))
      return true;
  return false;
}

static void set_msg(weft_future *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_msg(weft_future *f, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char buf[1024];
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  free(f->msg);
  f->msg = strdup(buf); /* NULL when out of memory: the code remains */
}

static _Thread_local weft__hook *defer_head, *defer_tail;
static _Thread_local bool in_finish;

static void input_done(weft_future *child, weft_future *dep);

static void process_hook(weft__hook *h, weft_future *from) {
  switch (h->kind) {
  case WEFT__HOOK_CHILD: {
    weft_future *child = h->p;
    free(h);
    input_done(child, from);
    weft_future_release(child);
    break;
  }
  case WEFT__HOOK_CB:
    /* h sits inside a callback job (see weft_future_then) */
    weft__pool_push(&from->c->cpu, h->p);
    break;
  case WEFT__HOOK_AC:
    weft__ac_notify(h->p, from);
    free(h);
    break;
  }
}

/* Publishes terminal state `st` of a claimed future and runs its hooks. */
static void finish(weft_future *f, uint32_t st) {
  flock(f);
  atomic_store(&f->state, st);
  weft__hook *h = f->hooks;
  f->hooks = NULL;
  funlock(f);
  if (atomic_load(&f->waiters)) {
    weft_client *c = f->c;
    pthread_mutex_lock(&c->wait_mu);
    pthread_cond_broadcast(&c->wait_cv);
    pthread_mutex_unlock(&c->wait_mu);
  }
  if (!h)
    return;
  /* hooks were pushed at the head: reverse them to the order added, and
   * remember where each came from (h->next is reused for the queue) */
  weft__hook *rev = NULL;
  while (h) {
    weft__hook *nx = h->next;
    h->next = rev;
    rev = h;
    h = nx;
  }
  for (h = rev; h; h = h->next)
    weft_future_retain(f); /* one per hook: released after it is processed */
  /* queue them behind the hooks of outer finishes of this thread */
  weft__hook *last = rev;
  while (last->next)
    last = last->next;
  for (h = rev; h; h = h->next)
    h->from = f;
  if (defer_tail)
    defer_tail->next = rev;
  else
    defer_head = rev;
  defer_tail = last;
  if (in_finish)
    return;
  in_finish = true;
  while (defer_head) {
    weft__hook *x = defer_head;
    defer_head = x->next;
    if (!defer_head)
      defer_tail = NULL;
    weft_future *from = x->from;
    process_hook(x, from);
    weft_future_release(from);
  }
  in_finish = false;
}

/* An input of child has finished: fail child with it, or count it down. */
static void input_done(weft_future *child, weft_future *dep) {
  uint32_t ds = atomic_load(&dep->state);
  if (ds != WEFT__FS_DONE && claim(child, WEFT__FS_PENDING)) {
    child->rc = ds == WEFT__FS_CANCELLED ? WEFT_ECANCELED : dep->rc;
    if (dep->msg)
      child->msg = strdup(dep->msg);
    finish(child, ds == WEFT__FS_CANCELLED ? WEFT__FS_CANCELLED
                                           : WEFT__FS_ERROR);
  }
  if (atomic_fetch_sub_explicit(&child->pending, 1, memory_order_acq_rel) ==
      1) {
    uint32_t s = WEFT__FS_PENDING;
    if (atomic_compare_exchange_strong(&child->state, &s, WEFT__FS_QUEUED)) {
      weft_future_retain(child); /* the queue's reference */
      weft__pool_push(child->io && child->c->has_io ? &child->c->io
                                                    : &child->c->cpu,
                      &child->job);
    }
  }
}

bool weft__future_add_hook(weft_future *f, weft__hook *h) {
  flock(f);
  if (weft__fs_terminal(atomic_load(&f->state))) {
    funlock(f);
    return false;
  }
  h->next = f->hooks;
  f->hooks = h;
  funlock(f);
  return true;
}

void weft__future_add_input(weft_future *f, weft_future *dep) {
  atomic_fetch_add_explicit(&f->pending, 1, memory_order_relaxed);
  weft__hook *h = malloc(sizeof *h);
  if (!h) {
    if (claim(f, WEFT__FS_PENDING)) {
      f->rc = WEFT_ENOMEM;
      set_msg(f, "out of memory waiting for an input");
      finish(f, WEFT__FS_ERROR);
    }
    atomic_fetch_sub(&f->pending, 1);
    return;
  }
  h->kind = WEFT__HOOK_CHILD;
  h->p = weft_future_retain(f);
  if (!weft__future_add_hook(dep, h)) {
    free(h);
    weft_future_release(f);
    input_done(f, dep);
  }
}

void weft__future_start(weft_future *f) {
  /* drops the setup's hold: as if one more input had finished well */
  if (atomic_fetch_sub_explicit(&f->pending, 1, memory_order_acq_rel) == 1) {
    uint32_t s = WEFT__FS_PENDING;
    if (atomic_compare_exchange_strong(&f->state, &s, WEFT__FS_QUEUED)) {
      weft_future_retain(f);
      weft__pool_push(f->io && f->c->has_io ? &f->c->io : &f->c->cpu,
                      &f->job);
    }
  }
}

void weft__future_fail_setup(weft_future *f, int rc, const char *fmt, ...) {
  if (!claim(f, WEFT__FS_PENDING))
    return;
  va_list ap;
  va_start(ap, fmt);
  char buf[1024];
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  f->rc = rc;
  f->msg = strdup(buf);
  finish(f, rc == WEFT_ECANCELED ? WEFT__FS_CANCELLED : WEFT__FS_ERROR);
}

/* ---- running ---- */

static _Thread_local weft_future *running_future;
static _Thread_local weft_task_ctx *running_ctx;

bool weft_task_cancelled(const weft_task_ctx *ctx) {
  weft_future *f = running_future;
  if (!f || !ctx || ctx != running_ctx)
    return false;
  return atomic_load(&f->state) == WEFT__FS_CANCELLED ||
         atomic_load(&f->c->closing);
}

static void run_future(weft__job *j) {
  weft_future *f = (weft_future *)j;
  uint32_t s = WEFT__FS_QUEUED;
  if (!atomic_compare_exchange_strong(&f->state, &s, WEFT__FS_RUNNING)) {
    weft_future_release(f); /* cancelled while queued: never starts */
    return;
  }
  weft_client *c = f->c;
  if (atomic_load(&c->closing)) {
    if (claim(f, WEFT__FS_RUNNING)) {
      f->rc = WEFT_ECANCELED;
      set_msg(f, "the client was closed before the task started");
      finish(f, WEFT__FS_CANCELLED);
    }
    weft_future_release(f);
    return;
  }
  weft_value small[8];
  weft_value *argv = f->nargs <= 8 ? small : malloc(f->nargs * sizeof *argv);
  int rc;
  weft_value out = weft_none();
  weft_task_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.fn = f->fn;
  ctx.task = (uint32_t)f->id;
  ctx.worker = weft__pool_worker();
  ctx.key = f->key;
  if (!argv) {
    rc = WEFT_ENOMEM;
  } else {
    for (uint32_t k = 0; k < f->nargs; k++)
      argv[k] = f->args[k].type == WEFT__T_FUTURE
                    ? ((weft_future *)(void *)f->args[k].as.obj)->result
                    : f->args[k];
    weft_task_ctx *prev_ctx = weft_task_current();
    weft_future *prev_f = running_future;
    weft_task_ctx *prev_rctx = running_ctx;
    running_future = f;
    running_ctx = &ctx;
    weft__task_set_current(&ctx);
    rc = f->fn->fn(&ctx, argv, f->nargs, &out);
    weft__task_set_current(prev_ctx);
    running_future = prev_f;
    running_ctx = prev_rctx;
    if (argv != small)
      free(argv);
  }
  if (rc || ctx.failed) {
    weft_value_release(&out);
    if (claim(f, WEFT__FS_RUNNING)) {
      char key[256];
      weft_future_key(f, key, sizeof key);
      f->rc = rc == WEFT_ETASK || rc > 0 || !rc ? WEFT_ETASK : rc;
      set_msg(f, "task '%s' (%s) failed: %s", key, f->fn->name,
              ctx.message ? ctx.message : weft_strerror(rc ? rc : WEFT_ETASK));
      finish(f, WEFT__FS_ERROR);
    }
    free(ctx.message);
  } else if (atomic_load(&c->closing)) {
    weft_value_release(&out);
    if (claim(f, WEFT__FS_RUNNING)) {
      f->rc = WEFT_ECANCELED;
      set_msg(f, "the client was closed while the task ran");
      finish(f, WEFT__FS_CANCELLED);
    }
  } else if (claim(f, WEFT__FS_RUNNING)) {
    f->result = out;
    finish(f, WEFT__FS_DONE);
  } else {
    weft_value_release(&out); /* cancelled while running: dropped */
  }
  release_args(f); /* inputs are no longer needed */
  weft_future_release(f);
}

/* ---- submitting ---- */

static weft_future *submit(weft_client *c, const weft_fn_info *fn,
                           size_t nargs, const weft_value *args, bool io) {
  if (!c || (nargs && !args)) {
    for (size_t i = 0; c && args && i < nargs; i++)
      if (args[i].type != WEFT__T_FUTURE) {
        weft_value v = args[i];
        weft_value_release(&v);
      }
    return NULL;
  }
  weft_future *f = weft__future_alloc(c, fn, nargs, io);
  if (!f) {
    for (size_t i = 0; i < nargs; i++)
      if (args[i].type != WEFT__T_FUTURE) {
        weft_value v = args[i];
        weft_value_release(&v);
      }
    return NULL;
  }
  size_t foreign = 0;
  for (size_t i = 0; i < nargs; i++) {
    if (args[i].type == WEFT__T_FUTURE) {
      weft_future *d = (weft_future *)(void *)args[i].as.obj;
      if (!d || d->c != c) {
        if (!foreign)
          foreign = i + 1;
        continue;
      }
      weft_future_retain(d);
    }
    f->args[i] = args[i];
  }
  const char *name = fn ? fn->name : "?";
  if (!fn)
    weft__future_fail_setup(f, WEFT_EINVAL, "weft_submit: NULL function");
  else if (fn->arity >= 0 && (size_t)fn->arity != nargs)
    weft__future_fail_setup(f, WEFT_EARITY,
                            "weft_submit(%s): takes %d argument%s, %zu given",
                            name, fn->arity, fn->arity == 1 ? "" : "s", nargs);
  else if (foreign)
    weft__future_fail_setup(f, WEFT_EINVAL,
                            "weft_submit(%s): argument %zu is %s", name,
                            foreign,
                            args[foreign - 1].as.obj
                                ? "a future of another client"
                                : "a NULL future");
  else if (atomic_load(&c->closing))
    weft__future_fail_setup(f, WEFT_ECANCELED,
                            "weft_submit(%s): the client is closed", name);
  else
    for (size_t i = 0; i < nargs; i++)
      if (f->args[i].type == WEFT__T_FUTURE)
        weft__future_add_input(f, (weft_future *)(void *)f->args[i].as.obj);
  weft__future_start(f);
  return f;
}

weft_future *weft_submit_fn(weft_client *c, const weft_fn_info *fn,
                            size_t nargs, const weft_value *args) {
  return submit(c, fn, nargs, args, false);
}

weft_future *weft_submit_io_fn(weft_client *c, const weft_fn_info *fn,
                               size_t nargs, const weft_value *args) {
  return submit(c, fn, nargs, args, true);
}

/* ---- looking at a future ---- */

weft_future_state weft_future_get_state(const weft_future *f) {
  if (!f)
    return WEFT_FUTURE_CANCELLED;
  switch (atomic_load(&((weft_future *)f)->state)) {
  case WEFT__FS_RUNNING:
  case WEFT__FS_FINISHING:
    return WEFT_FUTURE_RUNNING;
  case WEFT__FS_DONE:
    return WEFT_FUTURE_FINISHED;
  case WEFT__FS_ERROR:
    return WEFT_FUTURE_ERROR;
  case WEFT__FS_CANCELLED:
    return WEFT_FUTURE_CANCELLED;
  default:
    return WEFT_FUTURE_PENDING;
  }
}

bool weft_future_done(const weft_future *f) {
  return !f || weft__fs_terminal(atomic_load(&((weft_future *)f)->state));
}

size_t weft_future_key(const weft_future *f, char *buf, size_t size) {
  int n;
  if (!f)
    n = snprintf(buf, size, "%s", "");
  else if (f->key)
    n = snprintf(buf, size, "%s", f->key);
  else {
    const char *fn = f->fn ? f->fn->name : "future";
    n = snprintf(buf, size, "%s-%llu", strncmp(fn, "weft.", 5) ? fn : fn + 5,
                 (unsigned long long)f->id);
  }
  return n < 0 ? 0 : (size_t)n;
}

weft_client *weft_future_client(const weft_future *f) {
  return f ? f->c : NULL;
}

int weft_future_status(const weft_future *f) {
  if (!f)
    return WEFT_EINVAL;
  switch (atomic_load(&((weft_future *)f)->state)) {
  case WEFT__FS_DONE:
    return 0;
  case WEFT__FS_ERROR:
    return f->rc ? f->rc : WEFT_ETASK;
  case WEFT__FS_CANCELLED:
    return WEFT_ECANCELED;
  default:
    return 1;
  }
}

const char *weft_future_error(const weft_future *f) {
  if (!f)
    return "NULL future";
  uint32_t s = atomic_load(&((weft_future *)f)->state);
  if (s == WEFT__FS_ERROR || s == WEFT__FS_CANCELLED)
    return f->msg ? f->msg
                  : s == WEFT__FS_CANCELLED ? "cancelled"
                                            : weft_strerror(f->rc);
  return "";
}

int weft_cancel(weft_future *f) {
  if (!f)
    return WEFT_EINVAL;
  if (!claim_any(f)) {
    while (!weft__fs_terminal(atomic_load(&f->state)))
      sched_yield(); /* being finished by someone else: a moment */
    return 1;
  }
  char key[256];
  weft_future_key(f, key, sizeof key);
  f->rc = WEFT_ECANCELED;
  set_msg(f, "future '%s' was cancelled", key);
  finish(f, WEFT__FS_CANCELLED);
  return 0;
}

/* ---- callbacks ---- */

typedef struct cbjob {
  weft__job job;
  weft__hook hook;
  weft_future *f;
  weft_future_cb cb;
  void *ud;
} cbjob;

static void run_cb(weft__job *j) {
  cbjob *cj = (cbjob *)j;
  cj->cb(cj->f, cj->ud);
  weft_future_release(cj->f);
  free(cj);
}

int weft_future_then(weft_future *f, weft_future_cb cb, void *ud) {
  if (!f || !cb)
    return WEFT_EINVAL;
  cbjob *cj = malloc(sizeof *cj);
  if (!cj)
    return WEFT_ENOMEM;
  cj->job.run = run_cb;
  cj->hook.kind = WEFT__HOOK_CB;
  cj->hook.p = &cj->job;
  cj->f = weft_future_retain(f);
  cj->cb = cb;
  cj->ud = ud;
  if (!weft__future_add_hook(f, &cj->hook))
    weft__pool_push(&f->c->cpu, &cj->job);
  return 0;
}

/* ---- waiting ---- */

static uint64_t deadline_of(double timeout_s) {
  if (timeout_s < 0)
    return UINT64_MAX;
  double ns = timeout_s * 1e9;
  uint64_t now = weft__client_now_ns();
  return ns >= (double)(UINT64_MAX - now) ? UINT64_MAX : now + (uint64_t)ns;
}

static void sleep_until(weft_client *c, uint64_t until) {
  struct timespec ts;
  ts.tv_sec = (time_t)(until / 1000000000ull);
  ts.tv_nsec = (long)(until % 1000000000ull);
  pthread_cond_timedwait(&c->wait_cv, &c->wait_mu, &ts);
}

typedef bool (*ready_fn)(weft_future *const *fs, size_t n, size_t *from,
                         weft_wait_mode mode);

static bool ready(weft_future *const *fs, size_t n, size_t *from,
                  weft_wait_mode mode) {
  if (mode == WEFT_WAIT_ALL) {
    while (*from < n && weft__fs_terminal(atomic_load(&fs[*from]->state)))
      (*from)++;
    return *from == n;
  }
  bool all = true;
  for (size_t i = 0; i < n; i++) {
    uint32_t s = atomic_load(&fs[i]->state);
    if (!weft__fs_terminal(s))
      all = false;
    else if (mode == WEFT_WAIT_FIRST || s != WEFT__FS_DONE)
      return true;
  }
  return all;
}

/* The wait of weft_wait and weft_future_result: 0 or WEFT_ETIMEDOUT. */
static int wait_for(weft_future *const *fs, size_t n, weft_wait_mode mode,
                    double timeout_s) {
  size_t from = 0;
  if (n == 0 || ready(fs, n, &from, mode))
    return 0;
  if (timeout_s == 0)
    return WEFT_ETIMEDOUT;
  uint64_t deadline = deadline_of(timeout_s);
  weft_client *c = fs[0]->c;
  weft__pool *own = weft__pool_current();
  bool help = own != NULL;
  if (!help)
    for (int s = 0; s < WEFT__WAIT_SPIN; s++) {
      if (ready(fs, n, &from, mode))
        return 0;
      cpu_relax();
    }
  for (;;) {
    if (help)
      while (weft__pool_help(own))
        if (ready(fs, n, &from, mode))
          return 0;
    /* one future at a time for ALL; every one for the others */
    size_t lo = mode == WEFT_WAIT_ALL ? from : 0;
    size_t hi = mode == WEFT_WAIT_ALL ? from + 1 : n;
    for (size_t i = lo; i < hi; i++)
      atomic_fetch_add(&fs[i]->waiters, 1);
    pthread_mutex_lock(&c->wait_mu);
    bool ok = ready(fs, n, &from, mode);
    if (!ok) {
      uint64_t now = weft__client_now_ns();
      /* pool threads come back to help; futures of several clients are
       * looked at again now and then (another client signals elsewhere) */
      uint64_t slice = help ? 1000000ull : 50000000ull;
      uint64_t until = deadline - now > slice ? now + slice : deadline;
      if (now < deadline)
        sleep_until(c, until);
      ok = ready(fs, n, &from, mode);
    }
    pthread_mutex_unlock(&c->wait_mu);
    for (size_t i = lo; i < hi; i++)
      atomic_fetch_sub(&fs[i]->waiters, 1);
    if (ok)
      return 0;
    if (weft__client_now_ns() >= deadline)
      return WEFT_ETIMEDOUT;
  }
}

int weft_future_result(weft_future *f, weft_value *out, double timeout_s) {
  if (out)
    *out = weft_none();
  if (!f || !out || isnan(timeout_s)) /* NaN: no time at all */
    return WEFT_EINVAL;
  int rc = wait_for(&f, 1, WEFT_WAIT_ALL, timeout_s);
  if (rc)
    return rc;
  rc = weft_future_status(f);
  if (rc == 0)
    *out = weft_value_retain(&f->result);
  return rc;
}

int weft_wait(size_t n, weft_future *const futs[], double timeout_s,
              weft_wait_mode mode) {
  if ((n && !futs) || isnan(timeout_s))
    return WEFT_EINVAL;
  if (mode != WEFT_WAIT_ALL && mode != WEFT_WAIT_FIRST &&
      mode != WEFT_WAIT_FIRST_ERROR)
    return WEFT_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (!futs[i])
      return WEFT_EINVAL;
  return wait_for(futs, n, mode, timeout_s);
}

int weft_gather(size_t n, weft_future *const futs[], weft_value outs[],
                size_t *bad) {
  if (n && (!futs || !outs))
    return WEFT_EINVAL;
  for (size_t i = 0; i < n; i++) {
    outs[i] = weft_none();
    if (!futs[i])
      return WEFT_EINVAL;
  }
  int rc = wait_for(futs, n, WEFT_WAIT_ALL, -1);
  for (size_t i = 0; !rc && i < n; i++) {
    rc = weft_future_status(futs[i]);
    if (rc && bad)
      *bad = i;
  }
  if (rc)
    return rc;
  for (size_t i = 0; i < n; i++)
    outs[i] = weft_value_retain(&futs[i]->result);
  return 0;
}
