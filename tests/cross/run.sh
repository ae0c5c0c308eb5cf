#!/usr/bin/env bash
# wslite on the CPUs of embedded Linux boards, under qemu-user: the unit
# tests and the loopback integration tests that make sense under emulation,
# built for each target and run by the emulator, with a test that checks the
# emulated CPU is the one named (tests/portability.rs):
#
#   aarch64-unknown-linux-gnu       little-endian, 64-bit  (Raspberry Pi 3/4/5, 64-bit OS)
#   armv7-unknown-linux-gnueabihf   little-endian, 32-bit  (Raspberry Pi 2/3/4, 32-bit OS)
#   powerpc-unknown-linux-gnu       big-endian, 32-bit, no 64-bit atomics (routers, industrial boards)
#
#   tests/cross/run.sh                  all three targets
#   tests/cross/run.sh TARGET...        only these
#   tests/cross/run.sh --full [TARGET...]  and 8 more test files (what CI
#                                       leaves out to stay short)
#
# Installs what is missing, idempotently: the rustup targets, and from Debian
# qemu-user and, for each target, gcc (the linker) with its C library, which
# qemu finds with `-L /usr/<triple>`. Fails if any test fails on any target.
#
# Left out, and why: tests/server_deploy.rs opens thousands of descriptors
# and threads and judges the server by how fast handshakes follow each other
# (the emulator is 5-20x slower: that measures QEMU, not the CPU's rules);
# the tests that start other programs (the examples, Python, Node, Chromium,
# real proxies) run natively in CI. Doctests run natively too.
set -euo pipefail
cd "$(dirname "$0")/../.."
# install_from_backports
. tests/common/backports.sh

step() { printf '\n==> %s\n' "$*"; }

# target, the Debian triple of its gcc and C library, its qemu-user, what
# tests/portability.rs must find there, and whether it has 64-bit atomics.
TABLE="
aarch64-unknown-linux-gnu      aarch64-linux-gnu    qemu-aarch64  little-endian_64-bit_aarch64  yes
armv7-unknown-linux-gnueabihf  arm-linux-gnueabihf  qemu-arm      little-endian_32-bit_arm      yes
powerpc-unknown-linux-gnu      powerpc-linux-gnu    qemu-ppc      big-endian_32-bit_powerpc     no
"
# Debian's name for each C library's architecture (libc6-dev-<arch>-cross).
declare -A LIBC_ARCH=([aarch64-linux-gnu]=arm64 [arm-linux-gnueabihf]=armhf [powerpc-linux-gnu]=powerpc)

# What CI runs on every target: the CPU's own checks and a server with a
# handful of split clients (portability), the core's rules and properties,
# both handshakes, every message size through the std layer, and
# permessage-deflate, whose bit reader and writer depend on byte order and
# word size.
TESTS=(portability protocol_rules properties handshake std_messages
       compression deflate inflate permessage)
# With --full: the rest of what makes sense under emulation. Each of these
# files passed on all three targets when this script was written; CI leaves
# them out because each test file is a crate of its own, and building them
# for three targets would add minutes.
MORE_TESTS=(std_server duplex bounded hostile bomb negotiation strict_http proxy)

targets=()
for arg in "$@"; do
  case "$arg" in
    --full) TESTS+=("${MORE_TESTS[@]}") ;;
    -*) echo "usage: $0 [--full] [TARGET...]" >&2; exit 2 ;;
    *) targets+=("$arg") ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(awk 'NF { print $1 }' <<<"$TABLE")
fi

# ---------------------------------------------------------------- installs
step "toolchains: rustup targets, gcc and qemu-user"
installed=$(rustup target list --installed)
packages=()
for target in "${targets[@]}"; do
  row=$(awk -v t="$target" '$1 == t' <<<"$TABLE")
  [ -n "$row" ] || { echo "unknown target $target; known: $(awk 'NF { printf "%s ", $1 }' <<<"$TABLE")" >&2; exit 2; }
  read -r _ triple qemu _ <<<"$row"
  grep -qx "$target" <<<"$installed" || rustup target add "$target"
  command -v "$triple-gcc" >/dev/null || packages+=("gcc-$triple")
  # The C library's files apart: a cross gcc can be there without them.
  dpkg -s "libc6-dev-${LIBC_ARCH[$triple]}-cross" >/dev/null 2>&1 ||
    packages+=("libc6-dev-${LIBC_ARCH[$triple]}-cross")
  command -v "$qemu" >/dev/null || packages+=(qemu-user)
done
if [ ${#packages[@]} -gt 0 ]; then
  mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
  install_from_backports "${packages[@]}"
fi
qemu-aarch64 --version | head -n1

# ---------------------------------------------------------------- tests
test_args=(--lib)
for t in "${TESTS[@]}"; do test_args+=(--test "$t"); done

summary=()
failed=0
for target in "${targets[@]}"; do
  read -r _ triple qemu cpu atomics64 <<<"$(awk -v t="$target" '$1 == t' <<<"$TABLE")"
  upper=$(tr 'a-z-' 'A-Z_' <<<"$target")
  runner="$qemu -L /usr/$triple"
  export "CARGO_TARGET_${upper}_LINKER=$triple-gcc"
  export "CARGO_TARGET_${upper}_RUNNER=$runner"
  # Code under cfg(target_pointer_width = "32") or cfg(target_endian =
  # "big") is compiled only here: warnings are errors here too.
  export "CARGO_TARGET_${upper}_RUSTFLAGS=-D warnings"
  # tests/common/alone.rs re-runs a test binary through the emulator.
  export WSLITE_TEST_RUNNER="$runner"
  export WSLITE_EXPECT_CPU="${cpu//_/ }"
  # Line tables are enough for a failure's backtrace, and much quicker to
  # build and link than full debug information.
  export CARGO_PROFILE_DEV_DEBUG=line-tables-only CARGO_PROFILE_TEST_DEBUG=line-tables-only
  # Nothing is rebuilt from a previous state on a fresh machine.
  export CARGO_INCREMENTAL=0

  began=$(date +%s)
  if [ "$atomics64" = no ]; then
    # The tests build the library everywhere; the examples need building
    # only once, where an AtomicU64 would not compile.
    step "$target: build every example (no 64-bit atomics on this CPU)"
    cargo build -q --target "$target" --examples
  fi

  step "$target: unit tests and ${#TESTS[@]} integration test files under $runner"
  log=$(mktemp)
  rc=0
  # Bounded as a whole: the tests bound their own waits, and this bounds a
  # test that would not (about 90 s with the build in CI, 140 s with --full).
  timeout 900 cargo test --target "$target" --no-fail-fast "${test_args[@]}" >"$log" 2>&1 || rc=$?
  [ "$rc" -ne 124 ] || echo "$target: the tests did not finish in 15 minutes" >&2
  # One line per test binary, and what failed with its messages.
  grep -E '^(test result|     Running)' "$log" | sed 's/ (target[^)]*)//' || true
  if [ "$rc" -ne 0 ]; then
    sed -n '/^failures:/,/^test result/p' "$log"
    # A build that failed has no failures section: its errors end the log.
    grep -q '^test result' "$log" || tail -n 40 "$log"
  fi
  # The portability test printed the CPU it ran on.
  grep -q "^cpu: $WSLITE_EXPECT_CPU\$" <(timeout 120 cargo test -q --target "$target" --test portability \
    the_tests_run_on_the_cpu -- --nocapture 2>&1) ||
    { echo "$target: the tests did not run on a $WSLITE_EXPECT_CPU CPU" >&2; rc=1; }
  counts=$(awk '/^test result/ { p += $4; f += $6; i += $8 } END { printf "%d passed, %d failed, %d ignored", p, f, i }' "$log")
  binaries=$(grep -c '^test result' "$log" || true)
  summary+=("$target ($WSLITE_EXPECT_CPU): $counts in $binaries test binaries, $(( $(date +%s) - began )) s with the build")
  rm -f "$log"
  [ "$rc" -eq 0 ] || failed=1
done

step "summary"
printf '%s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
  echo "cross tests failed" >&2
  exit 1
fi
