#!/usr/bin/env python3
"""tensor-bytes.py - raw tensors for the tests of --emit=lib libraries.

A library's C function takes plain arrays; the executable's `predict`
takes and writes safetensors files. This moves tensors between the two, so
that a test can run both on the same inputs and `cmp` their outputs.

  tensor-bytes.py get FILE NAME OUT       write the raw data of tensor NAME
                                          of FILE (little-endian, 4 bytes
                                          an element) to OUT
  tensor-bytes.py random FILE SEED NAME:DTYPE:SHAPE:LO:HI [...]
                                          write a safetensors FILE whose
                                          tensors hold uniform values in
                                          [LO, HI) (I32: integers in
                                          [LO, HI)) drawn from SEED; SHAPE
                                          is 2x3 (or "" for a scalar)
"""
import json
import os
import random
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "Runtime", "Inputs"))
import st  # noqa: E402  (the runtime tests' safetensors reader and writer)


def get(path, name, out):
    # The bytes as stored, not through Python floats: `cmp` compares bits.
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    if name not in header:
        sys.exit("tensor-bytes.py: %s has no tensor '%s'" % (path, name))
    begin, end = header[name]["data_offsets"]
    with open(out, "wb") as f:
        f.write(data[8 + n + begin:8 + n + end])


def make_random(path, seed, specs):
    rng = random.Random(int(seed))
    tensors = {}
    for spec in specs:
        name, dtype, shape, lo, hi = spec.split(":")
        dims = [int(d) for d in shape.split("x")] if shape else []
        count = 1
        for d in dims:
            count *= d
        if dtype == "I32":
            values = [rng.randrange(int(lo), int(hi)) for _ in range(count)]
        else:
            # Rounded to f32 here, so the file holds exactly these values.
            values = [struct.unpack("<f", struct.pack(
                "<f", rng.uniform(float(lo), float(hi))))[0]
                for _ in range(count)]
        tensors[name] = (dtype, dims, values)
    st.write(path, tensors)


def main(argv):
    if len(argv) == 5 and argv[1] == "get":
        get(*argv[2:])
    elif len(argv) >= 5 and argv[1] == "random":
        make_random(argv[2], argv[3], argv[4:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
