#!/usr/bin/env python3
"""Writes the first N examples of an IDX image/label pair (gzip-compressed
or plain) as a plain IDX pair, so that an example's tests can train on a
small slice of its data set.

usage: head-idx.py IMAGES LABELS N OUT_IMAGES OUT_LABELS
"""
import gzip
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def head(data, n):
    """The header of an IDX file with its first dimension set to n, and the
    first n entries."""
    ndim = data[3]
    dims = struct.unpack(">%dI" % ndim, data[4:4 + 4 * ndim])
    if n > dims[0]:
        sys.exit("head-idx.py: only %d examples, %d asked" % (dims[0], n))
    size = 1
    for d in dims[1:]:
        size *= d
    start = 4 + 4 * ndim
    return (data[:4] + struct.pack(">%dI" % ndim, n, *dims[1:])
            + data[start:start + n * size])


def main(argv):
    if len(argv) != 6:
        sys.exit(__doc__)
    images, labels, n, out_images, out_labels = argv[1:]
    for src, dst in ((images, out_images), (labels, out_labels)):
        with open(dst, "wb") as f:
            f.write(head(read(src), int(n)))


if __name__ == "__main__":
    main(sys.argv)
