/* run.h - one compute in progress, as every scheduler sees it, and the
 * execution of one task (inlined into each scheduler's loop). Internal.
 *
 * Running a task: gather its arguments (an input is the producer's result,
 * read in place), call its function, store the result, release inputs whose
 * last consumer this was, and publish events if anyone listens. The
 * schedulers differ only in how they find the next ready task. */
#ifndef WEFT_SCHED_RUN_H
#define WEFT_SCHED_RUN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "../core/graph_impl.h"
#include "../core/task.h"
#include "../opt/plan.h"
#include "weft/compute.h"
#include "weft/events.h"

typedef struct weft__run {
  weft_graph *g;
  weft__node *nodes;
  const weft_value *args;
  const weft__edge *edges;
  weft__plan plan;
  const weft_listener *listener;
  uint32_t want;      /* kinds some listener wants (WEFT_EV_BIT) */
  uint8_t *fin;       /* with a listener: fin[i] once task i ended, failed
                         or was cancelled (the others are cancelled when
                         the compute fails) */
  const char *scheduler;
  int workers;
  _Atomic int32_t outputs_left;
  _Atomic int done;   /* every output computed */
  _Atomic int stop;   /* a task failed: take no more tasks */
  _Atomic int failed; /* claimed by the first failure */
  int status;         /* that failure's code */
  int task_code;      /* a task failed: the code its function returned */
  char msg[1024];     /* and its message */
} weft__run;

/* Per-worker scratch: the argument array of tasks with inputs. */
typedef struct weft__scratch {
  weft_value *args;
  size_t cap;
  uint64_t last_ns; /* with a listener: when this worker's last task ended,
                       the start of the next when it runs straight on; the
                       scheduler sets 0 when the worker goes idle */
} weft__scratch;

void weft__run_emit(const weft__run *r, weft_event_kind kind, int worker,
                    uint32_t task, int status, const char *message);
/* Records the failure of task i (first one wins) and stops the run: rc is
 * the compute's code (a scheduler's own trouble: out of memory, a value
 * that cannot be sent); a positive rc counts as WEFT_ETASK. */
void weft__run_fail(weft__run *r, weft_task_ctx *ctx, uint32_t i, int rc);
/* Task i's function failed with rc (WEFT_ETASK through weft_fail): the
 * compute returns WEFT_ETASK, whatever rc was, and keeps rc as the task's
 * own code (weft_graph_task_code), so a task returning WEFT_EINVAL is never
 * mistaken for a bad argument given to weft_compute. start_ns: when it
 * started (0: unknown). */
void weft__run_task_failed(weft__run *r, weft_task_ctx *ctx, uint32_t i,
                           int rc, uint64_t start_ns);
/* Publishes ev to the listeners that want its kind, the run's fields
 * (graph, scheduler, workers, ntasks) and, when 0, its time filled in. */
void weft__run_publish(const weft__run *r, weft_event *ev);
/* Task i starts on `worker`: TASK_START when a listener wants it; returns
 * the start time. Task i ended (its result in its node): TASK_END with
 * both times and the result's size. */
uint64_t weft__run_begin(const weft__run *r, weft__scratch *sc, int worker,
                         uint32_t i);
void weft__run_end(const weft__run *r, weft__scratch *sc, int worker,
                   uint32_t i, uint64_t start_ns);
int weft__scratch_grow(weft__scratch *s, size_t n);

static inline bool weft__run_needs(const weft__run *r, uint32_t i) {
  return weft__plan_needs(&r->plan, i);
}

extern const weft_value weft__no_args[1];

/* The arguments of task i: its argument slots, with each input replaced
 * by the producer's result (borrowed). NULL when out of memory. */
static inline const weft_value *weft__run_gather(weft__run *r,
                                                 weft__scratch *sc,
                                                 uint32_t i) {
  weft__node *n = &r->nodes[i];
  if (!n->nargs) /* a graph of such tasks may have no argument array */
    return weft__no_args;
  const weft_value *a = &r->args[n->argoff];
  if (!n->nrefs)
    return a;
  if (n->nargs > sc->cap && weft__scratch_grow(sc, n->nargs))
    return NULL;
  for (uint32_t k = 0; k < n->nargs; k++)
    sc->args[k] = a[k].type == WEFT__T_NODE
                      ? r->nodes[(uint32_t)a[k].as.i].result
                      : a[k];
  return sc->args;
}

/* Task i's result is in its node: releases the inputs it was the last
 * consumer of, sets the result's count of consumers, restores the node's
 * pending count for the next compute (no input will count it down again in
 * this one), and counts the outputs. Returns 0, or 1 when it was the last
 * output (run done). Does not touch the successors' pending counts: that is
 * the scheduler's part. */
static inline int weft__run_complete_in_place(weft__run *r, uint32_t i) {
  weft__node *n = &r->nodes[i];
  if (n->nrefs)
    atomic_store_explicit(&n->pending, (int32_t)n->nrefs,
                          memory_order_relaxed);
  if (n->nrefs) {
    const weft_value *a = &r->args[n->argoff];
    for (uint32_t k = 0; k < n->nargs; k++) {
      if (a[k].type != WEFT__T_NODE)
        continue;
      weft__node *p = &r->nodes[(uint32_t)a[k].as.i];
      if (weft_value_is_obj(&p->result) &&
          atomic_fetch_sub_explicit(&p->consumers, 1, memory_order_acq_rel) ==
              1)
        weft_value_release(&p->result);
    }
  }
  if (weft_value_is_obj(&n->result)) {
    /* Heap results are freed when their last consumer has run. */
    int32_t c = (n->flags & WEFT__NF_OUTPUT) ? 1 : 0;
    WEFT__FOREACH_SUCC(r->nodes, r->edges, n, s, {
      if (weft__run_needs(r, s))
        c++;
    });
    atomic_store_explicit(&n->consumers, c, memory_order_relaxed);
    if (c == 0)
      weft_value_release(&n->result);
  }
  if (n->flags & WEFT__NF_OUTPUT) {
    n->flags |= WEFT__NF_OUTPUT_DONE;
    if (atomic_fetch_sub_explicit(&r->outputs_left, 1, memory_order_acq_rel) ==
        1) {
      atomic_store_explicit(&r->done, 1, memory_order_release);
      return 1;
    }
  }
  return 0;
}

/* Task i produced `out` (taken over): stores it, then as above. */
static inline int weft__run_complete(weft__run *r, uint32_t i,
                                     weft_value out) {
  r->nodes[i].result = out;
  return weft__run_complete_in_place(r, i);
}

/* Counts down successor s's inputs; true when it is now ready. A node with
 * a single input needs no atomic: its one producer is the only one to tell. */
static inline bool weft__run_ready(weft__run *r, uint32_t s) {
  weft__node *n = &r->nodes[s];
  return n->nrefs == 1 || atomic_fetch_sub_explicit(&n->pending, 1,
                                                    memory_order_acq_rel) == 1;
}

/* Runs task i in this thread. Returns 0, 1 when it was the last output
 * (the run is done), or -1 when it failed (recorded; the run is stopping). */
static inline int weft__run_task(weft__run *r, weft_task_ctx *ctx,
                                 weft__scratch *sc, uint32_t i) {
  weft__node *n = &r->nodes[i];
  ctx->task = i;
  ctx->fn = n->fn;
  const weft_value *argv = weft__run_gather(r, sc, i);
  if (__builtin_expect(!argv, 0)) {
    weft__run_fail(r, ctx, i, WEFT_ENOMEM);
    return -1;
  }
  uint64_t t0 = 0;
  if (r->listener)
    t0 = weft__run_begin(r, sc, ctx->worker, i);
  /* The task writes its result straight into the node: no 16-byte copy
   * that would stall on store forwarding. */
  n->result = weft_none();
  int rc = n->fn->fn(ctx, argv, n->nargs, &n->result);
  if (__builtin_expect(rc != 0 || ctx->failed, 0)) {
    weft_value_release(&n->result);
    sc->last_ns = 0;
    weft__run_task_failed(r, ctx, i, rc ? rc : WEFT_ETASK, t0);
    return -1;
  }
  if (r->listener)
    weft__run_end(r, sc, ctx->worker, i, t0);
  return weft__run_complete_in_place(r, i);
}

/* The schedulers, each given a prepared run. */
int weft__sched_sync(weft__run *r);
int weft__sched_threads(weft__run *r, weft_executor *ex);
struct weft__config;
int weft__sched_procs(weft__run *r, const struct weft__config *cfg,
                      const weft_compute_opts *opts);
/* Whether worker processes can be started here (sched/procs/sched.c). */
int weft__procs_available(void);

#endif
