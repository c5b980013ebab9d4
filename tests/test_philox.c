/* test_philox.c - the arrays' counter-based generator (src/array/philox.h):
 * Philox4x32-10 gives Random123's known-answer vectors (tests/kat_vectors
 * of github.com/DEShawResearch/random123, the three "philox4x32 10" lines);
 * element i is the same whether drawn alone or inside a block starting
 * anywhere (odd starts included), so values do not depend on chunking;
 * kern.c's tile loops (what random arrays run) give the same elements;
 * seeds and streams differ; and a million uniforms and normals have the
 * mean, variance and histogram their distributions promise (bounds of 6
 * standard errors: a false failure is a one-in-a-billion event, a wrong
 * transform fails by hundreds of errors). */
#include "testutil.h"

#include <math.h>

#include "array/philox.h"

static void test_known_answers(void **state) {
  (void)state;
  static const struct {
    uint32_t ctr[4], key[2], want[4];
  } kat[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (size_t t = 0; t < sizeof kat / sizeof kat[0]; t++) {
    uint32_t out[4];
    weft__philox4x32_10(kat[t].ctr, kat[t].key, out);
    for (int k = 0; k < 4; k++)
      if (out[k] != kat[t].want[k]) {
        print_error("vector %zu word %d: %08x, want %08x\n", t, k, out[k],
                    kat[t].want[k]);
        fail();
      }
  }
  /* the element functions are those words: element 0 and 1 of seed 0 */
  uint32_t z[4] = {0, 0, 0, 0}, zk[2] = {0, 0}, o[4];
  weft__philox4x32_10(z, zk, o);
  uint64_t w0 = (uint64_t)o[1] << 32 | o[0], w1 = (uint64_t)o[3] << 32 | o[2];
  assert_double_exact(weft__philox_uniform(0, 0), (double)(w0 >> 11) / 0x1p53);
  assert_double_exact(weft__philox_uniform(0, 1), (double)(w1 >> 11) / 0x1p53);
}

static void test_blocks_match_elements(void **state) {
  (void)state;
  double buf[301];
  const uint64_t seeds[] = {0, 42, 0xfedcba9876543210ull};
  const uint64_t starts[] = {0, 1, 2, 999, 1000, 0xffffffffull, 1ull << 40};
  for (size_t s = 0; s < 3; s++)
    for (size_t b = 0; b < sizeof starts / sizeof starts[0]; b++)
      for (size_t n = 0; n <= 301; n += 43) {
        weft__philox_uniform_fill(seeds[s], starts[b], n, buf);
        for (size_t j = 0; j < n; j++)
          assert_double_exact(buf[j],
                              weft__philox_uniform(seeds[s], starts[b] + j));
      }
  for (size_t b = 0; b < sizeof starts / sizeof starts[0]; b++)
    for (size_t n = 0; n <= 301; n += 43) {
      weft__philox_normal_fill(5, starts[b], n, buf);
      for (size_t j = 0; j < n; j++)
        assert_double_exact(buf[j], weft__philox_normal(5, starts[b] + j));
    }
  /* seeds, neighbours and streams give different numbers */
  assert_true(weft__philox_uniform(1, 5) != weft__philox_uniform(2, 5));
  assert_true(weft__philox_uniform(1, 5) != weft__philox_uniform(1, 6));
  uint64_t a[2], u[2];
  weft__philox_pair(7, WEFT__PHILOX_UNIFORM, 3, u);
  weft__philox_pair(7, WEFT__PHILOX_NORMAL, 3, a);
  assert_true(a[0] != u[0] && a[1] != u[1]);
}

/* kern.c's loops (the random arrays' tiles: the vector loop, its AVX-512
 * path where the machine has it, odd starts, reversed and strided runs)
 * give the element functions here: uniforms bit for bit; normals to the
 * last bits only, as kern's cos and log are glibc's vector versions
 * (libmvec, within 4 ulp) where this file calls the scalar ones. */
void weft__kern_uniform(double *out, size_t n, uint64_t seed, int64_t first,
                        int64_t step, double lo, double hi);
void weft__kern_normal(double *out, size_t n, uint64_t seed, int64_t first,
                       int64_t step, double mean, double sd);

static void test_kern_fills_are_the_element_functions(void **state) {
  (void)state;
  static double buf[1003];
  const uint64_t seeds[] = {0, 5, 0xfedcba9876543210ull};
  const int64_t starts[] = {0, 1, 2, 999, 4000001, 0xffffffffll,
                            (1ll << 40) + 3};
  const int64_t steps[] = {1, -1, 3, -4000};
  const size_t ns[] = {0, 1, 2, 15, 16, 17, 64, 1003};
  size_t checked = 0;
  for (size_t s = 0; s < 3; s++)
    for (size_t b = 0; b < sizeof starts / sizeof starts[0]; b++)
      for (size_t t = 0; t < sizeof steps / sizeof steps[0]; t++)
        for (size_t m = 0; m < sizeof ns / sizeof ns[0]; m++) {
          size_t n = ns[m];
          int64_t first = starts[b] + (steps[t] < 0 ? 1000000 * 4000ll : 0);
          weft__kern_uniform(buf, n, seeds[s], first, steps[t], 0, 1);
          for (size_t j = 0; j < n; j++) {
            uint64_t e = (uint64_t)(first + (int64_t)j * steps[t]);
            double want = weft__philox_uniform(seeds[s], e);
            if (buf[j] != want) {
              print_error("uniform seed %zu start %lld step %lld: element "
                          "%zu is %.17g, want %.17g\n",
                          s, (long long)first, (long long)steps[t], j, buf[j],
                          want);
              fail();
            }
            checked++;
          }
          /* low + (high - low) * u, the same rounding */
          weft__kern_uniform(buf, n, seeds[s], first, steps[t], -2, 3);
          for (size_t j = 0; j < n; j++) {
            uint64_t e = (uint64_t)(first + (int64_t)j * steps[t]);
            assert_double_exact(buf[j],
                                -2 + 5 * weft__philox_uniform(seeds[s], e));
          }
          weft__kern_normal(buf, n, seeds[s], first, steps[t], 0, 1);
          for (size_t j = 0; j < n; j++) {
            uint64_t e = (uint64_t)(first + (int64_t)j * steps[t]);
            double want = weft__philox_normal(seeds[s], e);
            if (!(fabs(buf[j] - want) <= 1e-14 * (1 + fabs(want)))) {
              print_error("normal seed %zu start %lld step %lld: element "
                          "%zu is %.17g, want %.17g\n",
                          s, (long long)first, (long long)steps[t], j, buf[j],
                          want);
              fail();
            }
          }
        }
  assert_true(checked == 3 * 7 * 4 * 1118);
  /* the uniform fill of philox.h is the same stream again */
  weft__kern_uniform(buf, 1003, 42, 12345, 1, 0, 1);
  double mine[1003];
  weft__philox_uniform_fill(42, 12345, 1003, mine);
  assert_memory_equal(buf, mine, sizeof mine);
}

static void test_distributions(void **state) {
  (void)state;
  const size_t n = 1000000;
  double *x = malloc(n * sizeof *x);
  weft__philox_uniform_fill(2024, 12345, n, x);
  double sum = 0, sq = 0;
  size_t bins[16] = {0};
  for (size_t i = 0; i < n; i++) {
    assert_true(x[i] >= 0.0 && x[i] < 1.0);
    sum += x[i];
    sq += (x[i] - 0.5) * (x[i] - 0.5);
    bins[(int)(x[i] * 16)]++;
  }
  double mean = sum / (double)n, var = sq / (double)n;
  /* mean: sd sqrt(1/12/n) = 2.9e-4; variance 1/12: sd sqrt(1/180/n) = 7.5e-5 */
  assert_true(fabs(mean - 0.5) < 6 * 2.9e-4);
  assert_true(fabs(var - 1.0 / 12) < 6 * 7.5e-5);
  double chi2 = 0, e = (double)n / 16;
  for (int b = 0; b < 16; b++)
    chi2 += ((double)bins[b] - e) * ((double)bins[b] - e) / e;
  assert_true(chi2 < 60); /* 15 degrees of freedom: P(chi2 > 60) ~ 1e-7 */

  sum = sq = 0;
  double m4 = 0;
  for (size_t i = 0; i < n; i++) {
    double z = weft__philox_normal(99, i);
    sum += z;
    sq += z * z;
    m4 += z * z * z * z;
  }
  mean = sum / (double)n;
  var = sq / (double)n;
  assert_true(fabs(mean) < 6 * 1e-3);                 /* sd 1/sqrt(n) */
  assert_true(fabs(var - 1) < 6 * 1.42e-3);           /* sd sqrt(2/n) */
  assert_true(fabs(m4 / (double)n - 3) < 6 * 9.8e-3); /* sd sqrt(96/n) */
  free(x);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_answers),
      cmocka_unit_test(test_blocks_match_elements),
      cmocka_unit_test(test_kern_fills_are_the_element_functions),
      cmocka_unit_test(test_distributions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
