#!/usr/bin/env bash
# Optional: installs the Python references used by scripts/fixtures/ and scripts/bench.sh
# (Debian's python3-torch 1.13, numpy). Building and testing Engine needs only the .NET SDK.
set -euo pipefail
packages=(python3-torch python3-numpy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
