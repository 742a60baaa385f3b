#!/usr/bin/env python3
"""probe.py - expected numbers for runs of Inputs/probe.c, in plain Python.

  probe.py rows FILE X1,X2,...    a CSV file of rows "x,0"
  probe.py schedule LOG W KIND LR EPOCHS STEPS [EVERY GAMMA | WARMUP]
                                  checks a --log file and the weights W of
                                  a run: each epoch's lr column is the rate
                                  of its first step, its loss column the
                                  mean f32 rate of its steps, and W's c the
                                  f32 sum of every step's rate; KIND is
                                  constant, step or cosine
  probe.py eval LOG PREFIX CSV W  the last row's PREFIXloss and
                                  PREFIXmean_x are the means over every row
                                  of CSV of (x - c)^2 and x, c from W

The rates are the PyTorch LambdaLR factors of docs/runtime.md
("Learning-rate schedules"), written here as the docs write them, so this
also checks that the docs' Python reproduces the runtime bit for bit.
Every check prints what it compared and exits 1 on a mismatch.
"""
import math
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402


def f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


def factors(kind, epochs, S, args):
    """The docs' lambdas: f(t) for t = 0 .. epochs * S - 1."""
    T = epochs * S
    if kind == "constant":
        def f(t):
            return 1.0
    elif kind == "step":
        every, gamma = int(args[0]), float(args[1])

        def f(t):
            return gamma ** ((t // S) // every)
    elif kind == "cosine":
        W = int(args[0]) * S

        def f(t):
            if t < W:
                return (t + 1) / W
            return 0.5 * (1 + math.cos(math.pi * (t - W) / (T - W)))
    else:
        sys.exit("unknown schedule " + kind)
    return [f(t) for t in range(T)]


def log_rows(path):
    with open(path) as f:
        lines = [line.strip() for line in f if line.strip()]
    head = lines[0].split(",")
    return [dict(zip(head, line.split(","))) for line in lines[1:]]


def schedule(log, weights, kind, lr, epochs, steps, args):
    lr, epochs, steps = float(lr), int(epochs), int(steps)
    rates = [lr * f for f in factors(kind, epochs, steps, args)]
    rows = log_rows(log)
    ok = len(rows) == epochs
    c = 0.0
    for e in range(epochs):
        epoch = rates[e * steps:(e + 1) * steps]
        total = 0.0
        for r in epoch:
            total += f32(r)
            c = f32(c + f32(r))
        want = ("%.9g" % epoch[0], "%.9g" % (total / steps))
        got = (rows[e]["lr"], rows[e]["loss"]) if e < len(rows) else None
        print("epoch %d lr %s loss %s: %s" %
              (e + 1, want[0], want[1], "ok" if got == want else got))
        ok &= got == want
    got_c = st.read(weights)["c"][2][0]
    print("c %.9g: %s" % (c, "ok" if got_c == c else "%.9g" % got_c))
    return ok and got_c == c


def evaluate(log, prefix, csv, weights):
    xs = [float(line.split(",")[0]) for line in open(csv) if line.strip()]
    c = st.read(weights)["c"][2][0]
    want = {prefix + "loss": sum((x - c) ** 2 for x in xs) / len(xs),
            prefix + "mean_x": sum(xs) / len(xs)}
    row = log_rows(log)[-1]
    ok = True
    for name, value in want.items():
        got = float(row[name])
        good = abs(got - value) <= 1e-6 * max(1.0, abs(value))
        print("%s %.9g over %d rows: %s" %
              (name, value, len(xs), "ok" if good else "%.9g" % got))
        ok &= good
    return ok


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "rows":
        with open(args[0], "w") as f:
            for x in args[1].split(","):
                f.write("%s,0\n" % x)
        return 0
    if cmd == "schedule":
        return 0 if schedule(*args[:6], args[6:]) else 1
    if cmd == "eval":
        return 0 if evaluate(*args) else 1
    sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
