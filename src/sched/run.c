/* run.c - the slow paths shared by every scheduler: recording a failure
 * with a message that names the task, and publishing events. */
#include "run.h"

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

void weft__run_emit(const weft__run *r, weft_event_kind kind, int worker,
                    uint32_t task, int status, const char *message) {
  weft_event ev;
  memset(&ev, 0, sizeof ev);
  ev.kind = kind;
  ev.worker = worker;
  ev.task = task;
  ev.fn = (kind == WEFT_EV_TASK_START || kind == WEFT_EV_TASK_END ||
           kind == WEFT_EV_TASK_FAIL)
              ? r->nodes[task].fn
              : NULL;
  ev.time_ns = weft_now_ns();
  ev.ntasks = r->plan.ntasks;
  ev.workers = r->workers;
  ev.scheduler = r->scheduler;
  ev.status = status;
  ev.message = message;
  for (const weft_listener *l = r->listener; l; l = l->next)
    if (l->fn)
      l->fn(&ev, l->ud);
}

static void record(weft__run *r, weft_task_ctx *ctx, uint32_t i, int rc,
                   int status) {
  int expected = 0;
  if (atomic_compare_exchange_strong(&r->failed, &expected, 1)) {
    char key[256];
    weft__graph_key_of(r->g, i, key, sizeof key);
    const char *why = ctx->message ? ctx->message : weft_strerror(rc);
    snprintf(r->msg, sizeof r->msg, "task '%s' (%s) failed: %s", key,
             r->nodes[i].fn->name, why);
    r->status = status;
    r->task_code = status == WEFT_ETASK ? (rc < 0 ? rc : WEFT_ETASK) : 0;
    if (r->listener)
      weft__run_emit(r, WEFT_EV_TASK_FAIL, ctx->worker, i, r->status, r->msg);
  }
  free(ctx->message);
  weft__task_reset(ctx);
  atomic_store_explicit(&r->stop, 1, memory_order_release);
}

void weft__run_fail(weft__run *r, weft_task_ctx *ctx, uint32_t i, int rc) {
  record(r, ctx, i, rc, rc >= 0 || rc == WEFT_ETASK ? WEFT_ETASK : rc);
}

void weft__run_task_failed(weft__run *r, weft_task_ctx *ctx, uint32_t i,
                           int rc) {
  record(r, ctx, i, rc, WEFT_ETASK);
}
