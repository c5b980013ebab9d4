#!/usr/bin/env bash
# dash_browser.sh - the dashboard end to end in headless Chromium: Debian's
# chromium (scripts/deps.sh build) driven by playwright-core from npm,
# installed here into the build tree (no browser download). The page must
# fill its progress while computes run and show their exact counts
# (tests/dash_browser_host.c checks them); the screenshot goes to
# $PWD/dashboard.png. A missing chromium, node or npm is a failure, not a
# skip: `make test` installs them.
set -euo pipefail
: "${WEFT_BUILD_DIR:?}" "${WEFT_SOURCE_DIR:?}"
chromium=${WEFT_CHROMIUM:-/usr/bin/chromium}
for need in "$chromium" node npm; do
  command -v "$need" >/dev/null 2>&1 || {
    echo "FAIL: $need is missing: the dashboard's browser test needs Debian's" \
      "chromium and Node.js with npm (scripts/deps.sh build)" >&2
    exit 1
  }
done
mods="$WEFT_BUILD_DIR/dash-browser"
if [ ! -f "$mods/node_modules/playwright-core/package.json" ]; then
  mkdir -p "$mods"
  if ! npm install --prefix "$mods" --no-audit --no-fund --silent \
    playwright-core >"$mods/npm.log" 2>&1; then
    cat "$mods/npm.log" >&2
    echo "FAIL: npm could not install playwright-core into $mods" >&2
    exit 1
  fi
fi
export NODE_PATH="$mods/node_modules"
export WEFT_CHROMIUM="$chromium"
host="$WEFT_BUILD_DIR/tests/dash_browser_host"
[ -x "$host" ] || { echo "FAIL: $host is not built" >&2; exit 1; }
timeout 100 "$host" "$WEFT_SOURCE_DIR/tests/dash_browser.js" "$PWD"
[ -s "$PWD/dashboard.png" ] || { echo "FAIL: no screenshot" >&2; exit 1; }
echo "screenshot: $PWD/dashboard.png"
