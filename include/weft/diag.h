/* weft/diag.h - watching a computation: a progress bar, a trace file, a
 * profile, and a task-stream picture; Dask's ProgressBar, task stream and
 * Profiler, joblib's verbose.
 *
 * Each is a listener of the event stream (weft/events.h) that every
 * scheduler and weft_map publish: make one, put its listener in
 * weft_compute_opts.listener (or weft_map_opts.listener), compute, read it.
 * Listeners chain (weft_listener.next), so one compute can feed several.
 * The quick way needs no code: WEFT_PROGRESS=1, WEFT_TRACE=file.json and
 * WEFT_PROFILE=1 in the environment (or the progress / trace / profile
 * fields of the options) attach them to every compute (and weft_map call)
 * of the program that does not run inside a task: a bar for computes
 * longer than 0.2 s; the trace written to the file after each compute
 * ("%n" in the name: a number per compute, so that several computes do not
 * overwrite one file), with, for a name ending in .json, the task stream
 * beside it (file.svg); the profile table printed on stderr.
 *
 *   weft_trace *t;  weft_trace_new(&t);
 *   weft_compute_opts o;  weft_compute_opts_init(&o);
 *   o.listener = weft_trace_listener(t);
 *   weft_compute(g, WEFT_NODES(z), WEFT_OUT(&zv), &o);
 *   weft_trace_write(t, "trace.json", NULL, 0); // Perfetto, chrome://tracing
 *   weft_trace_svg(t, "stream.svg", NULL, 0);   // the task stream
 *   weft_trace_free(t);
 *
 * Thread-safety: a listener object may serve one compute at a time (events
 * of a second compute running at the same time on another graph are left
 * out); read or write it once that compute has returned. */
#ifndef WEFT_DIAG_H
#define WEFT_DIAG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "events.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- progress bar ---- */

typedef struct weft_progress weft_progress;

typedef struct weft_progress_opts {
  int fd;            /* where to draw; default 2 (stderr) */
  int tty;           /* -1 (default): isatty(fd); 1: draw a bar redrawn in
                        place; 0: plain lines */
  double interval_s; /* between redraws; 0: 0.1 s on a terminal, 5 s in
                        plain lines */
  int width;         /* bar width in characters; 0: 30 */
  double min_s;      /* draw nothing for a compute shorter than this
                        (Dask's `minimum`); 0 (default): draw every one.
                        WEFT_PROGRESS=1 uses 0.2 s */
} weft_progress_opts;

void weft_progress_opts_init(weft_progress_opts *opts);

/* A progress bar. Its own thread redraws it (never a worker) from the
 * first COMPUTE_BEGIN / MAP_BEGIN to the matching end, then it writes a
 * final line; on a terminal
 *   [#########           ] 45% | 3,600/8,000 tasks | 1.2 s | ~1.5 s left
 * (weft_map counts items instead of tasks; failures and cancelled tasks
 * show), elsewhere one such plain line every interval and a last one.
 * 0, WEFT_EINVAL (NULL out, bad option), WEFT_ENOMEM. */
int weft_progress_new(const weft_progress_opts *opts, weft_progress **out);
const weft_listener *weft_progress_listener(weft_progress *p);
void weft_progress_free(weft_progress *p);

/* ---- trace ---- */

typedef struct weft_trace weft_trace;

/* A recorder of every task (worker, function, key, start, end, bytes),
 * of failures, retries, cancellations and worker starts and deaths, over
 * any number of computes. On the sync and threads schedulers, when no
 * other listener wants task ends, tasks under a microsecond are timed in
 * groups of up to 64 (weft_trace_task.group; WEFT_TRACE_EXACT=1 in the
 * environment times each alone; docs/trace.md). 0, WEFT_EINVAL,
 * WEFT_ENOMEM. */
int weft_trace_new(weft_trace **out);
const weft_listener *weft_trace_listener(weft_trace *t);
void weft_trace_free(weft_trace *t);

/* One recorded task, as weft_trace_tasks gives them. */
typedef struct weft_trace_task {
  unsigned compute;          /* 1 for the trace's first compute, ... */
  int worker;                /* -1: run in the program (procs) */
  uint32_t task;             /* node index */
  const char *fn;            /* function name */
  const char *key;           /* the task's key */
  uint64_t start_ns, end_ns; /* from the trace's first event */
  uint64_t bytes;            /* size of the result */
  int failed;                /* nonzero: it failed (end = when) */
  unsigned group;            /* 1: timed alone; n > 1: one of n tasks in a
                                row on its worker, each under a
                                microsecond, timed together (one clock
                                reading for them all) and given an even
                                share of their time (docs/trace.md) */
} weft_trace_task;

/* The tasks recorded so far, by compute and worker, each in start order,
 * into a malloc'd array (free it with free(); strings belong to the
 * trace). 0, WEFT_EINVAL, WEFT_ENOMEM. */
int weft_trace_tasks(const weft_trace *t, weft_trace_task **tasks, size_t *n);

/* Writes the Chrome trace event JSON (docs/trace.md) to path: one process
 * per compute, one thread (track) per worker, one complete slice per task
 * named by its function with key, bytes and node in its arguments; failures,
 * retries, cancellations, worker starts and deaths as instant events. errbuf
 * (may be NULL) receives the reason of a failure. 0, WEFT_EINVAL, WEFT_EIO,
 * WEFT_ENOMEM. */
int weft_trace_write(const weft_trace *t, const char *path, char *errbuf,
                     size_t errsize);

/* Writes the task stream as SVG: one row per worker, a bar per task from
 * its start to its end, coloured by function, a legend and a time axis (Dask's
 * task stream). Tasks closer than a pixel with the same function merge into
 * one bar, so a million tasks make a picture of bounded size. Errors as
 * weft_trace_write. */
int weft_trace_svg(const weft_trace *t, const char *path, char *errbuf,
                   size_t errsize);

/* ---- profile ---- */

typedef struct weft_profile weft_profile;

typedef struct weft_profile_row {
  const char *fn;                /* function name (belongs to the profile);
                                    a weft_map's batch tasks: the map
                                    function, then the batch function in
                                    brackets: "factorize [weft.map.local]" */
  uint64_t calls;                /* tasks that ended */
  uint64_t failed;               /* tasks that failed */
  double total_s, mean_s, max_s; /* time in the function's tasks */
  uint64_t bytes;                /* results' bytes, added up */
  double share;                  /* total_s / (wall_s * workers) */
} weft_profile_row;

typedef struct weft_profile_worker {
  int worker; /* -1: tasks run in the program (procs) */
  uint64_t tasks;
  double busy_s;     /* time in tasks */
  double busy_share; /* busy_s / wall_s */
} weft_profile_worker;

typedef struct weft_profile_report {
  double wall_s; /* computes' wall time, added up */
  uint64_t tasks;
  unsigned computes;
  int workers;  /* most workers of one compute */
  size_t nrows; /* rows, by total time, biggest first */
  weft_profile_row *rows;
  size_t nworkers;
  weft_profile_worker *per_worker;
} weft_profile_report;

/* A per-function profile over any number of computes. */
int weft_profile_new(weft_profile **out);
const weft_listener *weft_profile_listener(weft_profile *p);
void weft_profile_free(weft_profile *p);
/* The numbers so far; release them with weft_profile_report_clear. 0,
 * WEFT_EINVAL, WEFT_ENOMEM. */
int weft_profile_get(const weft_profile *p, weft_profile_report *out);
void weft_profile_report_clear(weft_profile_report *r);
/* The table (function, calls, total, mean, max, bytes, share; then each
 * worker's busy time) printed to f. 0, WEFT_EINVAL, WEFT_ENOMEM, WEFT_EIO. */
int weft_profile_print(const weft_profile *p, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
