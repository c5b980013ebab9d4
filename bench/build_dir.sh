# bench/build_dir.sh - sourced by the bench scripts: which build directory
# holds the benchmark programs. The first argument, else WEFT_BENCH_BUILD or
# WEFT_BUILD_DIR, else build-bench/ or build/ under the repository; a
# relative name is tried under the repository too. Sets `here`, `root` and
# `build` (absolute), or exits 2 naming the script and what it looked for.
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-${WEFT_BENCH_BUILD:-${WEFT_BUILD_DIR:-}}}
if [ -z "$build" ]; then
  for b in build-bench build; do
    if [ -d "$root/$b" ]; then build=$root/$b; break; fi
  done
fi
if [ -n "$build" ] && [ ! -d "$build" ] && [ -d "$root/$build" ]; then build=$root/$build; fi
if [ -z "$build" ] || [ ! -d "$build" ]; then
  echo "bench/$(basename "${BASH_SOURCE[1]}"): no build directory '${build:-}' (build with: make bench)" >&2
  exit 2
fi
build=$(cd "$build" && pwd)
