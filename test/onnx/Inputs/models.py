#!/usr/bin/python3
"""Writes the small ONNX models of the import tests: models.py NAME OUT.onnx.

Built with onnx.helper (Debian's python3-onnx), so each test says in a few
lines what its model is; `list` prints the names.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto as T, helper as h, numpy_helper


def model(nodes, inputs, outputs, inits=(), opset=13, **kw):
    g = h.make_graph(nodes, kw.pop("name", "g"), inputs, outputs,
                     initializer=list(inits))
    return h.make_model(g, opset_imports=[h.make_opsetid("", opset)], **kw)


def tensor(name, elem, dims):
    return h.make_tensor_value_info(name, elem, dims)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def big_initializer():
    """A weight that claims 4e9 floats but holds 8 bytes."""
    t = T()
    t.name, t.data_type = "w", T.FLOAT
    t.dims.extend([1000000, 1000])
    t.raw_data = b"\0" * 8
    return t


MODELS = {
    # Relu on a [2, 3] input.
    "relu": lambda: model([h.make_node("Relu", ["x"], ["y"])],
                          [tensor("x", T.FLOAT, [2, 3])],
                          [tensor("y", T.FLOAT, [2, 3])], name="tiny"),
    # ONNX names that are no .nn identifiers, and weights.
    "names": lambda: model(
        [h.make_node("Add", ["input.1", "fc.bias"], ["/fc/Add_output_0"],
                     name="/fc/Add"),
         h.make_node("Mul", ["/fc/Add_output_0", "scale"], ["out:0"])],
        [tensor("input.1", T.FLOAT, [2, 2])],
        [tensor("out:0", T.FLOAT, [2, 2])],
        [init("fc.bias", np.array([0.5, -1.5], np.float32)),
         init("scale", np.array(3.0, np.float32))]),
    # Integer and boolean inputs and outputs.
    "types": lambda: model(
        [h.make_node("Add", ["i", "one"], ["next"]),
         h.make_node("Greater", ["next", "two"], ["big"]),
         h.make_node("Not", ["big"], ["small"])],
        [tensor("i", T.INT64, [4])],
        [tensor("next", T.INT64, [4]), tensor("small", T.BOOL, [4])],
        [init("one", np.array(1, np.int64)),
         init("two", np.array(2, np.int64))]),
    # Inputs of unrelated shapes, a scalar among them.
    "shapes": lambda: model([h.make_node("Mul", ["a", "s"], ["y"])],
                            [tensor("a", T.FLOAT, [3, 1]),
                             tensor("s", T.FLOAT, [])],
                            [tensor("y", T.FLOAT, [3, 1])]),
    # Bad input, one error each.
    "unsupported": lambda: model(
        [h.make_node("Relu", ["x"], ["r"]),
         h.make_node("Frobnicate", ["r"], ["y"], name="frob_1")],
        [tensor("x", T.FLOAT, [2])], [tensor("y", T.FLOAT, [2])]),
    # A node name with an escape sequence and a newline, and a long one.
    "control-name": lambda: model(
        [h.make_node("Frobnicate", ["x"], ["y"],
                     name="evil\x1b[2J\nname" + "x" * 5000)],
        [tensor("x", T.FLOAT, [2])], [tensor("y", T.FLOAT, [2])]),
    "unnamed-unsupported": lambda: model(
        [h.make_node("Frobnicate", ["x"], ["y"])],
        [tensor("x", T.FLOAT, [2])], [tensor("y", T.FLOAT, [2])]),
    "domain": lambda: h.make_model(
        h.make_graph([h.make_node("Relu", ["x"], ["y"], name="r",
                                  domain="com.example")], "g",
                     [tensor("x", T.FLOAT, [2])],
                     [tensor("y", T.FLOAT, [2])]),
        opset_imports=[h.make_opsetid("", 13),
                       h.make_opsetid("com.example", 1)]),
    "opset": lambda: model([h.make_node("Relu", ["x"], ["y"])],
                           [tensor("x", T.FLOAT, [2])],
                           [tensor("y", T.FLOAT, [2])], opset=18),
    "dynamic": lambda: model([h.make_node("Relu", ["x"], ["y"])],
                             [tensor("x", T.FLOAT, ["N", 3])],
                             [tensor("y", T.FLOAT, ["N", 3])]),
    "dangling": lambda: model([h.make_node("Add", ["x", "nowhere"], ["y"],
                                           name="add")],
                              [tensor("x", T.FLOAT, [2])],
                              [tensor("y", T.FLOAT, [2])]),
    "cycle": lambda: model([h.make_node("Relu", ["b"], ["a"], name="first"),
                            h.make_node("Relu", ["a"], ["b"], name="second")],
                           [tensor("x", T.FLOAT, [2])],
                           [tensor("b", T.FLOAT, [2])]),
    "twice": lambda: model([h.make_node("Relu", ["x"], ["y"], name="one"),
                            h.make_node("Relu", ["x"], ["y"], name="two")],
                           [tensor("x", T.FLOAT, [2])],
                           [tensor("y", T.FLOAT, [2])]),
    "contradiction": lambda: model([h.make_node("Relu", ["x"], ["y"])],
                                   [tensor("x", T.FLOAT, [2, 3])],
                                   [tensor("y", T.FLOAT, [3, 2])]),
    "broadcast": lambda: model([h.make_node("Add", ["x", "y"], ["z"],
                                            name="add")],
                               [tensor("x", T.FLOAT, [2, 3]),
                                tensor("y", T.FLOAT, [2])],
                               [tensor("z", T.FLOAT, [2, 3])]),
    "big-initializer": lambda: model(
        [h.make_node("Add", ["x", "w"], ["y"])],
        [tensor("x", T.FLOAT, [2])], [tensor("y", T.FLOAT, [2])],
        [big_initializer()]),
    "string-input": lambda: model([h.make_node("Identity", ["x"], ["y"])],
                                  [tensor("x", T.STRING, [2])],
                                  [tensor("y", T.STRING, [2])]),
}


def main():
    if sys.argv[1] == "list":
        print("\n".join(MODELS))
        return
    m = MODELS[sys.argv[1]]()
    with open(sys.argv[2], "wb") as f:
        f.write(m.SerializeToString())


if __name__ == "__main__":
    main()
