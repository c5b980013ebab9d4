#!/usr/bin/env bash
# bench/run_array.sh - the array benchmark of issue 8: the seed's big mean
# and cos^2 row means over (200000, 4000) float64 in (1000, 1000) chunks, the
# same over random arrays, and a million-chunk graph, with weft
# (bench_array), beside a hand-fused OpenMP loop (bench_array_omp) and Dask
# (bench/array_dask.py, Debian's python3-dask, threaded scheduler) when they
# are there, all in the same run: seconds, peak RSS and ratios.
#
#   bench/run_array.sh [BUILD_DIR]
#
# Every program is run as PROG WORKLOAD and must print one line
#   ARRAY workload=W prog=NAME best_s=S peak_rss_kb=K [result=R ...]
# (workloads: mean cos2 rmean rcos2 build1m; a program that does not know
# one prints nothing for it). Each (program, workload) runs in its own
# process. Environment: REPS (default 3), WORKLOADS (default all),
# UNIT_TIMEOUT (seconds, default 300).
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-${WEFT_BENCH_BUILD:-${WEFT_BUILD_DIR:-build-bench}}}
if [ ! -d "$build" ] && [ -d "$root/$build" ]; then build=$root/$build; fi
reps=${REPS:-3}
workloads=${WORKLOADS:-"mean cos2 rmean rcos2 build1m"}
timeout_s=${UNIT_TIMEOUT:-300}

find_prog() {
  local p
  for p in "$build/$1" "$build/bench/$1"; do
    if [ -x "$p" ]; then echo "$p"; return; fi
  done
}
weft=$(find_prog bench_array)
omp=$(find_prog bench_array_omp)
if [ -z "$weft" ]; then
  echo "bench/run_array.sh: no bench_array in $build (make bench)" >&2
  exit 2
fi
runners=("$weft")
[ -n "$omp" ] && runners+=("$omp") || echo "# bench_array_omp not built: no hand-fused C column" >&2
dask=""
if [ -f "$here/array_dask.py" ] && /usr/bin/python3 -c "import dask" 2>/dev/null; then
  dask="/usr/bin/python3 $here/array_dask.py"
  runners+=("$dask")
else
  echo "# bench/array_dask.py or python3-dask missing: no Dask column" >&2
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for w in $workloads; do
  for r in "${runners[@]}"; do
    REPS=$reps timeout "$timeout_s" env OMP_NUM_THREADS=2 $r "$w" "$reps" 2>/dev/null | grep '^ARRAY ' >> "$out"
  done
done

echo
echo "== arrays: (200000, 4000) float64, chunks (1000, 1000), 2 cores; best of $reps =="
awk '
  function kv(l, k,   m) { if (match(l, " " k "=[^ ]*")) return substr(l, RSTART + length(k) + 2, RLENGTH - length(k) - 2); return "" }
  { w = kv($0, "workload"); p = kv($0, "prog"); T[w, p] = kv($0, "best_s"); M[w, p] = kv($0, "peak_rss_kb"); R[w, p] = kv($0, "result")
    if (!(w in seenw)) { seenw[w] = 1; W[++nw] = w }
    if (!(p in seenp)) { seenp[p] = 1; P[++np] = p } }
  END {
    printf "%-8s %-8s %10s %12s %10s  %s\n", "workload", "program", "seconds", "peak RSS MiB", "vs weft", "result"
    for (i = 1; i <= nw; i++) for (j = 1; j <= np; j++) {
      w = W[i]; p = P[j]; if (!((w, p) in T)) continue
      ratio = (T[w, "weft"] > 0) ? sprintf("%.2fx", T[w, p] / T[w, "weft"]) : "-"
      printf "%-8s %-8s %10.4f %12.1f %10s  %s\n", w, p, T[w, p], M[w, p] / 1024, ratio, R[w, p]
    }
    printf "targets: mean < 0.15 s, cos2 < 0.3 s, peak RSS < 64 MiB; random variants >= 5x faster than Dask and\n"
    printf "within 2x of the hand-fused loop; build1m: the million-chunk graph (bench_array prints build_s) < 1 s\n"
  }' "$out"
grep 'prog=weft' "$out" | grep -o 'workload=[^ ]* .*build_s=[^ ]*' | sed 's/^/# weft /'
