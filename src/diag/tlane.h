/* tlane.h - where the trace records a worker's tasks: a lane of 24-byte
 * slots in 1 MiB chunks (taken from a cache of chunks that earlier traces
 * gave back, so a program that traces computes one after another does not
 * fault in fresh pages for every task), written by one thread, and the
 * inline path through which the threads and sync schedulers append to it
 * directly (no event built, no listener called). Internal.
 *
 * A slot is a task's end (its start is the end of the slot before it on the
 * lane, as a worker that runs tasks back to back starts the next when the
 * last ended) or a mark: the start of the next task, when it did not start
 * at the previous end. Times are the compute's clock ticks (clock.h),
 * turned into nanoseconds when the trace is read or written.
 *
 * A slot with time 0 is a task timed with the ones after it: tasks shorter
 * than reading the clock is cheap for (run.h: under a microsecond each, on
 * average) are timed in groups of up to 64 consecutive tasks of one worker,
 * one clock reading per group; the group's time is shared out evenly among
 * them when read, and each says how many it was timed with. */
#ifndef WEFT_DIAG_TLANE_H
#define WEFT_DIAG_TLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/fn.h"

#define WEFT__TSLOT_MARK UINT32_MAX /* task of a mark */
#define WEFT__TSLOT_BIG UINT32_MAX  /* bytes: in the lane's big list */

typedef struct weft__tslot {
  uint64_t t; /* a task's end, or (mark) the next task's start */
  const weft_fn_info *fn;
  uint32_t task;  /* node, or WEFT__TSLOT_MARK */
  uint32_t bytes; /* the result's size, or WEFT__TSLOT_BIG */
} weft__tslot;

typedef struct weft__tchunk {
  struct weft__tchunk *next;
  size_t n; /* slots used (set when the next chunk is started or sealed) */
  weft__tslot s[];
} weft__tchunk;

typedef struct weft__tevt weft__tevt;

/* The records of one worker in one compute; written by one thread at a
 * time (the worker's), read after the compute. */
typedef struct weft__lane {
  weft__tslot *cur, *end; /* free slots of the tail chunk */
  uint64_t last;          /* the last slot's time */
  size_t n;               /* tasks */
  weft__tchunk *head, *tail;
  uint64_t *big; /* sizes >= 4 GiB, in the order of their slots */
  size_t nbig, bigcap;
  weft__tevt *e; /* anything else (failures, retries, workers) */
  size_t ne, ecap;
  bool oom;
} __attribute__((aligned(64))) weft__lane;

/* Room for two more slots (a new chunk); false when out of memory (the
 * lane's oom is set and the task is not recorded). */
bool weft__lane_grow(weft__lane *l);
void weft__lane_big(weft__lane *l, uint64_t bytes);

/* The slot for the next task, after a start mark at t0 when t0 is not
 * where the lane's last task ended (room for both is checked by the
 * caller). */
static inline weft__tslot *weft__lane_mark(weft__lane *l, uint64_t t0) {
  weft__tslot *s = l->cur;
  if (t0 != l->last) {
    s->t = t0;
    s->fn = NULL;
    s->task = WEFT__TSLOT_MARK;
    s->bytes = 0;
    s++;
  }
  return s;
}

/* Task `task` of function fn ran from t0 to t1 with a result of `bytes`. */
static inline void weft__lane_put(weft__lane *l, const weft_fn_info *fn,
                                  uint32_t task, uint64_t t0, uint64_t t1,
                                  uint64_t bytes) {
  if (__builtin_expect(l->end - l->cur < 2, 0) && !weft__lane_grow(l))
    return;
  weft__tslot *s = weft__lane_mark(l, t0);
  s->t = t1;
  s->fn = fn;
  s->task = task;
  s->bytes = (uint32_t)bytes;
  if (__builtin_expect(bytes >= WEFT__TSLOT_BIG, 0)) {
    s->bytes = WEFT__TSLOT_BIG;
    weft__lane_big(l, bytes);
  }
  l->cur = s + 1;
  l->last = t1;
  l->n++;
}

/* The same for a task whose end is not read: it is timed with the next
 * ones (the lane's last time stays the group's start). */
static inline void weft__lane_put_untimed(weft__lane *l, const weft_fn_info *fn,
                                          uint32_t task, uint64_t t0,
                                          uint64_t bytes) {
  if (__builtin_expect(l->end - l->cur < 2, 0) && !weft__lane_grow(l))
    return;
  weft__tslot *s = weft__lane_mark(l, t0);
  l->last = t0;
  s->t = 0;
  s->fn = fn;
  s->task = task;
  s->bytes = (uint32_t)bytes;
  if (__builtin_expect(bytes >= WEFT__TSLOT_BIG, 0)) {
    s->bytes = WEFT__TSLOT_BIG;
    weft__lane_big(l, bytes);
  }
  l->cur = s + 1;
  l->n++;
}

/* Closes an open group: its last task ended at t1. */
static inline void weft__lane_close(weft__lane *l, uint64_t t1) {
  if (l->tail && l->cur > l->tail->s && l->cur[-1].t == 0 &&
      l->cur[-1].task != WEFT__TSLOT_MARK) {
    l->cur[-1].t = t1;
    l->last = t1;
  }
}

#endif
