/* task.h - what a running task sees (weft_task_ctx), shared by the
 * schedulers that run tasks and the functions tasks call back. Internal. */
#ifndef WEFT_CORE_TASK_H
#define WEFT_CORE_TASK_H

#include <stdbool.h>
#include <stdint.h>

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

#endif
