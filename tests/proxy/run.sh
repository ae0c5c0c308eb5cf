#!/usr/bin/env bash
# The client through real proxies: tinyproxy (HTTP CONNECT, with and without
# Basic auth) and microsocks (SOCKS5 and SOCKS5h, with and without a user
# name and password), all on 127.0.0.1, then the `#[ignore]`d tests of
# tests/proxy.rs against them, including one that finds the proxy in the
# environment (http_proxy, https_proxy).
#
# Installs the Debian packages `tinyproxy` and `microsocks` if they are
# missing. The proxies are stopped on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v tinyproxy >/dev/null || ! command -v microsocks >/dev/null; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends tinyproxy microsocks >/dev/null
fi
echo "proxies: $(tinyproxy -v 2>&1 | head -1), microsocks $(dpkg-query -W -f='${Version}' microsocks 2>/dev/null || echo '?')"

dir="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

# Free loopback ports, chosen by the kernel.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
ws_port=$(free_port)
http_port=$(free_port)
http_auth_port=$(free_port)
socks_port=$(free_port)
socks_auth_port=$(free_port)
user=wslite
password=s3cret

# tinyproxy: one open, one with Basic auth; CONNECT only to the test port.
tinyproxy_conf() { # port, extra line
  cat >"$dir/tinyproxy-$1.conf" <<CONF
Port $1
Listen 127.0.0.1
Allow 127.0.0.1
ConnectPort $ws_port
Timeout 30
MaxClients 20
LogLevel Info
LogFile "$dir/tinyproxy-$1.log"
PidFile "$dir/tinyproxy-$1.pid"
$2
CONF
  if [ "$(id -u)" -eq 0 ]; then
    printf 'User nobody\nGroup nogroup\n' >>"$dir/tinyproxy-$1.conf"
    chmod 777 "$dir"
  fi
}
tinyproxy_conf "$http_port" ""
tinyproxy_conf "$http_auth_port" "BasicAuth $user $password"
tinyproxy -d -c "$dir/tinyproxy-$http_port.conf" >"$dir/tp1.out" 2>&1 &
pids+=($!)
tinyproxy -d -c "$dir/tinyproxy-$http_auth_port.conf" >"$dir/tp2.out" 2>&1 &
pids+=($!)
microsocks -i 127.0.0.1 -p "$socks_port" >"$dir/ms1.out" 2>&1 &
pids+=($!)
microsocks -i 127.0.0.1 -p "$socks_auth_port" -u "$user" -P "$password" >"$dir/ms2.out" 2>&1 &
pids+=($!)

# Wait (bounded) until every proxy accepts connections.
for port in "$http_port" "$http_auth_port" "$socks_port" "$socks_auth_port"; do
  for _ in $(seq 50); do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null; then
      continue 2
    fi
    sleep 0.1
  done
  echo "a proxy did not start on port $port" >&2
  cat "$dir"/*.out "$dir"/*.log >&2 2>/dev/null || true
  exit 1
done

export WSLITE_TEST_WS_PORT=$ws_port
export WSLITE_TEST_HTTP_PROXY=127.0.0.1:$http_port
export WSLITE_TEST_HTTP_AUTH_PROXY=127.0.0.1:$http_auth_port
export WSLITE_TEST_SOCKS_PROXY=127.0.0.1:$socks_port
export WSLITE_TEST_SOCKS_AUTH_PROXY=127.0.0.1:$socks_auth_port
# For the test that takes its proxy from the environment, and only there.
export http_proxy=http://127.0.0.1:$http_auth_port
export https_proxy=http://$user:$password@127.0.0.1:$http_auth_port
unset no_proxy NO_PROXY all_proxy ALL_PROXY HTTPS_PROXY || true

status=0
timeout 300 cargo test --test proxy -- --ignored --test-threads 2 --nocapture || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- proxy logs" >&2
  tail -n 20 "$dir"/*.out "$dir"/*.log >&2 2>/dev/null || true
fi
exit "$status"
