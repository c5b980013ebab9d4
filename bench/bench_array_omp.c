/* bench_array_omp.c - the hand-written limit of issue 8's array benchmark:
 * the four workloads as fused C loops with OpenMP, what a C programmer
 * writes by hand instead of weft/array.h (bench/array_dask.py is Dask's side,
 * bench/run_array.sh prints them together).
 *
 *   mulrev_ones    mean(A * A[::-1, ::-1]),   A = ones((200000, 4000))
 *   cos2_ones      mean(cos(A) ** 2, axis=1), A = ones((200000, 4000))
 *   mulrev_random  the same with A = random((200000, 4000), seed=0)
 *   cos2_random    (uniform [0, 1), src/array/philox.h: element i of A is
 *                  weft__philox_uniform(seed, i), as weft's random arrays)
 *
 * The array is cut as Dask cuts it, in 1000 x 1000 blocks (200 x 4); OpenMP
 * threads take blocks (schedule dynamic); a block is made and consumed in
 * tiles of TILE_ROWS rows (16: 128 KiB per operand, both operands well
 * inside the 1 MiB L2 of these cores) so nothing but tiles is ever stored:
 * for A[::-1, ::-1] the partner rows are generated and read backwards.
 * Variants: `tiles` (inputs written into the tile buffers, then one fused
 * pass: what a fused array task does) and, for mulrev_ones only, `regs`
 * (the ones never stored: 1 * 1 summed in registers, the floor). Sums use
 * 8 accumulators; per-block partial results are combined in block order, so
 * a result does not depend on the number of threads.
 *
 * cos is glibc's vector cos (libmvec, _ZGVeN8v_cos / _ZGVdN4v_cos), as
 * numpy's own SIMD cos is what Dask runs: declared here as an OpenMP simd
 * function so the cos loop vectorises without -ffast-math.
 *
 *   bench_array_omp [CASE...]      (default: all four)
 *
 * Environment: REPS (timed repetitions after one untimed warm-up, default
 * 3), TILE_ROWS (default 16), ROWS (default 200000: smaller for a quick
 * run), SEED (default 0), OMP_NUM_THREADS. One line per (case, variant):
 *
 *   ARRAY sys=omp var=<v> case=<case> threads=<n> reps=<r> seconds=<median>
 *         min=<s> max=<s> cpu=<s> peak_rss=<bytes> result=<value>
 *         first=<value>
 *
 * cpu: the median CPU seconds of a repetition, all threads together (user +
 * system): on a shared machine, less disturbed by others than wall time.
 * result: the scalar (mulrev) or the mean of the row means (cos2); first:
 * the first row mean (cos2) or the scalar again. peak_rss is the process's
 * VmHWM, reset before each variant (bench_mem.h). */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "array/philox.h"
#include "bench_mem.h"

#pragma omp declare simd notinbranch
extern double cos(double);

#define NCOL 4000L
#define CB 1000L /* block side (a multiple of 8) */

static long nrow = 200000, tile_rows = 16;
static uint64_t seed = 0;
static volatile double one_v = 1.0; /* not a compile-time constant */

static double now_s(void) { return omp_get_wtime(); }

/* CPU seconds of every thread of the process (user + system) */
static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* sum_k a[k] * b[n-1-k] with 8 accumulators; n a multiple of 8 (CB is) */
static double dot_rev(const double *restrict a, const double *restrict b,
                      long n) {
  double s[8] = {0};
  long k = 0;
  for (; k + 8 <= n; k += 8)
    for (int q = 0; q < 8; q++)
      s[q] += a[k + q] * b[n - 1 - k - q];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* sum_k cos(a[k])^2 with 8 accumulators; n a multiple of 8 */
static double sum_cos2(const double *restrict a, long n) {
  double s[8] = {0};
  long k = 0;
  for (; k + 8 <= n; k += 8) {
#pragma omp simd
    for (int q = 0; q < 8; q++) {
      double c = cos(a[k + q]);
      s[q] += c * c;
    }
  }
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* Row r, columns [c0, c0 + n) of A into out. */
static void make_row(int random, long r, long c0, long n, double *out) {
  if (random) {
    weft__philox_uniform_fill(seed, (uint64_t)(r * NCOL + c0), (size_t)n, out);
  } else {
    double one = one_v;
    for (long k = 0; k < n; k++)
      out[k] = one;
  }
}

typedef struct work {
  int random, regs;
  double *bufa, *bufb; /* per thread: tile_rows * CB each */
} work;

/* Block (bi, bj) of A * A[::-1, ::-1], summed. */
static double mulrev_block(const work *w, double *a, double *b, long bi,
                           long bj) {
  double total = 0;
  if (w->regs) { /* ones in registers: each tile's sum of 1 * 1 */
    double one = one_v;
    for (long r = 0; r < CB; r += tile_rows) {
      double s[8] = {0};
      long n = (r + tile_rows <= CB ? tile_rows : CB - r) * CB;
      for (long k = 0; k < n; k += 8)
        for (int q = 0; q < 8; q++)
          s[q] += one * one;
      total +=
          ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    }
    return total;
  }
  for (long r0 = 0; r0 < CB; r0 += tile_rows) {
    long nr = r0 + tile_rows <= CB ? tile_rows : CB - r0;
    for (long t = 0; t < nr; t++) {
      long r = bi * CB + r0 + t, c0 = bj * CB;
      make_row(w->random, r, c0, CB, a + t * CB);
      /* A[::-1, ::-1][r, c0:c0+CB] = row nrow-1-r, columns NCOL-c0-CB ..
       * NCOL-c0-1 read backwards */
      make_row(w->random, nrow - 1 - r, NCOL - c0 - CB, CB, b + t * CB);
    }
    for (long t = 0; t < nr; t++)
      total += dot_rev(a + t * CB, b + t * CB, CB);
  }
  return total;
}

/* Block (bi, bj) of cos(A) ** 2, summed along rows into part[0..CB). */
static void cos2_block(const work *w, double *a, long bi, long bj,
                       double *part) {
  for (long r0 = 0; r0 < CB; r0 += tile_rows) {
    long nr = r0 + tile_rows <= CB ? tile_rows : CB - r0;
    for (long t = 0; t < nr; t++)
      make_row(w->random, bi * CB + r0 + t, bj * CB, CB, a + t * CB);
    for (long t = 0; t < nr; t++)
      part[r0 + t] = sum_cos2(a + t * CB, CB);
  }
}

/* One run of a case: the scalar in *result, the first row mean in *first. */
static void run_case(int cos2, work *w, double *blocksum, double *parts,
                     double *rowmean, double *result, double *first) {
  long nbr = nrow / CB, nbc = NCOL / CB, nblk = nbr * nbc;
#pragma omp parallel
  {
    int tid = omp_get_thread_num();
    double *a = w->bufa + (size_t)tid * tile_rows * CB;
    double *b = w->bufb + (size_t)tid * tile_rows * CB;
#pragma omp for schedule(dynamic, 1)
    for (long blk = 0; blk < nblk; blk++) {
      long bi = blk / nbc, bj = blk % nbc;
      if (cos2)
        cos2_block(w, a, bi, bj, parts + (size_t)bj * nrow + bi * CB);
      else
        blocksum[blk] = mulrev_block(w, a, b, bi, bj);
    }
  }
  if (cos2) { /* row means: partials of the 4 column blocks, in order */
    double all = 0;
    for (long r = 0; r < nrow; r++) {
      double s = 0;
      for (long bj = 0; bj < nbc; bj++)
        s += parts[(size_t)bj * nrow + r];
      rowmean[r] = s / NCOL;
      all += rowmean[r];
    }
    *result = all / (double)nrow;
    *first = rowmean[0];
  } else {
    double s = 0;
    for (long blk = 0; blk < nblk; blk++)
      s += blocksum[blk];
    *result = *first = s / ((double)nrow * NCOL);
  }
}

static int cmp_dbl(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static void bench(const char *name, int cos2, int random, int regs, int reps) {
  int nthr = omp_get_max_threads();
  work w = {random, regs, NULL, NULL};
  size_t tile = (size_t)tile_rows * CB;
  w.bufa = aligned_alloc(64, (size_t)nthr * tile * sizeof(double));
  w.bufb = aligned_alloc(64, (size_t)nthr * tile * sizeof(double));
  long nblk = nrow / CB * (NCOL / CB);
  double *blocksum = calloc((size_t)nblk, sizeof(double));
  double *parts = calloc((size_t)(NCOL / CB) * (size_t)nrow, sizeof(double));
  double *rowmean = calloc((size_t)nrow, sizeof(double));
  if (!w.bufa || !w.bufb || !blocksum || !parts || !rowmean) {
    fprintf(stderr, "bench_array_omp: out of memory\n");
    exit(1);
  }
  mem_peak_reset();
  double t[64], c[64], result = 0, first = 0;
  run_case(cos2, &w, blocksum, parts, rowmean, &result, &first); /* warm-up */
  for (int r = 0; r < reps; r++) {
    double t0 = now_s(), c0 = cpu_s();
    run_case(cos2, &w, blocksum, parts, rowmean, &result, &first);
    t[r] = now_s() - t0;
    c[r] = cpu_s() - c0;
  }
  qsort(t, (size_t)reps, sizeof t[0], cmp_dbl);
  qsort(c, (size_t)reps, sizeof c[0], cmp_dbl);
  printf("ARRAY sys=omp var=%s case=%s threads=%d reps=%d seconds=%.6f "
         "min=%.6f max=%.6f cpu=%.6f peak_rss=%.0f result=%.17g "
         "first=%.17g\n",
         regs ? "regs" : "tiles", name, nthr, reps, t[reps / 2], t[0],
         t[reps - 1], c[reps / 2], mem_peak_bytes(), result, first);
  fflush(stdout);
  free(w.bufa);
  free(w.bufb);
  free(blocksum);
  free(parts);
  free(rowmean);
}

int main(int argc, char **argv) {
  const char *e;
  int reps = (e = getenv("REPS")) ? atoi(e) : 3;
  if (reps < 1 || reps > 64)
    reps = 3;
  if ((e = getenv("TILE_ROWS")) && atol(e) > 0)
    tile_rows = atol(e) < CB ? atol(e) : CB;
  if ((e = getenv("ROWS")) && atol(e) >= CB)
    nrow = atol(e) / CB * CB;
  if ((e = getenv("SEED")))
    seed = strtoull(e, NULL, 10);
  static const char *all[] = {"mulrev_ones", "cos2_ones", "mulrev_random",
                              "cos2_random"};
  const char **cases = argc > 1 ? (const char **)argv + 1 : all;
  int ncases = argc > 1 ? argc - 1 : 4;
  for (int c = 0; c < ncases; c++) {
    const char *n = cases[c];
    if (strcmp(n, "mulrev_ones") == 0) {
      bench(n, 0, 0, 0, reps);
      bench(n, 0, 0, 1, reps);
    } else if (strcmp(n, "cos2_ones") == 0) {
      bench(n, 1, 0, 0, reps);
    } else if (strcmp(n, "mulrev_random") == 0) {
      bench(n, 0, 1, 0, reps);
    } else if (strcmp(n, "cos2_random") == 0) {
      bench(n, 1, 1, 0, reps);
    } else {
      fprintf(stderr,
              "bench_array_omp: unknown case '%s' (mulrev_ones, cos2_ones, "
              "mulrev_random, cos2_random)\n",
              n);
      return 2;
    }
  }
  return 0;
}
