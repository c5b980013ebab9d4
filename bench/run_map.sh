#!/usr/bin/env bash
# bench/run_map.sh - the parallel-map benchmark of issue 3: weft_map over
# threads and over worker processes (bench_map) beside Python's joblib (loky,
# threading) and multiprocessing.Pool (bench/map_python.py), all in the same
# run, and one table with the ratios and the issue's targets (plus issue 7's
# line: a typed WEFT_DELAYED function against a generic one, same run):
#   per-item overhead < 20 ns with threads, < 200 ns with processes (batched);
#   procs pool start-up (new pool + first tiny map) < 5 ms;
#   factorisation of 10,000 integers: speedup >= 1.9x on 2 cores.
#
#   bench/run_map.sh [BUILD_DIR]
#
# BUILD_DIR: where libweft (and bench_map, when the bench build made it) are:
# the argument, else $WEFT_BENCH_BUILD, else $WEFT_BUILD_DIR (make bench sets
# it), else build-bench, else build. Without a bench_map there, it is
# compiled here (-O3 -march=native) against that libweft. Python is
# /usr/bin/python3 (Debian's, with python3-joblib): without it, or without
# joblib, the Python columns are left empty with a message.
# Environment: REPS (repetitions per measurement, default 5), REPS_BIG (the
# Python 1,000,000-item runs, default 2), TRIES (attempts of a unit disturbed
# by other processes, default 2), WAIT_IDLE (seconds to wait for a quiet
# second before each attempt, default 30), RAW (also keep the MAP lines in
# this file), UNIT_TIMEOUT (seconds per unit, default 120).
#
# The machine is small and may be shared: each attempt waits for a quiet
# second first, and the CPU time other processes used during it is measured
# (/proc/stat busy time minus the unit's own); above 5% of its wall time
# (+0.05 s) the unit runs again, and a result still disturbed is marked with
# * in the table. Only ratios measured in the same run are comparisons.
set -u
export LC_ALL=C

. "$(dirname "$0")/build_dir.sh" "$@"
export REPS=${REPS:-5}
export REPS_BIG=${REPS_BIG:-2}
tries=${TRIES:-2}
unit_timeout=${UNIT_TIMEOUT:-120}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
raw=$tmp/raw

# bench_map: from the build, else compiled here.
bench_prog bench_map "$tmp"

py=/usr/bin/python3
have_py=1
if [ ! -x "$py" ]; then
  echo "# $py not found: the Python columns are skipped (apt-get install python3 python3-joblib)" >&2
  have_py=0
elif ! "$py" -c 'import joblib' 2>/dev/null; then
  echo "# joblib not importable by $py: joblib columns skipped (apt-get install python3-joblib)" >&2
fi

hz=$(getconf CLK_TCK)
busy_jiffies() { local _c a b c d e f g h _r; read -r _c a b c d e f g h _r < /proc/stat; echo $((a + b + c + f + g + h)); }

all_jiffies() { local _c a b c d e f g h _r; read -r _c a b c d e f g h _r < /proc/stat; echo $((a + b + c + d + e + f + g + h)); }

# wait_idle: waits (at most WAIT_IDLE seconds) for a second in which the
# CPUs are less than 10% busy, so that a unit starts on a quiet machine.
wait_idle() {
  local deadline=$(( $(date +%s) + ${WAIT_IDLE:-30} )) b0 a0 b1 a1
  while [ "$(date +%s)" -lt "$deadline" ]; do
    b0=$(busy_jiffies); a0=$(all_jiffies); sleep 1; b1=$(busy_jiffies); a1=$(all_jiffies)
    if [ $(( 100 * (b1 - b0) )) -lt $(( 10 * (a1 - a0 + 1) )) ]; then return 0; fi
  done
  echo "# the machine stayed busy for ${WAIT_IDLE:-30} s: measuring anyway" >&2
}

# run_unit NAME CMD...: runs it (again when disturbed), appends its lines.
run_unit() {
  local name=$1 try j0 j1 t0 t1 own wall foreign noisy rc
  shift
  for ((try = 1; try <= tries; try++)); do
    wait_idle
    j0=$(busy_jiffies); t0=$(date +%s.%N)
    { TIMEFORMAT='%U %S'; time timeout "$unit_timeout" "$@" > "$tmp/out" 2> "$tmp/err"; } 2> "$tmp/time"
    rc=$?
    t1=$(date +%s.%N); j1=$(busy_jiffies)
    own=$(tail -n 1 "$tmp/time" | awk '{print $1 + $2}')
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
    foreign=$(awk -v j="$((j1 - j0))" -v hz="$hz" -v o="$own" 'BEGIN {f = j / hz - o; print (f < 0 ? 0 : f)}')
    noisy=$(awk -v f="$foreign" -v w="$wall" 'BEGIN {print (f > 0.05 * w + 0.05) ? 1 : 0}')
    cat "$tmp/err" >&2
    grep -E '^(SKIP|FAIL)' "$tmp/out" | sed "s/^/# $name: /" >&2
    if [ "$rc" -ne 0 ]; then
      echo "# $name: exit status $rc$([ "$rc" -eq 124 ] && echo " (timed out after ${unit_timeout}s)")" >&2
    fi
    if [ "$rc" -ne 0 ]; then # a failure is reported, not retried
      failed_units+=("$name (exit status $rc)")
      grep '^MAP' "$tmp/out" | sed "s/\$/ noisy=$noisy/" >> "$raw"
      return
    fi
    if [ "$noisy" = 0 ] || [ "$try" = "$tries" ]; then
      grep '^MAP' "$tmp/out" | sed "s/\$/ noisy=$noisy/" >> "$raw"
      printf '# %-18s %5.1f s wall, %5.1f s cpu, other processes %.2f s cpu%s\n' \
        "$name" "$wall" "$own" "$foreign" "$([ "$noisy" = 1 ] && echo ' (noisy)')" >&2
      return
    fi
    printf '# %-18s other processes used %.2f s cpu in %.1f s: again\n' "$name" "$foreign" "$wall" >&2
  done
}

touch "$raw"
failed_units=() # "name (exit status N)" of each unit that failed
echo "# weft parallel-map benchmark: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), REPS=$REPS, build $build" >&2
run_unit "weft threads" "$prog" threads
run_unit "weft procs" "$prog" procs
run_unit "weft pool start" "$prog" start
run_unit "weft factors" "$prog" factors
run_unit "weft factors 100k" "$prog" factors100k
run_unit "weft typed" "$prog" typed
if [ "$have_py" = 1 ]; then
  run_unit "joblib loky" "$py" "$here/map_python.py" loky
  run_unit "joblib threading" "$py" "$here/map_python.py" threading
  run_unit "mp.Pool" "$py" "$here/map_python.py" pool
  run_unit "python factors" "$py" "$here/map_python.py" factors
fi
if [ -n "${RAW:-}" ]; then cp "$raw" "$RAW"; fi

# The units each target depends on, when they failed: that target is then
# "NOT met", never "n/a".
failed_of() { local u f=0; for u in "${failed_units[@]}"; do for n in "$@"; do case $u in "$n ("*) f=1 ;; esac; done; done; echo $f; }
FAIL_OVER=$(failed_of "weft threads" "weft procs") FAIL_START=$(failed_of "weft pool start") \
FAIL_FACTORS=$(failed_of "weft factors") \
awk -v reps="$REPS" -v cpus="$(nproc)" '
function kv(line, key,   m) {
  if (match(line, " " key "=[^ ]*")) return substr(line, RSTART + length(key) + 2, RLENGTH - length(key) - 2)
  return ""
}
# V[sys, what, n, field] = value (with a * when noisy)
/^MAP / {
  s = kv($0, "sys"); w = kv($0, "what"); n = kv($0, "n"); mark = kv($0, "noisy") == 1 ? "*" : ""
  split("over_ns map_ns loop_ns wall_ms speedup first_ms new_ms start_ms sum_inputs n_factors sum_factors loop_ms generic_ms typed_ms typed_over_generic", F, " ")
  for (k in F) { v = kv($0, F[k]); if (v != "") { V[s, w, n, F[k]] = v; M[s, w, n, F[k]] = mark } }
  got++
}
function cell(s, w, n, f, fmt,   v) {
  if (!((s, w, n, f) in V)) return "-"
  return sprintf(fmt, V[s, w, n, f]) (fmt == "%s" ? "" : M[s, w, n, f])
}
function val(s, w, n, f) { return ((s, w, n, f) in V) ? V[s, w, n, f] + 0 : "" }
function minof(a, b) { return a == "" ? b : (b == "" ? a : (a < b ? a : b)) }
function maxof(a, b) { return a == "" ? b : (b == "" ? a : (a > b ? a : b)) }
function ratio(py, wf) {
  if (py == "" || wf == "") return "-"
  return wf < 1 ? sprintf(">%.0fx", py) : sprintf("%.0fx", py / wf) # overhead < 1 ns: against 1 ns
}
function row(label, w, n, f, fmt, r, target, verdict) {
  printf "| %-39s | %-9s | %-9s | %-10s | %-12s | %-12s | %-10s | %-8s | %-23s | %-8s |\n", label,
    cell("weft-threads", w, n, f, fmt), cell("weft-threads-fresh", w, n, f, fmt), cell("weft-procs", w, n, f, fmt),
    cell("joblib-loky", w, n, f, fmt), cell("joblib-threading", w, n, f, fmt), cell("mp-pool", w, n, f, fmt), r, target, verdict
}
function verdict(ok, failed) { return failed ? "NOT met" : ok == "" ? "n/a" : (ok ? "met" : "NOT met") }
END {
  if (!got) { print "bench/run_map.sh: no results" > "/dev/stderr"; exit 1 }
  printf "\nParallel map (issue 3): weft beside Python, same machine, same run (%d CPUs; medians of %d repetitions, Python 1M runs: %s).\n", cpus, reps, ENVIRON["REPS_BIG"]
  printf "overhead = (map time - plain loop time) / items, the loop calling the same function in one thread (C for weft, Python for Python).\n"
  printf "ratio = best Python / best weft (> 1: weft is better; an overhead under 1 ns counts as 1 ns; speedup row: best weft / best Python).\n"
  printf "* = other processes used the CPUs meanwhile (the unit ran again and was still disturbed).\n\n"
  printf "| %-39s | %-9s | %-9s | %-10s | %-12s | %-12s | %-10s | %-8s | %-23s | %-8s |\n", "measure", "weft thr", "thr new", "weft procs", "joblib loky", "joblib thr", "mp.Pool(2)", "ratio", "target", "verdict"
  printf "|-----------------------------------------|-----------|-----------|------------|--------------|--------------|------------|----------|-------------------------|----------|\n"
  for (i = 1; i <= 2; i++) {
    n = i == 1 ? 10000 : 1000000; lab = i == 1 ? "10,000" : "1,000,000"
    wt = val("weft-threads", "overhead", n, "over_ns"); wp = val("weft-procs", "overhead", n, "over_ns")
    pb = minof(minof(val("joblib-loky", "overhead", n, "over_ns"), val("joblib-threading", "overhead", n, "over_ns")), val("mp-pool", "overhead", n, "over_ns"))
    okt = wt == "" ? "" : (wt < 20); okp = wp == "" ? "" : (wp < 200)
    ok = okt == "" ? okp : (okp == "" ? okt : okt && okp)
    tw = minof(wt, wp)
    row("overhead per item, " lab " items (ns)", "overhead", n, "over_ns", "%.1f", ratio(pb, tw), "thr < 20, procs < 200", verdict(ok, ENVIRON["FAIL_OVER"] == 1))
    pbt = minof(minof(val("joblib-loky", "overhead", n, "map_ns"), val("joblib-threading", "overhead", n, "map_ns")), val("mp-pool", "overhead", n, "map_ns"))
    twt = minof(val("weft-threads", "overhead", n, "map_ns"), val("weft-procs", "overhead", n, "map_ns"))
    row("time per item, " lab " items (ns)", "overhead", n, "map_ns", "%.1f", ratio(pbt, twt), "", "")
  }
  # start-up: weft procs = new pool + first tiny map; loky / threading = first call of 10 tasks; Pool = Pool(2) + first map
  ws = val("weft-procs", "start", "", "first_ms")
  ps = minof(val("joblib-loky", "start", "", "first_ms"), val("mp-pool", "start", "", "first_ms"))
  row("pool start + first map (ms)", "start", "", "first_ms", "%.2f", ratio(ps, ws), "procs < 5 ms", verdict(ws == "" ? "" : ws < 5, ENVIRON["FAIL_START"] == 1))
  n = 10000
  cs = cell("c-seq", "factors", n, "wall_ms", "%.1f"); pys = cell("py-seq", "factors", n, "wall_ms", "%.1f")
  wf = minof(val("weft-threads", "factors", n, "wall_ms"), val("weft-procs", "factors", n, "wall_ms"))
  pf = minof(val("joblib-loky", "factors", n, "wall_ms"), val("mp-pool", "factors", n, "wall_ms"))
  row("factorise 10,000 ints, wall (ms)", "factors", n, "wall_ms", "%.1f", ratio(pf, wf), "", "")
  st = val("weft-threads", "factors", n, "speedup"); sp = val("weft-procs", "factors", n, "speedup")
  bw = maxof(st, sp); bp = maxof(val("joblib-loky", "factors", n, "speedup"), val("mp-pool", "factors", n, "speedup"))
  okf = st == "" ? "" : (st >= 1.9 && (sp == "" || sp >= 1.9))
  row("  speedup vs own sequential loop", "factors", n, "speedup", "%.2fx", (bw == "" || bp == "" || bp <= 0) ? "-" : sprintf("%.2fx", bw / bp), ">= 1.9x (thr and procs)", verdict(okf, ENVIRON["FAIL_FACTORS"] == 1))
  n = 100000
  if (("c-seq", "factors", n, "wall_ms") in V)
    row("factorise 100,000 ints, speedup", "factors", n, "speedup", "%.2fx", "-", "(weft only)", "")
  n = 10000
  printf "\nsequential loops, factorising 10,000 ints: C %s ms, Python %s ms", cs, pys
  if (val("c-seq", "factors", n, "wall_ms") != "" && val("py-seq", "factors", n, "wall_ms") != "")
    printf " (C is %.0fx faster)", val("py-seq", "factors", n, "wall_ms") / val("c-seq", "factors", n, "wall_ms")
  printf "; checksums (inputs, factors, sum): C %s %s %s, Python %s %s %s\n",
    cell("c-seq", "factors", n, "sum_inputs", "%s"), cell("c-seq", "factors", n, "n_factors", "%s"), cell("c-seq", "factors", n, "sum_factors", "%s"),
    cell("py-seq", "factors", n, "sum_inputs", "%s"), cell("py-seq", "factors", n, "n_factors", "%s"), cell("py-seq", "factors", n, "sum_factors", "%s")
  if (("weft-threads", "typed", 1000000, "typed_ms") in V)
    printf "typed task (WEFT_DELAYED long inc_t(long)) against generic (weft_fn inc), weft_map of 1,000,000 items on a kept executor: typed %s ms, generic %s ms (typed / generic %s, target about 1); plain C loop %s ms\n",
      cell("weft-threads", "typed", 1000000, "typed_ms", "%.2f"), cell("weft-threads", "typed", 1000000, "generic_ms", "%.2f"),
      cell("weft-threads", "typed", 1000000, "typed_over_generic", "%.2fx"), cell("weft-threads", "typed", 1000000, "loop_ms", "%.2f")
  printf "weft: thr = a kept executor (weft_executor_new), thr new = a new thread pool in every call, procs = a kept pool (weft_procs_new);\n"
  printf "start-up: weft_procs_new + first map of 2 items | loky, threading: first Parallel call of 10 tasks | Pool(2) constructor + first map.\n"
  printf "factorisation: each on its running pool (start-up apart: weft procs %s ms, Pool %s ms); threads start their pool in the call.\n",
    cell("weft-procs", "factors", n, "start_ms", "%.2f"), cell("mp-pool", "factors", n, "start_ms", "%.2f")
}' "$raw"
status=$?
if [ "${#failed_units[@]}" -gt 0 ]; then
  printf '\nbench/run_map.sh: FAILED units:' >&2
  printf ' %s;' "${failed_units[@]}" >&2
  printf ' the bench run fails\n' >&2
  exit 1
fi
exit "$status"
