#!/usr/bin/env python3
"""Writes the first N examples of an IDX image/label pair (gzip-compressed
or plain) as a plain IDX pair, so that an example's tests can train on a
small slice of its data set.

usage: head-idx.py IMAGES LABELS N OUT_IMAGES OUT_LABELS
"""
import gzip
import struct
import sys


def open_idx(path):
    """The file, decompressed as it is read when it is gzip data."""
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def head(path, n):
    """The header of an IDX file with its first dimension set to n, and the
    first n entries (only those are read)."""
    with open_idx(path) as f:
        magic = f.read(4)
        ndim = magic[3]
        dims = struct.unpack(">%dI" % ndim, f.read(4 * ndim))
        if n > dims[0]:
            sys.exit("head-idx.py: %s has %d examples, %d asked"
                     % (path, dims[0], n))
        size = 1
        for d in dims[1:]:
            size *= d
        body = f.read(n * size)
    if len(body) != n * size:
        sys.exit("head-idx.py: %s is truncated" % path)
    return magic + struct.pack(">%dI" % ndim, n, *dims[1:]) + body


def main(argv):
    if len(argv) != 6:
        sys.exit(__doc__)
    images, labels, n, out_images, out_labels = argv[1:]
    for src, dst in ((images, out_images), (labels, out_labels)):
        with open(dst, "wb") as f:
            f.write(head(src, int(n)))


if __name__ == "__main__":
    main(sys.argv)
