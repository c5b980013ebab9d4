/* stream.c - the plumbing of reactive streams: the client's stream world
 * (every step, the count of items in flight, the debounce timer thread),
 * strands that keep each key in order, push and fd sources, sinks,
 * collectors, flush and close. What each step does to an item is in
 * stream_ops.c. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stream_impl.h"

#define WEFT__STRAND_BATCH 64
#define WEFT__LINE_MAX (1u << 20)

uint64_t weft_stream_now_ns(void) { return weft__client_now_ns(); }

static void timespec_at(struct timespec *ts, uint64_t at) {
  ts->tv_sec = (time_t)(at / 1000000000ull);
  ts->tv_nsec = (long)(at % 1000000000ull);
}

/* The client's world, made on first use; NULL when closed or no memory. */
static weft__stream_world *world_of(weft_client *c) {
  if (!c || atomic_load(&c->closing))
    return NULL;
  pthread_mutex_lock(&c->mu);
  weft__stream_world *w = c->streams;
  if (!w && (w = calloc(1, sizeof *w))) {
    w->c = c;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_cond_init(&w->timer_cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&w->inflight, 0);
    c->streams = w;
  }
  pthread_mutex_unlock(&c->mu);
  return w;
}

static void inflight_done(weft__stream_world *w, int64_t n) {
  if (atomic_fetch_sub(&w->inflight, n) == n) {
    pthread_mutex_lock(&w->mu);
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
  }
}

void weft__stream_fail(weft_stream *s, int rc, const char *fmt, ...) {
  int zero = 0;
  if (!atomic_compare_exchange_strong(&s->status, &zero, 1))
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->msg, sizeof s->msg, fmt, ap);
  va_end(ap);
  atomic_store(&s->status, rc); /* published after the message */
}

int weft_stream_status(const weft_stream *s) {
  if (!s)
    return WEFT_EINVAL;
  int st = atomic_load(&((weft_stream *)s)->status);
  return st == 1 ? 0 : st; /* 1: a message being written */
}

const char *weft_stream_error(const weft_stream *s) {
  return s && weft_stream_status(s) ? s->msg : "";
}

/* ---- strands ---- */

/* The world whose step (a user function, a sink) runs on this thread: a
 * flush or fd wait from there would wait for its own item. */
static _Thread_local weft__stream_world *in_step;

static void strand_run(weft__job *j) {
  weft__strand *st = (weft__strand *)((char *)j - offsetof(weft__strand, job));
  weft_stream *s = st->s;
  for (int k = 0;; k++) {
    pthread_mutex_lock(&st->mu);
    weft__sitem *it = st->head;
    if (!it || k == WEFT__STRAND_BATCH) {
      if (it) /* fairness: let other jobs run, come back later */
        weft__pool_push(&s->w->c->cpu, &st->job);
      else
        st->scheduled = false;
      pthread_mutex_unlock(&st->mu);
      return;
    }
    st->head = it->next;
    if (!st->head)
      st->tail = NULL;
    pthread_mutex_unlock(&st->mu);
    weft__stream_world *outer = in_step;
    in_step = s->w;
    weft__stream_process(s, st, it);
    in_step = outer;
    weft_value_release(&it->v);
    free(it);
    inflight_done(s->w, 1);
  }
}

static void strand_push(weft_stream *s, weft__sitem *it) {
  weft__strand *st =
      &s->strands[(it->key * 0x9E3779B97F4A7C15ull) >> 61 & (WEFT__STRANDS - 1)];
  atomic_fetch_add(&s->w->inflight, 1);
  it->next = NULL;
  pthread_mutex_lock(&st->mu);
  if (st->tail)
    st->tail->next = it;
  else
    st->head = it;
  st->tail = it;
  bool go = !st->scheduled;
  st->scheduled = true;
  pthread_mutex_unlock(&st->mu);
  if (go)
    weft__pool_push(&s->w->c->cpu, &st->job);
}

void weft__stream_emit(weft_stream *s, uint64_t key, uint64_t t,
                       weft_value v) {
  weft__kids *k = atomic_load(&s->kids);
  size_t n = k ? k->n : 0;
  for (size_t i = 0; i < n; i++) {
    weft__sitem *it = malloc(sizeof *it);
    if (!it) {
      weft__stream_fail(k->s[i], WEFT_ENOMEM, "out of memory: an item lost");
      continue;
    }
    it->key = key;
    it->t = t;
    it->tick = 0;
    it->v = i + 1 == n ? v : weft_value_retain(&v);
    strand_push(k->s[i], it);
  }
  if (n == 0)
    weft_value_release(&v);
}

void weft__stream_timer(weft_stream *s, uint64_t at, uint64_t key,
                        uint64_t gen);

/* ---- making steps ---- */

static weft_stream *step_new(weft__stream_world *w, int kind) {
  weft_stream *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->w = w;
  s->kind = kind;
  s->fd = -1;
  s->init = weft_none();
  atomic_init(&s->kids, NULL);
  atomic_init(&s->status, 0);
  atomic_init(&s->fd_done, 0);
  for (int i = 0; i < WEFT__STRANDS; i++) {
    pthread_mutex_init(&s->strands[i].mu, NULL);
    s->strands[i].s = s;
    s->strands[i].job.run = strand_run;
  }
  pthread_mutex_init(&s->col.mu, NULL);
  pthread_mutex_lock(&w->mu);
  s->next_all = w->all;
  w->all = s;
  pthread_mutex_unlock(&w->mu);
  return s;
}

/* Adds kid to the steps fed by parent (a new array: emitters may be
 * reading the old one, which is kept until close). */
static int attach(weft_stream *parent, weft_stream *kid) {
  weft__stream_world *w = parent->w;
  pthread_mutex_lock(&w->mu);
  weft__kids *old = atomic_load(&parent->kids);
  size_t n = old ? old->n : 0;
  weft__kids *k = malloc(sizeof *k + (n + 1) * sizeof(weft_stream *));
  if (!k) {
    pthread_mutex_unlock(&w->mu);
    return WEFT_ENOMEM;
  }
  k->old = old;
  k->n = n + 1;
  for (size_t i = 0; i < n; i++)
    k->s[i] = old->s[i];
  k->s[n] = kid;
  atomic_store(&parent->kids, k);
  pthread_mutex_unlock(&w->mu);
  return 0;
}

static weft_stream *step_on(weft_stream *parent, int kind) {
  if (!parent)
    return NULL;
  weft_stream *s = step_new(parent->w, kind);
  if (s && attach(parent, s))
    return NULL; /* s stays in the world's list, freed at close */
  return s;
}

weft_stream *weft_stream_map(weft_stream *s, weft_stream_map_fn fn, void *ud) {
  weft_stream *k = fn ? step_on(s, WEFT__SK_MAP) : NULL;
  if (k) {
    k->fn = (void *)fn;
    k->ud = ud;
  }
  return k;
}

weft_stream *weft_stream_filter(weft_stream *s, weft_stream_filter_fn fn,
                                void *ud) {
  weft_stream *k = fn ? step_on(s, WEFT__SK_FILTER) : NULL;
  if (k) {
    k->fn = (void *)fn;
    k->ud = ud;
  }
  return k;
}

weft_stream *weft_stream_scan(weft_stream *s, weft_stream_scan_fn fn,
                              weft_value init, void *ud) {
  weft_stream *k = fn ? step_on(s, WEFT__SK_SCAN) : NULL;
  if (!k) {
    weft_value_release(&init);
    return NULL;
  }
  k->fn = (void *)fn;
  k->ud = ud;
  k->init = init;
  return k;
}

weft_stream *weft_stream_rolling(weft_stream *s, size_t window,
                                 weft_roll_stat stat) {
  if (window < 1 || (stat != WEFT_ROLL_MEAN && stat != WEFT_ROLL_MAX))
    return NULL;
  weft_stream *k = step_on(s, WEFT__SK_ROLLING);
  if (k) {
    k->window = window;
    k->stat = stat;
  }
  return k;
}

weft_stream *weft_stream_key_by(weft_stream *s, weft_stream_key_fn fn,
                                void *ud) {
  weft_stream *k = fn ? step_on(s, WEFT__SK_KEYBY) : NULL;
  if (k) {
    k->fn = (void *)fn;
    k->ud = ud;
  }
  return k;
}

static weft_stream *timed(weft_stream *s, double interval_s, int kind) {
  if (!(interval_s >= 0) || interval_s > 1e9)
    return NULL;
  weft_stream *k = step_on(s, kind);
  if (k)
    k->interval_ns = (uint64_t)(interval_s * 1e9);
  return k;
}

weft_stream *weft_stream_throttle(weft_stream *s, double interval_s) {
  return timed(s, interval_s, WEFT__SK_THROTTLE);
}

weft_stream *weft_stream_debounce(weft_stream *s, double interval_s) {
  return timed(s, interval_s, WEFT__SK_DEBOUNCE);
}

weft_stream *weft_stream_merge(size_t n, weft_stream *const ss[]) {
  if (!n || !ss)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if (!ss[i] || ss[i]->w != ss[0]->w)
      return NULL;
  weft_stream *k = step_new(ss[0]->w, WEFT__SK_MERGE);
  for (size_t i = 0; k && i < n; i++)
    if (attach(ss[i], k))
      return NULL;
  return k;
}

int weft_stream_sink(weft_stream *s, weft_stream_sink_fn fn, void *ud) {
  if (!s || !fn)
    return WEFT_EINVAL;
  weft_stream *k = step_on(s, WEFT__SK_SINK);
  if (!k)
    return WEFT_ENOMEM;
  k->fn = (void *)fn;
  k->ud = ud;
  return 0;
}

weft_stream_collector *weft_stream_collect(weft_stream *s) {
  weft_stream *k = step_on(s, WEFT__SK_COLLECT);
  return k ? &k->col : NULL;
}

size_t weft_stream_collector_count(weft_stream_collector *col) {
  if (!col)
    return 0;
  pthread_mutex_lock(&col->mu);
  size_t n = col->n;
  pthread_mutex_unlock(&col->mu);
  return n;
}

int weft_stream_collector_get(weft_stream_collector *col, size_t i,
                              uint64_t *key, weft_value *v) {
  if (v)
    *v = weft_none();
  if (!col)
    return WEFT_EINVAL;
  pthread_mutex_lock(&col->mu);
  int rc = WEFT_EINVAL;
  if (i < col->n) {
    if (key)
      *key = col->items[i]->key;
    if (v)
      *v = weft_value_retain(&col->items[i]->v);
    rc = 0;
  }
  pthread_mutex_unlock(&col->mu);
  return rc;
}

/* ---- sources ---- */

weft_stream *weft_stream_source(weft_client *c) {
  weft__stream_world *w = world_of(c);
  return w ? step_new(w, WEFT__SK_SOURCE) : NULL;
}

int weft_stream_push_at(weft_stream *src, uint64_t key, weft_value v,
                        uint64_t t_ns) {
  if (!src || src->kind != WEFT__SK_SOURCE) {
    weft_value_release(&v);
    return WEFT_EINVAL;
  }
  if (atomic_load(&src->w->c->closing)) {
    weft_value_release(&v);
    return WEFT_ECANCELED;
  }
  weft__stream_emit(src, key, t_ns, v);
  return 0;
}

int weft_stream_push_key(weft_stream *src, uint64_t key, weft_value v) {
  return weft_stream_push_at(src, key, v, weft__client_now_ns());
}

int weft_stream_push(weft_stream *src, weft_value v) {
  return weft_stream_push_at(src, 0, v, weft__client_now_ns());
}

static void emit_line(weft_stream *s, const char *p, size_t n) {
  if (n && p[n - 1] == '\r')
    n--;
  weft_value v;
  if (weft_str_newn(&v, p, n)) {
    weft__stream_fail(s, WEFT_ENOMEM, "out of memory: a line lost");
    return;
  }
  weft__stream_emit(s, 0, weft__client_now_ns(), v);
}

static void fd_read(weft__job *j) {
  weft_stream *s = (weft_stream *)((char *)j - offsetof(weft_stream, fd_job));
  weft_client *c = s->w->c;
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap);
  int rc = buf ? 0 : WEFT_ENOMEM;
  while (!rc && !atomic_load(&c->closing)) {
    struct pollfd pfd = {s->fd, POLLIN, 0};
    int pr = poll(&pfd, 1, 50); /* wake now and then to see close */
    if (pr < 0 && errno == EINTR)
      continue;
    if (pr == 0)
      continue;
    if (len == cap) {
      if (cap >= WEFT__LINE_MAX) { /* a very long line: cut it */
        emit_line(s, buf, len);
        len = 0;
      } else {
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
          rc = WEFT_ENOMEM;
          break;
        }
        buf = nb;
        cap *= 2;
      }
    }
    ssize_t r = read(s->fd, buf + len, cap - len);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (r < 0) {
      weft__stream_fail(s, WEFT_EIO, "reading fd %d: %s", s->fd,
                        strerror(errno));
      rc = WEFT_EIO;
      break;
    }
    if (r == 0) {
      if (len)
        emit_line(s, buf, len);
      len = 0;
      break;
    }
    size_t start = 0, end = len + (size_t)r;
    for (size_t i = len; i < end; i++)
      if (buf[i] == '\n') {
        emit_line(s, buf + start, i - start);
        start = i + 1;
      }
    memmove(buf, buf + start, end - start);
    len = end - start;
  }
  free(buf);
  if (rc == WEFT_ENOMEM)
    weft__stream_fail(s, rc, "out of memory reading fd %d", s->fd);
  s->fd_rc = rc;
  pthread_mutex_lock(&s->w->mu);
  atomic_store(&s->fd_done, 1);
  pthread_cond_broadcast(&s->w->cv);
  pthread_mutex_unlock(&s->w->mu);
}

weft_stream *weft_stream_from_fd(weft_client *c, int fd) {
  if (fd < 0 || !c || !c->has_io) /* it holds a thread: the I/O pool's */
    return NULL;
  weft__stream_world *w = world_of(c);
  weft_stream *s = w ? step_new(w, WEFT__SK_FD) : NULL;
  if (!s)
    return NULL;
  s->fd = fd;
  s->fd_job.run = fd_read;
  weft__pool_push(&c->io, &s->fd_job);
  return s;
}

static int wait_world(weft__stream_world *w, weft_stream *fd_src,
                      double timeout_s) {
  if (isnan(timeout_s))
    return WEFT_EINVAL;
  if (in_step == w) /* its own item is in flight: it would never end */
    return WEFT_EBUSY;
  /* A timeout too big for the clock is for ever (its conversion to an
   * integer overflowed: 1e30 s timed out at once). */
  uint64_t now = weft__client_now_ns();
  double ns = timeout_s * 1e9;
  uint64_t deadline = timeout_s < 0 || ns >= (double)(UINT64_MAX - now)
                          ? UINT64_MAX
                          : now + (uint64_t)ns;
  int rc = 0;
  pthread_mutex_lock(&w->mu);
  while ((fd_src && !atomic_load(&fd_src->fd_done)) ||
         atomic_load(&w->inflight) > 0) {
    if (weft__client_now_ns() >= deadline) {
      rc = WEFT_ETIMEDOUT;
      break;
    }
    struct timespec ts;
    uint64_t now = weft__client_now_ns();
    timespec_at(&ts, deadline - now > 20000000ull ? now + 20000000ull
                                                  : deadline);
    pthread_cond_timedwait(&w->cv, &w->mu, &ts);
  }
  pthread_mutex_unlock(&w->mu);
  return rc;
}

int weft_stream_fd_wait(weft_stream *src, double timeout_s) {
  if (!src || src->kind != WEFT__SK_FD)
    return WEFT_EINVAL;
  int rc = wait_world(src->w, src, timeout_s);
  return rc ? rc : src->fd_rc ? WEFT_EIO : 0;
}

int weft_stream_flush(weft_client *c, double timeout_s) {
  if (!c)
    return WEFT_EINVAL;
  pthread_mutex_lock(&c->mu);
  weft__stream_world *w = c->streams;
  pthread_mutex_unlock(&c->mu);
  return w ? wait_world(w, NULL, timeout_s) : 0;
}

/* ---- timers (debounce) ---- */

static void *timer_main(void *arg) {
  weft__stream_world *w = arg;
  pthread_mutex_lock(&w->mu);
  while (!w->timer_stop) {
    weft__timer **best = NULL;
    for (weft__timer **pp = &w->timers; *pp; pp = &(*pp)->next)
      if (!best || (*pp)->at < (*best)->at)
        best = pp;
    uint64_t now = weft__client_now_ns();
    if (best && (*best)->at <= now) {
      weft__timer *t = *best;
      *best = t->next;
      pthread_mutex_unlock(&w->mu);
      weft__sitem *it = malloc(sizeof *it);
      if (it) {
        it->key = t->key;
        it->t = now;
        it->v = weft_none();
        it->tick = t->gen;
        strand_push(t->s, it);
      } else {
        weft__stream_fail(t->s, WEFT_ENOMEM, "out of memory: a tick lost");
      }
      atomic_fetch_sub(&w->inflight, 1); /* the timer's own hold */
      free(t);
      pthread_mutex_lock(&w->mu);
      continue;
    }
    if (best) {
      struct timespec ts;
      timespec_at(&ts, (*best)->at);
      pthread_cond_timedwait(&w->timer_cv, &w->mu, &ts);
    } else {
      pthread_cond_wait(&w->timer_cv, &w->mu);
    }
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

void weft__stream_timer(weft_stream *s, uint64_t at, uint64_t key,
                        uint64_t gen) {
  weft__stream_world *w = s->w;
  weft__timer *t = malloc(sizeof *t);
  if (!t) {
    weft__stream_fail(s, WEFT_ENOMEM, "out of memory: a debounce lost");
    return;
  }
  t->at = at;
  t->s = s;
  t->key = key;
  t->gen = gen;
  pthread_mutex_lock(&w->mu);
  if (w->timer_stop) {
    pthread_mutex_unlock(&w->mu);
    free(t);
    return;
  }
  if (!w->timer_started) {
    if (pthread_create(&w->timer_thread, NULL, timer_main, w)) {
      pthread_mutex_unlock(&w->mu);
      free(t);
      weft__stream_fail(s, WEFT_ESYS, "cannot start the timer thread");
      return;
    }
    w->timer_started = true;
  }
  /* a pending tick counts as in flight, so flush waits for a debounce */
  atomic_fetch_add(&w->inflight, 1);
  t->next = w->timers;
  w->timers = t;
  pthread_cond_signal(&w->timer_cv);
  pthread_mutex_unlock(&w->mu);
}

/* ---- close ---- */

void weft__streams_close(weft_client *c) {
  pthread_mutex_lock(&c->mu);
  weft__stream_world *w = c->streams;
  pthread_mutex_unlock(&c->mu);
  if (!w)
    return;
  pthread_mutex_lock(&w->mu);
  w->timer_stop = true;
  w->closed = true;
  pthread_cond_signal(&w->timer_cv);
  bool started = w->timer_started;
  pthread_mutex_unlock(&w->mu);
  if (started)
    pthread_join(w->timer_thread, NULL);
  /* fd readers see `closing` within 50 ms; their pool waits for them */
}

void weft__streams_free(weft_client *c) {
  weft__stream_world *w = c->streams;
  if (!w)
    return;
  c->streams = NULL;
  while (w->timers) {
    weft__timer *t = w->timers;
    w->timers = t->next;
    free(t);
  }
  for (weft_stream *s = w->all, *nx; s; s = nx) {
    nx = s->next_all;
    for (int i = 0; i < WEFT__STRANDS; i++) {
      weft__strand *st = &s->strands[i];
      while (st->head) { /* none after the pools drained; to be safe */
        weft__sitem *it = st->head;
        st->head = it->next;
        weft_value_release(&it->v);
        free(it);
      }
      for (size_t k = 0; k < st->state.cap; k++)
        if (st->state.vals && st->state.vals[k])
          weft__stream_free_state(s, st->state.vals[k]);
      free(st->state.keys);
      free(st->state.vals);
      pthread_mutex_destroy(&st->mu);
    }
    for (size_t k = 0; k < s->col.n; k++) {
      weft_value_release(&s->col.items[k]->v);
      free(s->col.items[k]);
    }
    free(s->col.items);
    pthread_mutex_destroy(&s->col.mu);
    weft_value_release(&s->init);
    for (weft__kids *k = atomic_load(&s->kids), *o; k; k = o) {
      o = k->old;
      free(k);
    }
    free(s);
  }
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  pthread_cond_destroy(&w->timer_cv);
  free(w);
}
