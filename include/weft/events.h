/* weft/events.h - the one event stream that every scheduler publishes.
 *
 * Schedulers report what they do (a compute begins, a task starts, ends or
 * fails, a compute ends) to listeners; the progress bar, the trace file and
 * the dashboard are listeners. Publishing costs nothing when no listener is
 * attached. Listeners are called on worker threads, concurrently: they must
 * be thread-safe and quick, and must not call back into the running compute. */
#ifndef WEFT_EVENTS_H
#define WEFT_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "fn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum weft_event_kind {
  WEFT_EV_COMPUTE_BEGIN, /* ntasks = tasks that will run, workers set */
  WEFT_EV_TASK_START,
  WEFT_EV_TASK_END,
  WEFT_EV_TASK_FAIL,     /* status and message set */
  WEFT_EV_COMPUTE_END,   /* status set */
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
                               its task start is when it is sent there */
  uint32_t task;            /* node index in the graph */
  const weft_fn_info *fn;   /* task events: the task's function */
  uint64_t time_ns;         /* CLOCK_MONOTONIC */
  size_t ntasks;            /* COMPUTE_BEGIN */
  int workers;              /* COMPUTE_BEGIN */
  const char *scheduler;    /* COMPUTE_BEGIN: "sync", "threads", ... */
  int status;               /* TASK_FAIL, COMPUTE_END: 0 or WEFT_E* */
  const char *message;      /* TASK_FAIL, failed COMPUTE_END; else NULL */
} weft_event;

typedef void (*weft_event_fn)(const weft_event *ev, void *ud);

typedef struct weft_listener {
  weft_event_fn fn;
  void *ud;
  const struct weft_listener *next; /* further listeners, or NULL */
} weft_listener;

const char *weft_event_kind_name(weft_event_kind kind);
uint64_t weft_now_ns(void); /* CLOCK_MONOTONIC in nanoseconds */

#ifdef __cplusplus
}
#endif
#endif
