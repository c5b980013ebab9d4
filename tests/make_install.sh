#!/usr/bin/env bash
# make_install.sh - `make install` builds what it installs and nothing more
# (issue 7, point 15): the library and the command, not the tests or the
# example programs. Checked on make's dry run (-n), which prints the
# commands the install target would run without running them.
set -u

: "${WEFT_SOURCE_DIR:?WEFT_SOURCE_DIR must name the repository root}"
cmds=$(make -n -C "$WEFT_SOURCE_DIR" install PREFIX=/nonexistent/prefix 2>&1)
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
echo "$cmds" | grep -q -- '--build build -j[0-9]* --target weft weft_cli' ||
  fail "make install does not build just the targets weft and weft_cli"
echo "$cmds" | grep -q -- '--install build --prefix "/nonexistent/prefix"' ||
  fail "make install does not install build/ into PREFIX"
# every build command of the install target names its targets
if echo "$cmds" | grep -- '--build build' | grep -qv -- '--target'; then
  fail "make install builds every target (tests and examples included)"
fi
if [ "$failures" -ne 0 ]; then
  echo "$cmds" >&2
  exit 1
fi
echo "make install builds the library and the command only"
