#!/usr/bin/env bash
# Samples where the engine's time goes with Linux perf (apt: linux-perf), for one Engine.Bench case
# (default: adam_mnist_engine), skipping start-up. Prints the split by library (libtorch, libc malloc, the CLR,
# JIT-compiled C#, libLibTorchSharp) and the top symbols. JIT-compiled methods get names through the
# runtime's perf map (DOTNET_PerfMapEnabled=1).
#
#   scripts/bench_perf.sh [case] [scale]        e.g. scripts/bench_perf.sh epoch_engine 1
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case_name="${1:-adam_mnist_engine}"
scale="${2:-5}"
data="${TMPDIR:-/tmp}/engine-bench-perf-$$.data"
trap 'rm -f "$data"' EXIT
command -v perf >/dev/null || { echo "perf not found (apt-get install linux-perf)" >&2; exit 1; }
dotnet build "$root/Engine.Bench/Engine.Bench.csproj" -c Release -v quiet -nologo >/dev/null
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 \
  perf record -q -D 5000 -F 2000 -o "$data" -- \
  dotnet "$root/Engine.Bench/bin/Release/net10.0/Engine.Bench.dll" --only optim,epoch --cases "$case_name" --scale "$scale" >/dev/null
echo "== $case_name: samples by library"
perf report -i "$data" --no-children --sort dso --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -14
echo "== top symbols"
perf report -i "$data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | cut -c1-150 | head -30
