#!/usr/bin/env python3
"""Safetensors and training-log helpers for the end-to-end tests.

Plain Python (struct + json), so the tests need neither NumPy nor torch.
Subcommands:

  make OUT SPEC...        write a file of seeded random tensors; each SPEC is
                          NAME:DTYPE:DIMS:KIND, DIMS like 4x2 (or "" for a
                          scalar), KIND one of
                            normal         N(0, 1)                  (F32)
                            unit           U[0, 1)                  (F32)
                            bits           0 or 1                   (F32)
                            classes=N      integers in [0, N)       (I32)
                            values=a,b,..  the values as given, row-major
  show FILE               one line per tensor: NAME DTYPE SHAPE v0 v1 ...
                          (values with 6 significant digits)
  compare A B [RTOL ATOL] the same names, dtypes and shapes, and every value
                          within |a - b| <= ATOL + RTOL * max(|a|, |b|);
                          prints the worst element per tensor
  params A B [RTOL ATOL]  compare over the params and optimizer state only:
                          a checkpoint's run progress (names with a `/`,
                          such as nnc/data_order) is left out of both
  csv LOG COLUMN OP VALUE the last row's COLUMN compared with VALUE
                          (OP: ge, le, lt, gt)
  decreases LOG COLUMN    the last row's COLUMN is below the first row's
  rows LOG                the number of data rows of a --log file

Every check prints what it compared and exits 1 when the check fails, so
the FileCheck patterns and the exit status both say what happened.
"""
import json
import random
import struct
import sys

FORMATS = {"F32": "f", "I32": "i"}


def read(path):
    """{name: (dtype, shape, values)} in file order, and the metadata."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        raw = data[8 + n + begin:8 + n + end]
        values = struct.unpack("<%d%s" % (len(raw) // 4, FORMATS[e["dtype"]]),
                               raw)
        tensors[name] = (e["dtype"], e["shape"], values)
    return tensors, meta


def write(path, tensors):
    """Writes [(name, dtype, shape, values)] as safetensors."""
    header, blobs, offset = {}, [], 0
    for name, dtype, shape, values in tensors:
        blob = struct.pack("<%d%s" % (len(values), FORMATS[dtype]), *values)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def make(out, specs):
    rng = random.Random(1)
    tensors = []
    for spec in specs:
        name, dtype, dims, kind = spec.split(":", 3)
        shape = [int(d) for d in dims.split("x")] if dims else []
        count = 1
        for d in shape:
            count *= d
        if kind == "normal":
            values = [rng.gauss(0.0, 1.0) for _ in range(count)]
        elif kind == "unit":
            values = [rng.random() for _ in range(count)]
        elif kind == "bits":
            values = [float(rng.randrange(2)) for _ in range(count)]
        elif kind.startswith("classes="):
            values = [rng.randrange(int(kind[8:])) for _ in range(count)]
        elif kind.startswith("values="):
            values = [float(v) if dtype == "F32" else int(v)
                      for v in kind[7:].split(",") if v]
            assert len(values) == count, spec + ": wrong number of values"
        else:
            sys.exit("unknown kind in " + spec)
        tensors.append((name, dtype, shape, values))
    write(out, tensors)


def show(path):
    tensors, _ = read(path)
    for name, (dtype, shape, values) in tensors.items():
        print(name, dtype, shape, " ".join("%.6g" % v for v in values))


def compare(a_path, b_path, rtol, atol, progress=True):
    a, _ = read(a_path)
    b, _ = read(b_path)
    if not progress:
        a = {k: v for k, v in a.items() if "/" not in k}
        b = {k: v for k, v in b.items() if "/" not in k}
    ok = True
    if sorted(a) != sorted(b):
        print("names differ:", sorted(a), "vs", sorted(b))
        return False
    for name in a:
        (da, sa, va), (db, sb, vb) = a[name], b[name]
        if (da, sa) != (db, sb):
            print("%s: %s%s vs %s%s" % (name, da, sa, db, sb))
            ok = False
            continue
        worst, where = 0.0, 0
        for i, (x, y) in enumerate(zip(va, vb)):
            excess = abs(x - y) - (atol + rtol * max(abs(x), abs(y)))
            if excess != excess or excess > 0:  # NaN counts as a mismatch
                print("%s[%d]: %.9g vs %.9g" % (name, i, x, y))
                ok = False
                break
            if abs(x - y) > worst:
                worst, where = abs(x - y), i
        print("%s %s %s max-abs-diff %.3g" % (name, da, sa, worst))
    print("match" if ok else "MISMATCH")
    return ok


def last_rows(path):
    with open(path) as f:
        lines = [l.strip() for l in f if l.strip()]
    head = lines[0].split(",")
    return [dict(zip(head, l.split(","))) for l in lines[1:]]


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "make":
        make(args[0], args[1:])
        return 0
    if cmd == "show":
        show(args[0])
        return 0
    if cmd in ("compare", "params"):
        rtol = float(args[2]) if len(args) > 2 else 1e-4
        atol = float(args[3]) if len(args) > 3 else 1e-5
        ok = compare(args[0], args[1], rtol, atol, cmd == "compare")
        return 0 if ok else 1
    if cmd == "csv":
        path, column, op, want = args
        got = float(last_rows(path)[-1][column])
        ok = {"ge": got >= float(want), "le": got <= float(want),
              "gt": got > float(want), "lt": got < float(want)}[op]
        print("%s %.4f %s %s: %s" % (column, got, op, want,
                                     "ok" if ok else "FAILED"))
        return 0 if ok else 1
    if cmd == "decreases":
        path, column = args
        rows = last_rows(path)
        first, last = float(rows[0][column]), float(rows[-1][column])
        ok = last < first
        print("%s %.4f -> %.4f: %s" % (column, first, last,
                                       "decreases" if ok else "FAILED"))
        return 0 if ok else 1
    if cmd == "rows":
        print("rows", len(last_rows(args[0])))
        return 0
    sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
