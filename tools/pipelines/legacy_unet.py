#!/usr/bin/python3
"""Make the legacy OnnxStableDiffusionPipeline layout of a tiny UNet (Optimum layout: a rank-0 `timestep`): the timestep
becomes a [batch] vector (the graph reads its first entry, every entry being the same in a pipeline), and with
--static-batch N the batch axis of every batched input and output is fixed at N (then guidance runs as separate passes).

    python3 tools/pipelines/legacy_unet.py IN.onnx OUT.onnx [--static-batch 1]

Needs python3-onnx (Debian).
"""

import sys

import onnx
from onnx import TensorProto, helper


def main(src, dst, static_batch):
    model = onnx.load(src)
    g = model.graph
    for vi in g.input:
        if vi.name == "timestep":
            inner = "timestep__scalar"
            for node in g.node:
                for i, x in enumerate(node.input):
                    if x == "timestep":
                        node.input[i] = inner
            zero = helper.make_tensor("timestep__index", TensorProto.INT64, [], [0])
            g.initializer.append(zero)
            g.node.insert(0, helper.make_node("Gather", ["timestep", "timestep__index"], [inner], axis=0))
            dims = vi.type.tensor_type.shape.dim
            del dims[:]
            d = dims.add()
            if static_batch:
                d.dim_value = static_batch
            else:
                d.dim_param = "batch_size"
    if static_batch:
        for vi in list(g.input) + list(g.output):
            if vi.name == "timestep":
                continue
            dims = vi.type.tensor_type.shape.dim
            if len(dims) > 0:
                dims[0].ClearField("dim_param")
                dims[0].dim_value = static_batch
    onnx.checker.check_model(model)
    onnx.save(model, dst)


if __name__ == "__main__":
    args = sys.argv[1:]
    batch = 0
    if "--static-batch" in args:
        i = args.index("--static-batch")
        batch = int(args[i + 1])
        del args[i : i + 2]
    main(args[0], args[1], batch)
