/* vec.c - growable flat arrays (see vec.h for why they map memory). */
#include "vec.h"

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
  void *p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);
  if (p == MAP_FAILED)
    return WEFT_ENOMEM;
  advise_huge(p, cap);
  if (v->p) {
    memcpy(p, v->p, v->cap);
    if (v->mapped)
      munmap(v->p, v->cap);
    else
      free(v->p);
  }
  v->p = p;
  v->cap = cap;
  v->mapped = 1;
  return 0;
}

void weft__vec_free(weft__vec *v) {
  if (v->mapped)
    munmap(v->p, v->cap);
  else
    free(v->p);
  v->p = NULL;
  v->cap = 0;
  v->mapped = 0;
}
