#!/usr/bin/env bash
# Engine against TorchSharp's built-ins, Python PyTorch 1.13 and the memory-traffic floor (CPU):
# the optimizer step alone (Adam, AdamW, SGD-momentum on 535,818 and 10,000,000 parameters) and
# the MNIST MLP epoch, at 1 and 2 threads. Builds Engine.Bench (Release), fetches MNIST, runs the
# C# bench and scripts/bench_python.py in interleaved rounds (their order alternates each round,
# so both see the same machine load) and writes Engine.Bench/RESULTS.md.
#
#   scripts/bench.sh                               full run (~15-20 min on a loaded 2-core VM)
#   ROUNDS=1 EPOCH_ROUNDS=1 THREADS=1 scripts/bench.sh    quick look
#
# Environment: ROUNDS (3: optimizer/bandwidth rounds), EPOCH_ROUNDS (2), THREADS ("1 2"),
# PARTS ("optim epoch"), REPEATS (11), PYTHON (/usr/bin/python3), OUT (artifacts/bench),
# RESULTS (Engine.Bench/RESULTS.md), KEEP=1 (add to the JSON already in OUT instead of starting over).
set -euo pipefail
# OpenMP threads sleep between parallel regions instead of spinning: on a busy 2-core machine
# spinning made 2-thread steps 5-15x slower (Engine.Bench/Training/RESULTS.md). A user value wins.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds="${ROUNDS:-3}"
epoch_rounds="${EPOCH_ROUNDS:-2}"
threads_list="${THREADS:-1 2}"
repeats="${REPEATS:-11}"
python="${PYTHON:-/usr/bin/python3}"
out="${OUT:-$root/artifacts/bench}"
results="${RESULTS:-$root/Engine.Bench/RESULTS.md}"
parts="${PARTS:-optim epoch}"
mkdir -p "$out"
[ "${KEEP:-0}" = 1 ] || rm -f "$out"/*.json

echo "building Engine.Bench (Release)..." >&2
dotnet build Engine.Bench/Engine.Bench.csproj -c Release -v quiet -nologo >/dev/null
engine=(dotnet "$root/Engine.Bench/bin/Release/net10.0/Engine.Bench.dll")

data="$root/data/mnist"
bash scripts/get-mnist.sh "$data" >&2 || echo "warning: no MNIST (scripts/get-mnist.sh failed): epochs skipped" >&2

have_python=1
if [ -e /usr/lib/x86_64-linux-gnu/libblas.so.3 ] && ! readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 | grep -q openblas; then
  echo "warning: the system BLAS is not OpenBLAS (apt-get install -y libopenblas0-pthread): Python's GEMMs run on the reference BLAS" >&2
fi
if ! "$python" -c "import torch" 2>/dev/null; then
  echo "warning: $python has no torch (apt-get install -y python3-torch): Python columns skipped" >&2
  have_python=0
fi

run_engine() { "${engine[@]}" "$out/engine-$1-t$2-r$3.json" --threads "$2" --repeats "$repeats" --only "$4" --data "$data" >&2; }
# Debian's torch calls the system BLAS (libblas.so.3: OpenBLAS when libopenblas0 is installed,
# else the slow reference BLAS) whose own thread pool torch.set_num_threads does not govern.
run_python() { [ "$have_python" = 1 ] && OPENBLAS_NUM_THREADS="$2" "$python" scripts/bench_python.py "$out/pytorch-$1-t$2-r$3.json" --threads "$2" --repeats "$repeats" --only "$1" --data "$data"; return 0; }

round() { # kind threads r engine-parts
  if (( $3 % 2 == 1 )); then run_engine "$1" "$2" "$3" "$4"; run_python "$1" "$2" "$3"
  else run_python "$1" "$2" "$3"; run_engine "$1" "$2" "$3" "$4"; fi
}

[[ " $parts " == *" optim "* ]] || rounds=0
[[ " $parts " == *" epoch "* ]] || epoch_rounds=0
for ((r = 1; r <= rounds; r++)); do
  for t in $threads_list; do
    echo "== optimizer round $r/$rounds, $t thread(s)" >&2
    round optim "$t" "$r" bandwidth,optim
  done
done
for ((r = 1; r <= epoch_rounds; r++)); do
  for t in $threads_list; do
    echo "== epoch round $r/$epoch_rounds, $t thread(s)" >&2
    round epoch "$t" "$r" epoch
  done
done

"$python" scripts/bench_report.py "$out" > "$results"
echo "wrote $results" >&2
cat "$results"
