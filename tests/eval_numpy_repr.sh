#!/usr/bin/env bash
# eval_numpy_repr.sh - `weft eval` prints array results as numpy's repr does
# (numpy 1.24 defaults: precision 8, 'maxprec', scientific past a 1e3 ratio,
# padding, dtype suffix, summary past 1000 elements, 75-column wrapping).
# Each case builds the same array with Debian's numpy (/usr/bin/python3; the
# PATH python may lack numpy) and compares the text exactly; random arrays
# go through --npy so that numpy prints the very same values. Skipped when
# numpy is missing.
set -u
: "${WEFT_BIN:?WEFT_BIN must name the weft command}"
PY=/usr/bin/python3
if ! [ -x "$PY" ] || ! "$PY" -c "import numpy" 2>/dev/null; then
  echo "eval_numpy_repr skipped: no numpy for $PY"
  exit 0
fi
failures=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# check WEFT_EXPR NUMPY_EXPR: NUMPY_EXPR is evaluated with numpy's names in
# scope; "@" stands for the array weft wrote with --npy.
check() {
  local got want
  got=$("$WEFT_BIN" eval -q "$1" --npy "$tmp/r.npy" 2>&1) || {
    echo "FAIL: $1: exit $?: $got" >&2
    failures=$((failures + 1))
    return
  }
  want=$("$PY" -c '
import sys
import warnings
import numpy as np
np.seterr(all="ignore")
warnings.simplefilter("ignore")
from numpy import *
r = np.load(sys.argv[2])
print(repr(eval(sys.argv[1].replace("@", "r"))))' "$2" "$tmp/r.npy" 2>&1)
  if [ "$got" != "$want" ]; then
    echo "FAIL: $1" >&2
    echo "weft:" >&2
    echo "$got" >&2
    echo "numpy:" >&2
    echo "$want" >&2
    failures=$((failures + 1))
  fi
}

check "arange(12).reshape((3, 4)).T" "arange(12).reshape((3, 4)).T"
check "arange(5) - 7" "arange(5) - 7"
check "arange(6).astype('int32') * 1000" "arange(6).astype('int32') * 1000"
check "eye(3) + arange(3)" "eye(3) + arange(3)"
check "linspace(0, 1, 5, chunks=2) * 2 - 1" "linspace(0, 1, 5) * 2 - 1"
check "sqrt(arange(5)) + abs(-2)" "sqrt(arange(5)) + abs(-2)"
check "(arange(6) // 4 % 3).astype('float32')" "(arange(6) // 4 % 3).astype('float32')"
check "sqrt(arange(7).astype('float32'))" "sqrt(arange(7).astype('float32'))"
check "arange(5) * 1e10" "arange(5) * 1e10"
check "arange(1, 5) * 1e-6" "arange(1, 5) * 1e-6"
check "arange(1, 6) ** 5 * 1.5" "arange(1, 6) ** 5 * 1.5"
check "arange(-3, 3) * 1e8" "arange(-3, 3) * 1e8"
check "log(arange(3) - 1)" "log(arange(3) - 1)"
check "log(arange(4) * 0 - 1)" "log(arange(4) * 0 - 1)"
check "1 / (arange(4) - 2.0)" "1 / (arange(4) - 2.0)"
check "arange(10) / 3" "arange(10) / 3"
check "(-arange(10)) / 7" "(-arange(10)) / 7"
check "arange(24).reshape((2, 3, 4)) > 5" "arange(24).reshape((2, 3, 4)) > 5"
check "arange(24).reshape((2, 3, 4)) / 4" "arange(24).reshape((2, 3, 4)) / 4"
check "arange(3) == 1" "arange(3) == 1"
check "arange(40) * 1.25" "arange(40) * 1.25"
check "arange(30) ** 3" "arange(30) ** 3"
check "arange(2000).reshape((20, 100))" "arange(2000).reshape((20, 100))"
check "arange(1001) / 3" "arange(1001) / 3"
check "(arange(3000).reshape((10, 15, 20)) % 7).astype('float32')" "(arange(3000).reshape((10, 15, 20)) % 7).astype('float32')"
check "arange(2000) > 999" "arange(2000) > 999"
check "random.random((100, 100), seed=1)" "@"
check "random.normal(0, 1, (8, 9), seed=3) * 1e5" "@"
check "random.random((50,), seed=2)" "@"
check "random.random((1000,), seed=4).astype('float32')" "@"
check "log(arange(5) - 1) * 1e-5" "log(arange(5) - 1) * 1e-5"
check "arange(20).astype('float32') * 1e9" "arange(20).astype('float32') * 1e9"
check "arange(21).astype('int32')" "arange(21).astype('int32')"
check "random.random((20, 30, 40), seed=5) * 100" "@"
check "random.random((3, 4), seed=6).astype('float32') - 0.5" "@"
check "ones((0, 3))" "ones((0, 3))"
check "ones((0,))" "ones((0,))"
check "zeros((4, 30)).astype('int32')" "zeros((4, 30)).astype('int32')"
check "(zeros(3, chunks=2) / 0).sum()" "(zeros(3) / 0).sum()"
check "ones(3, chunks=2).var(ddof=3)" "ones(3).var(ddof=3)"
check "arange(3, chunks=2) + 9200000000000000001" "arange(3) + 9200000000000000001"
check "arange(3, chunks=2) - 9223372036854775807" "arange(3) - 9223372036854775807"
check "arange(3, chunks=2) + 9223372036854775808" "arange(3) + 9223372036854775808"
check "(ones(3, chunks=2, dtype=float32) * 0.1).sum()" "(ones(3, dtype=float32) * 0.1).sum()"
check "(arange(100000, chunks=30000).astype(float32) * 0.1).sum()" "float32(499995000.0)"
check "ones(3, chunks=2).sum() * 1e8" "ones(3).sum() * 1e8"
check "ones(3, chunks=2).sum() * 1e15" "ones(3).sum() * 1e15"
check "ones(3, chunks=2).sum() * 1e16" "ones(3).sum() * 1e16"
check "ones(3, chunks=2).sum() * 1e-5" "ones(3).sum() * 1e-5"
check "ones(3, chunks=2).sum() * -1e-4" "ones(3).sum() * -1e-4"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "eval_numpy_repr ok"
