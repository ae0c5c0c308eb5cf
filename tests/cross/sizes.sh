#!/usr/bin/env bash
# The size table of "On an embedded Linux board" (no_std_notes.md):
# examples/echo_server built with the `board` profile (opt-level z, fat LTO,
# one codegen unit, panic=abort, stripped) for armv7 (glibc, and static
# musl), aarch64 (glibc, static musl), 32-bit big-endian PowerPC and the
# native x86_64; its file size, and its resident memory at start and with
# 100 and 1,000 idle WebSocket connections (tests/cross/idle_clients.py),
# under qemu-user for the foreign targets. Each measurement runs twice.
#
#   tests/cross/sizes.sh           install what is missing, build, measure, print the table
#   tests/cross/sizes.sh --check   build armv7-unknown-linux-gnueabihf only; fail if the
#                                  stripped file is more than 10 % above ARMV7_BYTES
#
# Under qemu-user the process is the emulator: its RSS is qemu's and the
# guest's together. qemu runs here with the guest's memory at a known place
# (`-B GUEST_BASE`, and `-R` for 64-bit guests), so idle_clients.py also
# sums the resident pages inside that range: the guest's own memory, what
# the same program shows on a board.
#
# armv7-unknown-linux-musleabihf: with its rustup target installed (or
# installable), an ordinary build. Where rustup cannot fetch it, std is
# built from the rust-src component (nightly's -Zbuild-std, through
# RUSTC_BOOTSTRAP=1 on stable) against Debian's musl-dev:armhf, and
# armv7-unknown-linux-gnueabihf is built the same way beside it: build-std
# optimises std with the board profile too, so its files are smaller than
# those of a prebuilt std.
#
# Needs Rust (rustup), apt, python3. Installs, idempotently: rustup targets
# and rust-src; gcc-{arm-linux-gnueabihf,aarch64-linux-gnu,powerpc-linux-gnu},
# qemu-user, and for musl on armv7 the armhf architecture and musl-dev:armhf.
set -euo pipefail
cd "$(dirname "$0")/../.."

# The documented figure (no_std_notes.md): armv7-unknown-linux-gnueabihf,
# prebuilt std, board profile, Rust 1.95.
ARMV7_BYTES=474216

CHECK=0
for arg in "$@"; do
  case "$arg" in
    --check) CHECK=1 ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
  esac
done

step() { printf '\n==> %s\n' "$*" >&2; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# install_from_backports (QEMU 10 on bookworm, as tests/cross/run.sh has it)
. tests/common/backports.sh
# apt_install PACKAGE...: installs those not installed yet.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] || install_from_backports "${missing[@]}"
}
rustup_target() {
  rustup target list --installed | grep -qx "$1" || rustup target add "$1" >&2
}

export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER=arm-linux-gnueabihf-gcc
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_MUSLEABIHF_LINKER=arm-linux-gnueabihf-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_POWERPC_UNKNOWN_LINUX_GNU_LINKER=powerpc-linux-gnu-gcc

# build TARGET [TARGET_DIR [cargo args...]]: prints the binary's path.
build() {
  local target=$1 dir=${2:-${CARGO_TARGET_DIR:-target}}
  shift 2 || shift $#
  step "build echo_server for $target${*:+ ($*)}"
  CARGO_TARGET_DIR=$dir cargo build -q --profile board --example echo_server \
    --target "$target" "$@" >&2
  echo "$dir/$target/board/examples/echo_server"
}

if [ $CHECK -eq 1 ]; then
  step "toolchain for armv7-unknown-linux-gnueabihf"
  apt_install gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
  rustup_target armv7-unknown-linux-gnueabihf
  bin=$(build armv7-unknown-linux-gnueabihf)
  bytes=$(stat -c %s "$bin")
  limit=$((ARMV7_BYTES + ARMV7_BYTES / 10))
  echo "echo_server, armv7-unknown-linux-gnueabihf, board profile: $bytes bytes" \
    "(documented $ARMV7_BYTES, limit $limit)"
  if [ "$bytes" -gt "$limit" ]; then
    echo "FAIL: more than 10 % above the documented size" >&2
    exit 1
  fi
  exit 0
fi

# ---------------------------------------------------------------- installs
step "toolchain: linkers, qemu-user, rustup targets"
apt_install gcc-arm-linux-gnueabihf gcc-aarch64-linux-gnu gcc-powerpc-linux-gnu \
  libc6-dev-armhf-cross libc6-dev-arm64-cross libc6-dev-powerpc-cross qemu-user python3
for t in armv7-unknown-linux-gnueabihf aarch64-unknown-linux-gnu aarch64-unknown-linux-musl \
  powerpc-unknown-linux-gnu; do
  rustup_target "$t"
done
MUSL_ARMV7=prebuilt
if ! rustup_target armv7-unknown-linux-musleabihf 2>/dev/null; then
  MUSL_ARMV7=build-std
  step "armv7 musl through build-std: rust-src, musl-dev:armhf"
  rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src >&2
  if ! dpkg -s musl-dev:armhf >/dev/null 2>&1; then
    dpkg --print-foreign-architectures | grep -qx armhf || $SUDO dpkg --add-architecture armhf
    apt_install musl-dev:armhf
  fi
fi

# ---------------------------------------------------------------- builds
declare -A BIN RUNNER
rows=()
add() { rows+=("$1"); BIN[$1]=$2; RUNNER[$1]=$3; }
QEMU_BASE=0x4000000000 # where qemu puts the guest's memory (-B); 4 GiB of it (-R)
add armv7-unknown-linux-gnueabihf "$(build armv7-unknown-linux-gnueabihf)" \
  "qemu-arm -B $QEMU_BASE -L /usr/arm-linux-gnueabihf"
if [ $MUSL_ARMV7 = prebuilt ]; then
  add armv7-unknown-linux-musleabihf "$(build armv7-unknown-linux-musleabihf)" \
    "qemu-arm -B $QEMU_BASE"
else
  # Rust's musl targets link their own crt objects and libunwind.a
  # ("self-contained"); without the rustup target those are not there, so
  # this links like a C program with Debian's musl: musl-gcc.specs for the
  # crt objects and the library path, and libgcc_eh as the unwinder std's
  # `unwind` crate names (libunwind.a).
  musl_lib=/usr/lib/arm-linux-musleabihf
  unwind_dir=$PWD/target/build-std/armhf-musl-unwind
  mkdir -p "$unwind_dir"
  ln -sf "$(arm-linux-gnueabihf-gcc -print-file-name=libgcc_eh.a)" "$unwind_dir/libunwind.a"
  export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_MUSLEABIHF_RUSTFLAGS="-C link-self-contained=no \
-C link-arg=-specs=$musl_lib/musl-gcc.specs -L $musl_lib -L $unwind_dir"
  add "armv7-unknown-linux-gnueabihf (build-std)" \
    "$(RUSTC_BOOTSTRAP=1 build armv7-unknown-linux-gnueabihf target/build-std \
      -Zbuild-std=std,panic_abort)" \
    "qemu-arm -B $QEMU_BASE -L /usr/arm-linux-gnueabihf"
  add "armv7-unknown-linux-musleabihf (build-std)" \
    "$(RUSTC_BOOTSTRAP=1 build armv7-unknown-linux-musleabihf target/build-std \
      -Zbuild-std=std,panic_abort)" \
    "qemu-arm -B $QEMU_BASE"
fi
add aarch64-unknown-linux-gnu "$(build aarch64-unknown-linux-gnu)" \
  "qemu-aarch64 -B $QEMU_BASE -R 0x100000000 -L /usr/aarch64-linux-gnu"
add aarch64-unknown-linux-musl "$(build aarch64-unknown-linux-musl)" \
  "qemu-aarch64 -B $QEMU_BASE -R 0x100000000"
add powerpc-unknown-linux-gnu "$(build powerpc-unknown-linux-gnu)" \
  "qemu-ppc -B $QEMU_BASE -L /usr/powerpc-linux-gnu"
add "x86_64-unknown-linux-gnu (native)" "$(build x86_64-unknown-linux-gnu)" ""

# ---------------------------------------------------------------- measure
# measure ROW: runs idle_clients.py twice; prints "key=value ..." per run.
measure() {
  local runner=${RUNNER[$1]} guest=()
  [ -n "$runner" ] && guest=(--guest "$QEMU_BASE:0x100000000")
  for run in 1 2; do
    step "measure $1, run $run"
    # shellcheck disable=SC2086 # the runner is words
    python3 tests/cross/idle_clients.py --counts 100,1000 "${guest[@]}" -- \
      $runner "${BIN[$1]}" 127.0.0.1:0
  done
}

# commas 474216: 474,216
commas() { sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta' <<<"$1"; }

# cell RUN1 RUN2: "a" if the two runs agree, "a / b" if not.
cell() { if [ "$1" = "$2" ]; then echo "$1"; else echo "$1 / $2"; fi; }

# The guest's figures (the whole RSS natively): start, per connection at
# 100 and at 1000; then the qemu process's.
figures() {
  awk -v p="$2" '{
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    s = v[p "start"]; a = v[p "at_100"]; b = v[p "at_1000"]
    printf "%d|%.1f KiB|%.1f KiB\n", s, (a - s) / 100, (b - s) / 1000
  }' <<<"$1"
}

echo
echo "| target | linking | file (stripped) | RSS at start | per idle connection, N = 100 | N = 1000 | the qemu-user process: at start, per connection (N = 1000) |"
echo "|---|---|---|---|---|---|---|"
for row in "${rows[@]}"; do
  mapfile -t runs < <(measure "$row")
  [ ${#runs[@]} -eq 2 ] || { echo "measuring $row failed" >&2; exit 1; }
  bytes=$(stat -c %s "${BIN[$row]}")
  size="$(commas "$bytes") B ($(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1024 }') KiB)"
  if [ -n "${RUNNER[$row]}" ]; then prefix=guest_kib_; else prefix=rss_kib_; fi
  IFS='|' read -r s1 a1 b1 <<<"$(figures "${runs[0]}" "$prefix")"
  IFS='|' read -r s2 a2 b2 <<<"$(figures "${runs[1]}" "$prefix")"
  s1="$(commas "$s1") KiB" s2="$(commas "$s2") KiB"
  qemu="—"
  if [ -n "${RUNNER[$row]}" ]; then
    IFS='|' read -r q1 _ r1 <<<"$(figures "${runs[0]}" rss_kib_)"
    IFS='|' read -r q2 _ r2 <<<"$(figures "${runs[1]}" rss_kib_)"
    q1="$(commas "$q1") KiB" q2="$(commas "$q2") KiB"
    qemu="$(cell "$q1" "$q2"), $(cell "$r1" "$r2")"
  fi
  case "$row" in *musl*) linking="static, musl" ;; *) linking="dynamic, glibc" ;; esac
  echo "| $row | $linking | $size | $(cell "$s1" "$s2") | $(cell "$a1" "$a2") | $(cell "$b1" "$b2") | $qemu |"
done
