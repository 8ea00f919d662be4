#!/usr/bin/env bash
# Engine against Python PyTorch on the same libtorch and machine (CPU), as ratios.
#
# Builds Engine.Bench (Release) and the libtorch C++ floor, then runs the engine, Python PyTorch
# (Debian's /usr/bin/python3 with python3-torch, the same libtorch 1.13) and the C++ floor in
# interleaved rounds (engine, PyTorch, C++, engine, PyTorch, C++, ...) so every runtime sees the
# same machine load, and prints one table of medians and ratios engine/PyTorch.
#
#   scripts/bench.sh                     3 rounds, full iteration counts (~3 min on 2 cores)
#   ROUNDS=1 SCALE=0.2 scripts/bench.sh  quick look
#
# Environment: ROUNDS (3), SCALE (1.0: multiplies every case's N), THREADS (default: the engine's
# own intra-op thread count, passed to PyTorch and C++ so all use the same), NATIVE=0 (skip the
# C++ floor), PYTHON (/usr/bin/python3), OUT (artifacts/bench). JSON per run and summary.json
# land in OUT.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds="${ROUNDS:-3}"
scale="${SCALE:-1.0}"
native="${NATIVE:-1}"
python="${PYTHON:-/usr/bin/python3}"
out="${OUT:-$root/artifacts/bench}"
mkdir -p "$out"
rm -f "$out"/engine-*.json "$out"/pytorch-*.json "$out"/cpp-*.json "$out"/summary.json

bash scripts/build-native.sh >/dev/null
echo "building Engine.Bench (Release)..." >&2
dotnet build Engine.Bench/Engine.Bench.csproj -c Release -v quiet -nologo >/dev/null
engine=(dotnet "$root/Engine.Bench/bin/Release/net10.0/Engine.Bench.dll")
export ENGINE_BENCH_PROTO="$root/Engine.Bench/native/build/libbench_proto.so"

floor="$root/Engine.Bench/native/build/bench_floor"
if [ "$native" = 1 ]; then
  echo "building the libtorch C++ floor..." >&2
  if ! { cmake -S Engine.Bench/native -B Engine.Bench/native/build -DCMAKE_BUILD_TYPE=Release -DTORCH_DIR="${TORCH_DIR:-}" >/dev/null &&
         cmake --build Engine.Bench/native/build >/dev/null; }; then
    echo "warning: the C++ floor did not build; continuing without it" >&2
    native=0
  fi
fi

threads="${THREADS:-}"
common=(--scale "$scale")
for ((r = 1; r <= rounds; r++)); do
  echo "== round $r/$rounds: engine" >&2
  if [ -z "$threads" ]; then
    "${engine[@]}" "$out/engine-$r.json" "${common[@]}" >&2
    threads=$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["threads"])' "$out/engine-$r.json")
  else
    "${engine[@]}" "$out/engine-$r.json" --threads "$threads" "${common[@]}" >&2
  fi
  echo "== round $r/$rounds: pytorch" >&2
  "$python" scripts/bench_python.py "$out/pytorch-$r.json" --threads "$threads" "${common[@]}"
  if [ "$native" = 1 ]; then
    echo "== round $r/$rounds: libtorch C++" >&2
    "$floor" "$out/cpp-$r.json" --threads "$threads" "${common[@]}"
  fi
done

echo >&2
"$python" scripts/bench_report.py "$out" | tee "$out/report.txt"
