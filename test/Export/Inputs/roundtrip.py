#!/usr/bin/env python3
"""roundtrip.py - a .nn model through ONNX and back, predictions compared.

    roundtrip.py NNC MODEL.nn WORKDIR [--seed S] [--tol T] [--model NAME]

1. compile MODEL.nn (EXE) and draw its weights (`EXE init --seed S`), then
   move every tensor off its initial value (biases off zero, running
   statistics off 0 and 1) so that every weight matters, deterministically;
2. `nnc MODEL.nn --emit=onnx --load W -o M.onnx`; check M.onnx with
   onnx.checker (full_check: types and shapes inferred and compared with
   every declared value) and print its interface;
3. make inputs for the ONNX graph's inputs (one batch of the model's B
   rows, values from a fixed pattern);
4. `EXE predict --load W` and `nnc M.onnx -o EXE2; EXE2 predict` on them;
5. print every output's largest absolute difference ("bit-identical" when
   the files hold the same bits) and fail when one exceeds --tol (default
   0: bit for bit).

Runs with Debian's python3-onnx (and its NumPy).
"""
import argparse
import json
import os
import struct
import subprocess
import sys

import numpy as np
import onnx

DTYPES = {"F32": np.float32, "I32": np.int32, "I64": np.int64,
          "F64": np.float64, "BOOL": np.bool_, "U8": np.uint8,
          "I8": np.int8, "I16": np.int16, "U16": np.uint16,
          "U32": np.uint32, "U64": np.uint64, "F16": np.float16}
ONNX_TO_ST = {onnx.TensorProto.FLOAT: "F32", onnx.TensorProto.INT32: "I32",
              onnx.TensorProto.INT64: "I64", onnx.TensorProto.BOOL: "BOOL",
              onnx.TensorProto.DOUBLE: "F64"}


def read_st(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        arr = np.frombuffer(data[8 + n + a:8 + n + b], dtype=DTYPES[e["dtype"]])
        out[name] = (e["dtype"], arr.reshape(e["shape"]))
    return out


def write_st(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, (dtype, arr) in tensors.items():
        raw = np.ascontiguousarray(arr, dtype=DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def run(*cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if r.returncode != 0:
        sys.exit("roundtrip: `%s` failed (%d):\n%s%s" %
                 (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r.stdout


def pattern(shape, salt):
    """Values in [-1, 1] that differ from element to element."""
    n = int(np.prod(shape, dtype=np.int64))
    i = np.arange(n, dtype=np.float64)
    return np.sin(0.7 * i + 1.3 * salt + 0.1).reshape(shape)


def perturb(weights):
    out = {}
    for k, (name, (dtype, arr)) in enumerate(sorted(weights.items())):
        if name.startswith("nnc/"):  # checkpoint state, not weights
            continue
        p = pattern(arr.shape, k)
        if name.endswith("running_var"):
            new = 0.5 + np.abs(p)  # positive
        else:
            new = arr.astype(np.float64) + 0.1 * p
        out[name] = (dtype, new.astype(DTYPES[dtype]))
    return out


def type_text(t):
    tt = t.type.tensor_type
    dims = ", ".join(str(d.dim_value) for d in tt.shape.dim)
    return "%s %s[%s]" % (t.name, onnx.TensorProto.DataType.Name(tt.elem_type),
                          dims)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("nnc")
    ap.add_argument("model")
    ap.add_argument("work")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--tol", type=float, default=0.0)
    ap.add_argument("--model-name", default=None)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    w = lambda name: os.path.join(args.work, name)
    pick = ["--model", args.model_name] if args.model_name else []

    # Step 1.
    run(args.nnc, args.model, *pick, "-o", w("exe"))
    run(w("exe"), "init", "--seed", args.seed, "--save", w("init.st"))
    write_st(w("w.st"), perturb(read_st(w("init.st"))))

    # Step 2.
    run(args.nnc, args.model, *pick, "--emit=onnx", "--load", w("w.st"),
        "-o", w("m.onnx"))
    m = onnx.load(w("m.onnx"))
    onnx.checker.check_model(m, full_check=True)
    g = m.graph
    print("checker: ok (full_check), opset %d, IR version %d" %
          (m.opset_import[0].version, m.ir_version))
    print("inputs: " + "; ".join(type_text(t) for t in g.input))
    print("outputs: " + "; ".join(type_text(t) for t in g.output))
    print("initializers: %d" % len(g.initializer))

    # Step 3.
    inputs = {}
    for k, t in enumerate(g.input):
        tt = t.type.tensor_type
        dtype = ONNX_TO_ST[tt.elem_type]
        shape = [d.dim_value for d in tt.shape.dim]
        p = pattern(shape, 100 + k)
        if dtype in ("F32", "F64"):
            inputs[t.name] = (dtype, p)
        else:
            inputs[t.name] = (dtype, np.floor(4 * np.abs(p)))
    write_st(w("x.st"), inputs)

    # Step 4.
    run(w("exe"), "predict", "--load", w("w.st"), "--inputs", w("x.st"),
        "--out", w("y1.st"))
    run(args.nnc, w("m.onnx"), "-o", w("exe2"))
    run(w("exe2"), "predict", "--inputs", w("x.st"), "--out", w("y2.st"))

    # Step 5.
    y1, y2 = read_st(w("y1.st")), read_st(w("y2.st"))
    if sorted(y1) != sorted(y2):
        sys.exit("roundtrip: outputs differ: %s vs %s" % (sorted(y1),
                                                          sorted(y2)))
    worst = 0.0
    for name in y1:
        (t1, a1), (t2, a2) = y1[name], y2[name]
        if t1 != t2 or a1.shape != a2.shape:
            sys.exit("roundtrip: output '%s' is %s%s, back from ONNX %s%s" %
                     (name, t1, list(a1.shape), t2, list(a2.shape)))
        if a1.tobytes() == a2.tobytes():
            print("%s: bit-identical" % name)
            continue
        diff = float(np.max(np.abs(a1.astype(np.float64) -
                                   a2.astype(np.float64))))
        worst = max(worst, diff)
        print("%s: max abs diff %.3g (of max |y| %.3g)" %
              (name, diff, float(np.max(np.abs(a1)))))
    if worst > args.tol:
        sys.exit("roundtrip: difference %.3g exceeds the tolerance %.3g" %
                 (worst, args.tol))


if __name__ == "__main__":
    main()
