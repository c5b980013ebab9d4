#!/usr/bin/env bash
# deps.sh - installs the Debian packages weft needs, and nothing else does.
#
#   scripts/deps.sh build          compiler, CMake, cmocka, Graphviz, PLplot
#                                  (runtime + cairo driver: weft_plot declares
#                                  PLplot's API itself, so no libplplot-dev,
#                                  which pulls gfortran, Qt and wxWidgets),
#                                  NumPy (the tests compare with it), Open MPI
#   scripts/deps.sh build bench    ... and what the benchmarks compare with
#   scripts/deps.sh build examples ... and HTTP for seed 003's downloads
#   scripts/deps.sh browser        Chromium, Node.js and npm: the dashboard's
#                                  browser test (tests/dash_browser.sh; it
#                                  installs playwright-core with npm itself)
#
# Each package is checked with dpkg-query first; only when some are missing
# does it run apt-get update and apt-get install (through sudo when not
# root). Prints nothing when everything is there. On a system without dpkg it
# lists the packages and leaves the installing to you.
set -euo pipefail

# One group per line: "<group> <package>...". Add a group here, then name it
# where it is needed (the Makefile).
groups='
build build-essential cmake pkg-config libcmocka-dev libmicrohttpd-dev libgraphviz-dev graphviz libopenmpi-dev openmpi-bin libplplot17 plplot-driver-cairo python3 python3-numpy tmux
bench libtbb-dev python3-numpy python3-joblib python3-dask python3-distributed
examples libcurl4-openssl-dev
browser chromium nodejs npm
'

usage() {
  echo "usage: $0 GROUP..." >&2
  echo "groups:$(awk 'NF { printf " %s", $1 }' <<<"$groups")" >&2
  exit 2
}

[ $# -gt 0 ] || usage

wanted=()
for group in "$@"; do
  line=$(awk -v g="$group" '$1 == g' <<<"$groups")
  [ -n "$line" ] || { echo "deps.sh: unknown group '$group'" >&2; usage; }
  read -r -a pkgs <<<"$line"
  wanted+=("${pkgs[@]:1}")
done

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "deps.sh: not a Debian system; make sure these are installed:" \
    "${wanted[*]}" >&2
  exit 0
fi

missing=()
for pkg in "${wanted[@]}"; do
  # NodeSource's nodejs carries npm (and conflicts with Debian's npm)
  if [ "$pkg" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [ "$status" != "install ok installed" ]; then
    case " ${missing[*]-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || {
    echo "deps.sh: missing packages and no sudo: ${missing[*]}" >&2
    exit 1
  }
  sudo=(sudo)
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
