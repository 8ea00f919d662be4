#!/usr/bin/env bash
# Issue 11 item 6: the Trainer's overhead over a hand-written loop and the DataLoader's share of
# the epoch (Engine.Bench/Training/, results in Engine.Bench/Training/RESULTS.md). Builds
# Engine.Bench (Release) and runs, one after another (never two at once: they would time each other):
#   micro     the hand step against the Trainer's step alternated call by call, the per-batch
#             bookkeeping alone (CPU time) and the dry run
#   overhead  whole epochs: hand, trainer, trainer_cb interleaved round by round (MLP and CNN)
#   loader    time inside the loader's MoveNext as % of the CNN Trainer epoch (Workers 0/1, ± augmentation)
# at 1 thread, then at 2 threads with fewer CNN batches.
# OMP_WAIT_POLICY=PASSIVE (default here; set OMP_WAIT_POLICY=ACTIVE to see the other case): libtorch's
# libgomp otherwise spins its idle OpenMP threads; on a loaded 2-vCPU machine a 2-thread CNN step
# then took 10-15x longer (750 ms against 55-80 ms, Engine.Bench/Training/RESULTS.md).
#
# Environment: ROUNDS (3), LIMIT1 (CNN batches per epoch at 1 thread, 100; the MLP runs the full
# 469 at both thread counts), LIMIT2 (CNN batches per epoch at 2 threads, 50), THREADS ("1 2"),
# OUT (artifacts/bench_trainer).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds="${ROUNDS:-3}"
limit1="${LIMIT1:-100}"
limit2="${LIMIT2:-50}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
out="${OUT:-$root/artifacts/bench_trainer}"
mkdir -p "$out"
[ -e data/mnist/train-images-idx3-ubyte ] || [ -e data/mnist/train-images-idx3-ubyte.gz ] || bash scripts/get-mnist.sh data/mnist >&2
dotnet build Engine.Bench/Engine.Bench.csproj -c Release -v quiet -nologo >/dev/null
bench=(dotnet "$root/Engine.Bench/bin/Release/net10.0/Engine.Bench.dll" train)
for t in ${THREADS:-1 2}; do
  if [ "$t" = 1 ]; then limit="$limit1"; else limit="$limit2"; fi
  steps=100; mlp_limit=0
  "${bench[@]}" threads="$t" parts=micro steps="$steps" | tee "$out/micro_t$t.txt"
  "${bench[@]}" threads="$t" parts=overhead models=mlp rounds="$rounds" limit="$mlp_limit" | tee "$out/overhead_mlp_t$t.txt"
  "${bench[@]}" threads="$t" parts=overhead models=cnn rounds="$rounds" limit="$limit" | tee "$out/overhead_cnn_t$t.txt"
  "${bench[@]}" threads="$t" parts=loader rounds="$rounds" limit="$limit" | tee "$out/loader_t$t.txt"
done
echo "outputs in $out" >&2
