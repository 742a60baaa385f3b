#!/usr/bin/env python3
"""tensor-bytes.py - a tensor's raw data, for the tests of --emit=lib.

A library's C function takes plain arrays; the executable's `predict`
reads and writes safetensors files. This takes one tensor's data out of a
file, so that a test can run both on the same inputs and `cmp` the outputs.

  tensor-bytes.py FILE NAME OUT   write the data of tensor NAME of FILE, as
                                  stored (little-endian, 4 bytes an
                                  element), to OUT
"""
import json
import struct
import sys


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    path, name, out = argv[1:]
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


if __name__ == "__main__":
    main(sys.argv)
