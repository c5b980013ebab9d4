/* array_inputs.h - the inputs of the array tests' numpy comparisons
 * (test_array.c, tests/mpi/test_mpi_array.c): a table entry per input
 * (name, dtype, shape, regular chunks, irregular sizes), its data from a
 * fixed-seed LCG, the array over it in three chunkings (regular,
 * irregular, random sizes), and reading back numpy's log. Included by one
 * program each: its statics are that program's. */
#ifndef WEFT_TEST_ARRAY_INPUTS_H
#define WEFT_TEST_ARRAY_INPUTS_H

#include "testutil.h"

#define NELEM(x) (sizeof(x) / sizeof((x)[0]))
#define MAXD_TEST 3

typedef struct input {
  const char *name;
  weft_dtype dt;
  weft_shape shape;
  weft_chunks regular;
  int nirr;          /* axes with explicit sizes in the irregular set */
  int64_t irr[3][4]; /* sizes per axis, ending with -1 */
} input;

static uint64_t lcg = 88172645463325252ull;
static inline double next_rand(void) {
  lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(lcg >> 11) * 0x1p-53;
}

static inline void *make_data(const input *in, size_t *count) {
  size_t n = 1;
  for (int k = 0; k < in->shape.ndim; k++)
    n *= (size_t)in->shape.d[k];
  *count = n;
  void *p = calloc(n ? n : 1, 8);
  assert_non_null(p);
  for (size_t i = 0; i < n; i++) {
    double r = next_rand();
    switch (in->dt) {
    case WEFT_F64:
      ((double *)p)[i] = (r - 0.5) * 6 + (i % 7 == 0 ? 0.25 : 0);
      break;
    case WEFT_F32:
      ((float *)p)[i] = (float)((r - 0.5) * 4);
      break;
    case WEFT_I32:
      ((int32_t *)p)[i] = (int32_t)(r * 13) - 6;
      break;
    case WEFT_I64:
      ((int64_t *)p)[i] = (int64_t)(r * 201) - 100;
      break;
    case WEFT_BOOL:
      ((uint8_t *)p)[i] = r < 0.4;
      break;
    default:
      break;
    }
  }
  return p;
}

static inline void read_whole(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(buf, 1, size - 1, f) : 0;
  buf[n] = 0;
  if (f)
    fclose(f);
}

/* The array over `data` in chunking `set`: 0 regular, 1 irregular (the
 * table's sizes), 2 random sizes adding up to each extent, from the LCG
 * (kept in random_sizes while the array is made). */
static int64_t random_sizes[MAXD_TEST][64];
static inline weft_array *make_input(weft_graph *g, const input *in,
                                     const void *data, int set) {
  bool irregular = set == 1;
  weft_chunks c = in->regular;
  if (set == 2) {
    c.ndim = in->shape.ndim;
    for (int k = 0; k < in->shape.ndim; k++) {
      int64_t left = in->shape.d[k];
      size_t n = 0;
      if (left == 0)
        random_sizes[k][n++] = 0;
      while (left > 0 && n < 64) {
        int64_t sz = 1 + (int64_t)(next_rand() * (double)left);
        if (sz > left)
          sz = left;
        random_sizes[k][n++] = sz;
        left -= sz;
      }
      weft_chunks_axis(&c, k, n, random_sizes[k]);
    }
    return weft_array_from_buffer(g, in->dt, in->shape, c, data);
  }
  if (irregular) {
    c.ndim = in->shape.ndim;
    for (int k = 0; k < in->nirr; k++) {
      size_t n = 0;
      while (in->irr[k][n] >= 0)
        n++;
      weft_chunks_axis(&c, k, n, in->irr[k]);
    }
  }
  return weft_array_from_buffer(g, in->dt, in->shape, c, data);
}

#endif
