#!/usr/bin/env bash
# The wss:// recipe (examples/tls): its tests, then the two programs end to
# end: wss_server with a self-signed certificate, wss_client trusting it,
# one line through the echo. Everything on 127.0.0.1, every wait bounded.
set -euo pipefail
cd "$(dirname "$0")"

cargo fmt --manifest-path Cargo.toml -- --check
cargo clippy --manifest-path Cargo.toml --all-targets -- -D warnings
cargo test --manifest-path Cargo.toml
cargo build --manifest-path Cargo.toml --bins
bin="${CARGO_TARGET_DIR:-target}/debug"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Port 0: the system picks a free port; the server says which on stdout.
"$bin/wss_server" --listen 127.0.0.1:0 --self-signed "$work/cert.pem" \
  > "$work/server.out" 2> "$work/server.err" &
server_pid=$!
url=""
for _ in $(seq 100); do
  url="$(sed -n 's|^listening on \(wss://.*\)$|\1|p' "$work/server.out")"
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "wss_server did not start" >&2
  cat "$work/server.err" >&2
  exit 1
fi
# The certificate names localhost, 127.0.0.1 and ::1: connect by name, so
# the client sends SNI and checks the name.
url="${url/127.0.0.1/localhost}"

reply="$(echo "hello over wss" | timeout 30 "$bin/wss_client" --ca "$work/cert.pem" "$url" 2> "$work/client.err")"
if [ "$reply" != "hello over wss" ]; then
  echo "wss_client got '$reply', expected 'hello over wss'" >&2
  cat "$work/client.err" "$work/server.err" >&2
  exit 1
fi
grep -q "^closed: 1000" "$work/client.err" || { echo "the client did not close with 1000" >&2; cat "$work/client.err" >&2; exit 1; }

# Without --ca the client trusts only the public roots: the self-signed
# certificate is refused, with a TLS error, at once.
if echo x | timeout 30 "$bin/wss_client" "$url" > /dev/null 2> "$work/refused.err"; then
  echo "wss_client trusted a self-signed certificate without --ca" >&2
  exit 1
fi
grep -q "TLS: invalid peer certificate" "$work/refused.err" || { cat "$work/refused.err" >&2; exit 1; }

# The server logged the clean close of the first connection.
for _ in $(seq 50); do
  grep -q "closed 1000" "$work/server.err" && break
  sleep 0.1
done
grep -q "closed 1000" "$work/server.err" || { echo "the server did not see Close 1000" >&2; cat "$work/server.err" >&2; exit 1; }
echo "wss end to end: 2 passed, 0 failed"
