/* vec.c - growable flat arrays (see vec.h for why they map memory). */
#include "vec.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "weft/error.h"

#define WEFT__VEC_MAP_MIN ((size_t)1 << 20)
#define WEFT__HUGE ((size_t)2 << 20)

static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

static void advise_huge(void *p, size_t len) {
#ifdef MADV_HUGEPAGE
  (void)madvise(p, len, MADV_HUGEPAGE);
#else
  (void)p;
  (void)len;
#endif
}

#define WEFT__CACHE_SLOTS 8
#define WEFT__CACHE_LIMIT ((size_t)512 << 20)

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
  void *p;
  size_t cap;
} cache[WEFT__CACHE_SLOTS];
static size_t cache_bytes;

/* The smallest cached mapping of at least `bytes`, or NULL. */
static void *cache_take(size_t bytes, size_t *cap) {
  void *p = NULL;
  pthread_mutex_lock(&cache_mu);
  int best = -1;
  for (int k = 0; k < WEFT__CACHE_SLOTS; k++)
    if (cache[k].p && cache[k].cap >= bytes &&
        (best < 0 || cache[k].cap < cache[best].cap))
      best = k;
  if (best >= 0) {
    p = cache[best].p;
    *cap = cache[best].cap;
    cache_bytes -= cache[best].cap;
    cache[best].p = NULL;
  }
  pthread_mutex_unlock(&cache_mu);
  return p;
}

/* Keeps a mapping for reuse; false when the cache is full. */
static int cache_put(void *p, size_t cap) {
  int kept = 0;
  pthread_mutex_lock(&cache_mu);
  if (cache_bytes + cap <= WEFT__CACHE_LIMIT)
    for (int k = 0; k < WEFT__CACHE_SLOTS && !kept; k++)
      if (!cache[k].p) {
        cache[k].p = p;
        cache[k].cap = cap;
        cache_bytes += cap;
        kept = 1;
      }
  pthread_mutex_unlock(&cache_mu);
  return kept;
}

int weft__vec_reserve(weft__vec *v, size_t bytes) {
  if (bytes <= v->cap)
    return 0;
  size_t cap = v->cap ? v->cap : 1024;
  while (cap < bytes) {
    if (cap > SIZE_MAX / 2)
      return WEFT_ENOMEM;
    cap *= 2;
  }
  if (cap < WEFT__VEC_MAP_MIN) {
    void *p = realloc(v->mapped ? NULL : v->p, cap);
    if (!p)
      return WEFT_ENOMEM;
    v->p = p;
    v->cap = cap;
    return 0;
  }
  cap = round_up(cap, WEFT__HUGE);
#if defined(__linux__) && defined(MREMAP_MAYMOVE)
  if (v->mapped) {
    void *p = mremap(v->p, v->cap, cap, MREMAP_MAYMOVE);
    if (p == MAP_FAILED)
      return WEFT_ENOMEM;
    advise_huge(p, cap);
    v->p = p;
    v->cap = cap;
    return 0;
  }
#endif
  size_t got;
  void *p = cache_take(cap, &got);
  if (p) {
    cap = got;
  } else {
    p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0);
    if (p == MAP_FAILED)
      return WEFT_ENOMEM;
    advise_huge(p, cap);
  }
  if (v->p) {
    memcpy(p, v->p, v->cap);
    if (v->mapped) {
      if (!cache_put(v->p, v->cap))
        munmap(v->p, v->cap);
    } else {
      free(v->p);
    }
  }
  v->p = p;
  v->cap = cap;
  v->mapped = 1;
  return 0;
}

void weft__vec_free(weft__vec *v) {
  if (v->mapped) {
    if (!cache_put(v->p, v->cap))
      munmap(v->p, v->cap);
  } else
    free(v->p);
  v->p = NULL;
  v->cap = 0;
  v->mapped = 0;
}
