# bench/build_dir.sh - sourced by the bench scripts: which build directory
# holds the benchmark programs. The first argument, else WEFT_BENCH_BUILD or
# WEFT_BUILD_DIR, else build-bench/ or build/ under the repository; a
# relative name is tried under the repository too. Sets `here`, `root` and
# `build` (absolute), or exits 2 naming the script and what it looked for;
# defines bench_prog (below).
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

# bench_prog NAME TMPDIR: sets `prog` to the benchmark program NAME of the
# build, else compiles bench/NAME.c into TMPDIR against the build's libweft;
# exits 2 saying why when neither works.
bench_prog() {
  local name=$1 dir=$2 me p lib
  me=bench/$(basename "${BASH_SOURCE[2]:-$0}")
  prog=""
  for p in "$build/$name" "$build/bench/$name"; do
    if [ -x "$p" ]; then prog=$p; return; fi
  done
  lib=$(ls "$build"/libweft.so "$build"/libweft.a 2>/dev/null | head -n 1)
  if [ -z "$lib" ]; then
    echo "$me: no $name and no libweft in $build" >&2
    exit 2
  fi
  echo "# $name not built in $build: compiling it against $(basename "$lib")" >&2
  if ! ${CC:-cc} -std=c11 -D_GNU_SOURCE -O3 -march=native -Wall -Wextra \
      -I"$root/include" "$here/$name.c" -o "$dir/$name" \
      -L"$build" -lweft -Wl,-rpath,"$build" -lpthread -lm; then
    echo "$me: cannot compile bench/$name.c" >&2
    exit 2
  fi
  prog=$dir/$name
}
