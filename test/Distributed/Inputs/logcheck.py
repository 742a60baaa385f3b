#!/usr/bin/env python3
"""logcheck.py - does a `train --log` file's last test row match `eval`?

  logcheck.py LOG.csv EVAL.out

EVAL.out is what `EXE eval --load W` printed for the weights the run saved
(`loss 0.4987  accuracy 0.8266`). For the loss and every metric of that
line, prints "test_NAME matches eval: ok" when the log's last test_NAME is
the same value up to the 4 decimals eval prints (and float rounding of the
sums, 1e-4), and exits 1 otherwise.
"""
import csv
import sys


def main():
    with open(sys.argv[1]) as f:
        last = list(csv.DictReader(f))[-1]
    words = open(sys.argv[2]).read().split("\n")[1].split()
    bad = False
    for name, value in zip(words[0::2], words[1::2]):
        logged = float(last["test_" + name])
        ok = abs(logged - float(value)) <= 1.5e-4
        print("test_%s matches eval: %s (log %.6f, eval %s)" %
              (name, "ok" if ok else "NO", logged, value))
        bad |= not ok
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
