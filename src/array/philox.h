/* philox.h - the counter-based random numbers of weft's arrays: Philox4x32-10
 * (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2,
 * 3", SC'11; the generator of Random123 and of cuRAND/numpy's Philox family).
 * Internal to weft; header-only so that a fused array task (kern.c) and the
 * benchmark's hand-written loops inline it into their tile loops. This is
 * the one definition of the generator: its constants, its rounds
 * (WEFT__PHILOX10) and the mapping of elements to counters; kern.c builds
 * its loops on them (and its AVX-512 loop on the same constants), and
 * tests/test_philox.c checks kern's fills against the element functions
 * here.
 *
 * A counter-based generator is a keyed bijection: output = philox(counter,
 * key). Keyed by the seed and counted by the global element index, the
 * value of element i of a random array does not depend on the chunking,
 * the order in which chunks run, the scheduler or the number of workers,
 * and any block is made without generating what lies before it.
 *
 * Counters are {n low, n high, 0, stream} under key {seed low, seed high};
 * the 128 bits out are two 64-bit words w0 = out[1]:out[0] and
 * w1 = out[3]:out[2]. Uniform (stream 0): element i is word i % 2 of
 * counter n = i / 2, as a double: the top 53 bits times 2^-53, in [0, 1).
 * Normal (stream 1): element i has counter n = i of its own; Box-Muller of
 * u1 = (top 53 bits of w0 + 1) 2^-53, in (0, 1] so the log never sees 0,
 * and u2 = top 53 bits of w1 times 2^-53: z = sqrt(-2 ln u1) cos(2 pi u2).
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

/* Philox4x32-10 in place on four 32-bit words x0..x3 (lvalues of any
 * unsigned type at least 32 bits wide) under key {key0, key1}: ten rounds
 * of two 32 x 32 -> 64-bit products and xors with the key, bumped by the
 * Weyl constants between rounds. Written on 64-bit lanes masked to 32 bits
 * so a loop over counters vectorises (the products become vpmuludq). */
#define WEFT__PHILOX10(x0, x1, x2, x3, key0, key1)                             \
  do {                                                                         \
    uint64_t a0_ = (x0), a1_ = (x1), a2_ = (x2), a3_ = (x3);                   \
    uint64_t k0_ = (key0), k1_ = (key1);                                       \
    for (int r_ = 0; r_ < 10; r_++) {                                          \
      uint64_t p0_ = WEFT__PHILOX_M0 * (a0_ & 0xffffffffu);                    \
      uint64_t p1_ = WEFT__PHILOX_M1 * (a2_ & 0xffffffffu);                    \
      uint64_t n0_ = ((p1_ >> 32) ^ a1_ ^ k0_) & 0xffffffffu;                  \
      uint64_t n2_ = ((p0_ >> 32) ^ a3_ ^ k1_) & 0xffffffffu;                  \
      a1_ = p1_ & 0xffffffffu;                                                 \
      a3_ = p0_ & 0xffffffffu;                                                 \
      a0_ = n0_;                                                               \
      a2_ = n2_;                                                               \
      k0_ = (k0_ + WEFT__PHILOX_W0) & 0xffffffffu;                             \
      k1_ = (k1_ + WEFT__PHILOX_W1) & 0xffffffffu;                             \
    }                                                                          \
    (x0) = (uint32_t)a0_;                                                      \
    (x1) = (uint32_t)a1_;                                                      \
    (x2) = (uint32_t)a2_;                                                      \
    (x3) = (uint32_t)a3_;                                                      \
  } while (0)

/* Philox4x32-10: out = philox(ctr, key); out may alias ctr. */
static inline void weft__philox4x32_10(const uint32_t ctr[4],
                                       const uint32_t key[2], uint32_t out[4]) {
  uint32_t x0 = ctr[0], x1 = ctr[1], x2 = ctr[2], x3 = ctr[3];
  WEFT__PHILOX10(x0, x1, x2, x3, key[0], key[1]);
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}

/* The two 64-bit words of counter n of stream s under seed. */
static inline void weft__philox_pair(uint64_t seed, uint32_t stream,
                                     uint64_t n, uint64_t w[2]) {
  uint32_t x0 = (uint32_t)n, x1 = (uint32_t)(n >> 32), x2 = 0, x3 = stream;
  WEFT__PHILOX10(x0, x1, x2, x3, (uint32_t)seed, (uint32_t)(seed >> 32));
  w[0] = (uint64_t)x1 << 32 | x0;
  w[1] = (uint64_t)x3 << 32 | x2;
}

/* A 64-bit word as a double in [0, 1): its top 53 bits times 2^-53. */
static inline double weft__philox_to_unit(uint64_t w) {
  return (double)(int64_t)(w >> 11) * 0x1.0p-53;
}
/* The same plus 2^-53: in (0, 1]. */
static inline double weft__philox_to_unit_open(uint64_t w) {
  return ((double)(int64_t)(w >> 11) + 1.0) * 0x1.0p-53;
}

/* The uniform double in [0, 1) of element i under seed. */
static inline double weft__philox_uniform(uint64_t seed, uint64_t i) {
  uint64_t w[2];
  weft__philox_pair(seed, WEFT__PHILOX_UNIFORM, i >> 1, w);
  return weft__philox_to_unit(w[i & 1]);
}

/* out[j] = weft__philox_uniform(seed, first + j) for j < n, one Philox call
 * per two elements, in a loop the compiler vectorises at -O3. */
static inline void weft__philox_uniform_fill(uint64_t seed, uint64_t first,
                                             size_t n, double *out) {
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  size_t j = 0;
  if (n && (first & 1)) { /* an odd start takes the second half of a pair */
    out[0] = weft__philox_uniform(seed, first);
    j = 1;
  }
  uint64_t p0 = (first + j) >> 1;
  size_t npairs = (n - j) / 2;
  double *o = out + j;
  for (size_t q = 0; q < npairs; q++) {
    uint64_t p = p0 + q;
    uint32_t x0 = (uint32_t)p, x1 = (uint32_t)(p >> 32), x2 = 0,
             x3 = WEFT__PHILOX_UNIFORM;
    WEFT__PHILOX10(x0, x1, x2, x3, k0, k1);
    o[2 * q] = weft__philox_to_unit((uint64_t)x1 << 32 | x0);
    o[2 * q + 1] = weft__philox_to_unit((uint64_t)x3 << 32 | x2);
  }
  j += 2 * npairs;
  if (j < n)
    out[j] = weft__philox_uniform(seed, first + j);
}

/* The standard normal double of element i under seed (Box-Muller). */
static inline double weft__philox_normal(uint64_t seed, uint64_t i) {
  uint64_t w[2];
  weft__philox_pair(seed, WEFT__PHILOX_NORMAL, i, w);
  double u1 = weft__philox_to_unit_open(w[0]);
  double u2 = weft__philox_to_unit(w[1]);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* out[j] = weft__philox_normal(seed, first + j) for j < n. */
static inline void weft__philox_normal_fill(uint64_t seed, uint64_t first,
                                            size_t n, double *out) {
  for (size_t j = 0; j < n; j++)
    out[j] = weft__philox_normal(seed, first + j);
}

#endif
