/* pool.c - chunk buffers that are reused. A fresh page costs about 1.8 us
 * to touch on the project's machines (anchors/native.md), and glibc hands
 * big freed blocks back to the system, so a computation that makes and
 * drops one 8 MB chunk per block would pay for fresh pages on every block.
 * Array tasks take the elements of chunks of 64 KiB or more from here
 * (weft_chunk_wrap with a release that puts the buffer back); a buffer
 * waits in a small per-size list until the next chunk of that size. The
 * lists are shared by every thread and every graph of the process (a cache
 * only: nothing in it belongs to anyone), hold at most 64 MiB, and are
 * emptied when the library unloads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "array_impl.h"

#define POOL_MIN ((size_t)64 << 10)
#define POOL_MAX_BYTES ((size_t)64 << 20)
#define POOL_SLOTS 64

typedef struct pbuf {
  size_t size;
  struct pbuf *next;
} pbuf; /* header in front of the 64-byte aligned elements */
#define HDR 64

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pbuf *pool_free[POOL_SLOTS];
static size_t pool_bytes;

/* (in size_t to the end: cast to int first, the hash could be negative
   and the slot out of the array, as for 160000-byte chunks) */
static int slot_of(size_t size) {
  return (int)(((size * 2654435761u) >> 7) % POOL_SLOTS);
}

static void pool_put(void *ud) {
  pbuf *b = ud;
  pthread_mutex_lock(&pool_lock);
  if (pool_bytes + b->size <= POOL_MAX_BYTES) {
    int s = slot_of(b->size);
    b->next = pool_free[s];
    pool_free[s] = b;
    pool_bytes += b->size;
    b = NULL;
  }
  pthread_mutex_unlock(&pool_lock);
  free(b);
}

__attribute__((destructor)) static void pool_drain(void) {
  pthread_mutex_lock(&pool_lock);
  for (int s = 0; s < POOL_SLOTS; s++)
    while (pool_free[s]) {
      pbuf *b = pool_free[s];
      pool_free[s] = b->next;
      free(b);
    }
  pool_bytes = 0;
  pthread_mutex_unlock(&pool_lock);
}

int weft__chunk_pooled(weft_value *out, weft_dtype dt, int ndim,
                       const int64_t *shape, void **data) {
  size_t bytes;
  int rc = weft_chunk_nbytes(dt, ndim, shape, &bytes);
  if (rc || bytes < POOL_MIN) {
    *out = weft_none();
    return rc ? rc : weft_chunk_new(out, dt, ndim, shape, data);
  }
  pbuf *b = NULL, **pp;
  pthread_mutex_lock(&pool_lock);
  for (pp = &pool_free[slot_of(bytes)]; *pp; pp = &(*pp)->next)
    if ((*pp)->size == bytes) {
      b = *pp;
      *pp = b->next;
      pool_bytes -= bytes;
      break;
    }
  pthread_mutex_unlock(&pool_lock);
  if (!b) {
    b = aligned_alloc(64, HDR + (bytes + 63) / 64 * 64);
    if (!b) {
      *out = weft_none();
      return WEFT_ENOMEM;
    }
    b->size = bytes;
  }
  *data = (char *)b + HDR;
  return weft_chunk_wrap(out, dt, ndim, shape, *data, pool_put, b);
}
