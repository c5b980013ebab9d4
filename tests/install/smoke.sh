#!/usr/bin/env bash
# smoke.sh - the install smoke test (ctest install_smoke): installs the build
# into a temporary prefix, then builds tests/install/consumer.c against it
# twice, with pkg-config and with find_package(weft CONFIG), runs both, and
# checks that the installed weft command finds its library.
# Environment (set by tests/CMakeLists.txt): WEFT_BUILD_DIR, WEFT_SOURCE_DIR,
# WEFT_VERSION, CC, CMAKE.
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

pc=$(find "$prefix" -name weft.pc -path '*/pkgconfig/*' | head -n 1)
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
out=$("$tmp/consumer_pc")
[ "$out" = "$WEFT_VERSION" ] || fail "pkg-config consumer printed '$out'"
grep -q "^prefix=$prefix\$" "$pc" || fail "weft.pc has the wrong prefix"

step "find_package consumer"
"$CMAKE" -S "$here" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_COMPILER="$CC" >"$tmp/cmake.log" 2>&1 ||
  { cat "$tmp/cmake.log"; fail "configuring the CMake consumer"; }
"$CMAKE" --build "$tmp/cmake-build" >>"$tmp/cmake.log" 2>&1 ||
  { cat "$tmp/cmake.log"; fail "building the CMake consumer"; }
out=$("$tmp/cmake-build/consumer")
[ "$out" = "$WEFT_VERSION" ] || fail "find_package consumer printed '$out'"

if [ -e "$prefix/bin/weft" ]; then
  step "installed weft command"
  ! ldd "$prefix/bin/weft" | grep -q 'not found' ||
    { ldd "$prefix/bin/weft"; fail "bin/weft does not find its libraries"; }
  if [ -e "$libdir/libweft.so" ]; then
    used=$(ldd "$prefix/bin/weft" | awk '$1 ~ /^libweft\./ { print $3 }')
    if [ -z "$used" ] ||
      [ "$(realpath "$(dirname "$used")")" != "$(realpath "$libdir")" ]; then
      ldd "$prefix/bin/weft"
      fail "bin/weft does not use the installed libweft"
    fi
  fi
fi

step "ok ($WEFT_VERSION)"
