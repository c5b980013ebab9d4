/* philox.h - the counter-based random numbers of weft's arrays: Philox4x32-10
 * (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2,
 * 3", SC'11; the generator of Random123 and of cuRAND/numpy's Philox family).
 * Internal to weft; header-only so that a fused array task and the
 * benchmark's hand-written loops inline it into their tile loops.
 *
 * A counter-based generator is a keyed bijection: output = philox(counter,
 * key). Keyed by the seed and counted by the global element index, the
 * value of element i of a random array does not depend on the chunking,
 * the order in which chunks run, the scheduler or the number of workers,
 * and any block is made without generating what lies before it.
 *
 * Element i of stream s (0: uniform, 1: normal, others for later use) under
 * seed k is drawn from philox(counter = {i/2 low, i/2 high, s, 0},
 * key = {k low, k high}): its 128 bits give two doubles, the first for the
 * even element and the second for the odd one. A uniform double is the top
 * 53 bits of a 64-bit word times 2^-53: in [0, 1), every value a multiple of
 * 2^-53. A normal pair is Box-Muller of the two uniforms (1 - u so the log
 * never sees 0): cos for the even element, sin for the odd one.
 * weft__philox_uniform_fill / _normal_fill make a run of consecutive
 * elements (a row of a block) in loops that vectorise at -O3; they give
 * exactly the values of the one-element functions. */
#ifndef WEFT_ARRAY_PHILOX_H
#define WEFT_ARRAY_PHILOX_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define WEFT__PHILOX_M0 0xD2511F53u
#define WEFT__PHILOX_M1 0xCD9E8D57u
#define WEFT__PHILOX_W0 0x9E3779B9u /* golden ratio */
#define WEFT__PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

enum { WEFT__PHILOX_UNIFORM = 0, WEFT__PHILOX_NORMAL = 1 };

/* One round: two 32x32->64 multiplications, xors with the key. */
static inline void weft__philox_round(uint32_t c[4], const uint32_t k[2]) {
  uint64_t p0 = (uint64_t)WEFT__PHILOX_M0 * c[0];
  uint64_t p1 = (uint64_t)WEFT__PHILOX_M1 * c[2];
  uint32_t r0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k[0];
  uint32_t r1 = (uint32_t)p1;
  uint32_t r2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k[1];
  uint32_t r3 = (uint32_t)p0;
  c[0] = r0;
  c[1] = r1;
  c[2] = r2;
  c[3] = r3;
}

/* Philox4x32-10: out = philox(ctr, key); out may alias ctr. */
static inline void weft__philox4x32_10(const uint32_t ctr[4],
                                       const uint32_t key[2], uint32_t out[4]) {
  uint32_t c[4] = {ctr[0], ctr[1], ctr[2], ctr[3]};
  uint32_t k[2] = {key[0], key[1]};
  weft__philox_round(c, k);
  for (int r = 1; r < 10; r++) {
    k[0] += WEFT__PHILOX_W0;
    k[1] += WEFT__PHILOX_W1;
    weft__philox_round(c, k);
  }
  out[0] = c[0];
  out[1] = c[1];
  out[2] = c[2];
  out[3] = c[3];
}

/* The two 64-bit words of counter pair `pair` of stream s under seed. */
static inline void weft__philox_pair(uint64_t seed, uint32_t stream,
                                     uint64_t pair, uint64_t w[2]) {
  uint32_t c[4] = {(uint32_t)pair, (uint32_t)(pair >> 32), stream, 0};
  uint32_t k[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  weft__philox4x32_10(c, k, c);
  w[0] = (uint64_t)c[1] << 32 | c[0];
  w[1] = (uint64_t)c[3] << 32 | c[2];
}

/* A 64-bit word as a double in [0, 1). */
static inline double weft__philox_to_unit(uint64_t w) {
  return (double)(w >> 11) * 0x1.0p-53;
}

/* The uniform double in [0, 1) of element i under seed. */
static inline double weft__philox_uniform(uint64_t seed, uint64_t i) {
  uint64_t w[2];
  weft__philox_pair(seed, WEFT__PHILOX_UNIFORM, i >> 1, w);
  return weft__philox_to_unit(w[i & 1]);
}

/* Philox4x32-10 of counter {lo, hi, stream, 0} under key {k0, k1}, the two
 * 64-bit words as doubles in [0, 1): straight-line code on scalars, so a
 * loop over counters vectorises (the 32x32->64 products become vpmuludq). */
static inline void weft__philox_unit2(uint32_t lo, uint32_t hi, uint32_t stream,
                                      uint32_t k0, uint32_t k1, double *d0,
                                      double *d1) {
  uint32_t c0 = lo, c1 = hi, c2 = stream, c3 = 0;
  for (int r = 0; r < 10; r++) {
    uint64_t p0 = (uint64_t)WEFT__PHILOX_M0 * c0;
    uint64_t p1 = (uint64_t)WEFT__PHILOX_M1 * c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
    uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c1 = (uint32_t)p1;
    c3 = (uint32_t)p0;
    c0 = n0;
    c2 = n2;
    k0 += WEFT__PHILOX_W0;
    k1 += WEFT__PHILOX_W1;
  }
  *d0 = (double)(int64_t)(((uint64_t)c1 << 32 | c0) >> 11) * 0x1.0p-53;
  *d1 = (double)(int64_t)(((uint64_t)c3 << 32 | c2) >> 11) * 0x1.0p-53;
}

/* out[j] = weft__philox_uniform(seed, first + j) for j < n, one Philox call
 * per two elements, in a loop the compiler vectorises at -O3. */
static inline void weft__philox_uniform_fill(uint64_t seed, uint64_t first,
                                             size_t n, double *out) {
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  size_t j = 0;
  double spare;
  if (n && (first & 1)) { /* an odd start takes the second half of a pair */
    uint64_t p = first >> 1;
    weft__philox_unit2((uint32_t)p, (uint32_t)(p >> 32), WEFT__PHILOX_UNIFORM,
                       k0, k1, &spare, &out[0]);
    j = 1;
  }
  uint64_t p0 = (first + j) >> 1;
  size_t npairs = (n - j) / 2;
  double *o = out + j;
  for (size_t q = 0; q < npairs; q++) {
    uint64_t p = p0 + q;
    weft__philox_unit2((uint32_t)p, (uint32_t)(p >> 32), WEFT__PHILOX_UNIFORM,
                       k0, k1, &o[2 * q], &o[2 * q + 1]);
  }
  j += 2 * npairs;
  if (j < n) {
    uint64_t p = p0 + npairs;
    weft__philox_unit2((uint32_t)p, (uint32_t)(p >> 32), WEFT__PHILOX_UNIFORM,
                       k0, k1, &out[j], &spare);
  }
}

/* The standard normal double of element i under seed (Box-Muller). */
static inline double weft__philox_normal(uint64_t seed, uint64_t i) {
  uint64_t w[2];
  weft__philox_pair(seed, WEFT__PHILOX_NORMAL, i >> 1, w);
  double r = sqrt(-2.0 * log(1.0 - weft__philox_to_unit(w[0])));
  double t = 6.283185307179586 * weft__philox_to_unit(w[1]);
  return r * (i & 1 ? sin(t) : cos(t));
}

/* out[j] = weft__philox_normal(seed, first + j) for j < n: one Philox call,
 * one log and one sqrt per two elements. */
static inline void weft__philox_normal_fill(uint64_t seed, uint64_t first,
                                            size_t n, double *out) {
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  for (size_t j = 0; j < n;) {
    uint64_t i = first + j, p = i >> 1;
    double u0, u1;
    weft__philox_unit2((uint32_t)p, (uint32_t)(p >> 32), WEFT__PHILOX_NORMAL,
                       k0, k1, &u0, &u1);
    double r = sqrt(-2.0 * log(1.0 - u0)), t = 6.283185307179586 * u1;
    if (!(i & 1))
      out[j++] = r * cos(t);
    if (j < n)
      out[j++] = r * sin(t);
  }
}

#endif
