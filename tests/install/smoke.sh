#!/usr/bin/env bash
# smoke.sh - the install smoke test (ctest install_smoke): installs the build
# into a temporary prefix, then builds tests/install/consumer.c against it
# twice, with pkg-config and with find_package(weft CONFIG), runs both (a
# graph on threads and on worker processes, a map over workers), does the
# same for the mpi scheduler's consumer when the build has MPI, and checks
# that the installed weft command finds its library and computes a graph.
# Environment (set by tests/CMakeLists.txt): WEFT_BUILD_DIR, WEFT_SOURCE_DIR,
# WEFT_VERSION, WEFT_HAVE_MPI (1: the mpi scheduler must install too), CC,
# CMAKE.
set -euo pipefail

: "${WEFT_BUILD_DIR:?}" "${WEFT_SOURCE_DIR:?}" "${WEFT_VERSION:?}"
CC=${CC:-cc}
CMAKE=${CMAKE:-cmake}
here="$WEFT_SOURCE_DIR/tests/install"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/weft-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

step() { printf '== install_smoke: %s\n' "$*"; }
fail() { printf 'install_smoke: FAILED: %s\n' "$*" >&2; exit 1; }

step "cmake --install into $prefix"
"$CMAKE" --install "$WEFT_BUILD_DIR" --prefix "$prefix" >"$tmp/install.log" ||
  { cat "$tmp/install.log"; fail "cmake --install"; }

pc=$(find "$prefix" -name weft.pc -path '*/pkgconfig/*' -print -quit)
[ -n "$pc" ] || fail "no weft.pc installed"
libdir=$(dirname "$(dirname "$pc")")
[ -f "$prefix/include/weft.h" ] || fail "no include/weft.h installed"
grep -q '^leak:libfontconfig' "$prefix/share/weft/lsan.supp" ||
  fail "no share/weft/lsan.supp installed (LeakSanitizer suppressions)"

step "pkg-config consumer"
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
# shellcheck disable=SC2046 # pkg-config's output is a list of words
"$CC" -std=c11 -Wall -Wextra -Werror "$here/consumer.c" -o "$tmp/consumer_pc" \
  $(pkg-config --cflags --libs weft) -Wl,-rpath,"$libdir"
# The consumer prints the version, then computes a graph on threads and on
# worker processes and a map over workers (sum of i*i, i < 50: 40425).
want=$(printf '%s\ngraph 40425 ok, map ok' "$WEFT_VERSION")
out=$("$tmp/consumer_pc") || fail "pkg-config consumer exited $?: '$out'"
[ "$out" = "$want" ] || fail "pkg-config consumer printed '$out'"
grep -q "^prefix=$prefix\$" "$pc" || fail "weft.pc has the wrong prefix"

step "find_package consumer"
"$CMAKE" -S "$here" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_COMPILER="$CC" >"$tmp/cmake.log" 2>&1 ||
  { cat "$tmp/cmake.log"; fail "configuring the CMake consumer"; }
"$CMAKE" --build "$tmp/cmake-build" >>"$tmp/cmake.log" 2>&1 ||
  { cat "$tmp/cmake.log"; fail "building the CMake consumer"; }
out=$("$tmp/cmake-build/consumer") || fail "find_package consumer exited $?: '$out'"
[ "$out" = "$want" ] || fail "find_package consumer printed '$out'"

# The mpi scheduler, installed when the build found MPI: both ways of
# linking it, each run alone (one process after one warning line) and under
# mpirun -n 2 on this machine only (as tests/mpi/CMakeLists.txt does).
mpi_pc="$(dirname "$pc")/weft-mpi.pc"
[ "${WEFT_HAVE_MPI:-0}" = 0 ] || [ -e "$mpi_pc" ] ||
  fail "this build has MPI (WEFT_HAVE_MPI=1) but installed no weft-mpi.pc"
if [ -e "$mpi_pc" ]; then
  mpirun=$(command -v mpirun) || fail "weft-mpi.pc installed but no mpirun"
  run_mpi_consumer() { # <program> <how it was linked>
    local out err
    out=$("$1" 2>"$tmp/mpi.err") || fail "$2 mpi consumer alone exited $?: '$out'"
    [ "$out" = "ranks 1 sum 40425 ok" ] || fail "$2 mpi consumer alone printed '$out'"
    err=$(cat "$tmp/mpi.err")
    grep -q 'not started by mpirun or srun' <<<"$err" ||
      fail "$2 mpi consumer alone: no one-line warning on stderr: '$err'"
    out=$(OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
      OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo \
      OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_hwloc_base_binding_policy=none \
      "$mpirun" --timeout 60 -n 2 "$1") ||
      fail "$2 mpi consumer under mpirun -n 2 exited $?: '$out'"
    [ "$out" = "ranks 2 sum 40425 ok" ] ||
      fail "$2 mpi consumer under mpirun -n 2 printed '$out'"
  }
  step "pkg-config weft-mpi consumer"
  # shellcheck disable=SC2046 # pkg-config's output is a list of words
  "$CC" -std=c11 -Wall -Wextra -Werror "$here/consumer_mpi.c" \
    -o "$tmp/consumer_mpi_pc" $(pkg-config --cflags --libs weft-mpi) \
    -Wl,-rpath,"$libdir"
  run_mpi_consumer "$tmp/consumer_mpi_pc" pkg-config
  step "find_package weft::weft_mpi consumer"
  [ -x "$tmp/cmake-build/consumer_mpi" ] ||
    fail "the CMake package has no weft::weft_mpi (weft_HAVE_MPI)"
  run_mpi_consumer "$tmp/cmake-build/consumer_mpi" find_package
fi

if [ -e "$prefix/bin/weft" ]; then
  step "installed weft command"
  # ldd's output is read whole, never piped into grep -q: under pipefail an
  # early grep exit kills ldd with SIGPIPE and the test reads a wrong answer.
  deps=$(ldd "$prefix/bin/weft")
  ! grep -q 'not found' <<<"$deps" ||
    { echo "$deps"; fail "bin/weft does not find its libraries"; }
  if [ -e "$libdir/libweft.so" ]; then
    used=$(awk '$1 ~ /^libweft\./ { print $3 }' <<<"$deps")
    if [ -z "$used" ] ||
      [ "$(realpath "$(dirname "$used")")" != "$(realpath "$libdir")" ]; then
      echo "$deps"
      fail "bin/weft does not use the installed libweft"
    fi
  fi
  # and it runs: a graph computed by the installed command and library
  out=$("$prefix/bin/weft" eval -q "(3 + 7) * (2 + 8) * ((2 * 3) - 1)") ||
    fail "installed weft eval exited $?: '$out'"
  [ "$out" = 500 ] || fail "installed weft eval printed '$out', not 500"
  out=$("$prefix/bin/weft" eval -q --scheduler procs --workers 2 "2 ** 10 - 24") ||
    fail "installed weft eval --scheduler procs exited $?: '$out'"
  [ "$out" = 1000 ] || fail "installed weft eval on procs printed '$out', not 1000"
  out=$("$prefix/bin/weft" demo seed000_exercise) ||
    fail "installed weft demo seed000_exercise exited $?: $out"
  grep -q "1 example, 1 passed, 0 failed" <<<"$out" ||
    fail "installed weft demo: $out"
else
  fail "no bin/weft installed"
fi

step "ok ($WEFT_VERSION)"
