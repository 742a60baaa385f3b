#!/usr/bin/env python3
"""mkdata.py - data files (good and deliberately broken) for runtime tests.

  mkdata.py linreg FILE N [--noheader]   CSV x0,x1,t with t = 2 x0 - 3 x1 + 0.5
  mkdata.py blobs FILE N NIN NCLS        CSV: NIN features then a label;
                                         class c has feature c set high
  mkdata.py idx FILE N H W [--gz] [--magic 0xHEX] [--truncate K]
                                         IDX images (pixel = (i + j) % 256)
  mkdata.py labels FILE N NCLS [--gz] [--max L]
                                         IDX labels i % NCLS (the last one
                                         L with --max)
  mkdata.py spike FILE N COLS [ROW,COL=V ...]
                                         CSV of N rows of COLS cells 0.001,
                                         except the cells given
"""
import gzip
import random
import struct
import sys


def opt(args, name, default=None):
    if name in args:
        return args[args.index(name) + 1]
    return default


def out(path, data, args):
    if "--gz" in args:
        data = gzip.compress(data)
    k = opt(args, "--truncate")
    if k is not None:
        data = data[:len(data) - int(k)]
    with open(path, "wb") as f:
        f.write(data)


def main():
    cmd, path, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    rng = random.Random(1)
    if cmd == "linreg":
        n = int(args[0])
        with open(path, "w") as f:
            if "--noheader" not in args:
                f.write("x0,x1,t\n")
            for _ in range(n):
                a, b = rng.uniform(-1, 1), rng.uniform(-1, 1)
                f.write("%.6f,%.6f,%.6f\n" % (a, b, 2 * a - 3 * b + 0.5))
    elif cmd == "blobs":
        n, nin, ncls = int(args[0]), int(args[1]), int(args[2])
        with open(path, "w") as f:
            for i in range(n):
                c = i % ncls
                xs = [rng.gauss(0, 0.3) + (2.0 if j % ncls == c else 0.0)
                      for j in range(nin)]
                f.write(",".join("%.4f" % x for x in xs) + ",%d\n" % c)
    elif cmd == "idx":
        n, h, w = int(args[0]), int(args[1]), int(args[2])
        magic = int(opt(args, "--magic", "0x00000803"), 16)
        data = struct.pack(">IIII", magic, n, h, w)
        data += bytes((i + j) % 256 for i in range(n) for j in range(h * w))
        out(path, data, args)
    elif cmd == "spike":
        n, cols = int(args[0]), int(args[1])
        rows = [["0.001"] * cols for _ in range(n)]
        for cell in args[2:]:
            where, value = cell.split("=")
            r, c = where.split(",")
            rows[int(r)][int(c)] = value
        with open(path, "w") as f:
            f.write("".join(",".join(r) + "\n" for r in rows))
    elif cmd == "labels":
        n, ncls = int(args[0]), int(args[1])
        labels = [i % ncls for i in range(n)]
        if opt(args, "--max") is not None:
            labels[-1] = int(opt(args, "--max"))
        out(path, struct.pack(">II", 0x801, n) + bytes(labels), args)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
