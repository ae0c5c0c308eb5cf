#!/usr/bin/env bash
# wslite beside tungstenite, fastwebsockets, Node ws, python-websockets and a
# raw echo, in one run, with the shared perf harness (README "Performance").
#
#   bash benches/side_by_side.sh                       # the whole matrix, about 14 minutes
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
# Two workloads the harness does not have, added to the copy only: a
# client sending 1 MiB messages (4 in flight), and idle connections at
# 10,000. Each edit must find the line it extends, or the run stops.
python3 - "$copy/scripts/matrix.py" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
edits = [
    ('    ("c64k", "client C=1 W=16 S=64KiB", 65536, 16, 1),\n',
     '    ("c1m", "client C=1 W=4 S=1MiB", 1048576, 4, 1),\n'),
    ('    ("idle", "idle C=1000", ["idle", "-c", "1000"]),\n',
     '    ("idle10k", "idle C=10000", ["idle", "-c", "10000"]),\n'),
    ('    ("idle", "kib_per_conn", "idle C=1000: RSS growth", "KiB/conn", False),\n',
     '    ("idle10k", "kib_per_conn", "idle C=10000: RSS growth", "KiB/conn", False),\n'),
]
for anchor, added in edits:
    if anchor not in text:
        sys.exit(f"side_by_side.sh: the harness changed; cannot find {anchor.strip()!r}")
    text = text.replace(anchor, anchor + added, 1)
# No CPU-per-operation row for idle connections, at either count.
cost = 'or wid == "idle":'
if cost not in text:
    sys.exit(f"side_by_side.sh: the harness changed; cannot find {cost!r}")
text = text.replace(cost, 'or wid.startswith("idle"):', 1)
open(path, "w").write(text)
PY
cargo build --release --example echo_server --example bench_client
here="$PWD/target/release/examples"
# The library's default server (a new thread per connection) and the one
# examples/echo_server runs (finished threads reused); room for 10,000
# connections in both, for the idle workload.
servers=(
  --server wslite="$here/echo_server --max-connections 12000 127.0.0.1:{port}"
  --server wslite-fresh="$here/echo_server --fresh-threads --max-connections 12000 127.0.0.1:{port}"
)
client="$here/bench_client --port {port} -n {messages} -s {size} -w {window} -c {connections} -d {duration} --warmup {warmup} --server-pid {server_pid} --json-only"
if [ "$#" -gt 0 ]; then
  exec "$copy/run-all.sh" --reps 3 "${servers[@]}" --client wslite="$client" "$@"
fi
# The whole run: the standard matrix (every server and client, 3 rounds),
# then idle connections at 10,000 (one round; apart, so that the 20,000
# sockets it leaves in TIME_WAIT do not slow the connect workload).
"$copy/run-all.sh" --reps 3 "${servers[@]}" --client wslite="$client" \
  --workloads rtt1,rtt50,tp16,tp1k,tp64k,tp4x1k,connect,idle
"$copy/run-all.sh" --no-build --reps 1 --no-clients --no-mask "${servers[@]}" \
  --only tungstenite,fastwebsockets,raw,wslite,wslite-fresh --workloads idle10k
