#!/usr/bin/env bash
# The data-parallel measurements of docs/distributed-scaling.md, under mpirun (scripts/launch.sh):
# per round, the all-reduce sweep + memory floor (2 ranks × 1 thread), then the mnist-cnn step (the
# recipe's SyncBatchNorm + DataParallel step, and the flat-buffer one, each in its own processes) as
# 2 ranks × 1 thread, 1 rank × 2 threads and 1 rank × 1 thread, in an order that rotates every
# round so load from other processes falls on every configuration alike. Logs go to $OUT (default
# artifacts/bench-distributed/); Engine.Bench/Distributed/report.py pools every repeat of every
# round into Engine.Bench/Distributed/RESULTS.md. The committed one pools the sweeps of two
# invocations (OUT=artifacts/bench-distributed, whose step logs came from an earlier layout and were
# set aside, and OUT=artifacts/bench-distributed-c) and the steps of the second:
# report.py artifacts/bench-distributed artifacts/bench-distributed-c.
#
#   bash scripts/bench_distributed.sh                  # ROUNDS=3 REPEATS=7
#   ROUNDS=1 REPEATS=3 SCALE=0.2 bash scripts/bench_distributed.sh   # quick look
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
repeats=${REPEATS:-7}
scale=${SCALE:-1}
out=${OUT:-artifacts/bench-distributed}
dll=Engine.Bench/bin/Release/net10.0/Engine.Bench.dll
[[ -f $dll && -f Recipes/bin/Release/net10.0/Recipes.dll ]] || dotnet build Engine.sln -c Release 2>&1 | grep -E " error |Elapsed"
mkdir -p "$out"
rm -f "$out"/*.log

bench() { # ranks threads cases log
    OMP_NUM_THREADS=$2 scripts/launch.sh "$1" dotnet "$dll" --only allreduce --cases "$3" --threads "$2" \
        --repeats "$repeats" --scale "$scale" 2>&1 | grep -v $'^\e\\[?1h' | tee "$out/$4"
}

# One process per configuration and step variant (the recipe's step, the flat-buffer one), so
# neither variant always runs first in its process; the order rotates every round.
configs=("2 1 step" "1 2 stepflat" "1 1 step" "2 1 stepflat" "1 2 step" "1 1 stepflat")
for ((r = 1; r <= rounds; r++)); do
    echo "== round $r of $rounds ($(date +%T), load $(cut -d' ' -f1-3 /proc/loadavg))"
    bench 2 1 floor,sweep "sweep-r$r.log"
    for ((k = 0; k < ${#configs[@]}; k++)); do
        read -r ranks threads cases <<<"${configs[$(((k + r - 1) % ${#configs[@]}))]}"
        bench "$ranks" "$threads" "$cases" "$cases-${ranks}x${threads}-r$r.log"
    done
done
/usr/bin/python3 Engine.Bench/Distributed/report.py "$out" > Engine.Bench/Distributed/RESULTS.md
echo "wrote Engine.Bench/Distributed/RESULTS.md"
