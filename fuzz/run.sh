#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 30), as many at
# a time as there are cores, with debug assertions (overflow checks) and
# AddressSanitizer.
# Prints executions, exec/s, coverage and run length per target; exits
# non-zero if any target crashed, leaked, timed out or failed to run.
#
#   bash fuzz/run.sh [SECONDS] [TARGET...]
#
# New corpus entries go to fuzz/work/<target> (not committed); the seeds in
# fuzz/corpus/<target> are read, never written. A crashing input is left in
# fuzz/artifacts/<target>/: keep the ones that show a bug in
# fuzz/regressions/<target>/, which every run replays first.
#
# On a stable toolchain RUSTC_BOOTSTRAP=1 lets rustc take the nightly flags
# cargo-fuzz passes (-Zsanitizer=address and friends). FUZZ_SANITIZER=none
# runs without ASan (faster, and for toolchains whose ASan runtime is
# missing).
set -euo pipefail
cd "$(dirname "$0")"

secs="${1:-30}"
shift || true

export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

sanitizer="${FUZZ_SANITIZER:-address}"
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi

echo "==> building ${targets[*]} (sanitizer: $sanitizer)"
if ! cargo fuzz build -a --sanitizer "$sanitizer" >build.log 2>&1; then
  if [ "$sanitizer" = address ]; then
    echo "ASan build failed; falling back to --sanitizer none:"
    tail -5 build.log
    sanitizer=none
    cargo fuzz build -a --sanitizer none
  else
    cat build.log
    exit 1
  fi
fi
rm -f build.log

# fuzz_one TARGET: replays the target's regressions, fuzzes it for $secs,
# and writes its line of the table to work/TARGET.result (a failure's
# details on the lines after it).
fuzz_one() {
  local t=$1 log="work/$1.log" start took rc=0 execs rate cov ft result
  local out="work/$1.result"
  mkdir -p "work/$t" "corpus/$t" "regressions/$t"
  : >"$out.details"
  # Known crashers first: each must now pass.
  if compgen -G "regressions/$t/*" >/dev/null; then
    if ! cargo fuzz run -a --sanitizer "$sanitizer" "$t" regressions/$t/* -- -runs=0 \
      >"work/$t.regressions.log" 2>&1; then
      echo "$t: a saved regression input still fails, see fuzz/work/$t.regressions.log" \
        >>"$out.details"
      rc=1
    fi
  fi
  start=$(date +%s)
  cargo fuzz run -a --sanitizer "$sanitizer" "$t" "work/$t" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$log" 2>&1 || rc=$?
  took=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || true)
  result=ok
  if [ "$rc" -ne 0 ]; then
    result="FAILED (exit $rc)"
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -10 >>"$out.details" || true
  fi
  printf '%-20s %8s %12s %10s %8s %8s  %s\n' "$t" "$took" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "$result" >"$out"
  cat "$out.details" >>"$out"
  rm -f "$out.details"
}

# As many targets at a time as there are cores (FUZZ_JOBS to change it):
# libFuzzer runs on one, so each target still gets all of its $secs.
jobs_max="${FUZZ_JOBS:-$(nproc)}"
mkdir -p work
for t in "${targets[@]}"; do
  rm -f "work/$t.result"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  fuzz_one "$t" &
done
wait

failed=()
printf '\n%-20s %8s %12s %10s %8s %8s  %s\n' target seconds executions exec/s cov ft result
for t in "${targets[@]}"; do
  if [ -s "work/$t.result" ]; then
    cat "work/$t.result"
    head -n1 "work/$t.result" | grep -q '  ok$' || failed+=("$t")
  else
    echo "$t: did not report (see fuzz/work/$t.log)"
    failed+=("$t")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzzing failed: ${failed[*]} (logs in fuzz/work/, inputs in fuzz/artifacts/)"
  exit 1
fi
echo "fuzzing: ${#targets[@]} targets, ${secs}s each, no crash"
