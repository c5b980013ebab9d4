/* task.h - what a running task sees (weft_task_ctx), shared by the
 * schedulers that run tasks and the functions tasks call back. Internal. */
#ifndef WEFT_CORE_TASK_H
#define WEFT_CORE_TASK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "weft/fn.h"
#include "weft/graph.h"

struct weft_task_ctx {
  const weft_graph *graph; /* NULL in a worker process (see key) */
  const weft_fn_info *fn;
  uint32_t task;  /* node index */
  int worker;
  bool failed;
  char *message;  /* malloc'd by weft_fail; first message wins */
  const char *key; /* graph NULL: the task's key if set, else NULL for
                    * the automatic "<function>-<index>" */
};

/* The calling thread's running task (set by the schedulers). */
void weft__task_set_current(weft_task_ctx *ctx);

/* Clears ctx's failure state before the next task. */
static inline void weft__task_reset(weft_task_ctx *ctx) {
  ctx->failed = false;
  ctx->message = NULL;
}

/* The reason to give for a task that failed with code rc and no message:
 * the code's text, or, for a code that is none of weft's (a positive
 * number, -9999...), what was wrong with it, written into buf. */
static inline const char *weft__task_code_text(int rc, char *buf, size_t size) {
  if (rc < 0 && strcmp(weft_err_name(rc), "WEFT_E?") != 0)
    return weft_strerror(rc);
  snprintf(buf, size,
           "its function returned %d, which is not a WEFT_E* code (a task "
           "returns 0, a negative WEFT_E* code or weft_fail(ctx, ...))",
           rc);
  return buf;
}

#endif
