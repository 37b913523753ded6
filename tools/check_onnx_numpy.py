"""Independent check of an exported ONNX file without onnxruntime: a tiny NumPy interpreter for the
handful of ops these models use, run on the recorded fixture inputs and compared with the recorded
torch outputs.

usage: python3 tools/check_onnx_numpy.py models/fashion-flow-unet.json [more cards...]
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _conv(x, w, b, a):
    pads = a.get("pads", [0, 0, 0, 0])
    strides = a.get("strides", [1, 1])
    assert a.get("group", 1) == 1 and a.get("dilations", [1, 1]) == [1, 1]
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (h + pads[0] + pads[2] - kh) // strides[0] + 1
    ow = (wd + pads[1] + pads[3] - kw) // strides[1] + 1
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i:i + strides[0] * oh:strides[0], j:j + strides[1] * ow:strides[1]]
    y = np.einsum("nckluv,ockl->nouv", cols, w.astype(np.float64), optimize=True)
    if b is not None:
        y = y + b[None, :, None, None]
    return y


def run(model, feeds):
    env = {i.name: numpy_helper.to_array(i).astype(np.float64) if numpy_helper.to_array(i).dtype.kind == "f"
           else numpy_helper.to_array(i) for i in model.graph.initializer}
    env.update({k: (v.astype(np.float64) if v.dtype.kind == "f" else v) for k, v in feeds.items()})
    env[""] = None
    for nd in model.graph.node:
        a = _attrs(nd)
        x = [env[i] if i else None for i in nd.input]
        op = nd.op_type
        if op == "Constant":
            v = numpy_helper.to_array(a["value"])
            y = v.astype(np.float64) if v.dtype.kind == "f" else v
        elif op == "Add":
            y = x[0] + x[1]
        elif op == "Mul":
            y = x[0] * x[1]
        elif op == "Sub":
            y = x[0] - x[1]
        elif op == "Div":
            y = x[0] / x[1]
        elif op == "Sqrt":
            y = np.sqrt(x[0])
        elif op == "Neg":
            y = -x[0]
        elif op == "Sigmoid":
            y = 1.0 / (1.0 + np.exp(-x[0]))
        elif op == "Relu":
            y = np.maximum(x[0], 0)
        elif op in ("Sin", "Cos", "Exp"):
            y = getattr(np, op.lower())(x[0])
        elif op == "Cast":
            y = x[0].astype(np.float64) if a["to"] in (1, 11) else x[0].astype(np.int64)
        elif op == "Shape":
            y = np.array(x[0].shape, dtype=np.int64)
        elif op == "Unsqueeze":
            y = x[0]
            for ax in sorted(int(v) for v in np.atleast_1d(x[1])):
                y = np.expand_dims(y, ax if ax >= 0 else ax + y.ndim + 1)
        elif op == "Concat":
            y = np.concatenate(x, axis=a["axis"])
        elif op == "Reshape":
            shape = [int(s) for s in x[1]]
            shape = [x[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
            y = x[0].reshape(shape)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = x[0].reshape(int(np.prod(x[0].shape[:ax])), -1)
        elif op == "Gemm":
            A = x[0].T if a.get("transA", 0) else x[0]
            B = x[1].T if a.get("transB", 0) else x[1]
            y = a.get("alpha", 1.0) * A @ B + (a.get("beta", 1.0) * x[2] if len(x) > 2 and x[2] is not None else 0)
        elif op == "Conv":
            y = _conv(x[0], x[1], x[2] if len(x) > 2 else None, a)
        elif op == "MaxPool":
            assert a["kernel_shape"] == [2, 2] and a.get("strides") == [2, 2] and not any(a.get("pads", [0]))
            n, c, h, w = x[0].shape
            y = x[0][:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
        elif op == "InstanceNormalization":
            v = x[0]
            axes = tuple(range(2, v.ndim))
            m = v.mean(axis=axes, keepdims=True)
            var = ((v - m) ** 2).mean(axis=axes, keepdims=True)
            sh = (1, -1) + (1,) * (v.ndim - 2)
            y = (v - m) / np.sqrt(var + a.get("epsilon", 1e-5)) * x[1].reshape(sh) + x[2].reshape(sh)
        elif op == "Resize":
            assert a.get("mode", b"nearest") in (b"nearest", "nearest")
            scales = x[2]
            assert list(scales) == [1.0, 1.0, 2.0, 2.0]
            assert a.get("coordinate_transformation_mode", b"") in (b"asymmetric", "asymmetric")
            y = x[0].repeat(2, axis=2).repeat(2, axis=3)
        else:
            raise NotImplementedError(op)
        for o in nd.output:
            env[o] = y
    return [env[o.name] for o in model.graph.output]


def check(card_path):
    d = os.path.dirname(os.path.abspath(card_path))
    card = json.load(open(card_path))
    model = onnx.load(os.path.join(d, card["onnx"]))
    fx = card["fixture"]
    ld = lambda k: np.load(os.path.join(d, fx[k]))  # noqa: E731
    if card["kind"] == "denoiser":
        feeds = {card["inputs"]["sample"]: ld("x"), card["inputs"]["time"]: ld("t")}
        expected = {card["output"]: ld("out")}
    else:
        feeds = {card["inputs"]["image"]: ld("x")}
        expected = {card["outputs"]["features"]: ld("features"), card["outputs"]["logits"]: ld("logits")}
    outs = run(model, feeds)
    ok = True
    for o, y in zip(model.graph.output, outs):
        e = expected[o.name]
        err = np.abs(y - e).max()
        rel = err / max(1e-12, np.abs(e).max())
        print(f"{card['name']}: output {o.name} shape {y.shape} max abs diff vs torch {err:.3e} (rel {rel:.2e})")
        ok &= y.shape == e.shape and rel < 1e-4
    return ok


if __name__ == "__main__":
    results = [check(p) for p in sys.argv[1:]]
    print("OK" if all(results) else "MISMATCH")
    sys.exit(0 if all(results) else 1)
