#!/usr/bin/env bash
# Makes a fresh Debian 12 machine ready to build and run Engine, then builds the native shim.
# Idempotent: when everything is present it only checks, and rebuilds nothing that is current.
#
#   scripts/bootstrap.sh            libtorch (CPU), OpenBLAS, cmake, g++; builds the shim
#   scripts/bootstrap.sh --python   also Debian's python3-torch (fixtures, side-by-side benchmarks)
#   TORCH_DIR=/path/to/torch scripts/bootstrap.sh   builds the shim against another libtorch
#                                                   (e.g. the CUDA one inside a PyTorch wheel)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# libopenblas0-pthread: without it libtorch's matrix products use the reference BLAS (14x slower).
packages=(libtorch-dev libopenblas0-pthread cmake g++)
if [ "${1:-}" = "--python" ]; then packages+=(python3-torch python3-numpy); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ -z "${TORCH_DIR:-}" ] || [ ${#missing[@]} -gt 0 ]; then
  if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "bootstrap: the .NET 10 SDK is required (dotnet not found on PATH)" >&2
  exit 1
fi

bash "$root/scripts/build-native.sh"
