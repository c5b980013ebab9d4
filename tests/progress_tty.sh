#!/usr/bin/env bash
# progress_tty.sh - the progress bar as a user sees it in a terminal: runs
# a compute (`weft eval --delay`) and a weft_map (test_sched_diag
# --tty-map) with WEFT_PROGRESS=1 inside tmux, reads the screen back while
# they run and after they end, and checks that there is one bar, redrawn in
# place (never a second line of it), part-way while it runs:
#   [#########           ]  45% | 3/7 tasks | 0.8 s | ~1.0 s left
# and finished at the end, counting tasks for the compute and items for the
# map:
#   [##############################] 100% | 7/7 tasks | 1.6 s | done
# Runs in its own empty directory (tests/CMakeLists.txt).
set -u
: "${WEFT_BIN:?WEFT_BIN must name the weft command}"
: "${WEFT_BUILD_DIR:?WEFT_BUILD_DIR must name the build directory}"
command -v tmux >/dev/null || { echo "FAIL: tmux is not installed (scripts/deps.sh build)" >&2; exit 1; }
sock="weft-progress-$$"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
tm() { tmux -L "$sock" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null' EXIT
export TERM=${TERM:-xterm}
[ "$TERM" = dumb ] && export TERM=xterm

bar_lines() { grep -E '^\[[# ]{30}\] +[0-9]+% \| ' <<<"$1"; }

# watch NAME UNIT COMMAND: runs COMMAND in a 110x12 terminal, reads the
# screen once the bar shows and at the end, checks both.
watch() {
  local name=$1 unit=$2 cmd=$3 mid final n
  rm -f "$name.rc"
  tm new-session -d -x 110 -y 12 -s "$name" \
    "WEFT_PROGRESS=1 $cmd > $name.out; echo \$? > $name.rc; sleep 120"
  # the screen as soon as a bar shows (it appears once the compute has run
  # 0.2 s, and the computes take over a second)
  mid=
  for ((i = 0; i < 200; i++)); do
    sleep 0.05
    mid=$(tm capture-pane -p -t "$name")
    [ -n "$(bar_lines "$mid")" ] && break
  done
  for ((i = 0; i < 300; i++)); do [ -s "$name.rc" ] && break; sleep 0.1; done
  sleep 0.2
  final=$(tm capture-pane -p -t "$name")
  tm kill-session -t "$name"
  echo "--- $name while running:"; echo "$mid"
  echo "--- $name at the end:"; echo "$final"
  [ "$(cat "$name.rc" 2>/dev/null)" = 0 ] || fail "$name: exit status $(cat "$name.rc" 2>/dev/null): $(cat "$name.out")"
  n=$(bar_lines "$mid" | wc -l)
  [ "$n" -eq 1 ] || fail "$name: $n bar lines on the screen while it runs, want 1"
  bar_lines "$mid" | grep -qE "\] +[0-9]+% \| [0-9,]+/[0-9,]+ $unit \| [0-9.]+ s" ||
    fail "$name: no bar counting $unit while it runs"
  bar_lines "$mid" | grep -q "done" && fail "$name: the bar said done before the end"
  n=$(bar_lines "$final" | wc -l)
  [ "$n" -eq 1 ] || fail "$name: $n bar lines at the end, want 1 (redrawn in place)"
  bar_lines "$final" | grep -qE "^\[#{30}\] 100% \| ([0-9,]+)/\1 $unit \| [0-9.]+ s \| done$" ||
    fail "$name: the last line is not a full bar ending in done"
}

watch compute tasks "'$WEFT_BIN' eval '(3 + 7) * (2 + 8) * ((2 * 3) - 1)' --delay 0.4"
grep -qx 500 compute.out || fail "compute: weft eval printed $(cat compute.out)"
prog="$WEFT_BUILD_DIR/tests/test_sched_diag"
[ -x "$prog" ] || prog="$WEFT_BUILD_DIR/test_sched_diag"
watch map items "'$prog' --tty-map"
grep -q "map: rc 0, sum 3000" map.out || fail "map: $(cat map.out)"

if [ "$failures" -ne 0 ]; then echo "$failures failure(s)" >&2; exit 1; fi
echo "progress_tty: ok"
