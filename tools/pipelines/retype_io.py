#!/usr/bin/python3
"""Retype an ONNX graph's inputs and outputs, keeping its arithmetic: each retyped input gets a Cast to the type the
graph computes in, each retyped output a Cast from it. Makes the dtype variants real exports come in (float16 I/O,
int32 token ids, BFL's float img_ids/txt_ids) from the float32 tiny test graphs, so the C# binding can be tested on them.

    python3 tools/pipelines/retype_io.py IN.onnx OUT.onnx name=float16 [name=int32 ...]

Types: float16, float32, int32, int64. Needs python3-onnx (Debian).
"""
import sys

import onnx
from onnx import TensorProto, helper

TYPES = {"float16": TensorProto.FLOAT16, "float32": TensorProto.FLOAT, "int32": TensorProto.INT32, "int64": TensorProto.INT64}


def main(src, dst, specs):
    model = onnx.load(src)
    g = model.graph
    wanted = {}
    for s in specs:
        name, t = s.split("=")
        wanted[name] = TYPES[t]
    casts_in, casts_out = [], []
    for vi in g.input:
        if vi.name in wanted:
            inner = vi.type.tensor_type.elem_type
            internal = vi.name + "__inner"
            for node in g.node:
                for i, x in enumerate(node.input):
                    if x == vi.name:
                        node.input[i] = internal
            casts_in.append(helper.make_node("Cast", [vi.name], [internal], to=inner))
            vi.type.tensor_type.elem_type = wanted[vi.name]
    for vo in g.output:
        if vo.name in wanted:
            internal = vo.name + "__inner"
            for node in g.node:
                for i, x in enumerate(node.output):
                    if x == vo.name:
                        node.output[i] = internal
            casts_out.append(helper.make_node("Cast", [internal], [vo.name], to=wanted[vo.name]))
            vo.type.tensor_type.elem_type = wanted[vo.name]
    nodes = casts_in + list(g.node) + casts_out
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, dst)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
