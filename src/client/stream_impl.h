/* stream_impl.h - the parts of a reactive stream shared by stream.c (the
 * plumbing: strands, sources, timers, flush) and stream_ops.c (what each
 * kind of step does with an item). Internal.
 *
 * Each step has WEFT__STRANDS strands. An item goes to the strand its key
 * hashes to: a FIFO served by at most one pool job at a time, which is what
 * keeps one key's items in order through a step while other keys run in
 * parallel, and lets per-key state live in the strand without a lock. */
#ifndef WEFT_CLIENT_STREAM_IMPL_H
#define WEFT_CLIENT_STREAM_IMPL_H

#include "impl.h"

#define WEFT__STRANDS 8

enum {
  WEFT__SK_SOURCE = 1,
  WEFT__SK_FD,
  WEFT__SK_MAP,
  WEFT__SK_FILTER,
  WEFT__SK_SCAN,
  WEFT__SK_ROLLING,
  WEFT__SK_KEYBY,
  WEFT__SK_THROTTLE,
  WEFT__SK_DEBOUNCE,
  WEFT__SK_MERGE,
  WEFT__SK_SINK,
  WEFT__SK_COLLECT
};

typedef struct weft__sitem {
  struct weft__sitem *next;
  uint64_t key;
  uint64_t t;       /* item time, monotonic ns */
  weft_value v;
  uint64_t tick;    /* debounce: a timer tick of this generation (v none) */
} weft__sitem;

/* A small open-addressing map key -> state, one per strand. */
typedef struct weft__kmap {
  uint64_t *keys;
  void **vals;
  size_t cap, n;
} weft__kmap;

typedef struct weft__strand {
  pthread_mutex_t mu;
  weft__sitem *head, *tail;
  bool scheduled;
  weft__job job;
  struct weft_stream *s;
  weft__kmap state; /* touched only by the strand's running job */
} weft__strand;

typedef struct weft__kids {
  struct weft__kids *old; /* the array this one replaced: freed at close */
  size_t n;
  struct weft_stream *s[];
} weft__kids;

struct weft_stream_collector {
  pthread_mutex_t mu;
  weft__sitem **items;
  size_t n, cap;
};

struct weft_stream {
  struct weft__stream_world *w;
  struct weft_stream *next_all; /* every step of the client */
  int kind;
  _Atomic(weft__kids *) kids;
  weft__strand strands[WEFT__STRANDS];
  /* parameters */
  void *fn;
  void *ud;
  weft_value init;
  size_t window;
  weft_roll_stat stat;
  uint64_t interval_ns;
  weft_stream_collector col;
  /* fd source */
  int fd;
  _Atomic int fd_done;
  int fd_rc;
  weft__job fd_job;
  /* first error */
  _Atomic int status;
  char msg[256];
};

typedef struct weft__timer {
  struct weft__timer *next;
  uint64_t at;
  struct weft_stream *s;
  uint64_t key, gen;
} weft__timer;

typedef struct weft__stream_world {
  weft_client *c;
  pthread_mutex_t mu;
  pthread_cond_t cv;       /* in-flight reached 0, an fd source ended */
  _Atomic int64_t inflight;
  bool closed;
  struct weft_stream *all;
  /* timers (debounce) */
  pthread_t timer_thread;
  bool timer_started, timer_stop;
  pthread_cond_t timer_cv;
  weft__timer *timers;
} weft__stream_world;

/* Sends an item (taken over) to every step fed by s. */
void weft__stream_emit(struct weft_stream *s, uint64_t key, uint64_t t,
                       weft_value v);
/* What step s does with item it (stream_ops.c); it is freed by the caller
 * (its value too, unless the step took it and set it to none). */
void weft__stream_process(struct weft_stream *s, weft__strand *st,
                          weft__sitem *it);
/* Records step s's first error. */
void weft__stream_fail(struct weft_stream *s, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Asks for a debounce tick of (key, gen) at time `at`. */
void weft__stream_timer(struct weft_stream *s, uint64_t at, uint64_t key,
                        uint64_t gen);
/* Per-strand state of key: the stored pointer (NULL if none); set stores. */
void *weft__kmap_get(weft__kmap *m, uint64_t key);
int weft__kmap_set(weft__kmap *m, uint64_t key, void *val);
/* Frees the state of one step (stream_ops.c knows its shape). */
void weft__stream_free_state(struct weft_stream *s, void *state);

#endif
