#!/usr/bin/env python3
"""st.py - safetensors files for the runtime tests, in plain Python.

This doubles as the check that a file written by the runtime "loads in
Python with a dozen lines" (docs/runtime.md, "Tensor files"): `read`
below is those lines.

  st.py dump FILE                 one line per tensor: name dtype shape values
  st.py stats FILE NAME           min max mean std of one tensor
  st.py within FILE NAME LO HI MEAN MEANTOL STD STDTOL
                                  exit 1 unless every value is in [LO, HI]
                                  and mean and std are within tolerance
  st.py raw FILE HEADER [DATA]    write the 8-byte length of HEADER (a
                                  string, not checked), HEADER, then DATA
  st.py make FILE NAME:DTYPE:SHAPE:V1,V2,... [...]
                                  write a file; SHAPE is 2x3 (or "" for a
                                  scalar); values repeat to fill the shape
  st.py huge FILE NAME:DTYPE:SHAPE [NAME:DTYPE:SHAPE:V1,...]...
                                  a valid file whose first tensor's data is
                                  a hole (a sparse file, however large the
                                  shape), followed by small tensors as in
                                  make
  st.py meta FILE                 one line per __metadata__ key: key=value
  st.py edit IN OUT [--plain] [--meta KEY=VALUE]... [--drop NAME]...
                [--put NAME:DTYPE:SHAPE:V1,...]...
                                  rewrite a file: --plain drops the metadata
                                  and the checkpoint's nnc/ tensors (plain
                                  weights), --meta sets a metadata string,
                                  --drop removes a tensor, --put adds or
                                  replaces one (as in make)
"""
import json
import math
import struct
import sys

# struct formats of the dtypes (nnc computes in F32 and I32; the others are
# the element types of imported ONNX models' inputs and outputs).
FMT = {"F32": "f", "I32": "i", "F64": "d", "F16": "e", "I64": "q",
       "I16": "h", "I8": "b", "U8": "B", "U16": "H", "U32": "I", "U64": "Q",
       "BOOL": "?"}


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        raw = data[8 + n + a:8 + n + b]
        fmt = FMT[e["dtype"]]
        count = len(raw) // struct.calcsize(fmt)
        out[name] = (e["dtype"], e["shape"],
                     list(struct.unpack("<%d%s" % (count, fmt), raw)))
    return out


def read_meta(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]).get("__metadata__", {})


def write(path, tensors, meta=None):
    header, blob = {}, b""
    if meta:
        header["__metadata__"] = meta
    for name, (dtype, shape, values) in tensors.items():
        raw = struct.pack("<%d%s" % (len(values), FMT[dtype]), *values)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + blob)


def parse_spec(spec):
    """NAME:DTYPE:SHAPE:V1,V2,... -> (name, (dtype, shape, values))."""
    name, dtype, shape, values = spec.split(":")
    shape = [int(d) for d in shape.split("x")] if shape else []
    n = 1
    for d in shape:
        n *= d
    conv = float if dtype in ("F32", "F64", "F16") else int
    vals = [conv(x) for x in values.split(",")] if values else [0]
    return name, (dtype, shape, (vals * n)[:n])


def fmt(v):
    return "%.6g" % v if isinstance(v, float) else str(v)


def main():
    cmd = sys.argv[1]
    if cmd == "dump":
        for name, (dtype, shape, values) in read(sys.argv[2]).items():
            shown = " ".join(fmt(v) for v in values[:12])
            more = " ..." if len(values) > 12 else ""
            print("%s %s %s %s%s" % (name, dtype, shape, shown, more))
    elif cmd == "stats":
        _, _, v = read(sys.argv[2])[sys.argv[3]]
        mean = sum(v) / len(v)
        std = math.sqrt(sum((x - mean) ** 2 for x in v) / len(v))
        print("min %.4f max %.4f mean %.4f std %.4f" % (min(v), max(v), mean, std))
    elif cmd == "within":
        _, _, v = read(sys.argv[2])[sys.argv[3]]
        lo, hi, mean, mtol, std, stol = map(float, sys.argv[4:10])
        m = sum(v) / len(v)
        sd = math.sqrt(sum((x - m) ** 2 for x in v) / len(v))
        ok = min(v) >= lo and max(v) <= hi and abs(m - mean) <= mtol \
            and abs(sd - std) <= stol
        print("%s %s: min %.4f max %.4f mean %.4f std %.4f" %
              ("ok" if ok else "FAIL", sys.argv[3], min(v), max(v), m, sd))
        sys.exit(0 if ok else 1)
    elif cmd == "raw":
        h = sys.argv[3].encode()
        data = sys.argv[4].encode() if len(sys.argv) > 4 else b""
        with open(sys.argv[2], "wb") as f:
            f.write(struct.pack("<Q", len(h)) + h + data)
    elif cmd == "make":
        tensors = {}
        for spec in sys.argv[3:]:
            name, value = parse_spec(spec)
            tensors[name] = value
        write(sys.argv[2], tensors)
    elif cmd == "huge":
        name, dtype, shape = sys.argv[3].split(":")
        shape = [int(d) for d in shape.split("x")]
        size = 4
        for d in shape:
            size *= d
        header = {name: {"dtype": dtype, "shape": shape,
                         "data_offsets": [0, size]}}
        blob = b""
        for spec in sys.argv[4:]:
            small, (sdtype, sshape, values) = parse_spec(spec)
            raw = struct.pack("<%d%s" % (len(values), {"F32": "f", "I32": "i"}[sdtype]),
                              *values)
            header[small] = {"dtype": sdtype, "shape": sshape,
                             "data_offsets": [size + len(blob), size + len(blob) + len(raw)]}
            blob += raw
        h = json.dumps(header).encode()
        with open(sys.argv[2], "wb") as f:
            f.write(struct.pack("<Q", len(h)) + h)
            f.seek(8 + len(h) + size)
            f.write(blob)
            f.truncate(8 + len(h) + size + len(blob))
    elif cmd == "meta":
        for k, v in sorted(read_meta(sys.argv[2]).items()):
            print("%s=%s" % (k, v))
    elif cmd == "edit":
        tensors, meta = read(sys.argv[2]), read_meta(sys.argv[2])
        args = sys.argv[4:]
        while args:
            opt = args.pop(0)
            if opt == "--plain":
                meta = {}
                tensors = {k: v for k, v in tensors.items()
                           if not k.startswith("nnc/")}
            elif opt == "--meta":
                k, v = args.pop(0).split("=", 1)
                meta[k] = v
            elif opt == "--drop":
                del tensors[args.pop(0)]
            elif opt == "--put":
                name, value = parse_spec(args.pop(0))
                tensors[name] = value
            else:
                sys.exit("unknown option " + opt)
        write(sys.argv[3], tensors, meta)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
