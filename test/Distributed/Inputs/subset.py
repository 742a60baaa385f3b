#!/usr/bin/env python3
"""subset.py - the first rows of an IDX data set, as plain IDX files.

  subset.py IMAGES LABELS N OUT_IMAGES OUT_LABELS

IMAGES and LABELS may be gzip-compressed (Debian's Fashion-MNIST is); the
outputs hold their first N examples, uncompressed, so that the MPI tests
train on a few batches instead of 60000 rows.
"""
import gzip
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    ndims = data[3]
    dims = list(struct.unpack(">%dI" % ndims, data[4:4 + 4 * ndims]))
    return data[:4], dims, data[4 + 4 * ndims:]


def write(path, magic, dims, payload):
    with open(path, "wb") as f:
        f.write(magic + struct.pack(">%dI" % len(dims), *dims) + payload)


def main():
    images, labels, n, out_images, out_labels = sys.argv[1:6]
    n = int(n)
    for src, dst in ((images, out_images), (labels, out_labels)):
        magic, dims, payload = read(src)
        if dims[0] < n:
            sys.exit("%s has %d rows, fewer than %d" % (src, dims[0], n))
        row = len(payload) // dims[0]
        write(dst, magic, [n] + dims[1:], payload[:n * row])


if __name__ == "__main__":
    main()
