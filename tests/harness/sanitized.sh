#!/usr/bin/env bash
# sanitized.sh LOGDIR COMMAND... - runs one test of a sanitizer build and
# fails it when any process of the test wrote a sanitizer report.
#
# tests/CMakeLists.txt points ASan, UBSan, LeakSanitizer and TSan at
# LOGDIR/report (log_path: each process writes LOGDIR/report.<pid>). That
# includes worker processes: a worker that hits a sanitizer error dies, the
# pool retries its task elsewhere, and the test itself may still pass, so
# the report file is the only trace left (issue 13). Every report found is
# printed, and the test fails even when COMMAND exited 0.
set -u
logdir=${1:?usage: sanitized.sh LOGDIR COMMAND...}
shift
rm -rf "$logdir"
mkdir -p "$logdir" || exit 1
"$@"
rc=$?
shopt -s nullglob
reports=("$logdir"/report.*)
if [ "${#reports[@]}" -gt 0 ]; then
  for f in "${reports[@]}"; do
    printf '\n==== sanitizer report from pid %s (%s) ====\n' "${f##*.}" "$f" >&2
    cat "$f" >&2
  done
  printf 'sanitized.sh: %d sanitizer report(s): the test fails (exit status was %d)\n' \
    "${#reports[@]}" "$rc" >&2
  [ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
