#!/usr/bin/env python3
"""dump.py - an ONNX model as text, for FileCheck.

    dump.py [M.onnx]        (default: the model on standard input)

Prints the model's header (IR version, opsets, producer, doc string), the
graph as onnx.helper.printable_graph writes it, each node's doc string
(nnc's source location), the value infos and, with the checker's verdict,
whether the model passes onnx.checker with full_check.
"""
import sys

import onnx
import onnx.numpy_helper


def main():
    data = (open(sys.argv[1], "rb").read() if len(sys.argv) > 1
            else sys.stdin.buffer.read())
    m = onnx.load_from_string(data)
    opsets = ", ".join("%s %d" % (o.domain or "ai.onnx", o.version)
                       for o in m.opset_import)
    print("ir_version %d; opsets %s; producer %s %s" %
          (m.ir_version, opsets, m.producer_name, m.producer_version))
    print("doc: " + m.doc_string)
    print(onnx.helper.printable_graph(m.graph))
    for n in m.graph.node:
        print("node %s: %s at %s" % (n.name, n.op_type, n.doc_string))
    for v in m.graph.value_info:
        t = v.type.tensor_type
        print("value %s: %s[%s]" % (
            v.name, onnx.TensorProto.DataType.Name(t.elem_type),
            ", ".join(str(d.dim_value) for d in t.shape.dim)))
    for i in m.graph.initializer:
        a = onnx.numpy_helper.to_array(i)
        print("initializer %s: %s %s" % (
            i.name, list(a.shape), " ".join("%g" % x for x in a.flat[:6])))
    onnx.checker.check_model(m, full_check=True)
    print("checker: ok")


if __name__ == "__main__":
    main()
