#!/usr/bin/env bash
# compile_messages.sh - the mistakes a new user makes with the typed task
# macros (include/weft/fn.h) stop the build with a message that says what to
# do, not with an error from inside the macros (issue 7, point 7): a function
# used without WEFT_DELAYED, a ninth parameter, a string default, more
# defaults than parameters. Each snippet is compiled with -fsyntax-only as a
# user's program would be (C11); a snippet that should build, builds.
set -u

: "${WEFT_SOURCE_DIR:?WEFT_SOURCE_DIR must name the repository root}"
cc=${CC:-cc}
failures=0

# expect NAME WANT: compiles snippet.c; WANT empty: must build; else the
# build must fail with WANT in its messages.
expect() {
  local name=$1 want=$2
  "$cc" -std=c11 -Wall -Wextra -fsyntax-only -I"$WEFT_SOURCE_DIR/include" \
    snippet.c > messages.txt 2>&1
  local rc=$?
  if [ -z "$want" ]; then
    if [ "$rc" -ne 0 ] || [ -s messages.txt ]; then
      echo "FAIL: $name: should build without a message:" >&2
      cat messages.txt >&2
      failures=$((failures + 1))
    else
      echo "ok: $name builds"
    fi
  elif [ "$rc" -eq 0 ]; then
    echo "FAIL: $name: built, should have stopped with: $want" >&2
    failures=$((failures + 1))
  elif ! grep -qF -- "$want" messages.txt; then
    echo "FAIL: $name: the messages do not say: $want" >&2
    cat messages.txt >&2
    failures=$((failures + 1))
  else
    echo "ok: $name: $want"
  fi
}

cat > snippet.c <<'C'
#include <weft.h>
static long inc(long x) { return x + 1; }
weft_node *f(weft_graph *g) { return weft_call(g, inc, 1); }
C
expect "no WEFT_DELAYED" "inc_is_not_a_task__declare_it_with_WEFT_DELAYED_or_WEFT_REGISTER"

cat > snippet.c <<'C'
#include <weft.h>
static int s9(int a, int b, int c, int d, int e, int f, int g, int h, int i) {
  return a + b + c + d + e + f + g + h + i;
}
WEFT_DELAYED(s9, int, int, int, int, int, int, int, int, int, int);
C
expect "nine parameters" "WEFT_DELAYED takes at most 8 parameters"

cat > snippet.c <<'C'
#include <weft.h>
static long greet(long x, const char *who) { return x + (who != 0); }
WEFT_DELAYED(greet, long, long, const char *);
WEFT_DEFAULTS(greet, "world");
C
expect "string default" "WEFT_DEFAULTS: a default must be a number"

cat > snippet.c <<'C'
#include <weft.h>
static long one(long x) { return x; }
WEFT_DELAYED(one, long, long);
WEFT_DEFAULTS(one, 1, 2);
C
expect "too many defaults" "WEFT_DEFAULTS: more defaults than parameters"

cat > snippet.c <<'C'
#include <weft.h>
static long answer(void) { return 42; }
WEFT_DELAYED(answer, long, void);
static void note(long x) { (void)x; }
WEFT_DELAYED(note, void, long);
static double scale(double x, double k) {
  if (k == 0)
    return WEFT_FAIL("scale(%g, 0)", x);
  return x * k;
}
WEFT_DELAYED(scale, double, double, double);
WEFT_DEFAULTS(scale, 2.0);
weft_node *f(weft_graph *g) {
  weft_node *a = weft_call(g, answer);
  weft_node *n = weft_call(g, note, a);
  (void)n;
  return weft_call(g, scale, a);
}
C
expect "zero parameters, void result, defaults, WEFT_FAIL" ""

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "all passed"
