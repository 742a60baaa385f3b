#!/usr/bin/python3
"""Feeds nnc malformed ONNX models: mutate.py NNC SEED COUNT MODEL...

Each of COUNT rounds takes one of the MODELs (chosen by a generator seeded
with SEED, so a run is repeatable), flips, deletes, inserts or truncates
a few of its bytes, and runs `nnc CASE --emit=opt` on it: every run must
end with status 0 (the damage kept a valid model) or 1 (an error), never
with a signal or a hang. A failing case is kept as mutate-crash-N.onnx in
the working directory. Prints the count of each outcome.
"""
import collections
import random
import subprocess
import sys


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        r = rng.random()
        if r < 0.5 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif r < 0.7 and data:
            at = rng.randrange(len(data))
            del data[at:at + rng.randint(1, 16)]
        elif r < 0.85:
            at = rng.randrange(len(data) + 1)
            data[at:at] = bytes(rng.randrange(256)
                                for _ in range(rng.randint(1, 8)))
        else:
            data = data[:rng.randrange(len(data) + 1)]
    return bytes(data)


def main():
    nnc, seed, count, models = sys.argv[1], int(sys.argv[2]), \
        int(sys.argv[3]), sys.argv[4:]
    rng = random.Random(seed)
    sources = [open(m, "rb").read() for m in models]
    outcomes = collections.Counter()
    bad = 0
    for n in range(count):
        case = mutate(rng, rng.choice(sources))
        with open("mutate-case.onnx", "wb") as f:
            f.write(case)
        try:
            r = subprocess.run([nnc, "mutate-case.onnx", "--emit=opt"],
                               capture_output=True, timeout=60)
            status = r.returncode
        except subprocess.TimeoutExpired:
            status = "timeout"
        outcomes[status] += 1
        if status not in (0, 1):
            bad += 1
            with open(f"mutate-crash-{n}.onnx", "wb") as f:
                f.write(case)
            print(f"case {n}: status {status}")
    print("exit 0: %d, exit 1: %d, other: %d" % (outcomes[0], outcomes[1],
                                                bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
