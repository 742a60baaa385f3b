#!/usr/bin/env bash
# Builds the seed corpus of every fuzz target (docs/reliability.md), one
# folder per target, from valid files that nnc and its tests produce, so
# that fuzzing starts from inputs that reach deep into each reader:
#
#   nn           every examples/*.nn and every .nn under test/, split at
#                `# -----` lines (each split-input-file case is a seed)
#   safetensors  what compiled executables write: `init --save`, a
#                checkpoint of `train --save` (optimizer state, metadata),
#                `predict --out`, `grad --out`; plus one tensor per dtype
#   json         the JSON headers of those files
#   idx          small image and label files, plain and gzip
#                (test/Runtime/Inputs/mkdata.py)
#   csv          the examples' and mkdata.py's CSV files behind the four
#                bytes that choose the model (CsvFuzzer.cpp)
#   log          `train --log` files of an executable, and the plot tests'
#   onnx         the ONNX node tests' models of libonnx-testdata (< 4 KiB)
#   args         command lines of the executable's commands
#
# The regression inputs of test/Fuzz/inputs/NAME/ are seeds too.
#
#   tools/nnc-fuzz/seeds.sh OUT-DIR [NNC]   (NNC: default build/tools/nnc/nnc)
#
# Without a built nnc the safetensors, json and log seeds come from the
# tests' own files only.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=$1
nnc=${2:-build/tools/nnc/nnc}
inputs=test/Runtime/Inputs
targets=(nn safetensors json idx csv log onnx args)
rm -rf "$out"
for t in "${targets[@]}"; do mkdir -p "$out/$t"; done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# nn: one seed per split-input-file chunk.
find examples test -name '*.nn' | sort | while read -r f; do
  stem=$(echo "$f" | tr '/' '_')
  awk -v out="$out/nn/$stem" '
    BEGIN { n = 0; file = out "." n }
    /^# -----[ \t\r]*$/ { close(file); n++; file = out "." n; next }
    { print > file }
  ' "$f"
done

# safetensors and log: files written by compiled executables. xor.nn
# (plain SGD) and a small model with batchnorm, adam, a metric and a
# validation split, whose checkpoint holds buffers, optimizer state and
# every metadata key.
st="python3 $inputs/st.py"
if [[ -x $nnc ]]; then
  cat >"$tmp/bn.nn" <<EOF
model bn {
  dim B = 2
  input x : f32[B, 2]
  target t : f32[B, 1]
  param W : f32[2, 3] = glorot_uniform
  param g : f32[3] = ones
  param b : f32[3] = zeros
  param V : f32[3, 1] = uniform(-1, 1)
  h = relu(batchnorm(x @ W, g, b))
  y = sigmoid(h @ V)
  loss mse = mean((y - t)^2)
  metric err = mean(abs(y - t))
  output y
}
train bn {
  data = csv("$PWD/examples/xor.csv", inputs = [0, 1], target = [2])
  optimizer = adam(lr = 0.01)
  validation = 0.25
  epochs = 3
}
EOF
  "$nnc" examples/xor.nn -o "$tmp/xor"
  "$nnc" "$tmp/bn.nn" -o "$tmp/bn"
  $st make "$tmp/x.st" x:F32:4x2:0,1,1,0 t:F32:4x1:1,0
  $st make "$tmp/x2.st" x:F32:2x2:0,1,1,0 t:F32:2x1:1,0
  for m in xor bn; do
    "$tmp/$m" init --seed 7 --save "$out/safetensors/$m-init.st" >/dev/null
    "$tmp/$m" train --epochs 3 --save "$out/safetensors/$m-checkpoint.st" \
      --log "$out/log/$m.csv" >/dev/null
    "$tmp/$m" predict --load "$out/safetensors/$m-checkpoint.st" \
      --inputs "$tmp/x.st" --out "$out/safetensors/$m-predict.st" >/dev/null
    # grad takes exactly one batch: 4 rows for xor, 2 for bn.
    x=$tmp/x.st
    [[ $m == bn ]] && x=$tmp/x2.st
    "$tmp/$m" grad --load "$out/safetensors/$m-checkpoint.st" \
      --inputs "$x" --out "$out/safetensors/$m-grad.st" >/dev/null
  done
else
  echo "seeds: $nnc is not built; safetensors and log seeds from test/ only" >&2
fi
# One small tensor of every dtype, a scalar and an empty tensor.
for dt in F32 I32 F64 F16 I64 I16 I8 U8 U16 U32 U64 BOOL; do
  $st make "$out/safetensors/dtype-$dt.st" "v:$dt:2x2:1,0" s:$dt::1 "e:$dt:0x3:1"
done
cp $inputs/plot/*.csv "$out/log/"

# json: the header of every safetensors seed, and a few literals.
python3 - "$out/safetensors" "$out/json" <<'EOF'
import os, struct, sys
src, dst = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(src)):
    data = open(os.path.join(src, name), "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    open(os.path.join(dst, name + ".json"), "wb").write(data[8:8 + n])
literals = [b'"\\u00e9\\ud83d\\ude00\\n"', b"[-0.5e-3, 1E+2, 0, -0]",
            b'{"a": {"b": [true, false, null]}}']
for i, text in enumerate(literals):
    open(os.path.join(dst, "literal-%d.json" % i), "wb").write(text)
EOF

# idx: images and labels, plain and gzip.
mk="python3 $inputs/mkdata.py"
$mk idx "$out/idx/images" 3 4 4
$mk idx "$out/idx/images.gz" 3 4 4 --gz
$mk labels "$out/idx/labels" 5 4
$mk labels "$out/idx/labels.gz" 5 4 --gz

# csv: the four bytes of CsvFuzzer.cpp, then the file. linreg: 2 inputs,
# 1 f32 value, with a header; blobs: 4 inputs, an i32 label of 3 classes;
# xor: 2 inputs, an f32 value, explicit columns [0, 1] and [2].
$mk linreg "$tmp/linreg.csv" 6
$mk blobs "$tmp/blobs.csv" 6 4 3
{ printf '\001\002\001\000'; cat "$tmp/linreg.csv"; } >"$out/csv/linreg"
{ printf '\003\010\000\000'; cat "$tmp/blobs.csv"; } >"$out/csv/blobs"
{ printf '\001\002\002\040'; cat examples/xor.csv; } >"$out/csv/xor"
{ printf '\001\002\000\000'; cat $inputs/lin4.csv; } >"$out/csv/lin4"

# onnx: the small node tests.
testdata=/usr/share/libonnx-testdata/data/node
if [[ -d $testdata ]]; then
  find "$testdata" -name model.onnx -size -4k | while read -r f; do
    cp "$f" "$out/onnx/$(basename "$(dirname "$f")").onnx"
  done
fi

# args: the model byte (bit 0: a train block; bit 1: an input), then
# NUL-separated arguments.
args() { printf "$1" >"$out/args/$2"; }
args '\001train\000--epochs\0003\000--lr=0.1\000--seed\0007\000--save\000w.st\000--log\000l.csv' train
args '\001train\000--data\000images\000labels\000--load\000w.st' train-idx
args '\003eval\000--load\000w.st\000--data\000d.csv' eval
args '\002predict\000--load\000w.st\000--inputs\000x.st\000--out\000y.st' predict
args '\002grad\000--load\000w.st\000--inputs\000x.st\000--out\000g.st' grad
args '\000init\000--seed\0001\000--save\000w.st' init
args '\000show\000--load\000w.st\000--images\000W\000--units\0004\000-o\000w.png' show
args '\000plot\000log.csv\000-o\000log.svg' plot
args '\000train\000--help' help

# The regression inputs (test/Fuzz/inputs/NAME/), except the front end's
# slow-* ones: they hit a limit of the front end (100,000 graph nodes) that
# takes ~0.05 s in a release build but more than the 10 s per-input timeout
# under ASan and coverage instrumentation.
for t in "${targets[@]}"; do
  [[ -d test/Fuzz/inputs/$t ]] || continue
  find "test/Fuzz/inputs/$t" -type f ! -name 'slow-*' -exec cp {} "$out/$t/" \;
done
for t in "${targets[@]}"; do
  printf '%s %s  ' "$t" "$(find "$out/$t" -type f | wc -l)"
done
echo
