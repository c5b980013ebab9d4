#!/usr/bin/python3
"""npy_helper.py - numpy's side of tests/test_npy.c (Debian's python3-numpy).

  npy_helper.py make DIR
      writes DIR/<case>.npy with np.save / np.lib.format.write_array (every
      dtype weft reads, both byte orders, C and Fortran order, format
      versions 1.0, 2.0 and 3.0, empty, 0-d and size-1 shapes) and
      DIR/cases.txt, one line per file:
        name dtype fortran(0|1) swapped(0|1) version ndim extents...
  npy_helper.py check LIST
      for each line "FILE DTYPE EXTENT..." of the file LIST, loads FILE with
      np.load and checks its dtype, shape and values (the formula below);
      prints what differs and exits 1 on any mismatch.

The value of the element with C-order flat index i (values(), the same
formula as expect_elem() in test_npy.c, computed independently there):
  v = (i * 7919) % 241
  intN:  (v - 120) * M      uintN: v * M      (M fills the width, see SCALE)
  float32: (v - 120) / 8    float64: (v - 120) / 8 + i / 1024
  bool: i % 3 == 0
"""
import sys

import numpy as np

SCALE = {1: 1, 2: 257, 4: 16777259, 8: 72057594037927}


def values(dtype, shape):
    n = int(np.prod(shape, dtype=np.int64))
    i = np.arange(n, dtype=np.int64)
    v = (i * 7919) % 241
    dt = np.dtype(dtype)
    if dt.kind == "b":
        a = i % 3 == 0
    elif dt.kind == "i":
        a = ((v - 120) * SCALE[dt.itemsize]).astype(dt)
    elif dt.kind == "u":
        a = (v.astype(np.uint64) * np.uint64(SCALE[dt.itemsize])).astype(dt)
    elif dt == np.float32:
        a = ((v - 120) / 8.0).astype(np.float32)
    else:
        a = (v - 120) / 8.0 + i / 1024.0
    return a.reshape(shape)


# name, dtype (with byte order), shape, fortran order, format version
CASES = [
    ("f64_c", "<f8", (7, 13), False, (1, 0)),
    ("f64_f_be", ">f8", (4, 5, 6), True, (1, 0)),
    ("f32_be", ">f4", (33,), False, (1, 0)),
    ("f32_f", "<f4", (9, 8), True, (2, 0)),
    ("i8_c", "|i1", (5, 6), False, (1, 0)),
    ("u8_f", "|u1", (5, 6), True, (1, 0)),
    ("i16_be", ">i2", (3, 4, 5), False, (1, 0)),
    ("i32_v2", "<i4", (1000,), False, (2, 0)),
    ("i64_f_be", ">i8", (6, 7), True, (1, 0)),
    ("u16_c", "<u2", (11, 3), False, (1, 0)),
    ("u32_be", ">u4", (2, 3, 4, 5), False, (3, 0)),
    ("u64_c", "<u8", (17,), False, (1, 0)),
    ("bool_v3", "|b1", (4, 9), False, (3, 0)),
    ("bool_f", "|b1", (4, 9), True, (1, 0)),
    ("empty", "<f8", (0, 5), False, (1, 0)),
    ("scalar", "<i4", (), False, (1, 0)),
    ("ones_axes", "<f8", (1, 7, 1), False, (1, 0)),
    ("nine_d", ">i2", (2, 1, 2, 1, 2, 1, 2, 1, 3), True, (1, 0)),
    ("big_rows", "<f8", (300, 257), False, (1, 0)),
]


def make(outdir):
    lines = []
    for name, dt, shape, fortran, version in CASES:
        a = values(np.dtype(dt).newbyteorder("="), shape).astype(dt)
        if fortran:
            a = np.asfortranarray(a)
        path = f"{outdir}/{name}.npy"
        with open(path, "wb") as f:
            np.lib.format.write_array(f, a, version=version)
        with open(path, "rb") as f:  # what numpy really wrote
            major, _ = np.lib.format.read_magic(f)
            hdr = (np.lib.format.read_array_header_1_0 if major == 1
                   else np.lib.format.read_array_header_2_0)(f)
        shp, ford, dtype = hdr
        swapped = dtype.byteorder not in ("=", "|") and \
            dtype.byteorder != ("<" if sys.byteorder == "little" else ">")
        lines.append(" ".join([name, dtype.newbyteorder("=").name,
                               str(int(ford)), str(int(swapped)), str(major),
                               str(len(shp))] + [str(x) for x in shp]))
    with open(f"{outdir}/cases.txt", "w") as f:
        f.write("\n".join(lines) + "\n")


def check(path, dtype, shape):
    a = np.load(path)
    if a.dtype != np.dtype(dtype) or a.shape != shape:
        print(f"{path}: {a.dtype} {a.shape}, want {dtype} {shape}")
        return 1
    want = values(dtype, shape)
    if not np.array_equal(a, want):
        bad = np.argwhere(a != want)
        k = tuple(bad[0])
        print(f"{path}: {len(bad)} elements differ, first at {k}: "
              f"{a[k]!r}, want {want[k]!r}")
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "make":
        make(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        rc = 0
        with open(sys.argv[2]) as f:
            for line in f:
                w = line.split()
                rc |= check(w[0], w[1], tuple(int(x) for x in w[2:]))
        sys.exit(rc)
    else:
        sys.exit(__doc__)
