#!/usr/bin/env bash
# Fetches scikit-learn's bundled small data sets (iris, wine, breast cancer, digits, diabetes) into
# ${ENGINE_DATA:-data}/sklearn/ from Debian's package python3-sklearn (1.2.1+dfsg-1, bookworm):
# `apt-get download` (no root needed) and `dpkg-deb -x` into a temporary folder, copying
# usr/lib/python3/dist-packages/sklearn/datasets/data/*.csv(.gz), then checks their sha256 sums.
# Usage: scripts/get-sklearn-data.sh [dest]. Idempotent: does nothing when the files are there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-${ENGINE_DATA:-$root/data}/sklearn}"
mkdir -p "$dest"
sums="f13ffa8fdd56fd8e6c8d16d4081a3fbd3114bcd0aae4256c43205169cd9d1449  iris.csv
10e8a802908b34f86e5da8ce962f3c806694bc98450a18f61851af59f324bede  wine_data.csv
fed3eb72d0575ef6192293f5093c6e801b1476b577d0386bf4455504522172ed  breast_cancer.csv
46abec6b12486ad9e51943373abcf22bbea1b5a51a1619b361570d8893f1464a  digits.csv.gz
fc08fc59c1cbfe65550d9ebb36321d505de9e8f004bf92c1566d2908962f08ff  diabetes_data_raw.csv.gz
bf1ddd1f9d377278450a5f02c24b5e77b1501f2ad673fe9fdf4c4090d27eb5cc  diabetes_target.csv.gz"
if (cd "$dest" && echo "$sums" | sha256sum -c --quiet >/dev/null 2>&1); then exit 0; fi
for tool in apt-get dpkg-deb; do command -v $tool >/dev/null || { echo "get-sklearn-data: $tool is needed (Debian/Ubuntu)" >&2; exit 1; }; done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q python3-sklearn >/dev/null 2>&1) \
  || { echo "get-sklearn-data: apt-get download python3-sklearn failed (run apt-get update?)" >&2; exit 1; }
dpkg-deb -x "$tmp"/python3-sklearn_*.deb "$tmp/x"
src="$tmp/x/usr/lib/python3/dist-packages/sklearn/datasets/data"
echo "$sums" | while read -r _ name; do cp "$src/$name" "$dest/"; done
(cd "$dest" && echo "$sums" | sha256sum -c --quiet) || { echo "get-sklearn-data: checksum mismatch (another python3-sklearn version? this script expects 1.2.1)" >&2; exit 1; }
echo "scikit-learn data sets in $dest"
