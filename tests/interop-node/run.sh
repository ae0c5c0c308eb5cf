#!/usr/bin/env bash
# Interop tests against Node's `ws` (tests/interop_node.rs): installs `ws`,
# exactly as pinned in package-lock.json, into tests/interop-node/node_modules
# when it is missing or another version, then runs the tests, which are
# #[ignore]d in a plain `cargo test`.
#
#   tests/interop-node/run.sh [extra cargo test arguments, e.g. --release]
#
# Needs Node (>= 10, for ws 8) with npm, and cargo. WSLITE_NODE chooses the
# Node the tests run (default: node on PATH); npm installs with the node on
# PATH.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."

node="${WSLITE_NODE:-node}"
command -v "$node" >/dev/null || { echo "node is required (or set WSLITE_NODE)" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is required" >&2; exit 1; }

# npm ci only when node_modules does not hold exactly the locked version.
locked="$("$node" -p 'require(process.argv[1]).packages["node_modules/ws"].version' \
  "$here/package-lock.json")"
installed="$("$node" -p 'require(process.argv[1]).version' \
  "$here/node_modules/ws/package.json" 2>/dev/null || true)"
if [ "$installed" != "$locked" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi
echo "ws $locked, node $("$node" --version)"

WSLITE_NODE="$(command -v "$node")" \
  cargo test "$@" --test interop_node -- --ignored
