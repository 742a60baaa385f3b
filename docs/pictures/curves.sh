#!/usr/bin/env bash
# Regenerates docs/pictures/curves.svg, the example picture of `EXE plot` in
# docs/runtime.md: examples/mlp.nn trained on Fashion-MNIST with a
# validation split and a cosine schedule added to its train block (so that
# every kind of curve shows), its --log drawn by `plot`.
#   bash docs/pictures/curves.sh [NNC]     (default: build/tools/nnc/nnc)
set -euo pipefail
cd "$(dirname "$0")/../.."
nnc=${1:-build/tools/nnc/nnc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -e 's/^  epochs    = 5$/  epochs    = 8\n  validation = 0.1\n  schedule  = cosine(warmup = 1)/' \
  examples/mlp.nn > "$tmp/mlp.nn"
grep -q 'validation = 0.1' "$tmp/mlp.nn"
"$nnc" "$tmp/mlp.nn" -o "$tmp/mlp"
"$tmp/mlp" train --log "$tmp/mlp.csv"
cp "$tmp/mlp.csv" docs/pictures/curves.csv
# The title names the log, so plot it under the name the docs use.
"$tmp/mlp" plot docs/pictures/curves.csv -o docs/pictures/curves.svg
