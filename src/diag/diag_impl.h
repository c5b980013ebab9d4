/* diag_impl.h - what the listeners of src/diag share: the trace's records
 * (trace.c, read by taskstream.c and by the pictures in dot.c), colours by
 * function, JSON string output. Internal. */
#ifndef WEFT_DIAG_IMPL_H
#define WEFT_DIAG_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "clock.h"
#include "session.h"
#include "tlane.h"
#include "weft/diag.h"

typedef enum {
  WEFT__TR_TASK,   /* a task that ended: start..end */
  WEFT__TR_FAILED, /* a task that failed: start (or end)..end */
  WEFT__TR_RETRY,  /* instants: */
  WEFT__TR_CANCEL,
  WEFT__TR_WSTART,
  WEFT__TR_WLOST,
} weft__tr_kind;

/* A task as it is read back from a lane (weft__lane_next), or a rare
 * event (weft__tevt). */
typedef struct weft__trec {
  const weft_fn_info *fn;
  uint64_t start, end; /* absolute ns (CLOCK_MONOTONIC) */
  uint64_t bytes;
  uint32_t task;
  uint32_t kind;  /* WEFT__TR_TASK */
  uint32_t group; /* tasks timed together (tlane.h); 1: alone */
} weft__trec;

/* Anything else (failures, retries, cancellations, workers): rare. */
struct weft__tevt {
  weft__trec r; /* kind: a weft__tr_kind; start == end for an instant */
  int32_t signal, pid;
  char *msg; /* owned copy, or NULL */
};

typedef struct weft__tkey { /* a keyed node's key, copied at the end */
  uint32_t task;
  char *key;
} weft__tkey;

typedef struct weft__tcomp {
  unsigned id;
  const void *graph;
  char sched[16];
  int workers;
  int nlanes; /* workers x stride + 1: lane 0 is worker -1 (the
                 program), lane 1 + w x stride + thread worker w's */
  int stride; /* mpi: lanes per worker (one per thread of a rank); else 1 */
  weft__lane *lanes;
  weft__clock clk; /* turns the lanes' times into ns */
  bool direct;     /* the scheduler writes the lanes (weft__trace_sink) */
  uint64_t begin, end;
  int status;
  char *msg;
  bool ended;
  weft__tkey *keys; /* by task */
  size_t nkeys;
} weft__tcomp;

/* The worker of lane k (-1: the program's lane 0). */
static inline int weft__tcomp_worker(const weft__tcomp *c, int k) {
  return k ? (k - 1) / c->stride : -1;
}
/* Lane k's track name: "worker 2", "rank 2 / thread 1" (mpi), ... */
void weft__tcomp_lane_name(const weft__tcomp *c, int k, char *buf, size_t n);

struct weft_trace {
  weft_listener l;
  _Atomic(weft__tcomp *) active; /* the compute being recorded */
  weft__tcomp **comps;
  size_t ncomps, ccap;
  uint64_t t0; /* the first compute's begin */
  bool oom;
};

/* The kinds of event listener function fn needs: fewer than all for the
 * listeners of this folder (trace.c, profile.c, progress.c), every kind
 * for any other. */
void weft__trace_event(const weft_event *ev, void *ud);
void weft__profile_event(const weft_event *ev, void *ud);
void weft__progress_event(const weft_event *ev, void *ud);

/* Reading a lane's tasks in order: weft__lane_next fills *r (times in
 * ns) and returns true, or false at the end. */
typedef struct weft__lane_it {
  const weft__tchunk *ch;
  size_t i, big;
  uint64_t prev;
  uint64_t g0, g1; /* an open group's start and end */
  uint32_t gk, gn; /* the task of the group next read, its size */
} weft__lane_it;
void weft__lane_first(const weft__lane *l, weft__lane_it *it);
bool weft__lane_next(const weft__tcomp *c, const weft__lane *l,
                     weft__lane_it *it, weft__trec *r);

/* "#rrggbb" for a function name: a fixed palette, by a hash of the name,
 * so a function has the same colour in every picture. */
const char *weft__fn_colour(const char *name);
/* Writes s as a JSON string (quotes included), escaping what JSON needs and
 * replacing invalid UTF-8 by U+FFFD. */
void weft__json_str(FILE *f, const char *s);
/* Writes s escaped for XML text or attributes (invalid UTF-8 replaced). */
void weft__xml_str(FILE *f, const char *s);
/* The key of record r of compute c into buf. */
void weft__trec_key(const weft__tcomp *c, const weft__trec *r, char *buf,
                    size_t size);

#endif
