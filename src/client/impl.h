/* impl.h - the client's inner parts, shared by its files: the job pools
 * (pool.c), futures (future.c), the as_completed iterator, graphs through
 * the client (client.c) and streams (stream*.c). Internal.
 *
 * A pool is a FIFO of jobs under one mutex, served by threads that spin a
 * little before they sleep on a condition variable (so a burst of tiny
 * futures does not pay a wake-up each). Futures are jobs; so are the
 * callbacks of weft_future_then and the steps of streams. */
#ifndef WEFT_CLIENT_IMPL_H
#define WEFT_CLIENT_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "weft/client.h"
#include "weft/stream.h"

#define WEFT__T_FUTURE 70 /* weft_future_arg's tag */

struct weft__pool;
typedef struct weft__job {
  struct weft__job *next;
  void (*run)(struct weft__job *j);
} weft__job;

typedef struct weft__pool {
  struct weft_client *c;
  const char *name;
  int max;             /* threads at most */
  int nthreads;        /* started */
  bool lazy;           /* start threads as work waits */
  pthread_t *threads;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  weft__job *head, *tail;
  _Atomic size_t len;  /* jobs queued (read without the lock to spin) */
  int sleepers;
  int wakes;           /* sleepers signalled that have not woken yet */
  _Atomic int active;  /* threads inside a job */
  _Atomic int spinners; /* threads spinning for the next job (0 or 1) */
  _Atomic int next_worker; /* ids of the threads: worker_base + k */
  int worker_base;
  bool stopping;       /* close: leave once nothing is queued or running */
  bool stopped;        /* threads gone: jobs run in the caller */
  _Atomic int stop_flag; /* stopping, readable without the lock */
} weft__pool;

int weft__pool_init(weft__pool *p, struct weft_client *c, const char *name,
                    int max, bool lazy);
/* Queues j (runs it in the caller when the pool has stopped). */
void weft__pool_push(weft__pool *p, weft__job *j);
/* Runs one queued job in the caller; false when none was queued. */
bool weft__pool_help(weft__pool *p);
/* Stops the threads once every job queued (and every job those queue) has
 * run, and joins them. */
void weft__pool_stop(weft__pool *p);
void weft__pool_destroy(weft__pool *p);
/* The pool whose thread is calling, or NULL; and that thread's worker id
 * (-1 outside the pools). */
weft__pool *weft__pool_current(void);
int weft__pool_worker(void);

typedef struct weft__persisted {
  struct weft__persisted *next;
  char *key;
  weft_future *f;
} weft__persisted;

struct weft_client {
  /* read by every task: apart from the counters submitters write */
  _Atomic int closing;
  int workers, io_max;
  weft_scheduler scheduler;
  bool has_io;
  _Alignas(64) _Atomic int32_t refs; /* the user's + one per live future */
  _Atomic uint64_t next_id;
  _Alignas(64) weft__pool cpu;
  _Alignas(64) weft__pool io;
  /* blocking waits on futures */
  pthread_mutex_t wait_mu;
  pthread_cond_t wait_cv;
  /* executor / procs pool for whole-graph computes, persisted futures */
  pthread_mutex_t mu;
  weft_executor *ex;
  weft_procs *procs;
  weft__persisted *persisted;
  struct weft__stream_world *streams;
  struct weft_dash *dash; /* weft_client_opts.dashboard, or NULL */
};

void weft__client_unref(weft_client *c);

/* ---- futures ---- */

enum {
  WEFT__FS_PENDING = 0, /* inputs not ready */
  WEFT__FS_QUEUED,
  WEFT__FS_RUNNING,
  WEFT__FS_FINISHING,   /* claimed by the one who finishes it */
  WEFT__FS_DONE,        /* terminal states from here */
  WEFT__FS_ERROR,
  WEFT__FS_CANCELLED
};

typedef struct weft__hook {
  struct weft__hook *next;
  int kind;             /* WEFT__HOOK_* */
  void *p;
  weft_future *from;    /* set by the finisher: whose hook it is */
} weft__hook;
enum { WEFT__HOOK_CHILD = 1, WEFT__HOOK_CB, WEFT__HOOK_AC };

struct weft_future {
  weft__job job; /* queued: the run */
  _Atomic int32_t refs;
  _Atomic uint32_t state;
  _Atomic int32_t pending; /* inputs not finished, +1 while being set up */
  _Atomic uint32_t waiters;
  _Atomic int lock;        /* guards hooks and the move to a terminal state */
  bool io;
  weft_client *c;
  const weft_fn_info *fn;
  uint64_t id;
  char *key;               /* NULL: "<function>-<id>" */
  weft__hook *hooks;
  weft_value result;
  int rc;
  char *msg;
  uint32_t nargs;
  weft_value args[];       /* future arguments: WEFT__T_FUTURE, reference held */
};

static inline bool weft__fs_terminal(uint32_t s) { return s >= WEFT__FS_DONE; }

/* A future that waits for its inputs (nargs slots to fill in args, then
 * weft__future_start). fn may be NULL for internal uses. */
weft_future *weft__future_alloc(weft_client *c, const weft_fn_info *fn,
                                size_t nargs, bool io);
/* Makes f wait for dep (a reference is taken on dep when it is stored in
 * an argument by the caller; this only registers f to be told). */
void weft__future_add_input(weft_future *f, weft_future *dep);
/* Ends the setup: queues f when its inputs are ready. */
void weft__future_start(weft_future *f);
/* Fails a future being set up, with a message (it never runs). */
void weft__future_fail_setup(weft_future *f, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Registers hook h; false when f is already done (h not added). */
bool weft__future_add_hook(weft_future *f, weft__hook *h);

/* ---- as_completed: the hook side ---- */
void weft__ac_notify(struct weft_as_completed *ac, weft_future *f);

/* ---- streams: stopped, then freed, by weft_client_close ---- */
void weft__streams_close(weft_client *c); /* sources and timers stop */
void weft__streams_free(weft_client *c);  /* after the pools stopped */

/* Monotonic nanoseconds. */
uint64_t weft__client_now_ns(void);

#endif
