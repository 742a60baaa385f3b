#!/bin/sh
# test/onnx/score.py's `nnc`, with a detour through --emit=onnx:
#   reexport.sh run MODEL.onnx -- ARGS...
# imports MODEL.onnx, exports it again to $REEXPORT_DIR/SET--CASE.onnx and
# runs that file instead (`nnc run RE.onnx -- ARGS`). $NNC is the compiler.
model="$2"
shift 3
case=$(basename "$(dirname "$model")")
set=$(basename "$(dirname "$(dirname "$model")")")
out="$REEXPORT_DIR/$set--$case.onnx"
"$NNC" "$model" --emit=onnx -o "$out" || exit 1
exec "$NNC" run "$out" -- "$@"
