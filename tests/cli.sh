#!/usr/bin/env bash
# cli.sh - the weft command as a user meets it ($WEFT_BIN): `weft eval`
# computes the course's expression (500) with Python's rules, runs the three
# independent products in parallel with --delay, points at the column of a
# syntax error and draws the graph; `weft info` lists the schedulers;
# `weft demo` runs every example; bad usage exits 2 with the usage on stderr.
# Runs in its own empty directory (tests/CMakeLists.txt).
set -u

: "${WEFT_BIN:?WEFT_BIN must name the weft command}"
EXPR="(3 + 7) * (2 + 8) * ((2 * 3) - 1)"
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# run NAME CMD...: runs CMD, keeping stdout in $out, stderr in $err, status
# in $rc.
run() {
  local name=$1
  shift
  out=$("$@" 2>stderr.txt)
  rc=$?
  err=$(cat stderr.txt)
  echo "--- $name: exit $rc"
}

now() { date +%s.%N; }

# ---- eval ----
run "eval" "$WEFT_BIN" eval "$EXPR"
[ "$rc" -eq 0 ] || fail "weft eval exited $rc: $err"
grep -qx 500 <<<"$out" || fail "weft eval did not print 500: $out"
grep -q "wall time" <<<"$out" || fail "weft eval printed no wall time: $out"

run "eval -q" "$WEFT_BIN" eval -q "$EXPR"
[ "$rc" -eq 0 ] && [ "$out" = 500 ] ||
  fail "weft eval -q printed '$out' (exit $rc), not 500"

# Python's rules: ** right-associative and tighter than unary minus, floor
# division and modulo toward -infinity, true division gives a float.
check_eval() {
  run "eval $1" "$WEFT_BIN" eval -q -- "$1"
  [ "$rc" -eq 0 ] && [ "$out" = "$2" ] ||
    fail "weft eval '$1' gave '$out' (exit $rc, $err), expected $2"
}
check_eval "2 ** 3 ** 2" 512
check_eval "-2 ** 2" -4
check_eval "2 ** -1" 0.5
check_eval "7 // -2" -4
check_eval "7 % -3" -2
check_eval "1 / 4" 0.25
check_eval "1 / 3" 0.3333333333333333
check_eval "6 / 3" 2.0
check_eval ".5 + 1e3 - 2.5E-1" 1000.25
check_eval "--3" 3
check_eval "((((42))))" 42
check_eval "-(1 + 2) * 3" -9

# unquoted pieces are joined
run "eval pieces" "$WEFT_BIN" eval -q 1 + 2 '*' 3
[ "$rc" -eq 0 ] && [ "$out" = 7 ] ||
  fail "weft eval 1 + 2 '*' 3 gave '$out' (exit $rc)"

# --delay: the three independent products run at once, so about 3 delays
# (0.6 s), not 4 or 6.
t0=$(now)
run "eval --delay" "$WEFT_BIN" eval "$EXPR" --delay 0.2
t1=$(now)
echo "$out"
[ "$rc" -eq 0 ] || fail "weft eval --delay exited $rc: $err"
grep -qx 500 <<<"$out" || fail "weft eval --delay did not print 500"
# the compute's own wall time (printed), and the whole process's
wall=$(sed -n 's/^wall time: \([0-9.]*\) s.*/\1/p' <<<"$out")
awk -v w="${wall:-99}" 'BEGIN { exit !(w < 0.2 * 4.5) }' ||
  fail "weft eval --delay 0.2 computed in '${wall}' s: not parallel"
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 0.2 * 5.75) }' ||
  fail "weft eval --delay 0.2 ran $(awk -v a="$t0" -v b="$t1" \
    'BEGIN { print b - a }') s: hardly better than 6 delays"
grep -q "widest: 3" <<<"$out" || fail "no widest level of 3 printed"
workers=$(sed -n 's/^workers: \([0-9]*\).*/\1/p' <<<"$out")
[ "${workers:-0}" -ge 3 ] || fail "--delay ran on '${workers}' workers, not >= 3"
grep -q "sequential estimate 1.200 s" <<<"$out" ||
  fail "no sequential estimate of 1.2 s printed"

# the sync scheduler runs them one by one: 6 delays of 0.05 s
t0=$(now)
run "eval sync" "$WEFT_BIN" eval "$EXPR" --delay 0.05 --scheduler sync
t1=$(now)
[ "$rc" -eq 0 ] || fail "weft eval --scheduler sync exited $rc: $err"
grep -qx 500 <<<"$out" || fail "sync scheduler did not print 500"
grep -q "^workers: 1 (sync" <<<"$out" || fail "sync did not say 1 worker"
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 0.3) }' ||
  fail "the sync scheduler ran faster than 6 delays"

# errors: the column of a syntax error, the operator of a failing task
run "syntax error" "$WEFT_BIN" eval "(3 + "
[ "$rc" -ne 0 ] || fail "a syntax error exited 0"
grep -q "expected a number at column 5" <<<"$err" ||
  fail "syntax error message: $err"
for bad in "3 +* 4" "(1 + 2" "1 + 2)" "3 \$ 4" "" "1 2" "99999999999999999999"; do
  run "syntax error '$bad'" "$WEFT_BIN" eval -- "$bad"
  [ "$rc" -ne 0 ] && grep -q "column\|no expression" <<<"$err" ||
    fail "'$bad': exit $rc, message: $err"
done
run "division by zero" "$WEFT_BIN" eval "1 + 1 // 0"
[ "$rc" -eq 1 ] || fail "1 // 0 exited $rc"
grep -q "division.*by zero" <<<"$err" || fail "1 // 0 message: $err"
grep -q "column 7" <<<"$err" || fail "1 // 0 did not name column 7: $err"

# options
run "bad option" "$WEFT_BIN" eval "$EXPR" --frobnicate
[ "$rc" -eq 2 ] || fail "an unknown eval option exited $rc"
run "bad delay" "$WEFT_BIN" eval "$EXPR" --delay -1
[ "$rc" -eq 2 ] || fail "--delay -1 exited $rc"
run "bad scheduler" "$WEFT_BIN" eval "$EXPR" --scheduler nope
[ "$rc" -eq 2 ] || fail "--scheduler nope exited $rc"
run "workers" "$WEFT_BIN" eval "$EXPR" --workers 2
[ "$rc" -eq 0 ] && grep -q "2 workers" <<<"$out" ||
  fail "--workers 2: exit $rc: $out"

# ---- pictures ----
run "info" "$WEFT_BIN" info
[ "$rc" -eq 0 ] || fail "weft info exited $rc"
grep -q "threads (yes" <<<"$out" || fail "weft info does not list threads: $out"
grep -q "sync (yes" <<<"$out" || fail "weft info does not list sync: $out"
grep -q "cores: [0-9]* logical, [0-9]* physical" <<<"$out" ||
  fail "weft info has no core counts: $out"
echo "$out"
info=$out

run "info with an argument" "$WEFT_BIN" info --bogus
[ "$rc" -eq 2 ] && grep -q "unexpected argument '--bogus'" <<<"$err" ||
  fail "weft info --bogus: exit $rc, it should name the argument: $err"

run "eval --dot" "$WEFT_BIN" eval "$EXPR" --dot g.dot --rankdir LR
[ "$rc" -eq 0 ] || fail "--dot exited $rc: $err"
[ -s g.dot ] || fail "--dot wrote no g.dot"
grep -q "rankdir=LR" g.dot || fail "g.dot is not LR"
grep -q 'label="3 + 7"' g.dot || fail "g.dot has no 3 + 7 task"

# Whether Graphviz is there is the build's answer (tests/CMakeLists.txt),
# not weft info's: a build that found it must draw.
: "${WEFT_HAVE_GRAPHVIZ:?tests/CMakeLists.txt sets WEFT_HAVE_GRAPHVIZ}"
if [ "$WEFT_HAVE_GRAPHVIZ" = 1 ]; then
  grep -q "graphviz: yes" <<<"$info" ||
    fail "this build found Graphviz, but weft info says: $info"
  run "eval --svg" "$WEFT_BIN" eval "$EXPR" --delay 0.01 --svg g.svg
  [ "$rc" -eq 0 ] || fail "--svg exited $rc: $err"
  [ -s g.svg ] || fail "--svg wrote no g.svg"
  head -c 5 g.svg | grep -q "<?xml\|<svg" || fail "g.svg is not SVG"
  grep -q "</svg>" g.svg || fail "g.svg is cut short"
  grep -q "2 \* 3" g.svg || fail "g.svg lacks the 2 * 3 task (no delay args)"
  run "eval --svg bad path" "$WEFT_BIN" eval "$EXPR" --svg /nonexistent/g.svg
  [ "$rc" -ne 0 ] || fail "--svg to a bad path exited 0"
  grep -q "/nonexistent/g.svg" <<<"$err" || fail "bad path message: $err"
  # Graphviz is opened on first use: when it cannot be, only pictures fail,
  # with a message that says so, and DOT text still works.
  run "info without libgvc" env WEFT_GRAPHVIZ_LIB=/nonexistent/libgvc.so \
    "$WEFT_BIN" info
  [ "$rc" -eq 0 ] && grep -q "graphviz: no" <<<"$out" ||
    fail "info without libgvc: exit $rc: $out"
  run "eval --svg without libgvc" env WEFT_GRAPHVIZ_LIB=/nonexistent/libgvc.so \
    "$WEFT_BIN" eval "$EXPR" --svg g2.svg
  [ "$rc" -ne 0 ] || fail "--svg without libgvc exited 0"
  grep -q "svg needs Graphviz, which cannot load /nonexistent/libgvc.so" \
    <<<"$err" || fail "--svg without libgvc: $err"
  [ ! -e g2.svg ] || fail "--svg without libgvc wrote g2.svg"
  run "eval --dot without libgvc" env WEFT_GRAPHVIZ_LIB=/nonexistent/libgvc.so \
    "$WEFT_BIN" eval "$EXPR" --dot g2.dot
  [ "$rc" -eq 0 ] && [ -s g2.dot ] || fail "--dot without libgvc: $rc $err"
else
  echo "this build has no Graphviz: SVG checks skipped"
  run "eval --svg without graphviz" "$WEFT_BIN" eval "$EXPR" --svg g.svg
  [ "$rc" -ne 0 ] || fail "--svg without Graphviz exited 0"
fi

# ---- demo ----
run "demo" "$WEFT_BIN" demo
[ "$rc" -eq 0 ] || fail "weft demo exited $rc: $out $err"
# the summary line, whole: "0 failed" alone would also match "10 failed"
grep -Eq "^demo: [0-9]+ examples?, [0-9]+ passed, 0 failed \(" <<<"$out" ||
  fail "weft demo: no summary with 0 failed: $out"
demo_out=$out
run "demo --list" "$WEFT_BIN" demo --list
[ "$rc" -eq 0 ] && [ -n "$out" ] || fail "weft demo --list exited $rc: '$out'"
for name in $out; do
  grep -q "=== $name" <<<"$demo_out" || fail "weft demo did not run $name"
done
run "demo one" "$WEFT_BIN" demo seed000_exercise
[ "$rc" -eq 0 ] && grep -q "1 example, 1 passed" <<<"$out" ||
  fail "weft demo seed000_exercise: $out"
run "demo unknown" "$WEFT_BIN" demo no_such_example
[ "$rc" -eq 2 ] || fail "weft demo no_such_example exited $rc"

# ---- usage ----
run "help" "$WEFT_BIN" --help
[ "$rc" -eq 0 ] && grep -q "usage: weft" <<<"$out" || fail "--help: $out"
run "version" "$WEFT_BIN" --version
[ "$rc" -eq 0 ] && grep -q "^weft [0-9]" <<<"$out" || fail "--version: $out"
run "unknown command" "$WEFT_BIN" frobnicate
[ "$rc" -eq 2 ] || fail "an unknown command exited $rc"
grep -q "usage: weft" <<<"$err" || fail "no usage on stderr: $err"
[ -z "$out" ] || fail "an unknown command printed on stdout: $out"
run "no command" "$WEFT_BIN"
[ "$rc" -eq 2 ] || fail "no command exited $rc"

if [ "$failures" -ne 0 ]; then
  echo "cli.sh: $failures failure(s)" >&2
  exit 1
fi
echo "cli.sh: all passed"
