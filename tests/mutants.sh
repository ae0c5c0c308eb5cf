#!/usr/bin/env bash
# Mutation testing of the protocol core: do the core's fast tests notice when
# one of its rules is broken?
#
# cargo-mutants changes the code one small way at a time (`<` becomes `<=`, a
# condition becomes `true`, a function returns a constant, a match arm goes)
# and runs the tests against each change. A change the tests still pass is a
# *missed* mutant: a rule that could break without anyone noticing.
#
# What is mutated is the core's files, listed below (frame, utf8, close,
# base64, sha1, error, protocol, handshake). Which tests run is in
# .cargo/mutants.toml: the core's fast tests (the unit tests,
# protocol_rules, properties, handshake). Mutants that no test can catch,
# because the mutated code behaves the same, are excluded there, each with
# the reason.
#
# Usage:
#   bash tests/mutants.sh                    every core file (~40 min at -j 2)
#   bash tests/mutants.sh src/frame.rs ...   only these files
#   bash tests/mutants.sh --in-diff main     only the lines changed since `main`
#
# Whoever changes a core file runs it on that file (or with --in-diff) before
# committing. It fails if any mutant is missed, and prints the score:
# caught / (caught + missed). Timeouts (a mutant that makes a test loop
# forever) are failures the tests did notice; they are listed, not counted.
# MUTANTS_JOBS sets how many mutants build and run at once (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

version=27.1.0
if ! cargo mutants --version 2>/dev/null | grep -q "$version"; then
    echo "==> installing cargo-mutants $version"
    cargo install cargo-mutants --locked --version "$version"
fi

# The protocol core: the files that parse, check and encode what crosses
# the wire. The blocking layer and DEFLATE have tests of their own.
core=(
    src/frame.rs src/utf8.rs src/close.rs src/base64.rs src/sha1.rs src/error.rs
    'src/protocol/*.rs'
    src/handshake/head.rs src/handshake/request.rs src/handshake/response.rs
    src/handshake/accept.rs
)

args=(--jobs "${MUTANTS_JOBS:-2}" --output target/mutants)
files=()
while [ $# -gt 0 ]; do
    case "$1" in
        --in-diff)
            base="${2:?--in-diff needs a git revision}"
            mkdir -p target/mutants
            git diff "$base" -- src > target/mutants/diff.patch
            args+=(--in-diff target/mutants/diff.patch)
            shift 2
            ;;
        -*)
            echo "unknown option $1" >&2
            exit 1
            ;;
        *)
            files+=("$1")
            shift
            ;;
    esac
done
if [ ${#files[@]} -eq 0 ]; then
    files=("${core[@]}")
fi
for file in "${files[@]}"; do
    args+=(--file "$file")
done

# cargo-mutants creates its output directory but not the parent (a fresh
# clone has no target/ yet), and a stale result must not be read as this one.
mkdir -p target/mutants
rm -rf target/mutants/mutants.out
status=0
cargo mutants "${args[@]}" || status=$?

out=target/mutants/mutants.out
count() { if [ -f "$out/$1.txt" ]; then grep -c . "$out/$1.txt" || true; else echo 0; fi; }
caught=$(count caught)
missed=$(count missed)
timeouts=$(count timeout)
unviable=$(count unviable)
echo
echo "caught $caught, missed $missed, timeouts $timeouts, unviable $unviable"
if [ $((caught + missed)) -gt 0 ]; then
    awk -v c="$caught" -v m="$missed" \
        'BEGIN { printf "score: %.1f %% of the mutants the tests can catch\n", 100 * c / (c + m) }'
fi
if [ "$timeouts" -gt 0 ]; then
    echo "timeouts (the tests hung on these, so they noticed):"
    sed 's/^/  /' "$out/timeout.txt"
fi
if [ "$missed" -gt 0 ]; then
    echo "missed: each is a rule no test checks on its own"
    sed 's/^/  /' "$out/missed.txt"
    exit 2
fi
# 0: everything caught; 3: only timeouts, which count as caught above.
case "$status" in
    0 | 3) exit 0 ;;
    *) echo "cargo mutants failed (exit $status)" >&2; exit "$status" ;;
esac
