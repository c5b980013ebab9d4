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
#include "../diag/clock.h"
#include "../diag/tlane.h"
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
  weft__clock clk;    /* with a listener: the clock tasks are timed by */
  weft__lane *sink;   /* a trace's lanes, written directly (tlane.h) */
  int nsink;          /* how many */
  const weft_listener *sink_l; /* that trace: no TASK_END published to it */
  bool want_end;      /* a listener other than sink_l wants TASK_END */
  bool group;         /* the trace alone times tasks: short ones in groups */
  uint64_t short_t;   /* under a microsecond, in clock ticks */
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
  uint64_t last_t; /* with a listener: when this worker's last task ended
                      (clock ticks), the start of the next when it runs
                      straight on; the scheduler sets 0 when the worker
                      goes idle */
  uint64_t gstart;  /* (r->group) the open group's start */
  uint32_t left;    /* tasks the open group still takes; 0: none open */
  uint32_t stride;  /* tasks of the next group (1 to WEFT__GROUP_MAX) */
} weft__scratch;

#define WEFT__GROUP_MAX 64

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
 * (graph, scheduler, workers, ntasks) and, when 0, its time filled in;
 * weft__run_publish_skip leaves out listener `skip`. */
void weft__run_publish(const weft__run *r, weft_event *ev);
void weft__run_publish_skip(const weft__run *r, weft_event *ev,
                            const weft_listener *skip);
/* TASK_START / TASK_END of task i (times in r->clk ticks) to the listeners
 * that want them (TASK_END: not to the trace that has its lanes). */
void weft__run_started(const weft__run *r, int worker, uint32_t i,
                       uint64_t t0);
void weft__run_ended(const weft__run *r, int worker, uint32_t i, uint64_t t0,
                     uint64_t t1, uint64_t bytes);
/* Records a failure of the compute with a message of the scheduler's own
 * (a dead worker or rank, a message that cannot be sent), the first one
 * winning as in weft__run_fail, and stops the run; task (UINT32_MAX: none)
 * gets a TASK_FAIL event on `worker`. */
void weft__run_failf(weft__run *r, uint32_t task, int worker, int status,
                     const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int weft__scratch_grow(weft__scratch *s, size_t n);

/* The size of a result as events report it (weft_value_nbytes), scalars
 * inline. */
static inline uint64_t weft__run_nbytes(const weft_value *v) {
  switch (v->type) {
  case WEFT_T_NONE:
    return 0;
  case WEFT_T_BOOL:
    return 1;
  case WEFT_T_INT:
  case WEFT_T_DOUBLE:
    return 8;
  default:
    return weft_value_nbytes(v);
  }
}

/* Task i starts on `worker`: its start time in ticks (a task that follows
 * another on the same worker starts when that one ended: one clock reading
 * per task; the scheduler's few nanoseconds between them count as this
 * task's), and TASK_START when a listener wants it. */
static inline uint64_t weft__run_begin(const weft__run *r, weft__scratch *sc,
                                       int worker, uint32_t i) {
  uint64_t t = sc->last_t ? sc->last_t : weft__ticks(&r->clk);
  if (__builtin_expect(r->want & (1u << WEFT_EV_TASK_START), 0))
    weft__run_started(r, worker, i, t);
  return t;
}

/* Task i ended (its result in its node): into the trace's lane when one
 * has it, TASK_END to the others that want it. When the trace alone
 * listens to task ends (r->group), tasks that take under a microsecond on
 * average are timed in groups (tlane.h): one clock reading per group of up
 * to 64, the group doubling while its tasks stay that short and falling to
 * 1 as soon as they do not. */
static inline void weft__run_end(const weft__run *r, weft__scratch *sc,
                                 int worker, uint32_t i, uint64_t t0) {
  const weft__node *n = &r->nodes[i];
  r->fin[i] = 1;
  if (r->group && (unsigned)(worker + 1) < (unsigned)r->nsink) {
    weft__lane *l = &r->sink[worker + 1];
    if (!sc->left) {
      sc->gstart = t0;
      sc->left = sc->stride ? sc->stride : 1;
    }
    if (--sc->left) {
      weft__lane_put_untimed(l, n->fn, i, t0, weft__run_nbytes(&n->result));
      return;
    }
    uint64_t t1 = weft__ticks(&r->clk);
    uint32_t k = sc->stride ? sc->stride : 1;
    weft__lane_put(l, n->fn, i, t0, t1, weft__run_nbytes(&n->result));
    sc->last_t = t1;
    sc->stride = t1 - sc->gstart < k * r->short_t
                     ? (k < WEFT__GROUP_MAX ? 2 * k : k)
                     : 1;
    return;
  }
  uint64_t t1 = weft__ticks(&r->clk);
  sc->last_t = t1;
  if (!r->sink && !r->want_end)
    return;
  uint64_t bytes = weft__run_nbytes(&n->result);
  if (r->sink && (unsigned)(worker + 1) < (unsigned)r->nsink)
    weft__lane_put(&r->sink[worker + 1], n->fn, i, t0, t1, bytes);
  if (r->want_end)
    weft__run_ended(r, worker, i, t0, t1, bytes);
}

/* The worker stops running tasks back to back (it goes looking for work,
 * or a task failed): an open group of timed tasks ends now; the next task
 * reads the clock afresh. Returns that time (0: no group was open). */
static inline uint64_t weft__run_pause(const weft__run *r, weft__scratch *sc,
                                       int worker) {
  uint64_t t = 0;
  if (sc->left && (unsigned)(worker + 1) < (unsigned)r->nsink) {
    t = weft__ticks(&r->clk);
    weft__lane_close(&r->sink[worker + 1], t);
  }
  sc->left = 0;
  sc->last_t = 0;
  return t;
}

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
    if (r->listener) { /* an open group ends here: the task starts then */
      uint64_t tg = weft__run_pause(r, sc, ctx->worker);
      t0 = tg ? tg : t0;
    }
    weft__run_task_failed(r, ctx, i, rc ? rc : WEFT_ETASK,
                          t0 ? weft__clock_ns(&r->clk, t0) : 0);
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
