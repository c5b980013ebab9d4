/* task.c - the calls a running task makes on its context: failing with a
 * message, and asking who and where it is. */
#include "task.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local weft_task_ctx *current_task;

void weft__task_set_current(weft_task_ctx *ctx) { current_task = ctx; }

weft_task_ctx *weft_task_current(void) { return current_task; }

int weft_fail(weft_task_ctx *ctx, const char *fmt, ...) {
  if (!ctx)
    return WEFT_ETASK;
  if (ctx->failed)
    return WEFT_ETASK;
  ctx->failed = true;
  if (!fmt)
    return WEFT_ETASK;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return WEFT_ETASK;
  char *msg = malloc((size_t)n + 1);
  if (!msg)
    return WEFT_ETASK; /* the failure stands; only its text is lost */
  va_start(ap, fmt);
  vsnprintf(msg, (size_t)n + 1, fmt, ap);
  va_end(ap);
  ctx->message = msg;
  return WEFT_ETASK;
}

/* WEFT_FAIL / WEFT_FAIL_NULL: weft_fail on the current task, then the value
 * a typed function returns (ignored: the task failed). */
static void fail_current(const char *fmt, va_list ap) {
  weft_task_ctx *ctx = current_task;
  if (!ctx || ctx->failed)
    return;
  va_list aq;
  va_copy(aq, ap);
  int n = vsnprintf(NULL, 0, fmt, aq);
  va_end(aq);
  char *msg = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (msg)
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
  weft_fail(ctx, msg ? "%s" : NULL, msg);
  free(msg);
}

int weft__fail0(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fail_current(fmt, ap);
  va_end(ap);
  return 0;
}

void *weft__fail_null(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fail_current(fmt, ap);
  va_end(ap);
  return NULL;
}

int weft_task_worker(const weft_task_ctx *ctx) { return ctx ? ctx->worker : -1; }

const weft_fn_info *weft_task_fn(const weft_task_ctx *ctx) {
  return ctx ? ctx->fn : NULL;
}

bool weft_task_failed(const weft_task_ctx *ctx) { return ctx && ctx->failed; }

size_t weft__graph_key_of(const weft_graph *g, uint32_t idx, char *buf,
                          size_t size);

size_t weft_task_key(const weft_task_ctx *ctx, char *buf, size_t size) {
  if (!ctx) {
    if (size)
      buf[0] = '\0';
    return 0;
  }
  if (!ctx->graph) { /* a task run by a worker process: no graph there */
    const char *fn = ctx->fn ? ctx->fn->name : "?";
    int n = ctx->key ? snprintf(buf, size, "%s", ctx->key)
                     : snprintf(buf, size, "%s-%u",
                                strncmp(fn, "weft.", 5) ? fn : fn + 5,
                                ctx->task);
    return n < 0 ? 0 : (size_t)n;
  }
  return weft__graph_key_of(ctx->graph, ctx->task, buf, size);
}
