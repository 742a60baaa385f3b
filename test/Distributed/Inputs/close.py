#!/usr/bin/env python3
"""close.py - are the weights of two safetensors files equal up to rounding?

  close.py A B RTOL ATOL [NAME...]

Compares every param and buffer (or only the tensors NAME...) (not the optimizer's state.* entries nor
the checkpoint's nnc/ tensors) of A with the same tensor of B, element by
element, as numpy.allclose does: |a - b| <= ATOL + RTOL * |b|. Prints the
largest relative difference of each tensor and, for every tensor that is
not close, how many elements are not; exits 1 when any is not, or when the
files do not hold the same tensors.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "Runtime", "Inputs"))
import st  # noqa: E402


def weights(path):
    return {k: v for k, v in st.read(path).items()
            if not k.startswith("state.") and not k.startswith("nnc/")}


def main():
    a_path, b_path, rtol, atol = sys.argv[1], sys.argv[2], float(
        sys.argv[3]), float(sys.argv[4])
    a, b = weights(a_path), weights(b_path)
    only = sys.argv[5:]
    if only:
        a = {k: v for k, v in a.items() if k in only}
        b = {k: v for k, v in b.items() if k in only}
        if sorted(a) != sorted(only):
            sys.exit("%s does not hold %s" % (a_path, only))
    if sorted(a) != sorted(b):
        sys.exit("the files hold different tensors: %s vs %s" %
                 (sorted(a), sorted(b)))
    bad = 0
    for name in sorted(a):
        (_, shape_a, va), (_, shape_b, vb) = a[name], b[name]
        if shape_a != shape_b:
            sys.exit("%s: shape %s vs %s" % (name, shape_a, shape_b))
        worst, far = 0.0, 0
        for x, y in zip(va, vb):
            d = abs(x - y)
            if d > atol + rtol * abs(y):
                far += 1
            if d > 0:
                worst = max(worst, d / max(abs(y), atol))
        print("%s: %d elements, largest relative difference %.3g%s" %
              (name, len(va), worst,
               "" if not far else ", %d not close" % far))
        bad += far
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
