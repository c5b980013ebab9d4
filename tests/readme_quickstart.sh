#!/usr/bin/env bash
# readme_quickstart.sh - the README's quick-start program must compile
# against the library and print what the README says it prints, so the
# first code a new user copies never rots.
set -euo pipefail
src="${WEFT_SOURCE_DIR:?}"
build="${WEFT_BUILD_DIR:?}"
awk '/^```c$/ {on = 1; next} /^```$/ && on {exit} on' "$src/README.md" >quickstart.c
grep -q WEFT_DELAYED quickstart.c
lib=$(find "$build" -maxdepth 1 -name 'libweft.*' | head -1)
libdir=$(dirname "$lib")
# a sanitized library needs its runtime first in the program (grep reads
# all of ldd's output: with -q it may exit first, and under pipefail ldd's
# SIGPIPE would make a sanitized library look plain)
san=()
deps=$(ldd "$lib" 2>/dev/null || true)
if grep -q libasan <<<"$deps"; then san=(-fsanitize=address,undefined); fi
if grep -q libtsan <<<"$deps"; then san=(-fsanitize=thread); fi
cc "${san[@]}" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$src/include" quickstart.c \
  -L"$libdir" -lweft -Wl,-rpath,"$libdir" -lpthread -lm -o quickstart
out=$(./quickstart)
echo "$out"
[ "$out" = "z = 3, x = 2" ] || { echo "unexpected output: $out" >&2; exit 1; }
out=$(WEFT_SCHEDULER=sync ./quickstart)
[ "$out" = "z = 3, x = 2" ] || { echo "sync: unexpected output: $out" >&2; exit 1; }
echo "quickstart ok"
