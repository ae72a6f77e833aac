#!/usr/bin/env bash
# make interop: third-party clients against the built binary, on loopback.
#   interop/run.sh ./bin/dialtone [test ...]
# Starts one dialtone on free ports, runs every interop/*.test.sh (or the ones named),
# prints "N passed, M failed" and exits non-zero on any failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export DIALTONE_BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); shift
# shellcheck source=lib.sh
source "$here/lib.sh"

start_dialtone
trap stop_dialtone EXIT

tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=("$here"/*.test.sh)
passed=0; failed=0
for t in "${tests[@]}"; do
  name=$(basename "$t" .test.sh)
  echo "=== interop $name"
  if ( set -e; source "$t" ) >"$WORK/$name.log" 2>&1; then
    echo "--- PASS $name"; passed=$((passed + 1))
  else
    echo "--- FAIL $name"; sed 's/^/    /' "$WORK/$name.log" | tail -40; failed=$((failed + 1))
  fi
done
echo "interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
