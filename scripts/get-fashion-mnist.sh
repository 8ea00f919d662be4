#!/usr/bin/env bash
# Fetches Fashion-MNIST (60k train / 10k test, gzipped IDX) into ${ENGINE_DATA:-data}/fashion-mnist/
# from Debian's package dataset-fashion-mnist (0.0~git20200523.55506a9-1): `apt-get download`
# (no root needed) and `dpkg-deb -x` into a temporary folder, then checks the files' sha256 sums.
# Debian recompressed the .gz files, so their sums differ from Zalando's published md5s; the sums
# below are of Debian's files (the decompressed data's md5s are checked too).
# Usage: scripts/get-fashion-mnist.sh [dest]. Idempotent: does nothing when the files are there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-${ENGINE_DATA:-$root/data}/fashion-mnist}"
mkdir -p "$dest"
sums="b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7  train-images-idx3-ubyte.gz
0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056  train-labels-idx1-ubyte.gz
cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa  t10k-images-idx3-ubyte.gz
8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05  t10k-labels-idx1-ubyte.gz"
raw="f4a8712d7a061bf5bd6d2ca38dc4d50a  train-images-idx3-ubyte.gz
9018921c3c673c538a1fc5bad174d6f9  train-labels-idx1-ubyte.gz
8181f5470baa50b63fa0f6fddb340f0a  t10k-images-idx3-ubyte.gz
15d484375f8d13e6eb1aabb0c3f46965  t10k-labels-idx1-ubyte.gz"
check_raw() { echo "$raw" | while read -r sum name; do
    [ "$(gzip -dc "$dest/$name" | md5sum | cut -d' ' -f1)" = "$sum" ] || { echo "get-fashion-mnist: $dest/$name: decompressed data md5 mismatch" >&2; exit 1; }
  done; }
if (cd "$dest" && echo "$sums" | sha256sum -c --quiet >/dev/null 2>&1); then exit 0; fi
for tool in apt-get dpkg-deb; do command -v $tool >/dev/null || { echo "get-fashion-mnist: $tool is needed (Debian/Ubuntu)" >&2; exit 1; }; done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q dataset-fashion-mnist >/dev/null 2>&1) \
  || { echo "get-fashion-mnist: apt-get download dataset-fashion-mnist failed (run apt-get update? Debian 11+ main has it)" >&2; exit 1; }
dpkg-deb -x "$tmp"/dataset-fashion-mnist_*.deb "$tmp/x"
cp "$tmp"/x/usr/share/datasets/fashion-mnist/*-ubyte.gz "$dest"/
(cd "$dest" && echo "$sums" | sha256sum -c --quiet)
check_raw
echo "Fashion-MNIST in $dest"
