/* array_npy.h - the little .npy (format 1.0) writer and reader the array
 * tests use to hand arrays to numpy and back (tests only; C order, the
 * five dtypes weft arrays have). */
#ifndef WEFT_TEST_ARRAY_NPY_H
#define WEFT_TEST_ARRAY_NPY_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft.h"

static inline const char *tnpy_descr(weft_dtype dt) {
  switch (dt) {
  case WEFT_BOOL: return "|b1";
  case WEFT_I32: return "<i4";
  case WEFT_I64: return "<i8";
  case WEFT_F32: return "<f4";
  case WEFT_F64: return "<f8";
  default: return "?";
  }
}

/* Writes ndim extents of dtype dt from data to path; 0 or -1. */
static inline int tnpy_write(const char *path, weft_dtype dt, int ndim,
                             const int64_t *shape, const void *data) {
  char dict[512];
  size_t n = (size_t)snprintf(dict, sizeof dict,
                              "{'descr': '%s', 'fortran_order': False, "
                              "'shape': (",
                              tnpy_descr(dt));
  size_t count = 1;
  for (int k = 0; k < ndim; k++) {
    n += (size_t)snprintf(dict + n, sizeof dict - n, "%lld,%s",
                          (long long)shape[k], k + 1 < ndim ? " " : "");
    count *= (size_t)shape[k];
  }
  n += (size_t)snprintf(dict + n, sizeof dict - n, "), }");
  size_t total = 10 + n + 1;
  size_t pad = (64 - total % 64) % 64;
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  unsigned short hl = (unsigned short)(n + pad + 1);
  fwrite("\x93NUMPY\x01\x00", 1, 8, f);
  fputc(hl & 0xff, f);
  fputc(hl >> 8, f);
  fwrite(dict, 1, n, f);
  for (size_t i = 0; i < pad; i++)
    fputc(' ', f);
  fputc('\n', f);
  size_t bytes = count * weft_dtype_size(dt);
  int rc = bytes && fwrite(data, 1, bytes, f) != bytes ? -1 : 0;
  return fclose(f) || rc ? -1 : 0;
}

#endif
