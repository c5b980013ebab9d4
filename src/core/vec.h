/* vec.h - growable flat arrays for graphs of millions of nodes.
 *
 * Internal to weft. Small arrays live in malloc memory; past 1 MiB an array
 * moves to its own mapping that grows with mremap (no copy) and asks for
 * transparent huge pages: on the VMs weft runs on, a fresh 4 KiB page costs
 * about 1.8 us to fault in, a huge page about 25x less per byte.
 *
 * Freed mappings go to a small cache shared by the process (at most 8 of
 * them and 512 MiB, behind a mutex) and serve the next big array: a program
 * that builds graph after graph reuses warm memory instead of having the
 * kernel zero fresh pages for each (a third of build time otherwise). It is
 * an allocator's cache, like malloc's: no client can observe another's. */
#ifndef WEFT_CORE_VEC_H
#define WEFT_CORE_VEC_H

#include <stddef.h>

typedef struct weft__vec {
  void *p;
  size_t cap;  /* bytes */
  int mapped;  /* p is an mmap'd region (else malloc) */
} weft__vec;

/* Makes room for at least `bytes` bytes, keeping the contents. 0 or
 * WEFT_ENOMEM (the old contents stay valid). */
int weft__vec_reserve(weft__vec *v, size_t bytes);
void weft__vec_free(weft__vec *v);

static inline int weft__vec_fits(const weft__vec *v, size_t bytes) {
  return bytes <= v->cap;
}

#endif
