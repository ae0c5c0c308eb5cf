#!/usr/bin/env bash
# wslite beside tungstenite, fastwebsockets, Node ws, python-websockets and a
# raw echo, in one run, with the shared perf harness (README "Performance").
#
#   bash benches/side_by_side.sh                       # the whole matrix, about 10 minutes
#   bash benches/side_by_side.sh --only tungstenite,wslite --reps 1
#   bash benches/side_by_side.sh --help                # the harness's options
#
# The harness is not part of this repository: it is looked for in
# ../shared/perf beside the clone, or wherever WSLITE_PERF points. It is
# copied to a temporary folder and run from there (it writes its results
# next to itself); its extra arguments are passed on.
set -euo pipefail
cd "$(dirname "$0")/.."
perf="${WSLITE_PERF:-$(cd .. && pwd)/shared/perf}"
if [ ! -x "$perf/run-all.sh" ]; then
  echo "error: no perf harness at $perf (set WSLITE_PERF to its folder)" >&2
  exit 1
fi
copy="$(mktemp -d)/perf"
cp -r "$perf" "$copy"
echo "harness copied to $copy (its results/ folder keeps each run's tables)"
cargo build --release --example echo_server --example bench_client
here="$PWD/target/release/examples"
"$copy/run-all.sh" --reps 3 \
  --server wslite="$here/echo_server 127.0.0.1:{port}" \
  --client wslite="$here/bench_client --port {port} -n {messages} -s {size} -w {window} -c {connections} -d {duration} --warmup {warmup} --server-pid {server_pid} --json-only" \
  "$@"
