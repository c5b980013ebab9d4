/* as_completed.c - iterating over futures in the order they finish.
 *
 * Each future added gets a hook; when the future finishes, its finisher
 * appends it to the iterator's queue (a ring reserved when the future was
 * added, so that step cannot fail) and signals. So the order of the queue
 * is the order in which the futures reached their terminal state, and each
 * is queued exactly once per add. The iterator is reference-counted: the
 * user's handle plus one per hook not yet fired, so freeing it while
 * futures run is safe. */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "impl.h"

struct weft_as_completed {
  _Atomic int32_t refs;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  weft_future **ring;
  size_t cap, head, count; /* finished, not yet yielded */
  size_t outstanding;      /* added, not yet yielded */
};

static void ac_unref(weft_as_completed *ac) {
  if (atomic_fetch_sub_explicit(&ac->refs, 1, memory_order_acq_rel) != 1)
    return;
  for (size_t i = 0; i < ac->count; i++)
    weft_future_release(ac->ring[(ac->head + i) % ac->cap]);
  free(ac->ring);
  pthread_mutex_destroy(&ac->mu);
  pthread_cond_destroy(&ac->cv);
  free(ac);
}

int weft_as_completed_new(size_t n, weft_future *const futs[],
                          weft_as_completed **out) {
  if (!out || (n && !futs))
    return WEFT_EINVAL;
  *out = NULL;
  for (size_t i = 0; i < n; i++)
    if (!futs[i])
      return WEFT_EINVAL;
  weft_as_completed *ac = calloc(1, sizeof *ac);
  if (!ac)
    return WEFT_ENOMEM;
  atomic_init(&ac->refs, 1);
  pthread_mutex_init(&ac->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&ac->cv, &ca);
  pthread_condattr_destroy(&ca);
  for (size_t i = 0; i < n; i++) {
    int rc = weft_as_completed_add(ac, futs[i]);
    if (rc) {
      weft_as_completed_free(ac);
      return rc;
    }
  }
  *out = ac;
  return 0;
}

int weft_as_completed_add(weft_as_completed *ac, weft_future *f) {
  if (!ac || !f)
    return WEFT_EINVAL;
  weft__hook *h = malloc(sizeof *h);
  if (!h)
    return WEFT_ENOMEM;
  pthread_mutex_lock(&ac->mu);
  if (ac->outstanding + 1 > ac->cap) {
    size_t cap = ac->cap ? ac->cap * 2 : 64;
    weft_future **r = malloc(cap * sizeof *r);
    if (!r) {
      pthread_mutex_unlock(&ac->mu);
      free(h);
      return WEFT_ENOMEM;
    }
    for (size_t i = 0; i < ac->count; i++)
      r[i] = ac->ring[(ac->head + i) % ac->cap];
    free(ac->ring);
    ac->ring = r;
    ac->cap = cap;
    ac->head = 0;
  }
  ac->outstanding++;
  pthread_mutex_unlock(&ac->mu);
  atomic_fetch_add(&ac->refs, 1);
  h->kind = WEFT__HOOK_AC;
  h->p = ac;
  if (!weft__future_add_hook(f, h)) {
    free(h);
    weft__ac_notify(ac, f);
  }
  return 0;
}

void weft__ac_notify(weft_as_completed *ac, weft_future *f) {
  weft_future_retain(f);
  pthread_mutex_lock(&ac->mu);
  /* room was reserved by weft_as_completed_add */
  ac->ring[(ac->head + ac->count) % ac->cap] = f;
  ac->count++;
  pthread_cond_signal(&ac->cv);
  pthread_mutex_unlock(&ac->mu);
  ac_unref(ac);
}

int weft_as_completed_next(weft_as_completed *ac, weft_future **f,
                           double timeout_s) {
  if (f)
    *f = NULL;
  if (!ac || !f || isnan(timeout_s))
    return WEFT_EINVAL;
  struct timespec ts = {0, 0};
  if (timeout_s > 0) {
    double ns = timeout_s * 1e9;
    uint64_t until = weft__client_now_ns() +
                     (ns > 1e18 ? (uint64_t)1e18 : (uint64_t)ns);
    ts.tv_sec = (time_t)(until / 1000000000ull);
    ts.tv_nsec = (long)(until % 1000000000ull);
  }
  pthread_mutex_lock(&ac->mu);
  int rc = 0;
  while (ac->count == 0) {
    if (ac->outstanding == 0)
      break;
    if (timeout_s == 0) {
      rc = WEFT_ETIMEDOUT;
      break;
    }
    if (timeout_s < 0)
      pthread_cond_wait(&ac->cv, &ac->mu);
    else if (pthread_cond_timedwait(&ac->cv, &ac->mu, &ts)) {
      if (ac->count == 0)
        rc = WEFT_ETIMEDOUT;
      break;
    }
  }
  if (ac->count) {
    *f = ac->ring[ac->head];
    ac->head = (ac->head + 1) % ac->cap;
    ac->count--;
    ac->outstanding--;
    rc = 1;
  }
  pthread_mutex_unlock(&ac->mu);
  return rc;
}

void weft_as_completed_free(weft_as_completed *ac) {
  if (ac)
    ac_unref(ac);
}
