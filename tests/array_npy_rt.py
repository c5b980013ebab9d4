#!/usr/bin/python3
"""array_npy_rt.py - numpy's side of tests/test_array_npy.c (Debian's
python3-numpy): the inputs weft_array_from_npy reads, and the check of what
weft_array_to_npy wrote.

  array_npy_rt.py make DIR
      writes with np.save: DIR/a.npy float64 (53, 37) C order, DIR/f.npy
      int32 (23, 11) Fortran order, DIR/w.npy big-endian float64 (41,),
      DIR/b.npy bool (9, 8), DIR/i8.npy int8 (5,) (a dtype arrays refuse)
  array_npy_rt.py check DIR CASES
      CASES: lines "OUT.npy EXPRESSION"; EXPRESSION (Python, numpy as np,
      the inputs as a, f, w, b from DIR) is evaluated and compared with
      np.load(OUT.npy): same dtype and shape, values equal (floats within
      1e-12 relative: weft sums in another order). Prints what differs and
      exits 1 on any mismatch.
"""
import sys

import numpy as np


def make(d):
    rng = np.random.default_rng(7)
    np.save(f"{d}/a.npy", rng.standard_normal((53, 37)))
    np.save(f"{d}/f.npy", np.asfortranarray(
        rng.integers(-1000, 1000, (23, 11), dtype=np.int32)))
    np.save(f"{d}/w.npy", rng.random(41).astype(">f8"))
    np.save(f"{d}/b.npy", rng.random((9, 8)) < 0.5)
    np.save(f"{d}/i8.npy", np.arange(5, dtype=np.int8))


def check(d, cases):
    env = {"np": np}
    for n in "afwb":
        env[n] = np.load(f"{d}/{n}.npy")
    bad = 0
    for line in open(cases):
        out, expr = line.rstrip("\n").split(" ", 1)
        want = np.asarray(eval(expr, env))
        got = np.load(f"{d}/{out}")
        if got.dtype != want.dtype.newbyteorder("=") or got.shape != want.shape:
            print(f"{out}: {expr}: got {got.dtype} {got.shape}, numpy "
                  f"{want.dtype} {want.shape}")
            bad += 1
        elif want.dtype.kind == "f":
            if not np.allclose(got, want, rtol=1e-12, atol=1e-12):
                print(f"{out}: {expr}: values differ: {got.ravel()[:4]} "
                      f"vs {want.ravel()[:4]}")
                bad += 1
        elif not np.array_equal(got, want):
            print(f"{out}: {expr}: values differ")
            bad += 1
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3])
