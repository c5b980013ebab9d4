/* pool.c - the client's pools of threads: a FIFO of jobs under one mutex.
 *
 * Why a plain locked FIFO and not the work-stealing deques of threads.c:
 * futures come from anywhere (the program, tasks, callbacks, other threads)
 * one at a time, in submission order, and an uncontended mutex costs tens of
 * nanoseconds, well under the microsecond a future may cost. A thread that
 * finds the queue empty spins on an atomic length for a few microseconds
 * before it sleeps, so a program that submits and waits in a loop does not
 * pay a wake-up per future; a sleeping thread costs nothing.
 *
 * A lazy pool (the I/O pool) starts a thread when a job is queued and no
 * thread sleeps, up to its maximum: a hundred blocking downloads get a
 * hundred threads, a program that never does I/O gets none.
 *
 * A CPU thread whose last jobs were tiny (under 20 us) and that finds a long
 * queue takes a share of it at once (up to 32 jobs, never more than half of
 * its share of the queue), so a burst of a million tiny futures costs few
 * lock rounds; after a long job it takes one at a time again, so long tasks
 * spread over every thread. The I/O pool never batches (its jobs block).
 *
 * Stopping: the threads leave once nothing is queued and no thread is inside
 * a job (a running job may still queue more, which then runs). After that, a
 * job pushed (by another pool's last jobs, or a late callback) runs in the
 * pushing thread. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "impl.h"

#define WEFT__POOL_SPIN 4000
#define WEFT__POOL_BATCH 32
#define WEFT__POOL_QUICK_NS 20000

static _Thread_local weft__pool *current_pool;
static _Thread_local int current_worker = -1;

weft__pool *weft__pool_current(void) { return current_pool; }
int weft__pool_worker(void) { return current_worker; }

uint64_t weft__client_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* Takes the head job; the caller holds p->mu. */
static weft__job *take(weft__pool *p) {
  weft__job *j = p->head;
  if (j) {
    p->head = j->next;
    if (!p->head)
      p->tail = NULL;
    atomic_fetch_sub_explicit(&p->len, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->active, 1, memory_order_relaxed);
  }
  return j;
}

static void run_job(weft__pool *p, weft__job *j) {
  weft__pool *prev = current_pool;
  current_pool = p;
  j->run(j);
  current_pool = prev;
  if (atomic_fetch_sub_explicit(&p->active, 1, memory_order_acq_rel) == 1 &&
      atomic_load_explicit(&p->stop_flag, memory_order_acquire)) {
    /* the last job of a stopping pool: let sleepers see it */
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
  }
}

static void *pool_main(void *arg) {
  weft__pool *p = arg;
  /* CPU threads are workers 0..n-1, I/O threads come after them */
  current_worker = atomic_fetch_add(&p->next_worker, 1) + p->worker_base;
  bool quick = false; /* the last jobs were tiny: batching pays */
  pthread_mutex_lock(&p->mu);
  for (;;) {
    weft__job *j = take(p);
    if (j) {
      /* a long queue: take a share of it under this one lock, so a burst of
       * tiny futures does not cost a lock round per future */
      size_t len = atomic_load_explicit(&p->len, memory_order_relaxed);
      size_t share = p->lazy || !quick ? 0 : len / (2 * (size_t)p->nthreads);
      weft__job *more = NULL, **tail = &more;
      for (size_t k = 0; k < share && k < WEFT__POOL_BATCH; k++) {
        weft__job *x = take(p);
        *tail = x;
        tail = &x->next;
      }
      *tail = NULL;
      pthread_mutex_unlock(&p->mu);
      uint64_t t0 = weft__client_now_ns();
      run_job(p, j);
      while (more) {
        weft__job *x = more;
        more = x->next;
        run_job(p, x);
      }
      quick = weft__client_now_ns() - t0 < WEFT__POOL_QUICK_NS;
      /* spin a little for the next job before taking the lock to sleep;
       * one spinner at a time, so idle threads never crowd out the
       * program's own thread on a small machine */
      int idle = 0;
      if (atomic_compare_exchange_strong(&p->spinners, &idle, 1)) {
        for (int s = 0; s < WEFT__POOL_SPIN; s++) {
          if (atomic_load_explicit(&p->len, memory_order_relaxed))
            break;
          cpu_relax();
        }
        atomic_store(&p->spinners, 0);
      }
      pthread_mutex_lock(&p->mu);
      continue;
    }
    if (p->stopping && atomic_load(&p->active) == 0) {
      pthread_cond_broadcast(&p->cv); /* the others leave too */
      break;
    }
    p->sleepers++;
    pthread_cond_wait(&p->cv, &p->mu);
    p->sleepers--;
    if (p->wakes > 0)
      p->wakes--;
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

/* Starts one more thread; the caller holds p->mu. */
static int spawn(weft__pool *p) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  /* I/O threads mostly wait: a smaller stack than the 8 MiB default */
  if (p->lazy)
    pthread_attr_setstacksize(&attr, 1u << 20);
  int e = pthread_create(&p->threads[p->nthreads], &attr, pool_main, p);
  pthread_attr_destroy(&attr);
  if (e)
    return WEFT_ESYS;
  p->nthreads++;
  return 0;
}

int weft__pool_init(weft__pool *p, weft_client *c, const char *name, int max,
                    bool lazy) {
  memset(p, 0, sizeof *p);
  p->c = c;
  p->name = name;
  p->max = max;
  p->lazy = lazy;
  p->threads = calloc((size_t)max, sizeof *p->threads);
  if (!p->threads)
    return WEFT_ENOMEM;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  atomic_init(&p->len, 0);
  atomic_init(&p->active, 0);
  atomic_init(&p->spinners, 0);
  atomic_init(&p->next_worker, 0);
  p->worker_base = lazy && c ? c->workers : 0;
  if (lazy)
    return 0;
  pthread_mutex_lock(&p->mu);
  int rc = 0;
  for (int i = 0; i < max && !rc; i++)
    rc = spawn(p);
  pthread_mutex_unlock(&p->mu);
  if (rc)
    weft__pool_stop(p);
  return rc;
}

void weft__pool_push(weft__pool *p, weft__job *j) {
  j->next = NULL;
  pthread_mutex_lock(&p->mu);
  if (p->stopped) {
    pthread_mutex_unlock(&p->mu);
    j->run(j); /* no thread left: run here */
    return;
  }
  if (p->tail)
    p->tail->next = j;
  else
    p->head = j;
  p->tail = j;
  atomic_fetch_add_explicit(&p->len, 1, memory_order_relaxed);
  if (p->sleepers > p->wakes) { /* a sleeper not already woken for a job */
    p->wakes++;
    pthread_cond_signal(&p->cv);
  }
  else if (p->lazy && p->nthreads < p->max && !p->stopping &&
           (size_t)p->nthreads <
               (size_t)atomic_load(&p->active) +
                   atomic_load_explicit(&p->len, memory_order_relaxed))
    (void)spawn(p); /* on failure, the threads there serve it later */
  bool none = p->lazy && p->nthreads == 0;
  pthread_mutex_unlock(&p->mu);
  if (none) {
    /* not even one thread could start: serve it here rather than never */
    pthread_mutex_lock(&p->mu);
    weft__job *x = p->nthreads == 0 ? take(p) : NULL;
    pthread_mutex_unlock(&p->mu);
    if (x)
      run_job(p, x);
  }
}

bool weft__pool_help(weft__pool *p) {
  if (!atomic_load_explicit(&p->len, memory_order_relaxed))
    return false;
  pthread_mutex_lock(&p->mu);
  weft__job *j = take(p);
  pthread_mutex_unlock(&p->mu);
  if (!j)
    return false;
  run_job(p, j);
  return true;
}

void weft__pool_stop(weft__pool *p) {
  pthread_mutex_lock(&p->mu);
  p->stopping = true;
  atomic_store(&p->stop_flag, 1);
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0;; i++) {
    pthread_mutex_lock(&p->mu);
    int n = p->nthreads;
    pthread_mutex_unlock(&p->mu);
    if (i >= n)
      break;
    pthread_join(p->threads[i], NULL);
  }
  pthread_mutex_lock(&p->mu);
  p->stopped = true;
  weft__job *rest = p->head; /* only when no thread ever ran */
  p->head = p->tail = NULL;
  atomic_store(&p->len, 0);
  pthread_mutex_unlock(&p->mu);
  while (rest) {
    weft__job *next = rest->next;
    atomic_fetch_add(&p->active, 1);
    run_job(p, rest);
    rest = next;
  }
}

void weft__pool_destroy(weft__pool *p) {
  if (!p->threads)
    return;
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p->threads);
  p->threads = NULL;
}
