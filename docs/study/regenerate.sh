#!/usr/bin/env bash
# Regenerates docs/study.md: reruns every command block of the page in a
# scratch folder, rewrites the outputs pasted under the commands, and copies
# the pictures the commands draw into docs/study/ (docs/study/blocks.py says
# how blocks are marked). Deterministic given the seeds, except the timings
# of the training lines (ex/s, seconds), which --check does not compare;
# training numbers are those of this machine's kind of CPU
# (docs/examples.md).
#
#   BUILD=build bash docs/study/regenerate.sh [--quick]
#       rerun and rewrite (a few minutes: it trains; --quick: only the
#       blocks marked quick, which train nothing, in seconds)
#   BUILD=build bash docs/study/regenerate.sh --check [--quick]
#       rerun and compare with the page instead of writing it
#       (test/Docs/study.test runs --check --quick)
#
# BUILD is a build tree (default: build); NNC=PATH names the compiler
# directly instead. Needs Graphviz's `dot` and Debian's Fashion-MNIST.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
nnc=${NNC:-${BUILD:-build}/tools/nnc/nnc}
if [ ! -x "$nnc" ]; then
  echo "regenerate.sh: no compiler at $nnc (give BUILD=BUILD_TREE or NNC=PATH)" >&2
  exit 2
fi
nnc=$(cd "$(dirname "$nnc")" && pwd)/$(basename "$nnc")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NNC=$nnc REPO=$repo
if [ "${1:-}" = --check ]; then
  shift
  python3 "$repo/docs/study/blocks.py" check "$@" "$repo/docs/study.md" "$work"
else
  python3 "$repo/docs/study/blocks.py" write "$@" "$repo/docs/study.md" "$work"
fi
