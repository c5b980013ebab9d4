/* bench_mem.h - how the benchmarks measure memory (Linux, glibc).
 *
 * A graph's memory is what it holds through malloc plus what it (or its
 * allocator) maps itself; both are read before and after building it:
 *   malloc in use   mallinfo2(): uordblks (live blocks in every arena) +
 *                   hblkhd (blocks malloc placed in their own mmap);
 *   own mappings    the growth of the address space (/proc/self/statm field
 *                   1, VmSize) minus what malloc accounts for (brk growth,
 *                   sbrk(0), and hblkhd growth): mmap/mremap by the library.
 *   so  graph bytes = d(uordblks) + d(VmSize) - d(brk).
 * Mapped capacity counts whether or not it was touched yet; the resident
 * growth (statm field 2) says what was touched, and only means something
 * when the pages are fresh (the first build of a process, or a library that
 * maps and unmaps its memory per graph).
 *   peak resident   VmHWM in /proc/self/status, reset to the current RSS
 *                   by writing "5" to /proc/self/clear_refs.
 *   minor faults    getrusage(RUSAGE_SELF).ru_minflt (all threads); on the
 *                   project VM each costs about 1.8 us (anchors/native.md). */
#ifndef WEFT_BENCH_MEM_H
#define WEFT_BENCH_MEM_H

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static inline double mem_uordblks(void) {
#if defined(__GLIBC__) &&                                                      \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  return (double)mallinfo2().uordblks;
#else
  return 0;
#endif
}

/* field 0 (VmSize) or 1 (resident) of /proc/self/statm, in bytes */
static inline double mem_statm(int field) {
  long v[2] = {0, 0};
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f)
    return 0;
  if (fscanf(f, "%ld %ld", &v[0], &v[1]) != 2)
    v[0] = v[1] = 0;
  fclose(f);
  return (double)v[field] * (double)sysconf(_SC_PAGESIZE);
}
static inline double mem_rss_bytes(void) { return mem_statm(1); }

typedef struct mem_snap {
  double uord, vm, brk, rss;
} mem_snap;

static inline mem_snap mem_snapshot(void) {
  mem_snap m;
  m.uord = mem_uordblks();
  m.brk = (double)(uintptr_t)sbrk(0);
  m.vm = mem_statm(0);
  m.rss = mem_statm(1);
  return m;
}

/* bytes allocated between snapshots a and b: malloc'd + mapped otherwise */
static inline double mem_grown(mem_snap a, mem_snap b) {
  return (b.uord - a.uord) + (b.vm - a.vm) - (b.brk - a.brk);
}

/* Resets the peak-RSS mark; returns 0 when the kernel supports it. */
static inline int mem_peak_reset(void) {
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (!f)
    return -1;
  int ok = fputs("5", f) >= 0;
  return (fclose(f) == 0 && ok) ? 0 : -1;
}

static inline double mem_peak_bytes(void) {
  char line[256];
  double kb = 0;
  FILE *f = fopen("/proc/self/status", "r");
  if (!f)
    return 0;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0) {
      kb = strtod(line + 6, NULL);
      break;
    }
  fclose(f);
  return kb * 1024.0;
}

static inline double mem_minflt(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_minflt;
}

#endif
