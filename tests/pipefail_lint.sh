#!/usr/bin/env bash
# pipefail_lint.sh - no script of the repository that runs under
# `set -o pipefail` may pipe into a command that stops reading early
# (grep -q, grep -m, head): the writer then dies of SIGPIPE when it writes
# after the reader is gone, and the pipeline fails at random (issue 13:
# `ldd … | grep -q libasan` in readme_quickstart.sh failed 38 times in 300
# under load). Read the output whole first (out=$(cmd); grep -q x <<<"$out"),
# or let the writer stop itself (find … -print -quit).
set -u
src="${WEFT_SOURCE_DIR:?}"
bad=0
while IFS= read -r f; do
  grep -q 'pipefail' "$f" || continue
  # a pipe, then (after spaces) grep with -q/-m/--quiet/--max-count, or head
  hits=$(grep -nE '\|[[:space:]]*(grep[[:space:]]+(-[A-Za-z]*[qm]|--quiet|--max-count)|head([[:space:]]|$))' "$f" |
    grep -vE '^[0-9]+:[[:space:]]*#')
  if [ -n "$hits" ]; then
    while IFS= read -r h; do
      echo "${f#"$src"/}:$h: a pipe into a reader that stops early, under pipefail" >&2
    done <<<"$hits"
    bad=1
  fi
done < <(find "$src" -path "$src/build*" -prune -o -path "$src/.git" -prune -o \
  \( -name '*.sh' -o -path "$src/.ci/*" \) -type f -print)
[ "$bad" -eq 0 ] || exit 1
echo "pipefail_lint.sh: no pipe into grep -q, grep -m or head under pipefail"
