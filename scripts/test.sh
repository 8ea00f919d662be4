#!/usr/bin/env bash
# Runs every test (the README's test command) and ends with "N passed, N failed, N skipped".
# ENGINE_DEVICE=cuda runs them with CUDA as the default device.
set -uo pipefail
# OpenMP threads sleep between parallel regions instead of spinning: on a busy 2-core machine
# spinning made 2-thread steps 5-15x slower (Engine.Bench/Training/RESULTS.md). A user value wins.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
results="$root/TestResults"
rm -rf "$results"
dotnet test Engine.sln -c Release --logger "trx;LogFileName=results.trx" --results-directory "$results" "$@"
rc=$?
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$(get total); p=$(get passed); f=$(get failed); e=$(get error); t=$(get timeout); a=$(get aborted)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0} + ${t:-0} + ${a:-0}))
  skipped=$((skipped + ${total:-0} - ${p:-0} - ${f:-0} - ${e:-0} - ${t:-0} - ${a:-0}))
done
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi  # the build or the host failed
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc
