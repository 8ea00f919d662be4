#!/usr/bin/env bash
# Starts N local processes of one command as an MPI job (Engine's ProcessGroup runs over Open MPI):
#
#   scripts/launch.sh N <command...>
#   scripts/launch.sh 2 dotnet Engine.Bench/bin/Release/net10.0/Engine.Bench.dll --only allreduce
#
# mpirun flags, and why:
#   --oversubscribe        allow more ranks than mpirun counts slots (cores) for;
#   --allow-run-as-root    only when running as root (containers): Open MPI refuses root otherwise;
#   --bind-to none         Open MPI binds each rank to one core by default (--bind-to core for
#                          np <= 2), which would put all of libtorch's intra-op threads on that core;
#   -x NAME                mpirun passes only the variables it is told to: every ENGINE_* and OMP_*
#                          variable set here goes to every rank.
# Environment given to every rank unless already set:
#   OMP_NUM_THREADS  = max(1, cores / N): the ranks share the machine's cores instead of each
#                      starting one thread per core (N× oversubscription);
#   OMP_WAIT_POLICY  = PASSIVE: threads waiting at the end of a parallel region sleep instead of
#                      spinning, so a rank waiting in a collective does not burn its neighbours' cores.
# Extra mpirun options: MPIRUN_ARGS="--tag-output" scripts/launch.sh 2 ...
# In a container that denies ptrace, Open MPI's shared-memory single copy (CMA) fails; turn it off
# with MPIRUN_ARGS="--mca btl_vader_single_copy_mechanism none" (large all-reduces then run several
# times slower here: Engine.Bench/Distributed/RESULTS.md was measured with CMA on).
set -euo pipefail

usage() {
    echo "usage: scripts/launch.sh N <command...>   (N local ranks under mpirun; e.g. scripts/launch.sh 2 dotnet Engine.Bench/bin/Release/net10.0/Engine.Bench.dll --only allreduce)" >&2
    exit 2
}

[[ $# -ge 2 ]] || usage
n=$1
shift
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "scripts/launch.sh: N must be a positive integer, got '$n'" >&2; usage; }

mpirun=$(command -v mpirun || true)
if [[ -z $mpirun ]]; then
    echo "scripts/launch.sh: mpirun was not found on PATH. Engine's ProcessGroup needs Open MPI: apt-get install openmpi-bin (Debian/Ubuntu)" >&2
    exit 127
fi

cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
per_rank=$(( cores / n ))
(( per_rank >= 1 )) || per_rank=1
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$per_rank}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

args=(--oversubscribe --bind-to none -np "$n")
[[ $(id -u) -eq 0 ]] && args=(--allow-run-as-root "${args[@]}")
for name in $(compgen -e); do
    [[ $name =~ ^(ENGINE_|OMP_) ]] && args+=(-x "$name")
done
# shellcheck disable=SC2206  # MPIRUN_ARGS is a list of words on purpose
[[ -n ${MPIRUN_ARGS:-} ]] && args+=(${MPIRUN_ARGS})

exec "$mpirun" "${args[@]}" "$@"
