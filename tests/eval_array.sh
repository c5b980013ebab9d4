#!/usr/bin/env bash
# eval_array.sh - `weft eval` with array expressions ($WEFT_BIN): the seed's
# big mean prints its repr and 1.0 on every scheduler; the cos^2 row means
# go to a .npy file that numpy reads back, load() reads it again (--npy and
# --plot of the result checked by numpy and plot_check.py); a small array
# prints as numpy
# prints it; a bad expression points at its column; a broadcasting error
# names the shapes; & | ^ ~ on ints (bitwise in numpy) are refused. Runs in its own empty directory (tests/CMakeLists.txt).
set -u
: "${WEFT_BIN:?WEFT_BIN must name the weft command}"
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

BIG="(ones((200000, 4000), chunks=(1000, 1000)) * ones((200000, 4000), chunks=(1000, 1000))[::-1, ::-1]).mean()"
for s in sync threads procs; do
  out=$(WEFT_SCHEDULER=$s "$WEFT_BIN" eval "$BIG" 2>&1) || fail "$s: exit $?: $out"
  case "$out" in
  *"weft_array<shape=() float64"*"916 tasks"*) ;;
  *) fail "$s: no repr in: $out" ;;
  esac
  [ "$(echo "$out" | sed -n 2p)" = "1.0" ] || fail "$s: result is not 1.0: $out"
done

out=$("$WEFT_BIN" eval "(cos(ones((2000, 400), chunks=(300, 70))) ** 2).mean(axis=1)" --npy rows.npy -q 2>&1) || fail "npy: $out"
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import numpy" 2>/dev/null; then
  /usr/bin/python3 - <<'PY' || fail "rows.npy does not hold the row means"
import numpy as np
a = np.load("rows.npy")
want = (np.cos(np.ones((2000, 400))) ** 2).mean(axis=1)
assert a.shape == (2000,) and a.dtype == np.float64, (a.shape, a.dtype)
assert np.allclose(a, want, rtol=1e-14), (a[:3], want[:3])
PY

  # load() reads rows.npy memory-mapped, chunk by chunk; --npy writes
  # through weft_npy; --plot draws the 1-d result with PLplot
  out=$("$WEFT_BIN" eval "(load('rows.npy', chunks=300) * 2)[::-1]" --npy twice.npy --plot rows.svg 2>&1) || fail "load: $out"
  case "$out" in
  *"plot: rows.svg"*) ;;
  *) fail "no plot in: $out" ;;
  esac
  /usr/bin/python3 - <<'PY' || fail "twice.npy is not 2 * rows.npy reversed"
import numpy as np
a, b = np.load("rows.npy"), np.load("twice.npy")
assert b.shape == (2000,) and np.array_equal(b, (a * 2)[::-1]), b[:3]
PY
  /usr/bin/python3 "$WEFT_SOURCE_DIR/tests/plot_check.py" rows.svg "load(" twice.npy || fail "rows.svg does not draw twice.npy"
fi
out=$("$WEFT_BIN" eval "ones((3, 4))" --plot x.png 2>&1) && fail "--plot of a 2-d result was accepted"
case "$out" in
*"--plot draws 1-d results; this one has 2 dimensions"*) ;;
*) fail "--plot 2-d: $out" ;;
esac

out=$("$WEFT_BIN" eval -q "arange(12).reshape((3, 4)).T" 2>&1)
want='array([[ 0,  4,  8],
       [ 1,  5,  9],
       [ 2,  6, 10],
       [ 3,  7, 11]])'
[ "$out" = "$want" ] || fail "small array printed as: $out"

out=$("$WEFT_BIN" eval "ones((3, 4)) + ones((5,))" 2>&1) && fail "a broadcasting error was accepted"
case "$out" in
*"could not be broadcast together with shapes (3, 4) (5,)"*"at column 14"*) ;;
*) fail "broadcasting error: $out" ;;
esac
# numpy's & | ^ ~ are bitwise on ints: weft (logical only) refuses them there
for e in "arange(6) & 3" "(arange(6) > 2) | 1" "~arange(6)" "(arange(6) > 2) ^ 1.5"; do
  out=$("$WEFT_BIN" eval "$e" 2>&1) && fail "$e (bitwise in numpy) was accepted: $out"
  case "$out" in
  *"is bitwise on integers"*"at column"*) ;;
  *) fail "$e: $out" ;;
  esac
done
out=$("$WEFT_BIN" eval -q "~(arange(6) > 2) & (arange(6) < 5) | True" 2>&1) || fail "bool & | ~: $out"
[ "$(echo "$out" | sed -n 1p)" = "array([ True,  True,  True,  True,  True,  True])" ] || fail "bool & | ~ gave: $out"
out=$("$WEFT_BIN" eval "-arange(3) * 2" 2>&1) && fail "an expression taken for an option was accepted"
case "$out" in
*"goes after --"*) ;;
*) fail "no hint at -- for an expression that starts with '-': $out" ;;
esac
out=$("$WEFT_BIN" eval -q -- "-arange(3) * 2" 2>&1) || fail "-- -arange(3) * 2: $out"
[ "$(echo "$out" | sed -n 1p)" = "array([ 0, -2, -4])" ] || fail "-- -arange(3) * 2 gave: $out"
out=$("$WEFT_BIN" eval "ones((3, 4)).sum(axis=2)" 2>&1) && fail "a bad axis was accepted"
case "$out" in
*"axis 2 is out of bounds for array of dimension 2"*) ;;
*) fail "bad axis: $out" ;;
esac
out=$("$WEFT_BIN" eval "ones((3, 4)) * cosh(" 2>&1) && fail "a syntax error was accepted"
case "$out" in
*"column 21"*) ;;
*) fail "syntax error: $out" ;;
esac

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "eval_array ok"
