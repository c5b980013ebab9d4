/* weft/events.h - the one event stream that every scheduler publishes.
 *
 * Schedulers (sync, threads, procs) and the parallel map report what they
 * do to listeners: a compute begins, a task is queued, starts, ends, fails,
 * is retried or cancelled, a worker starts or is lost, a map's items are
 * done, a compute ends. The progress bar, the trace file and the profile
 * (weft/diag.h) are listeners; a program may chain its own. Publishing
 * costs one test of a pointer when no listener is attached. Listeners are
 * called on worker threads, concurrently (procs: all on the thread that
 * called weft_compute): they must be thread-safe and quick, and must not
 * call back into the running compute. A listener that is slow slows the
 * compute down, never changes its results. */
#ifndef WEFT_EVENTS_H
#define WEFT_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "fn.h"

#ifdef __cplusplus
extern "C" {
#endif

struct weft_graph;

typedef enum weft_event_kind {
  WEFT_EV_COMPUTE_BEGIN, /* ntasks = tasks that will run, workers set */
  WEFT_EV_TASK_START,    /* a task starts on a worker */
  WEFT_EV_TASK_END,      /* it ended: start_ns, time_ns (end), bytes */
  WEFT_EV_TASK_FAIL,     /* status and message set; start_ns when known */
  WEFT_EV_COMPUTE_END,   /* status set */
  WEFT_EV_TASK_QUEUED,   /* procs: sent to a worker, queued behind the task
                            it is running (starts later: TASK_START) */
  WEFT_EV_TASK_RETRY,    /* procs: its worker died while it ran or waited;
                            it goes back to be run again. message: how the
                            worker died (e.g. "signal 9, Killed") */
  WEFT_EV_TASK_CANCEL,   /* the compute failed and this task, which it
                            needed, never finished: it was never started
                            (worker -1) or its worker was stopped (procs) */
  WEFT_EV_WORKER_START,  /* procs: a worker process takes part in the
                            compute (at its start, or once a replacement
                            is ready): pid */
  WEFT_EV_WORKER_LOST,   /* procs: a worker process died (pid; signal, or 0
                            with status = its exit status; message) */
  WEFT_EV_MAP_BEGIN,     /* weft_map / weft_map_reduce: items = number of
                            items, fn = the map function */
  WEFT_EV_MAP_ITEMS,     /* a batch of `items` items is done (worker) */
  WEFT_EV_MAP_END,       /* status set */
  WEFT_EV__COUNT
} weft_event_kind;

typedef struct weft_event {
  weft_event_kind kind;
  int worker;               /* worker id (0 to workers - 1); -1 for
                               compute-level events, and for the tasks the
                               procs scheduler runs in the program itself
                               rather than in a worker (literals, and the
                               unpacking of weft_map's batches); the mpi
                               scheduler: the rank (1 .. workers - 1),
                               its TASK_START is when the task is sent
                               there (groups mode: when it is known to
                               have run), its TASK_END's start_ns and
                               time_ns the run on the rank by rank 0's
                               clock (the end: the answer's arrival less
                               the time the rank held it; the start: that
                               less the run time) */
  uint32_t task;            /* node index in the graph */
  const weft_fn_info *fn;   /* task events: the task's function */
  uint64_t time_ns;         /* CLOCK_MONOTONIC (weft_now_ns); TASK_END: when
                               the task ended. Task times of the sync and
                               threads schedulers are read from the TSC
                               where it is trusted and converted (within a
                               microsecond of weft_now_ns at the compute's
                               start, a few ppm after; docs/trace.md) */
  size_t ntasks;            /* COMPUTE_BEGIN */
  int workers;              /* COMPUTE_BEGIN */
  const char *scheduler;    /* COMPUTE_BEGIN: "sync", "threads", ... */
  int status;               /* TASK_FAIL, COMPUTE_END, MAP_END: 0 or WEFT_E*;
                               WORKER_LOST: exit status (signal == 0) */
  const char *message;      /* TASK_FAIL, failed COMPUTE_END, TASK_RETRY,
                               WORKER_LOST; else NULL */
  /* Fields added with the diagnostics; 0 / NULL where not listed. */
  uint64_t start_ns;        /* TASK_END (and TASK_FAIL when known): when the
                               task started, same clock */
  uint64_t bytes;           /* TASK_END: size of the result in bytes
                               (weft_value_nbytes) */
  size_t items;             /* MAP_BEGIN: items of the call; MAP_ITEMS: items
                               that batch finished */
  int pid;                  /* WORKER_START, WORKER_LOST */
  int signal;               /* WORKER_LOST: the signal that ended it, or 0 */
  const struct weft_graph *graph; /* compute and task events: the graph
                               (weft_event_key names a task of it) */
  int thread;               /* task events of the mpi scheduler: the compute
                               thread of the rank (worker) that ran it, 0 ..
                               its threads - 1 (the trace's track per rank
                               and thread); 0 elsewhere */
} weft_event;

typedef void (*weft_event_fn)(const weft_event *ev, void *ud);

typedef struct weft_listener {
  weft_event_fn fn;
  void *ud;
  const struct weft_listener *next; /* further listeners, or NULL */
} weft_listener;

const char *weft_event_kind_name(weft_event_kind kind);
uint64_t weft_now_ns(void); /* CLOCK_MONOTONIC in nanoseconds */

/* The key of the event's task ("add-3", or the one set with
 * weft_node_set_key) into buf (always terminated). Call it from the
 * listener, while the compute runs. Returns 0, or WEFT_EINVAL for an event
 * without a task or graph, or a NULL/empty buffer. */
int weft_event_key(const weft_event *ev, char *buf, size_t size);

/* The size of a value in bytes, as events report it: 0 for none, 1 for a
 * bool, 8 for an int or double, the length of a string or bytes, a chunk's
 * element bytes, a list's items added up (nested lists too), 8 for a
 * pointer. */
uint64_t weft_value_nbytes(const weft_value *v);

#ifdef __cplusplus
}
#endif
#endif
