#!/usr/bin/env bash
# wslite on microcontrollers, under QEMU: the on-target tests on three targets
# and the size/stack budget of a minimal server endpoint; then the
# permessage-deflate tests (512-byte window) on the three targets and the
# flash/RAM table of endpoints that inflate, or inflate and deflate, at
# window bits 9, 12 and 15.
#
#   tests/embedded/run.sh            install what is missing, test, measure
#   tests/embedded/run.sh --sweep    also measure what each buffer size costs
#   tests/embedded/run.sh --no-budget  report the budget but do not fail on it
#
# Needs Rust stable (rustup) and apt. Installs, idempotently: the three rustup
# targets, the llvm-tools component (llvm-size), and QEMU 10 from
# bookworm-backports (bookworm's own 7.2 would remove the machine's
# qemu-utils 10). Fails if any test fails on any target, if a size binary
# sends wrong bytes, or if the thumbv7em budget is exceeded. (The
# compression endpoints have no budget: they are measured and printed.)
set -euo pipefail
cd "$(dirname "$0")"

# The budget on thumbv7em-none-eabihf, over the baseline binary.
BUDGET_FLASH=8192
BUDGET_RAM=0
BUDGET_STACK=1536

TARGETS=(thumbv6m-none-eabi thumbv7em-none-eabihf riscv32imc-unknown-none-elf)
SWEEP=0
ENFORCE=1
for arg in "$@"; do
  case "$arg" in
    --sweep) SWEEP=1 ;;
    --no-budget) ENFORCE=0 ;;
    *) echo "usage: $0 [--sweep] [--no-budget]" >&2; exit 2 ;;
  esac
done

step() { printf '\n==> %s\n' "$*"; }
start=$(date +%s)
# install_from_backports
. ../common/backports.sh

# ---------------------------------------------------------------- installs
step "toolchain: targets and llvm-tools"
installed=$(rustup target list --installed)
for t in "${TARGETS[@]}"; do
  grep -qx "$t" <<<"$installed" || rustup target add "$t"
done
rustup component list --installed | grep -q '^llvm-tools' || rustup component add llvm-tools
LLVM_BIN="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin"
LLVM_SIZE="$LLVM_BIN/llvm-size"
[ -x "$LLVM_SIZE" ] || { echo "llvm-size not found at $LLVM_SIZE" >&2; exit 1; }

step "QEMU"
if ! command -v qemu-system-arm >/dev/null || ! command -v qemu-system-riscv32 >/dev/null; then
  # Outside Debian bookworm the RISC-V emulator may be in qemu-system-misc.
  install_from_backports qemu-system-arm qemu-system-riscv ||
    install_from_backports qemu-system-arm qemu-system-misc
fi
qemu-system-arm --version | head -n1
installs_done=$(date +%s)

# ---------------------------------------------------------------- helpers
# qemu TARGET ELF: runs ELF on the board for TARGET, semihosting output on
# stdout; returns QEMU's exit status (0 only after SYS_EXIT with success).
qemu() {
  local machine
  case "$1" in
    thumbv6m-none-eabi) machine=(qemu-system-arm -M microbit) ;;
    thumbv7em-none-eabihf) machine=(qemu-system-arm -M mps2-an386) ;;
    riscv32imc-unknown-none-elf) machine=(qemu-system-riscv32 -M virt -bios none) ;;
  esac
  timeout 120 "${machine[@]}" -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$2" 2>&1
}

# sections ELF: prints "flash ram" (flash = vector table + text + rodata +
# data, the bytes stored in flash; ram = data + bss, static RAM).
sections() {
  "$LLVM_SIZE" -A "$1" | awk '
    $1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" { flash += $2 }
    $1 == ".data" { flash += $2; ram += $2 }
    $1 == ".bss" { ram += $2 }
    END { print flash + 0, ram + 0 }'
}

hex() { od -An -v -tx1 | tr -d ' \n'; }

# What the size server must send: the 101 of RFC 6455 §1.3 (no subprotocol
# chosen), the echoed "Hello" as an unmasked text frame, and Close 1000.
EXPECTED_OUT="$(printf 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n' | hex)810548656c6c6f880203e8"

status=0

# ---------------------------------------------------------------- tests
step "on-target tests"
for t in "${TARGETS[@]}"; do
  cargo build -q --release --target "$t" --bins
done
for t in "${TARGETS[@]}"; do
  elf="target/$t/release/tests"
  set +e
  out=$(qemu "$t" "$elf")
  rc=$?
  set -e
  summary=$(grep -E 'passed, [0-9]+ failed' <<<"$out" || echo "no summary")
  peak=$(sed -n 's/^stack: peak \([0-9]*\) bytes.*/\1/p' <<<"$out")
  printf '%-30s %s, stack peak %s B, exit %s\n' "$t" "$summary" "${peak:-?}" "$rc"
  if [ "$rc" -ne 0 ] || ! grep -q ' 0 failed' <<<"$summary"; then
    grep -E '^(FAIL|    check failed|PANIC|FAULT)' <<<"$out" || true
    echo "FAILED: on-target tests on $t" >&2
    status=1
  fi
done

# ---------------------------------------------------------------- size
# measure TARGET DIR: prints "flash_delta ram_delta stack_peak base_flash
# base_ram base_stack" for the size binaries in DIR, after checking the
# bytes the server sent.
measure() {
  local t=$1 dir=$2 out rc
  read -r sf sr < <(sections "$dir/size_server")
  read -r bf br < <(sections "$dir/size_baseline")
  set +e
  out=$(qemu "$t" "$dir/size_server"); rc=$?
  set -e
  local sent peak
  sent=$(sed -n 's/^out //p' <<<"$out")
  peak=$(sed -n 's/^stack: peak \([0-9]*\) bytes.*/\1/p' <<<"$out")
  if [ "$rc" -ne 0 ] || [ "$sent" != "$EXPECTED_OUT" ]; then
    echo "FAILED: size_server on $t (exit $rc) sent: $sent" >&2
    return 1
  fi
  set +e
  out=$(qemu "$t" "$dir/size_baseline"); rc=$?
  set -e
  local bpeak
  bpeak=$(sed -n 's/^stack: peak \([0-9]*\) bytes.*/\1/p' <<<"$out")
  [ "$rc" -eq 0 ] || { echo "FAILED: size_baseline on $t" >&2; return 1; }
  echo "$((sf - bf)) $((sr - br)) $peak $bf $br $bpeak"
}

step "size budget: minimal server endpoint over an empty baseline (opt-level z, fat LTO)"
printf '%-30s %12s %10s %11s   %s\n' target "flash delta" "static RAM" "stack peak" "baseline (flash / RAM / stack)"
for t in "${TARGETS[@]}"; do
  if ! m=$(measure "$t" "target/$t/release"); then status=1; continue; fi
  read -r fd rd sp bf br bs <<<"$m"
  printf '%-30s %10s B %8s B %9s B   %s B / %s B / %s B\n' "$t" "+$fd" "+$rd" "$sp" "$bf" "$br" "$bs"
  if [ "$t" = thumbv7em-none-eabihf ]; then
    verdict=ok
    if [ "$fd" -gt "$BUDGET_FLASH" ] || [ "$rd" -gt "$BUDGET_RAM" ] || [ "$sp" -gt "$BUDGET_STACK" ]; then
      verdict=EXCEEDED
    fi
    budget_line="budget on $t: flash +$fd / $BUDGET_FLASH B, static RAM +$rd / $BUDGET_RAM B, stack $sp / $BUDGET_STACK B: $verdict"
  fi
done
echo "(server: one $(sed -n 's/.*WSLITE_BUF", \([0-9]*\).*/\1/p' build.rs)-byte I/O buffer and $(sed -n 's/.*WSLITE_HEADERS", \([0-9]*\).*/\1/p' build.rs) header slots on its stack; the stack peak is the whole program's)"
echo "${budget_line:-budget: thumbv7em not measured}"
if [ "${verdict:-EXCEEDED}" != ok ] && [ "$ENFORCE" -eq 1 ]; then
  status=1
fi

# ---------------------------------------------------------------- deflate
# The binaries with `--features deflate`, in a target directory of their
# own. RAM: the microbit's real 16 KiB on thumbv6m; 512 KiB on the other two
# boards (they have megabytes), which the 15-bit deflater's 208 KiB of
# storage needs. The budget binaries are rebuilt here with the same memory
# map, without the feature, as the reference the table subtracts.
DEFLATE_DIR=target/deflate
ram_kib() { [ "$1" = thumbv6m-none-eabi ] && echo 16 || echo 512; }
SIZE_BINS=(size_inflate_w9 size_inflate_w12 size_inflate_w15 size_codec_w9 size_codec_w12 size_codec_w15)

step "on-target permessage-deflate tests (512-byte window)"
for t in "${TARGETS[@]}"; do
  WSLITE_RAM_KIB=$(ram_kib "$t") CARGO_TARGET_DIR=$DEFLATE_DIR \
    cargo build -q --release --target "$t" --features deflate --bin inflate
done
for t in "${TARGETS[@]}"; do
  set +e
  out=$(qemu "$t" "$DEFLATE_DIR/$t/release/inflate")
  rc=$?
  set -e
  summary=$(grep -E 'passed, [0-9]+ failed' <<<"$out" || echo "no summary")
  peak=$(sed -n 's/^stack: peak \([0-9]*\) bytes.*/\1/p' <<<"$out")
  printf '%-30s %s, stack peak %s B (of %s KiB RAM), exit %s\n' "$t" "$summary" "${peak:-?}" "$(ram_kib "$t")" "$rc"
  if [ "$rc" -ne 0 ] || ! grep -q ' 0 failed' <<<"$summary"; then
    grep -E '^(FAIL|    check failed|PANIC|FAULT)' <<<"$out" || true
    echo "FAILED: permessage-deflate tests on $t" >&2
    status=1
  fi
  if [ "$t" = thumbv7em-none-eabihf ]; then
    # Per test, with each test's own stack peak; and the state sizes.
    sed -n 's/^\(ok\|FAIL\) *\(.*\)/    \1 \2/p' <<<"$out"
    state_bytes=$(sed -n 's/^  size_of inflate::STATE_BYTES = //p' <<<"$out")
    engine_bytes=$(sed -n 's/^  size_of deflate engine = //p' <<<"$out")
  fi
done

step "permessage-deflate endpoints on thumbv7em-none-eabihf, over the minimal server endpoint"
t=thumbv7em-none-eabihf
WSLITE_RAM_KIB=$(ram_kib "$t") CARGO_TARGET_DIR=$DEFLATE_DIR \
  cargo build -q --release --target "$t" --bin size_server --bin size_baseline
bins=()
for b in "${SIZE_BINS[@]}"; do bins+=(--bin "$b"); done
WSLITE_RAM_KIB=$(ram_kib "$t") CARGO_TARGET_DIR=$DEFLATE_DIR \
  cargo build -q --release --target "$t" --features deflate "${bins[@]}"
dir="$DEFLATE_DIR/$t/release"
read -r server_flash server_ram < <(sections "$dir/size_server")
# What each endpoint must send: the 101 with the agreed parameters, the
# echo (as it is, or RFC 7692 §7.2.3.1's bytes: our deflater makes the same
# fixed-code block), and Close 1000.
accept_101() {
  printf 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: %s\r\n\r\n' "$1" | hex
}
printf '%-10s %4s %12s %11s %11s   %s\n' endpoint bits "flash delta" "static RAM" "stack peak" "state: window + inflater [+ deflater storage + engine]"
for b in "${SIZE_BINS[@]}"; do
  bits=${b##*_w}
  mode=${b#size_}; mode=${mode%_w*}
  if [ "$bits" -lt 15 ]; then
    ext="permessage-deflate; server_max_window_bits=$bits; client_max_window_bits=$bits"
  else
    ext="permessage-deflate"  # 15 is the default: not named (RFC 7692 §7.1.2)
  fi
  if [ "$mode" = inflate ]; then echo_hex=810548656c6c6f; else echo_hex=c107f248cdc9c90700; fi
  expected="$(accept_101 "$ext")${echo_hex}880203e8"
  set +e
  out=$(qemu "$t" "$dir/$b"); rc=$?
  set -e
  sent=$(sed -n 's/^out //p' <<<"$out")
  peak=$(sed -n 's/^stack: peak \([0-9]*\) bytes.*/\1/p' <<<"$out")
  if [ "$rc" -ne 0 ] || [ "$sent" != "$expected" ]; then
    echo "FAILED: $b on $t (exit $rc) sent: $sent" >&2
    status=1
    continue
  fi
  read -r f r < <(sections "$dir/$b")
  window=$((1 << bits))
  state="$window + ${state_bytes:-?}"
  if [ "$mode" = codec ]; then
    # The deflater's storage (src/size_pmd.rs): 6.5 bytes per window byte.
    state="$state + $((window * 13 / 2)) + ${engine_bytes:-?}"
  fi
  printf '%-10s %4s %10s B %9s B %9s B   %s B\n' "$mode" "$bits" "+$((f - server_flash))" "+$((r - server_ram))" "$peak" "$state"
done
echo "(flash delta includes the longer request and frame inputs, +72 B; window and deflater storage are"
echo " static, the inflater's and deflater's own state are on the stack; the minimal server's stack peak is"
echo " in the budget above)"

# ---------------------------------------------------------------- sweep
if [ "$SWEEP" -eq 1 ]; then
  step "what the buffers cost (thumbv7em-none-eabihf; WSLITE_BUF bytes, WSLITE_HEADERS slots)"
  printf '%8s %8s %12s %11s\n' BUF HEADERS "flash delta" "stack peak"
  t=thumbv7em-none-eabihf
  for cfg in "256 8" "512 8" "512 16" "1024 16" "1024 32" "2048 32"; do
    read -r buf headers <<<"$cfg"
    WSLITE_BUF=$buf WSLITE_HEADERS=$headers CARGO_TARGET_DIR=target/sweep \
      cargo build -q --release --target "$t" --bin size_server --bin size_baseline
    if m=$(measure "$t" "target/sweep/$t/release"); then
      read -r fd rd sp _ <<<"$m"
      printf '%8s %8s %10s B %9s B\n' "$buf" "$headers" "+$fd" "$sp"
    else
      status=1
    fi
  done
fi

end=$(date +%s)
echo
echo "time: $((end - start)) s in all, $((end - installs_done)) s after installs"
if [ "$status" -ne 0 ]; then
  echo "embedded checks FAILED"
else
  echo "embedded checks passed"
fi
exit "$status"
