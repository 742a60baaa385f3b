#!/usr/bin/env python3
"""embed-check.py - checks examples/embed/classify against `EXE predict`.

  embed-check.py inputs IMAGES N OUT.safetensors
      the first N images of an IDX file (gzip-compressed or plain) as the
      input `x` : F32[N, 784], scaled as the train block's idx(...) scales
      them: float(pixel) * float(1/255), both rounded to f32
  embed-check.py compare Y.safetensors NAME OUTPUT.txt
      compares the `output I: v0 v1 ...` lines classify printed (nine
      significant digits: each float exactly) with the rows of tensor NAME;
      prints how many values were compared, exits 1 at the first that
      differs in any bit
  embed-check.py accuracy LOG.csv OUTPUT.txt
      the accuracy classify printed equals the last test_accuracy of the
      executable's --log file (to classify's two decimals)
"""
import csv
import gzip
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "Runtime", "Inputs"))
import st  # noqa: E402  (the runtime tests' safetensors reader and writer)


def f32(v):
    """v rounded to the nearest f32, as a Python float."""
    return struct.unpack("<f", struct.pack("<f", v))[0]


def inputs(images, n, out):
    with open(images, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    with (gzip.open if gz else open)(images, "rb") as f:
        head = f.read(16)
        count, rows, cols = struct.unpack(">III", head[4:16])
        n = int(n)
        if n > count:
            sys.exit("embed-check.py: %s has %d images" % (images, count))
        pixels = f.read(n * rows * cols)
    scale = f32(1.0 / 255.0)
    # The product of an 8-bit integer and an f32 is exact in a double, so
    # rounding it once to f32 gives the runtime's f32 product.
    values = [f32(p * scale) for p in pixels]
    st.write(out, {"x": ("F32", [n, rows * cols], values)})


def compare(ref, name, printed):
    _, shape, values = st.read(ref)[name]
    width = shape[1]
    compared = 0
    with open(printed) as f:
        for line in f:
            if not line.startswith("output "):
                continue
            label, _, rest = line.partition(":")
            row = int(label.split()[1])
            got = [f32(float(v)) for v in rest.split()]
            want = values[row * width:(row + 1) * width]
            if got != want:
                sys.exit("embed-check.py: image %d: classify printed %s, "
                         "predict wrote %s" % (row, got, want))
            compared += len(got)
    if compared == 0:
        sys.exit("embed-check.py: no output lines in %s" % printed)
    print("%d values identical" % compared)


def accuracy(log, printed):
    with open(log) as f:
        rows = list(csv.DictReader(f))
    want = float(rows[-1]["test_accuracy"])
    with open(printed) as f:
        line = [l for l in f if l.startswith("accuracy ")][-1]
    got = float(line.split()[1])
    if "%.2f" % (100 * want) != "%.2f" % got:
        sys.exit("embed-check.py: classify: accuracy %.2f %%, the "
                 "executable: test_accuracy %s" % (got, want))
    print("accuracy %.2f %% = test_accuracy %s" % (got, want))


def main(argv):
    if len(argv) == 5 and argv[1] == "inputs":
        inputs(*argv[2:])
    elif len(argv) == 5 and argv[1] == "compare":
        compare(*argv[2:])
    elif len(argv) == 4 and argv[1] == "accuracy":
        accuracy(*argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
