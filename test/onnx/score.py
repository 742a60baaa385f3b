#!/usr/bin/python3
"""Scores nnc on the ONNX backend test data (Debian's libonnx-testdata).

    test/onnx/score.py [--nnc PATH] [--data DIR] [--sets node,simple,...]
                       [--cases FILE] [--expected FILE] [--write-passes FILE]
                       [--table FILE.md] [--jobs N] [--verbose]

Each case is a folder with model.onnx and test_data_set_*/{input,output}_K.pb.
For every case the script runs `nnc run model.onnx -- predict --inputs X
--out Y` once per data set (the inputs converted to a safetensors file, in
their ONNX element types and under the graph's input names) and compares
every output with the reference, as ONNX's backend runner does: same shape,
values within rtol 1e-3 and atol 1e-5 (NaN equals NaN). A case passes when
it compiles and all its data sets match.

It prints the pass count per set, then a table per ONNX operator (cases
that use it, cases that pass); --table writes the same as Markdown.
--write-passes FILE writes the passing cases ("set/case", one a line).
--expected FILE makes it a regression test: exit 1 if a case listed there
fails (each named with nnc's message), and report, without failing, cases
not listed that pass. --cases FILE runs only the cases listed there.
Needs /usr/bin/python3 with python3-onnx (Debian), which reads the .pb files.
"""
import argparse
import collections
import concurrent.futures
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

DATA = "/usr/share/libonnx-testdata/data"
SETS = ["node", "pytorch-converted", "pytorch-operator", "simple"]
RTOL, ATOL = 1e-3, 1e-5

# safetensors dtype of each NumPy dtype nnc reads and writes.
ST_DTYPES = {
    np.dtype("float32"): "F32", np.dtype("float64"): "F64",
    np.dtype("float16"): "F16", np.dtype("int32"): "I32",
    np.dtype("int64"): "I64", np.dtype("int16"): "I16",
    np.dtype("int8"): "I8", np.dtype("uint8"): "U8",
    np.dtype("uint16"): "U16", np.dtype("uint32"): "U32",
    np.dtype("uint64"): "U64", np.dtype("bool"): "BOOL",
}
# bfloat16 travels as its 16 bits, under a NumPy dtype of its own.
BF16 = np.dtype([("bf16", "<u2")])
ST_DTYPES[BF16] = "BF16"
NP_DTYPES = {v: k for k, v in ST_DTYPES.items()}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, array in tensors:
        array = np.require(array, requirements="C")
        data = array.tobytes()
        header[name] = {"dtype": ST_DTYPES[array.dtype],
                        "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-(8 + len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        dtype = NP_DTYPES[entry["dtype"]]
        out[name] = np.frombuffer(raw[8 + n + begin:8 + n + end],
                                  dtype=dtype).reshape(entry["shape"])
        if dtype == BF16:
            out[name] = bf16_to_float(out[name]["bf16"])
    return out


def is_bf16(values, name):
    return any(v.name == name and v.type.tensor_type.elem_type ==
               onnx.TensorProto.BFLOAT16 for v in values)


def bf16_to_float(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def graph_io(model):
    inits = {t.name for t in model.graph.initializer}
    inputs = [v.name for v in model.graph.input if v.name not in inits]
    outputs = [v.name for v in model.graph.output]
    return inputs, outputs


def close(got, want):
    if got.shape != want.shape:
        return f"shape {list(got.shape)}, expected {list(want.shape)}"
    if want.dtype == np.bool_ or got.dtype == np.bool_:
        ok = np.array_equal(got.astype(bool), want.astype(bool))
    elif np.issubdtype(want.dtype, np.integer):
        ok = np.array_equal(got.astype(np.int64), want.astype(np.int64))
    else:
        ok = np.allclose(got.astype(np.float64), want.astype(np.float64),
                         rtol=RTOL, atol=ATOL, equal_nan=True)
    if ok:
        return None
    with np.errstate(invalid="ignore"):
        diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    return f"values differ (max abs diff {np.nanmax(diff):.3g})"


def run_case(nnc, folder, timeout=120):
    try:
        return try_case(nnc, folder, timeout)
    except Exception as e:  # test data the onnx package cannot read (such
        # as sequences, which are no TensorProto)
        return "error", f"reading the test data: {type(e).__name__}: {e}"


def try_case(nnc, folder, timeout):
    """Returns (status, message): status is pass, import (nnc refused the
    model), error (a later failure) or wrong (outputs differ)."""
    model_path = os.path.join(folder, "model.onnx")
    try:
        model = onnx.load(model_path)
    except Exception as e:  # a case the onnx package itself cannot read
        return "error", f"onnx.load: {e}"
    inputs, outputs = graph_io(model)
    sets = sorted(d for d in os.listdir(folder)
                  if d.startswith("test_data_set_"))
    with tempfile.TemporaryDirectory() as tmp:
        for s in sets:
            d = os.path.join(folder, s)
            tensors = []
            for k, name in enumerate(inputs):
                p = os.path.join(d, f"input_{k}.pb")
                if not os.path.exists(p):
                    return "error", f"{s}: missing input_{k}.pb"
                t = onnx.TensorProto()
                with open(p, "rb") as f:
                    t.ParseFromString(f.read())
                array = numpy_helper.to_array(t)
                if is_bf16(model.graph.input, name):
                    # numpy has no bfloat16: the test data holds the bits
                    # (as UINT16), which go to the file as BF16.
                    array = array.astype(np.uint16).view(BF16)
                if array.dtype not in ST_DTYPES:
                    return "error", f"input '{name}' is {array.dtype}"
                tensors.append((name, array))
            x, y = os.path.join(tmp, "x.st"), os.path.join(tmp, "y.st")
            if os.path.exists(y):
                os.remove(y)
            write_safetensors(x, tensors)
            try:
                r = subprocess.run(
                    [nnc, "run", model_path, "--", "predict", "--inputs", x,
                     "--out", y], capture_output=True, text=True,
                    timeout=timeout)
            except subprocess.TimeoutExpired:
                return "error", f"timed out after {timeout} s"
            if r.returncode != 0:
                msg = (r.stderr.strip().splitlines() or ["(no message)"])[0]
                status = "import" if "model.onnx: error:" in msg else "error"
                return status, msg
            got = read_safetensors(y)
            for k, name in enumerate(outputs):
                t = onnx.TensorProto()
                with open(os.path.join(d, f"output_{k}.pb"), "rb") as f:
                    t.ParseFromString(f.read())
                want = numpy_helper.to_array(t)
                if is_bf16(model.graph.output, name):
                    want = bf16_to_float(want.astype(np.uint16))
                if name not in got:
                    return "wrong", f"{s}: no output '{name}'"
                why = close(got[name], want)
                if why:
                    return "wrong", f"{s}: output '{name}': {why}"
    return "pass", ""


def case_ops(folder):
    try:
        model = onnx.load(os.path.join(folder, "model.onnx"))
    except Exception:
        return ["(unreadable)"]
    return sorted({n.op_type for n in model.graph.node})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nnc", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build",
        "tools", "nnc", "nnc"))
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--cases", help="run only the cases listed in FILE")
    ap.add_argument("--expected", help="fail if a case listed in FILE fails")
    ap.add_argument("--write-passes", help="write the passing cases to FILE")
    ap.add_argument("--table", help="write the operator table (Markdown)")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    def listed(path):
        with open(path) as f:
            return [l.strip() for l in f
                    if l.strip() and not l.startswith("#")]

    cases = []
    for s in args.sets.split(","):
        root = os.path.join(args.data, s)
        if os.path.isdir(root):
            cases += [f"{s}/{c}" for c in sorted(os.listdir(root))]
    if args.cases:
        wanted = set(listed(args.cases))
        cases = [c for c in cases if c in wanted]
    expected = set(listed(args.expected)) if args.expected else set()

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = dict(zip(cases, pool.map(
            lambda c: run_case(args.nnc, os.path.join(args.data, c)),
            cases)))

    per_set = collections.OrderedDict()
    for c, (status, _) in results.items():
        s = c.split("/")[0]
        n, p = per_set.get(s, (0, 0))
        per_set[s] = (n + 1, p + (status == "pass"))
    print("ONNX backend tests (rtol %g, atol %g):" % (RTOL, ATOL))
    for s, (n, p) in per_set.items():
        print(f"  {s:<18} {p:4d} / {n:4d} pass")

    ops = collections.defaultdict(lambda: [0, 0, collections.Counter()])
    for c, (status, msg) in results.items():
        for op in case_ops(os.path.join(args.data, c)):
            ops[op][0] += 1
            ops[op][1] += status == "pass"
            if status != "pass":
                ops[op][2][status] += 1
    rows = sorted(ops.items(), key=lambda kv: (-kv[1][0], kv[0]))
    if args.verbose:
        print("\noperator             cases  pass")
        for op, (n, p, _) in rows:
            print(f"  {op:<20} {n:4d} {p:5d}")
        for c, (status, msg) in results.items():
            if status != "pass":
                print(f"{status:6} {c}: {msg}")
    if args.table:
        with open(args.table, "w") as f:
            f.write("| operator | cases | pass | refused | fail |\n")
            f.write("|---|---:|---:|---:|---:|\n")
            for op, (n, p, why) in rows:
                f.write(f"| {op} | {n} | {p} | {why['import']} | "
                        f"{why['error'] + why['wrong']} |\n")
    if args.write_passes:
        with open(args.write_passes, "w") as f:
            f.write("# ONNX backend cases nnc passes (test/onnx/score.py "
                    "--write-passes)\n")
            for c, (status, _) in results.items():
                if status == "pass":
                    f.write(c + "\n")

    failed = 0
    if args.expected:
        for c in sorted(expected):
            if c not in results:
                continue
            status, msg = results[c]
            if status != "pass":
                print(f"FAIL (expected to pass) {c}: {status}: {msg}")
                failed += 1
        for c, (status, _) in results.items():
            if status == "pass" and c not in expected:
                print(f"NEW PASS (not in {os.path.basename(args.expected)})"
                      f" {c}")
        print(f"expected passes: {len(expected) - failed} of "
              f"{len(expected & set(results))} still pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
