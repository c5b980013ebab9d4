/* mpi/place.c - where a task goes, shared by the two schedulers of the mpi
 * scheduler: rank 0 (over worker ranks in central mode, over groups in
 * groups mode) and a group's leader (over its member ranks). One rule for
 * both: owner computes (the unit holding most of the task's input bytes,
 * when it has room), else the least loaded unit with room, each unit
 * holding about 1.1x its threads in tasks (Dask's worker-saturation). */
#include <stdlib.h>
#include <string.h>

#include "impl.h"

int weft__mpool_init(weft__mpool *p, int n) {
  memset(p, 0, sizeof *p);
  p->n = n;
  size_t k = n > 0 ? (size_t)n : 1;
  p->inflight = calloc(k, sizeof *p->inflight);
  p->cap = calloc(k, sizeof *p->cap);
  p->avg_us = malloc(k * sizeof *p->avg_us);
  p->dead = calloc(k, sizeof *p->dead);
  p->bytes = calloc(k, sizeof *p->bytes);
  p->touched = calloc(k, sizeof *p->touched);
  if (!p->inflight || !p->cap || !p->avg_us || !p->dead || !p->bytes ||
      !p->touched) {
    weft__mpool_free(p);
    return WEFT_ENOMEM;
  }
  for (size_t i = 0; i < k; i++)
    p->avg_us[i] = -1;
  return 0;
}

void weft__mpool_free(weft__mpool *p) {
  free(p->inflight);
  free(p->cap);
  free(p->avg_us);
  free(p->dead);
  free(p->bytes);
  free(p->touched);
  memset(p, 0, sizeof *p);
}

int weft__mpi_capacity(int threads, double avg_us) {
  return weft__mpi_capacity_n(threads, (threads * 11 + 9) / 10, avg_us);
}

int weft__mpi_capacity_n(int threads, int base, double avg_us) {
  int cap = base;
  if (avg_us >= 0 && avg_us < 1000) { /* tiny tasks: ~1 ms of work queued */
    double per = 1 + 1000 / (avg_us + 1);
    int deep = threads * (per > 64 ? 64 : (int)per);
    if (deep > cap)
      cap = deep;
  }
  return cap;
}

void weft__mpool_want(weft__mpool *p, int u, uint64_t bytes) {
  if (u < 0 || u >= p->n)
    return;
  if (!p->bytes[u])
    p->touched[p->ntouched++] = u;
  p->bytes[u] += bytes + 1;
}

int weft__mpool_pick(weft__mpool *p) {
  int best = -1;
  uint64_t most = 0;
  for (int t = 0; t < p->ntouched; t++) {
    int u = p->touched[t];
    if (p->bytes[u] > most && !p->dead[u] && p->inflight[u] < p->cap[u]) {
      most = p->bytes[u];
      best = u;
    }
    p->bytes[u] = 0;
  }
  p->ntouched = 0;
  if (best >= 0)
    return best;
  /* Earliest start: the least loaded unit with room. */
  double load = 2;
  for (int j = 0; j < p->n; j++) {
    int u = (p->rr + j) % p->n;
    if (p->dead[u] || p->inflight[u] >= p->cap[u])
      continue;
    double l = (double)p->inflight[u] / p->cap[u];
    if (l < load) {
      load = l;
      best = u;
    }
  }
  if (best >= 0)
    p->rr = (best + 1) % p->n;
  return best;
}

void weft__mpool_ran(weft__mpool *p, int u, uint32_t us) {
  if (u < 0 || u >= p->n)
    return;
  p->avg_us[u] = p->avg_us[u] < 0 ? us : p->avg_us[u] * 0.875 + us * 0.125;
}
