/* run.c - the slow paths shared by every scheduler: recording a failure
 * with a message that names the task, and publishing events (to the
 * listeners that want their kind; a task's END carries its start time and
 * its result's size). */
#include "run.h"
#include "diag/session.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const weft_value weft__no_args[1];

int weft__scratch_grow(weft__scratch *s, size_t n) {
  size_t cap = s->cap ? s->cap : 16;
  while (cap < n)
    cap *= 2;
  weft_value *p = realloc(s->args, cap * sizeof *p);
  if (!p)
    return WEFT_ENOMEM;
  s->args = p;
  s->cap = cap;
  return 0;
}

void weft__run_publish_skip(const weft__run *r, weft_event *ev,
                            const weft_listener *skip) {
  if (!(r->want & WEFT_EV_BIT(ev->kind)))
    return;
  ev->graph = r->g;
  ev->ntasks = r->plan.ntasks;
  ev->workers = r->workers;
  ev->scheduler = r->scheduler;
  if (!ev->time_ns)
    ev->time_ns = weft_now_ns();
  if (r->fin && ev->fn &&
      (ev->kind == WEFT_EV_TASK_END || ev->kind == WEFT_EV_TASK_FAIL ||
       ev->kind == WEFT_EV_TASK_CANCEL))
    r->fin[ev->task] = 1;
  for (const weft_listener *l = r->listener; l; l = l->next)
    if (l != skip && l->fn &&
        (weft__diag_kinds(l->fn) & WEFT_EV_BIT(ev->kind)))
      l->fn(ev, l->ud);
}

void weft__run_publish(const weft__run *r, weft_event *ev) {
  weft__run_publish_skip(r, ev, NULL);
}

void weft__run_emit(const weft__run *r, weft_event_kind kind, int worker,
                    uint32_t task, int status, const char *message) {
  weft_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = kind;
  ev.worker = worker;
  ev.task = task;
  ev.fn = (kind == WEFT_EV_TASK_START || kind == WEFT_EV_TASK_END ||
           kind == WEFT_EV_TASK_FAIL || kind == WEFT_EV_TASK_QUEUED ||
           kind == WEFT_EV_TASK_RETRY || kind == WEFT_EV_TASK_CANCEL)
              ? r->nodes[task].fn
              : NULL;
  ev.status = status;
  ev.message = message;
  weft__run_publish(r, &ev);
}

void weft__run_started(const weft__run *r, int worker, uint32_t i,
                       uint64_t t0) {
  weft_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = WEFT_EV_TASK_START;
  ev.worker = worker;
  ev.task = i;
  ev.fn = r->nodes[i].fn;
  ev.time_ns = ev.start_ns = weft__clock_ns(&r->clk, t0);
  weft__run_publish(r, &ev);
}

void weft__run_ended(const weft__run *r, int worker, uint32_t i, uint64_t t0,
                     uint64_t t1, uint64_t bytes) {
  weft_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = WEFT_EV_TASK_END;
  ev.worker = worker;
  ev.task = i;
  ev.fn = r->nodes[i].fn;
  ev.time_ns = weft__clock_ns(&r->clk, t1);
  ev.start_ns = weft__clock_ns(&r->clk, t0);
  ev.bytes = bytes;
  weft__run_publish_skip(r, &ev, r->sink_l);
}

static void record(weft__run *r, weft_task_ctx *ctx, uint32_t i, int rc,
                   int status, uint64_t start_ns) {
  int expected = 0;
  if (atomic_compare_exchange_strong(&r->failed, &expected, 1)) {
    char key[256];
    weft__graph_key_of(r->g, i, key, sizeof key);
    char own[200];
    const char *why =
        ctx->message ? ctx->message : weft__task_code_text(rc, own, sizeof own);
    snprintf(r->msg, sizeof r->msg, "task '%s' (%s) failed: %s", key,
             r->nodes[i].fn->name, why);
    r->status = status;
    r->task_code = status == WEFT_ETASK ? (rc < 0 ? rc : WEFT_ETASK) : 0;
    if (r->listener) {
      weft_event ev;
      memset(&ev, 0, sizeof ev);
      ev.kind = WEFT_EV_TASK_FAIL;
      ev.worker = ctx->worker;
      ev.task = i;
      ev.fn = r->nodes[i].fn;
      ev.status = r->status;
      ev.message = r->msg;
      /* the clock the task's start was read by (ticks), so that a failed
       * task's slice meets the one before it on its worker */
      ev.time_ns = weft__clock_ns(&r->clk, weft__ticks(&r->clk));
      ev.start_ns = start_ns;
      weft__run_publish(r, &ev);
    }
  }
  free(ctx->message);
  weft__task_reset(ctx);
  atomic_store_explicit(&r->stop, 1, memory_order_release);
}

void weft__run_fail(weft__run *r, weft_task_ctx *ctx, uint32_t i, int rc) {
  record(r, ctx, i, rc, rc >= 0 || rc == WEFT_ETASK ? WEFT_ETASK : rc, 0);
}

void weft__run_task_failed(weft__run *r, weft_task_ctx *ctx, uint32_t i,
                           int rc, uint64_t start_ns) {
  record(r, ctx, i, rc, WEFT_ETASK, start_ns);
}

void weft__run_failf(weft__run *r, uint32_t task, int worker, int status,
                     const char *fmt, ...) {
  int expected = 0;
  if (atomic_compare_exchange_strong(&r->failed, &expected, 1)) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
    r->status = status;
    if (r->listener && task != UINT32_MAX)
      weft__run_emit(r, WEFT_EV_TASK_FAIL, worker, task, status, r->msg);
  }
  atomic_store_explicit(&r->stop, 1, memory_order_release);
}
