#!/usr/bin/env bash
# Issue 11 item 6: the Trainer's overhead over a hand-written loop and the DataLoader's share of
# the epoch (Engine.Bench/Training/, results in Engine.Bench/Training/RESULTS.md). Builds
# Engine.Bench (Release) and runs, one after another (never two at once: they would time each other):
#   micro     the hand step against the Trainer's step alternated call by call, the per-batch
#             bookkeeping alone (CPU time) and the dry run
#   overhead  whole epochs: hand, trainer, trainer_cb interleaved round by round (MLP and CNN)
#   loader    time inside the loader's MoveNext as % of the CNN Trainer epoch (Workers 0/1, ± augmentation)
# at 1 thread, then at 2 threads with fewer batches (2 intra-op threads on a loaded 2-vCPU machine run
# 10-15x slower per step: OpenMP barriers wait for a descheduled thread).
#
# Environment: ROUNDS (3), LIMIT1 (CNN batches per epoch at 1 thread, 100; the MLP runs the full
# 469), LIMIT2 (batches per epoch at 2 threads, 20), THREADS ("1 2"), OUT (artifacts/bench_trainer).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds="${ROUNDS:-3}"
limit1="${LIMIT1:-100}"
limit2="${LIMIT2:-20}"
out="${OUT:-$root/artifacts/bench_trainer}"
mkdir -p "$out"
[ -e data/mnist/train-images-idx3-ubyte ] || [ -e data/mnist/train-images-idx3-ubyte.gz ] || bash scripts/get-mnist.sh data/mnist >&2
dotnet build Engine.Bench/Engine.Bench.csproj -c Release -v quiet -nologo >/dev/null
bench=(dotnet "$root/Engine.Bench/bin/Release/net10.0/Engine.Bench.dll" train)
for t in ${THREADS:-1 2}; do
  if [ "$t" = 1 ]; then steps=100; mlp_limit=0; limit="$limit1"; else steps=20; mlp_limit="$limit2"; limit="$limit2"; fi
  "${bench[@]}" threads="$t" parts=micro steps="$steps" | tee "$out/micro_t$t.txt"
  "${bench[@]}" threads="$t" parts=overhead models=mlp rounds="$rounds" limit="$mlp_limit" | tee "$out/overhead_mlp_t$t.txt"
  "${bench[@]}" threads="$t" parts=overhead models=cnn rounds="$rounds" limit="$limit" | tee "$out/overhead_cnn_t$t.txt"
  "${bench[@]}" threads="$t" parts=loader rounds="$rounds" limit="$limit" | tee "$out/loader_t$t.txt"
done
echo "outputs in $out" >&2
