#!/usr/bin/env bash
# bench/run_overhead.sh - what watching a computation costs (issue 9): the
# foundation benchmark (bench_weft, threads scheduler, 2 workers, the four
# shapes) run with no listener, with a listener that does nothing (the cost
# of publishing events), with the trace recording every task (weft_trace,
# made and freed around each compute; writing the file is not included) and
# with the profile, all in the same run, interleaved shape by shape, and the
# ratios to no listener. The targets: no listener at most 5% slower than
# before the events grew (set BEFORE=path/to/an/older/bench_weft to measure
# it in the same run), the trace at most 20% slower than no listener.
#
#   bench/run_overhead.sh [BUILD_DIR]      (bench/run.sh calls it)
# Environment: REPS (default 7), SHAPES (default abcd), ROUNDS (default 2:
# each mode runs that many times per shape, the best median is kept),
# BEFORE (an older bench_weft for the "before" column), UNIT_TIMEOUT (60).
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-${WEFT_BENCH_BUILD:-${WEFT_BUILD_DIR:-build-bench}}}
if [ ! -d "$build" ] && [ -d "$root/$build" ]; then build=$root/$build; fi
prog=
for p in "$build/bench_weft" "$build/bench/bench_weft"; do [ -x "$p" ] && prog=$p && break; done
if [ -z "$prog" ]; then
  echo "bench/run_overhead.sh: no bench_weft in '$build' (make bench builds it)" >&2
  exit 2
fi
export REPS=${REPS:-7}
shapes=${SHAPES:-abcd}
rounds=${ROUNDS:-2}
timeout_s=${UNIT_TIMEOUT:-60}
before=${BEFORE:-}
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT

modes="none noop trace exact profile"
echo "# overhead of the event stream: $prog, REPS=$REPS, ROUNDS=$rounds${before:+, before: $before}" >&2
for ((i = 0; i < ${#shapes}; i++)); do
  s=${shapes:i:1}
  for ((r = 0; r < rounds; r++)); do
    for m in $modes; do
      # exact: the trace with every task timed alone (WEFT_TRACE_EXACT=1)
      lm=$m extra=WEFT_TRACE_EXACT=
      [ "$m" = exact ] && lm=trace extra=WEFT_TRACE_EXACT=1
      env "$extra" WEFT_BENCH_LISTENER=$lm timeout "$timeout_s" "$prog" "$s" threads |
        grep '^BENCH' | sed "s/ listener=[^ ]*/ listener=$m/" >> "$raw" ||
        echo "FAIL shape=$s listener=$m" >> "$raw"
    done
    if [ -n "$before" ]; then
      timeout "$timeout_s" "$before" "$s" threads | grep '^BENCH' | sed 's/ listener=[^ ]*//; s/$/ listener=before/' >> "$raw" ||
        echo "FAIL shape=$s listener=before" >> "$raw"
    fi
  done
done

awk -v have_before="${before:+1}" '
function kv(line, key,   m) {
  if (match(line, " " key "=[^ ]*")) return substr(line, RSTART + length(key) + 2, RLENGTH - length(key) - 2)
  return ""
}
/^FAIL/ { print "# failed: " $0; next }
/^BENCH/ {
  s = kv($0, "shape"); m = kv($0, "listener"); t = kv($0, "total_med") + 0; u = kv($0, "run_med") + 0
  if (kv($0, "ok") != "1") bad[s] = 1
  if (!((s, m) in T) || t < T[s, m]) { T[s, m] = t; R[s, m] = u }
  S[s] = 1
}
END {
  printf "\nOverhead of watching a computation (threads, 2 workers): total ns/task (build + run), best of the rounds'"'"' medians;\n"
  printf "ratio = this / no listener, same run. noop: a listener that does nothing; trace: weft_trace records every task\n"
  printf "(tasks under 1 us timed in groups of up to 64); exact: the trace with WEFT_TRACE_EXACT=1 (every task timed alone);\n"
  printf "profile: weft_profile. (run ns/task in parentheses: the part the listener can slow.)\n\n"
  fmt = "| %-22s | %-15s | %-23s | %-23s | %-23s | %-23s |%s\n"
  printf fmt, "shape", "no listener", "noop listener", "trace", "trace exact", "profile", have_before ? " before (none/before) |" : ""
  printf "|------------------------|-----------------|-------------------------|-------------------------|-------------------------|-------------------------|%s\n", have_before ? "----------------------|" : ""
  split("a b c d", O, " "); names["a"] = "a fan-out 1M+1 join"; names["b"] = "b chain 1M"; names["c"] = "c tree 2^20 leaves"; names["d"] = "d wavefront 1000^2"
  worst_none = 0; worst_trace = 0
  for (k = 1; k <= 4; k++) {
    s = O[k]; if (!(s in S)) continue
    n = T[s, "none"]
    line = sprintf("| %-22s | %6.1f (%5.1f)  |", names[s] (bad[s] ? " CHECK-FAILED" : ""), n, R[s, "none"])
    split("noop trace exact profile", M, " ")
    for (j = 1; j <= 4; j++) {
      m = M[j]
      if ((s, m) in T) line = line sprintf(" %6.1f (%5.1f) %5.2fx |", T[s, m], R[s, m], n > 0 ? T[s, m] / n : 0)
      else line = line sprintf(" %-23s |", "-")
    }
    if (have_before && (s, "before") in T) {
      b = T[s, "before"]; line = line sprintf(" %6.1f %5.2fx       |", b, b > 0 ? n / b : 0)
      if (b > 0 && n / b > worst_none) worst_none = n / b
    }
    if (((s, "trace") in T) && n > 0) have_trace = 1
    if (((s, "trace") in T) && n > 0 && T[s, "trace"] / n > worst_trace) worst_trace = T[s, "trace"] / n
    print line
  }
  if (have_before)
    printf "\ntarget (issue 9): no listener <= 1.05x before: worst %.2fx -> %s; ", worst_none, worst_none <= 1.05 ? "MET" : "NOT MET"
  else
    printf "\ntarget (issue 9): no listener <= 1.05x before: not measured (BEFORE=older bench_weft); "
  if (have_trace)
    printf "trace <= 1.20x no listener: worst %.2fx -> %s\n", worst_trace, worst_trace <= 1.20 ? "MET" : "NOT MET"
  else
    printf "trace <= 1.20x no listener: not measured\n"
}' "$raw"
