"""array_numpy.py - the numpy side of test_array.c.

Run in the test's directory: reads cases.txt (lines "index<TAB>expression"),
the inputs in_<name>.npy and weft's results out_<index>_<set>.npy, computes
each expression with numpy (after removing what only weft has: chunks=,
split_every=, .rechunk(...)) and compares dtype, shape and values (exactly
for bool and ints; floats to 1e-12 relative, float32 to 1e-5; NaN equals
NaN). Prints one FAIL line per difference and exits 1 if there was any.
"""
import glob
import re
import sys
import warnings

import numpy as np


def strip_weft(expr):
    """Removes chunks=..., split_every=... and .rechunk(...)."""
    out, i = [], 0
    while i < len(expr):
        m = re.match(r",\s*(chunks|split_every)\s*=", expr[i:])
        r = re.match(r"\.rechunk\(", expr[i:])
        if m or r:
            j = i + (m or r).end()
            depth = 1 if r else 0
            while j < len(expr):
                c = expr[j]
                if c in "([":
                    depth += 1
                elif c in ")]":
                    if depth == 0:
                        break
                    depth -= 1
                    if r and depth == 0:
                        j += 1
                        break
                elif c == "," and depth == 0:
                    break
                j += 1
            i = j
            continue
        out.append(expr[i])
        i += 1
    return "".join(out)


def main():
    inputs = {}
    for path in glob.glob("in_*.npy"):
        inputs[path[3:-4]] = np.load(path)
    failures = 0
    checked = 0
    for line in open("cases.txt"):
        idx, expr = line.rstrip("\n").split("\t", 1)
        env = dict(inputs)
        env["np"] = np
        for fn in ("cos", "sin", "exp", "log", "log1p", "sqrt", "floor",
                   "where", "clip", "maximum", "minimum", "arctan2", "sign",
                   "ones", "zeros", "full", "arange", "linspace", "eye",
                   "concatenate", "stack", "abs"):
            env[fn] = getattr(np, fn)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                want = np.asarray(eval(strip_weft(expr), env))
        for path in sorted(glob.glob("out_%s_*.npy" % idx)):
            got = np.load(path)
            checked += 1
            why = None
            if got.dtype != want.dtype:
                why = "dtype %s, numpy %s" % (got.dtype, want.dtype)
            elif got.shape != want.shape:
                why = "shape %s, numpy %s" % (got.shape, want.shape)
            elif want.dtype.kind == "f":
                rtol = 1e-5 if want.dtype == np.float32 else 1e-12
                if not np.allclose(got, want, rtol=rtol, atol=rtol,
                                   equal_nan=True):
                    bad = ~np.isclose(got, want, rtol=rtol, atol=rtol,
                                      equal_nan=True)
                    k = np.argwhere(bad)[0]
                    why = "at %s: %r, numpy %r" % (
                        tuple(k), got[tuple(k)], want[tuple(k)])
            elif not np.array_equal(got, want):
                k = np.argwhere(got != want)[0]
                why = "at %s: %r, numpy %r" % (
                    tuple(k), got[tuple(k)], want[tuple(k)])
            if why:
                failures += 1
                print("FAIL %s (%s) %s: %s" % (idx, path, expr, why))
    print("checked %d results, %d failures" % (checked, failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
