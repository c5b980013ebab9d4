/* deque.h - the work-stealing deque of each worker (Chase & Lev, 2005, in
 * the C11 form of Le, Pop, Cohen & Zappa Nardelli, PPoPP 2013). Internal.
 *
 * The owner pushes and pops at the bottom without locks; thieves take from
 * the top with one compare-and-swap. Items are 64-bit words (a task index or
 * a range of roots). The fences of the paper are expressed as seq_cst
 * accesses to top and bottom, which ThreadSanitizer understands and which
 * compile to the same instructions on x86-64. The seq_cst store of bottom in
 * push also orders it before the pusher's check for sleeping workers (see
 * threads.c). Buffers grow by doubling; old ones are kept until the deque
 * is destroyed, since a thief may still be reading one. */
#ifndef WEFT_SCHED_DEQUE_H
#define WEFT_SCHED_DEQUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct weft__dqbuf {
  int64_t mask; /* capacity - 1 */
  struct weft__dqbuf *prev; /* retired buffers */
  _Atomic uint64_t items[];
} weft__dqbuf;

typedef struct weft__deque {
  _Alignas(64) _Atomic int64_t top;
  _Alignas(64) _Atomic int64_t bottom;
  _Atomic(weft__dqbuf *) buf;
  char pad[64 - sizeof(void *)];
} weft__deque;

static inline weft__dqbuf *weft__dqbuf_new(int64_t cap, weft__dqbuf *prev) {
  weft__dqbuf *b = malloc(sizeof *b + (size_t)cap * sizeof(uint64_t));
  if (!b)
    return NULL;
  b->mask = cap - 1;
  b->prev = prev;
  return b;
}

static inline int weft__deque_init(weft__deque *d, int64_t cap) {
  atomic_init(&d->top, 0);
  atomic_init(&d->bottom, 0);
  weft__dqbuf *b = weft__dqbuf_new(cap, NULL);
  atomic_init(&d->buf, b);
  return b ? 0 : -1;
}

static inline void weft__deque_destroy(weft__deque *d) {
  weft__dqbuf *b = atomic_load(&d->buf);
  while (b) {
    weft__dqbuf *p = b->prev;
    free(b);
    b = p;
  }
}

/* Owner only; between runs, when no thief looks. */
static inline void weft__deque_reset(weft__deque *d) {
  atomic_store(&d->top, 0);
  atomic_store(&d->bottom, 0);
}

/* Owner only. Returns false when out of memory (the item is not pushed). */
static inline bool weft__deque_push(weft__deque *d, uint64_t x) {
  int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
  int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
  weft__dqbuf *a = atomic_load_explicit(&d->buf, memory_order_relaxed);
  if (b - t > a->mask) {
    weft__dqbuf *n = weft__dqbuf_new(2 * (a->mask + 1), a);
    if (!n)
      return false;
    for (int64_t i = t; i < b; i++)
      atomic_store_explicit(
          &n->items[i & n->mask],
          atomic_load_explicit(&a->items[i & a->mask], memory_order_relaxed),
          memory_order_relaxed);
    atomic_store_explicit(&d->buf, n, memory_order_release);
    a = n;
  }
  atomic_store_explicit(&a->items[b & a->mask], x, memory_order_relaxed);
  atomic_store_explicit(&d->bottom, b + 1, memory_order_seq_cst);
  return true;
}

/* Owner only: the newest item. */
static inline bool weft__deque_pop(weft__deque *d, uint64_t *x) {
  int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed) - 1;
  weft__dqbuf *a = atomic_load_explicit(&d->buf, memory_order_relaxed);
  atomic_store_explicit(&d->bottom, b, memory_order_seq_cst);
  int64_t t = atomic_load_explicit(&d->top, memory_order_seq_cst);
  if (t > b) {
    atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
    return false;
  }
  *x = atomic_load_explicit(&a->items[b & a->mask], memory_order_relaxed);
  if (t == b) {
    bool won = atomic_compare_exchange_strong_explicit(
        &d->top, &t, t + 1, memory_order_seq_cst, memory_order_relaxed);
    atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
    return won;
  }
  return true;
}

/* Any thread: the oldest item. */
static inline bool weft__deque_steal(weft__deque *d, uint64_t *x) {
  int64_t t = atomic_load_explicit(&d->top, memory_order_seq_cst);
  int64_t b = atomic_load_explicit(&d->bottom, memory_order_seq_cst);
  if (t >= b)
    return false;
  weft__dqbuf *a = atomic_load_explicit(&d->buf, memory_order_acquire);
  *x = atomic_load_explicit(&a->items[t & a->mask], memory_order_relaxed);
  return atomic_compare_exchange_strong_explicit(
      &d->top, &t, t + 1, memory_order_seq_cst, memory_order_relaxed);
}

static inline bool weft__deque_empty(weft__deque *d) {
  return atomic_load_explicit(&d->top, memory_order_seq_cst) >=
         atomic_load_explicit(&d->bottom, memory_order_seq_cst);
}

#endif
