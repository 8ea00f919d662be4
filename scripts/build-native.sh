#!/usr/bin/env bash
# Builds (or brings up to date) Engine's native shim, Engine/Native/build/libengine_shim.so.
# TORCH_DIR=<path to a libtorch root, e.g. .../site-packages/torch> selects another libtorch;
# without it CMake finds Debian's libtorch-dev. Seconds when nothing changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/Engine/Native"
build="$src/build"
mkdir -p "$build"
args=(-S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTORCH_DIR="${TORCH_DIR:-}")
# Configure when new or when TORCH_DIR changed.
if [ ! -f "$build/CMakeCache.txt" ] || ! grep -qx "TORCH_DIR:PATH=${TORCH_DIR:-}" "$build/CMakeCache.txt"; then
  cmake "${args[@]}" >/dev/null
fi
cmake --build "$build" -j"$(nproc)" >/dev/null
echo "native shim: $build/libengine_shim.so"
