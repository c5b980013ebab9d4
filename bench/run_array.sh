#!/usr/bin/env bash
# bench/run_array.sh - issue 8's array benchmark: the four workloads of
# bench_array_omp.c (mean(A * A[::-1, ::-1]) and mean(cos(A) ** 2, axis=1)
# over a (200000, 4000) float64 array in 1000 x 1000 chunks, A = ones or
# uniform random) run by weft's array program (bench_array: the same ARRAY
# lines with sys=weft, and its million-chunk graph build1m), by Dask (bench/array_dask.py,
# threaded scheduler) and by hand-fused C loops with OpenMP (bench_array_omp),
# each (program, case) in its own process so peak RSS is that case's, all in
# this run; then one table with the ratios and the issue's targets.
#
#   bench/run_array.sh [BUILD_DIR]
#
# BUILD_DIR as for bench/run.sh. Environment: REPS (timed repetitions, after
# a warm-up, default 3), CASES (default: the four), ROWS (default 200000),
# WORKERS (threads for every system, default all cores), RAW (also keep the
# ARRAY lines in this file), UNIT_TIMEOUT (seconds per process, default 300),
# BUILD1M (0: leave out weft's million-chunk graph build, bench_array build1m).
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-${WEFT_BENCH_BUILD:-${WEFT_BUILD_DIR:-build-bench}}}
if [ ! -d "$build" ] && [ -d "$root/$build" ]; then build=$root/$build; fi
export REPS=${REPS:-3}
workers=${WORKERS:-$(nproc)}
export WORKERS=$workers OMP_NUM_THREADS=$workers WEFT_WORKERS=$workers
cases=${CASES:-mulrev_ones cos2_ones mulrev_random cos2_random}
unit_timeout=${UNIT_TIMEOUT:-300}

find_prog() {
  local p
  for p in "$build/$1" "$build/bench/$1"; do
    if [ -x "$p" ]; then echo "$p"; return; fi
  done
}
omp=$(find_prog bench_array_omp)
weft=$(find_prog bench_array)
py=/usr/bin/python3
[ -n "$omp" ] || echo "# bench_array_omp not built (OpenMP missing?): its rows are left out" >&2
[ -n "$weft" ] || echo "# bench_array (weft) not built: its rows are left out" >&2
if ! "$py" -c 'import dask.array' 2>/dev/null; then
  echo "# dask.array not importable by $py: Dask rows left out (scripts/deps.sh bench: python3-dask)" >&2
  py=
fi

raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
unit() { # unit CMD...: runs it, keeps its ARRAY lines, reports a failure
  timeout "$unit_timeout" "$@" > "$raw.one" 2> "$raw.err"
  local rc=$?
  grep '^ARRAY ' "$raw.one" >> "$raw"
  if [ $rc -ne 0 ]; then
    echo "# $* failed (exit $rc): $(tail -n 2 "$raw.err" | tr '\n' ' ')" >&2
  fi
  rm -f "$raw.one" "$raw.err"
}
for c in $cases; do
  [ -n "$weft" ] && unit "$weft" "$c"
  [ -n "$py" ] && unit "$py" "$here/array_dask.py" "$c"
  [ -n "$omp" ] && unit "$omp" "$c"
done
# weft alone: the graph of a million chunks (no Dask row: Dask needs minutes
# and gigabytes for it on this machine)
[ -n "$weft" ] && [ "${BUILD1M:-1}" != 0 ] && unit "$weft" build1m
[ -n "${RAW:-}" ] && cp "$raw" "$RAW"

echo
echo "== issue 8: chunked arrays, (${ROWS:-200000}, 4000) float64 in 1000x1000 chunks, $workers threads, median of $REPS =="
awk -v rows="${ROWS:-200000}" '
function kv(line, k,   a, i, nf) { nf = split(line, a, " "); for (i = 1; i <= nf; i++) if (index(a[i], k "=") == 1) return substr(a[i], length(k) + 2); return "" }
{ sys = kv($0, "sys"); var = kv($0, "var"); c = kv($0, "case")
  key = c SUBSEP sys SUBSEP var
  if (!(key in S)) { n++; K[n] = key }
  S[key] = kv($0, "seconds") + 0; C[key] = kv($0, "cpu"); R[key] = kv($0, "peak_rss") / 1048576; V[key] = kv($0, "result"); F[key] = kv($0, "first")
  if (sys == "dask") dask[c] = S[key]
  if (sys == "omp" && var == "tiles") omp[c] = S[key]
  if (sys == "weft" && c != "build1m") weftt[c] = S[key]
  if (sys == "weft" && c != "build1m") weftm[c] = R[key]
}
END {
  if (n == 0) { print "bench/run_array.sh: no results" > "/dev/stderr"; exit 1 }
  printf "%-14s %-5s %-7s %10s %8s %10s %9s %9s  %s\n", "case", "sys", "var", "seconds", "cpu s", "peak MiB", "vs dask", "vs omp", "result (first)"
  for (i = 1; i <= n; i++) {
    split(K[i], p, SUBSEP); c = p[1]
    s = S[K[i]]
    vd = (c in dask && s > 0) ? sprintf("%.2fx", dask[c] / s) : "-"
    vo = (c in omp && omp[c] > 0) ? sprintf("%.2fx", s / omp[c]) : "-"
    printf "%-14s %-5s %-7s %10.4f %8s %10.1f %9s %9s  %s (%s)\n", c, p[2], p[3], s, C[K[i]] == "" ? "-" : sprintf("%.3f", C[K[i]]), R[K[i]], vd, vo, V[K[i]], F[K[i]]
  }
  print "(build1m: ones((1000, 1000), chunks=(1, 1)).sum(), weft only: var build = its graph (a million chunk tasks and the sum tree) built, total = built and computed)"
  print "(seconds: wall, median; cpu s: CPU seconds of all threads, median; vs dask: Dask seconds / these seconds, higher is faster; vs omp: these seconds / hand-fused C tiles seconds, lower is closer)"
  if (rows != 200000) { print "target (issue 8): not checked: ROWS is not 200000"; exit 0 }
  if (!length(weftt)) { print "target (issue 8): not checked: no weft rows (bench_array not built)"; exit 0 }
  m = ""
  if ("mulrev_ones" in weftt) m = m sprintf(" big mean %.3f s (< 0.15)%s;", weftt["mulrev_ones"], weftt["mulrev_ones"] < 0.15 ? "" : "(!)")
  if ("cos2_ones" in weftt) m = m sprintf(" cos2 rows %.3f s (< 0.3)%s;", weftt["cos2_ones"], weftt["cos2_ones"] < 0.3 ? "" : "(!)")
  for (c in weftm) m = m sprintf(" %s %.0f MiB (< 64)%s;", c, weftm[c], weftm[c] < 64 ? "" : "(!)")
  split("mulrev_random cos2_random", rc, " ")
  for (j = 1; j <= 2; j++) { c = rc[j]
    if ((c in weftt) && (c in dask)) m = m sprintf(" %s %.1fx Dask (>= 5)%s;", c, dask[c] / weftt[c], dask[c] / weftt[c] >= 5 ? "" : "(!)")
    if ((c in weftt) && (c in omp)) m = m sprintf(" %s %.2fx omp (<= 2)%s;", c, weftt[c] / omp[c], weftt[c] / omp[c] <= 2 ? "" : "(!)")
  }
  printf "target (issue 8):%s %s\n", m, index(m, "(!)") ? "NOT MET" : "MET"
}' "$raw"
