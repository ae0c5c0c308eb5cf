#!/usr/bin/env bash
# Interop tests against Python's `websockets` (tests/interop_python.rs):
# makes a virtual environment with the pinned requirements if it is missing
# or out of date, then runs the tests, which are #[ignore]d in a plain
# `cargo test`.
#
#   tests/interop/run.sh [extra cargo test arguments, e.g. --release]
#
# WSLITE_VENV chooses the environment (default: .venv-interop at the top of
# the repository, which .gitignore skips; PYTHON: the interpreter that makes
# it, default python3, 3.11 or later). Tests named bug_* document known
# wslite bugs and are skipped; run them by name to see them fail.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

venv="${WSLITE_VENV:-$root/.venv-interop}"
requirements="$root/tests/interop/requirements.txt"
stamp="$venv/.requirements.txt"

if [ ! -x "$venv/bin/python" ]; then
  # websockets 17 needs Python 3.11 or later.
  python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "tests/interop/run.sh: $python is older than 3.11; set PYTHON to a newer one" >&2
    exit 1
  fi
  "$python" -m venv "$venv"
fi
if ! cmp -s "$requirements" "$stamp"; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi

WSLITE_PYTHON="$venv/bin/python" \
  cargo test "$@" --test interop_python -- --ignored
