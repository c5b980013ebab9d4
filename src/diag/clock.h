/* clock.h - the clock that times tasks for the event stream: the CPU's
 * time-stamp counter where the kernel vouches for it (x86-64: the TSC is
 * the clocksource, or the CPU says constant_tsc and nonstop_tsc), read in a
 * few cycles rather than a clock_gettime call, and turned into
 * CLOCK_MONOTONIC nanoseconds by a line fitted against that clock; anywhere
 * else, CLOCK_MONOTONIC itself (ticks are then nanoseconds). Internal.
 *
 * A compute takes one snapshot of the fit when it begins (weft__clock_get)
 * and converts every tick of its own with it, so within a compute the
 * conversion is one increasing line: order and durations are kept exactly
 * as the counter saw them. The fit is anchored to CLOCK_MONOTONIC at every
 * snapshot (at most every 20 ms) and its slope measured over the whole life
 * of the process, so a converted time agrees with weft_now_ns() to well
 * under a microsecond at the compute's start and drifts from it by the
 * slope's error only (a few parts per million at first, less later). */
#ifndef WEFT_DIAG_CLOCK_H
#define WEFT_DIAG_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "weft/events.h"

typedef struct weft__clock {
  uint64_t base_t;  /* a tick count ... */
  uint64_t base_ns; /* ... and the CLOCK_MONOTONIC time it was read at */
  uint64_t mult;    /* nanoseconds per tick, times 2^32 */
  bool tsc;         /* ticks are the TSC; false: ticks are nanoseconds */
} weft__clock;

/* The fit now (calibrated on first use: about 2 ms, once per process).
 * WEFT_CLOCK=monotonic in the environment, read on first use, keeps the
 * TSC out (ticks are then CLOCK_MONOTONIC nanoseconds). */
void weft__clock_get(weft__clock *c);
/* The fallback, whatever the machine: ticks are CLOCK_MONOTONIC ns. */
void weft__clock_fallback(weft__clock *c);

#if defined(__x86_64__)
static inline uint64_t weft__rdtscp(void) {
  uint32_t lo, hi, aux;
  /* rdtscp waits for the instructions before it (a task's end is read
   * after its function returned, a start after the task was taken). */
  __asm__ __volatile__("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux)::"memory");
  return ((uint64_t)hi << 32) | lo;
}
#endif

/* A reading, in the clock's ticks. */
static inline uint64_t weft__ticks(const weft__clock *c) {
#if defined(__x86_64__)
  if (c->tsc)
    return weft__rdtscp();
#endif
  (void)c;
  return weft_now_ns();
}

/* Ticks t (read after the snapshot c or shortly before) in CLOCK_MONOTONIC
 * nanoseconds. */
static inline uint64_t weft__clock_ns(const weft__clock *c, uint64_t t) {
#if defined(__x86_64__)
  if (!c->tsc)
    return t;
  __extension__ typedef unsigned __int128 u128;
  if (t >= c->base_t)
    return c->base_ns + (uint64_t)(((u128)(t - c->base_t) * c->mult) >> 32);
  uint64_t back = (uint64_t)(((u128)(c->base_t - t) * c->mult) >> 32);
  return back < c->base_ns ? c->base_ns - back : 0;
#else
  (void)c;
  return t;
#endif
}

#endif
