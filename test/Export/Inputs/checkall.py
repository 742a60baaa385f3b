#!/usr/bin/env python3
"""checkall.py DIR - onnx.checker (full_check) on every DIR/*.onnx.

Prints one line per model that fails, then `N models: M fail`; exits 1 if
any fails.
"""
import glob
import os
import sys

import onnx


def main():
    files = sorted(glob.glob(os.path.join(sys.argv[1], "*.onnx")))
    bad = 0
    for path in files:
        try:
            onnx.checker.check_model(onnx.load(path), full_check=True)
        except Exception as e:  # the checker's and shape inference's errors
            bad += 1
            print("%s: %s" % (os.path.basename(path),
                              str(e).strip().splitlines()[0]))
    print("%d models: %d fail" % (len(files), bad))
    return 1 if bad or not files else 0


if __name__ == "__main__":
    sys.exit(main())
