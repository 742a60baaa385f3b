#!/usr/bin/env python3
"""values_to_st.py DUMP OUT - the loss and gradients of a `--values` dump.

Reads the text of `nnc FILE.nn --emit=grad --values` and writes, in the
layout of `EXE grad --out` (`loss`, then `grad.NAME` per param), the values
the dump shows for the nodes its `loss` and `grad NAME = %node` lines name,
so that `st.py compare` can hold them against the executable's. Every such
value must be printed whole (16 elements at most).
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

NODE = re.compile(r"^\s*(%\S+) = .* : ([fi]32)\[([^\]]*)\] = (.*?)(\s+# .*)?$")


def flatten(v):
    return [x for item in v for x in flatten(item)] if isinstance(v, list) \
        else [float(v)]


def main():
    values, out = {}, []
    for line in open(sys.argv[1]):
        m = NODE.match(line)
        if m:
            name, dtype, dims, text = m.group(1, 2, 3, 4)
            shape = [int(d) for d in dims.split(",")] if dims else []
            values[name] = (dtype.upper(), shape, text)
            continue
        m = re.match(r"^\s*loss (%\S+)$", line)
        if m:
            out.append(("loss", m.group(1)))
        m = re.match(r"^\s*grad (\S+) = (%\S+)$", line)
        if m:
            out.append(("grad." + m.group(1), m.group(2)))
    tensors = []
    for key, node in out:
        dtype, shape, text = values[node]
        if text.startswith("{"):
            sys.exit("%s is summarized, not printed whole: %s" % (node, text))
        tensors.append((key, dtype, shape, flatten(json.loads(text))))
    st.write(sys.argv[2], tensors)


if __name__ == "__main__":
    main()
