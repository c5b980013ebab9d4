/* kern.h - the inner loops of array tasks, over one tile of values in a
 * compute type (uint8 for bool, int64, double; see array_impl.h). kern.c is
 * compiled with -O3 and each loop exists for AVX-512, AVX2 and plain
 * x86-64, chosen when the library loads, so they vectorise on any x86-64
 * machine. Internal to weft. */
#ifndef WEFT_ARRAY_KERN_H
#define WEFT_ARRAY_KERN_H

#include <stddef.h>
#include <stdint.h>

/* out[i] = a[i * sa] op b[i * sb] (sa, sb: 0 for a broadcast scalar, or
 * 1); ct: the operands' compute type; out is bool for comparisons.
 * Returns 0, or 1 for an int64 power with a negative exponent. */
int weft__kern_bin(int op, int ct, void *out, const void *a, size_t sa,
                   const void *b, size_t sb, size_t n);
/* out[i] = fn(a[i]) (weft_array_fn); ct: the operand's compute type. */
void weft__kern_un(int fn, int ct, void *out, const void *a, size_t n);
/* Conversion between compute types (to_dtype: the dtype it ends in, for
 * numpy's float-to-int32 overflow value). */
void weft__kern_cast(int from, int to, int to_dtype, void *out,
                     const void *a, size_t n);
/* Rounds values in place to dtype dt (int32 wraps, float32 rounds). */
void weft__kern_normalize(int dt, void *x, size_t n);
void weft__kern_where(int ct, void *out, const uint8_t *c, size_t sc,
                      const void *a, size_t sa, const void *b, size_t sb,
                      size_t n);
void weft__kern_clip(int ct, void *x, size_t n, double lo, double hi);
void weft__kern_fill(int ct, void *out, size_t n, double d, int64_t i);

/* The reproducible sum of n doubles: lane k (of 16) adds x[k], x[k + 16],
 * ... in order, then the lanes are added as a fixed tree. */
double weft__kern_sum_f64(const double *x, size_t n);
/* The same for n copies of c: the same additions, without loads. */
double weft__kern_sum_const_f64(double c, size_t n);
double weft__kern_prod_f64(const double *x, size_t n);
/* Sum of (x[i] - m)^2, same order. */
double weft__kern_sqdev_f64(const double *x, size_t n, double m);
int64_t weft__kern_sum_i64(const int64_t *x, size_t n);
int64_t weft__kern_prod_i64(const int64_t *x, size_t n);
/* acc[i] += x[i] (op 0), *= (op 1) */
void weft__kern_acc_f64(int op, double *acc, const double *x, size_t n);
void weft__kern_acc_i64(int op, int64_t *acc, const int64_t *x, size_t n);
void weft__kern_sqdev_acc_f64(double *acc, const double *x, const double *m,
                              size_t n);

/* Loads n elements of dtype dt from src (stride `stride` elements) into
 * compute type values; stores the reverse. */
void weft__kern_load(int dt, void *out, const void *src, int64_t stride,
                     size_t n);
void weft__kern_store(int dt, void *dst, const void *in, size_t n);

/* Philox-4x32-10 (Salmon et al., SC'11), 10 rounds. */
void weft__philox4x32(const uint32_t ctr[4], const uint32_t key[2],
                      uint32_t out[4]);
/* Random values of elements first, first + step, ... (global indices). */
void weft__kern_uniform(double *out, size_t n, uint64_t seed, int64_t first,
                        int64_t step, double lo, double hi);
void weft__kern_normal(double *out, size_t n, uint64_t seed, int64_t first,
                       int64_t step, double mean, double sd);

#endif
