#!/usr/bin/env bash
# bench/run_client.sh - the futures benchmark of issue 10: bench_client
# (weft_client: latency of one future, a burst of 1,000,000 submits, submit
# and wait one by one, as_completed over 100,000) beside Python's
# concurrent.futures.ThreadPoolExecutor and Dask's Client(processes=False)
# (bench/client_python.py), run one after the other in this run, and one
# table with the ratios and the issue's targets: latency < 5 us, burst
# throughput > 1,000,000 futures/s.
#
#   bench/run_client.sh [BUILD_DIR]
#
# BUILD_DIR: where libweft (and bench_client, when the bench build made it)
# are: the argument, else $WEFT_BENCH_BUILD, else $WEFT_BUILD_DIR, else
# build-bench, else build. Without bench_client there it is compiled here
# (-O3 -march=native). Python is /usr/bin/python3 (Debian's: python3-distributed
# for Dask); a missing module leaves its column empty with a message.
# Environment: N_BURST (default 1000000), N_AC (default 100000),
# UNIT_TIMEOUT (seconds per program, default 180).
set -u
export LC_ALL=C

. "$(dirname "$0")/build_dir.sh" "$@"
unit_timeout=${UNIT_TIMEOUT:-180}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bench_prog bench_client "$tmp"

raw=$tmp/raw
: > "$raw"
timeout "$unit_timeout" "$prog" "${N_BURST:-1000000}" "${N_AC:-100000}" >> "$raw" ||
  echo "# bench_client: exit status $?" >&2
py=/usr/bin/python3
if [ -x "$py" ]; then
  timeout "$unit_timeout" "$py" "$here/client_python.py" threadpool >> "$raw" 2> "$tmp/err" ||
    { cat "$tmp/err" >&2; echo "# ThreadPoolExecutor: exit status $?" >&2; }
  timeout "$unit_timeout" "$py" "$here/client_python.py" dask >> "$raw" 2> "$tmp/err" ||
    { cat "$tmp/err" >&2; echo "# dask: exit status $?" >&2; }
else
  echo "# $py not found: the Python columns are skipped" >&2
fi
grep -E '^(SKIP|FAIL)' "$raw" | sed 's/^/# /' >&2

awk '
function kv(line, key,   m) { if (match(line, " " key "=[^ ]+")) return substr(line, RSTART + length(key) + 2, RLENGTH - length(key) - 2); return "" }
function fmt(v, unit) {
  if (v != "") v = v + 0
  if (v == "") return "-"
  if (unit == "us") return sprintf("%.2f us", v)
  if (v >= 1e6) return sprintf("%.2fM/s", v / 1e6)
  if (v >= 1e3) return sprintf("%.1fk/s", v / 1e3)
  return sprintf("%.0f/s", v)
}
function ratio(a, b, unit) {
  if (a == "" || b == "" || a == 0 || b == 0) return "-"
  return sprintf("%.0fx", unit == "us" ? b / a : a / b)
}
/^CLIENT/ { impl = kv($0, "impl"); what = kv($0, "what"); val[impl, what] = kv($0, "value"); n[impl, what] = kv($0, "n"); u[what] = kv($0, "unit") }
END {
  split("latency burst sync as_completed", ws, " ")
  printf "\nfutures (issue 10): one trivial future, 2 worker threads each; weft_client beside\n"
  printf "concurrent.futures.ThreadPoolExecutor and dask.distributed Client(processes=False), this run\n"
  printf "%-14s %-22s %-22s %-22s %9s %9s\n", "measurement", "weft", "ThreadPoolExecutor", "dask.Client", "vs TPE", "vs dask"
  for (k = 1; k <= 4; k++) {
    w = ws[k]
    a = val["weft", w]; b = val["ThreadPoolExecutor", w]; d = val["dask.Client", w]
    printf "%-14s %-22s %-22s %-22s %9s %9s\n", w " (" (u[w] == "us" ? "us" : "1/s") ")", \
      fmt(a, u[w]) (n["weft", w] ? " n=" n["weft", w] : ""), \
      fmt(b, u[w]) (n["ThreadPoolExecutor", w] ? " n=" n["ThreadPoolExecutor", w] : ""), \
      fmt(d, u[w]) (n["dask.Client", w] ? " n=" n["dask.Client", w] : ""), \
      ratio(a, b, u[w]), ratio(a, d, u[w])
  }
  lat = val["weft", "latency"]; thr = val["weft", "burst"]
  if (lat == "" || thr == "") { printf "\ntarget (issue 10): not checked: bench_client gave no result\n"; exit 0 }
  printf "\ntarget (issue 10): latency < 5 us: %.2f us -> %s; throughput > 1M futures/s (burst): %.2fM/s -> %s\n", \
    lat, (lat < 5 ? "MET" : "NOT MET"), thr / 1e6, (thr > 1e6 ? "MET" : "NOT MET")
  printf "  (vs TPE / vs dask: how many times faster weft is; rates are per second, counts n differ)\n"
}' "$raw"
