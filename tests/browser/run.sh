#!/usr/bin/env bash
# End-to-end browser test of examples/chat.rs: two headless Chromium tabs, one
# desktop-sized and one phone-sized, chat through the example server, which is
# killed and restarted under them (see chat.test.mjs); screenshots go to
# $WSLITE_SCREENSHOT (a folder, default $CARGO_TARGET_DIR/browser, that is
# target/browser). And one tab through the frame
# inspector, examples/inspect.rs, which must see compressed frames both ways
# (see inspect.test.mjs). Installs what is missing,
# builds the example, runs the test; exits non-zero on any failure.
#
#   bash tests/browser/run.sh
#
# Needs Node >= 20 with npm, and cargo. Installs Chromium from apt (Debian's
# `chromium` package, /usr/bin/chromium) when it is absent, and playwright-core
# from npm, exactly as pinned in package-lock.json, into tests/browser/node_modules.
# Honours CARGO_TARGET_DIR, WSLITE_CHAT_BIN, WSLITE_INSPECT_BIN, WSLITE_CHROMIUM,
# WSLITE_SCREENSHOT.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."

step() { printf '\n==> %s\n' "$*"; }

step "browser test: prerequisites"
command -v node >/dev/null || { echo "node (>= 20) is required" >&2; exit 1; }
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "node >= 20 is required (playwright-core); found $(node --version)" >&2
  exit 1
fi
command -v npm >/dev/null || { echo "npm is required" >&2; exit 1; }

chromium="${WSLITE_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  if [ "$chromium" != /usr/bin/chromium ]; then
    echo "WSLITE_CHROMIUM=$chromium is not an executable" >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends chromium
fi
# Debian's launcher script prints a harmless "[: ...: unexpected operator" from
# /etc/chromium.d/dev-shm on some hosts; it still starts the browser.
"$chromium" --version 2>/dev/null

# npm ci only when node_modules does not hold exactly the locked version.
locked="$(node -p 'require(process.argv[1]).packages["node_modules/playwright-core"].version' \
  "$here/package-lock.json")"
installed="$(node -p 'require(process.argv[1]).version' \
  "$here/node_modules/playwright-core/package.json" 2>/dev/null || true)"
if [ "$installed" != "$locked" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi
echo "playwright-core $locked"

step "browser test: build examples/chat.rs and examples/inspect.rs"
cargo build --release --example chat --example inspect

step "browser test: run"
# The test files are named explicitly: `node --test DIR` searches DIR on
# Node 20, but later versions treat a directory argument as a file.
node --test --test-reporter=spec "$here"/*.test.mjs
