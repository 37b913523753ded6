"""Makes the tiny ONNX models the C# tests run (tests/Stork.Tests/Data/onnx). Dev-time only; tests never run Python.

python3 tools/make_tiny_onnx.py  (torch + onnx; deterministic weights from a fixed seed)
"""
import json
import os

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "Stork.Tests", "Data", "onnx")


class TinyDenoiser(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.c2 = torch.nn.Conv2d(4, 1, 3, padding=1)
        self.emb = torch.nn.Linear(1, 4)

    def forward(self, x, t):
        h = self.c1(x) + self.emb(t[:, None])[:, :, None, None]
        return self.c2(torch.nn.functional.silu(h)) - 0.5 * x


class TinyClassifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x):
        f = torch.nn.functional.relu(self.c1(x)).mean(dim=(2, 3))
        return f, self.fc(f)


def save(name, card):
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")


def write_denoiser(name, dtype, x, t, out, den):
    np.save(os.path.join(OUT, name + ".fixture-x.npy"), x)
    np.save(os.path.join(OUT, name + ".fixture-t.npy"), t)
    np.save(os.path.join(OUT, name + ".fixture-out.npy"), out)
    save(name, {
        "name": name, "onnx": name + ".onnx", "kind": "denoiser", "prediction": "flow",
        "schedule": {"type": "rectified-flow"}, "time_input": "sigma",
        "inputs": {"sample": "x", "time": "t"}, "output": "out", "layout": "NCHW", "sample_shape": [1, 8, 8],
        "dtype": dtype, "data_range": [-1.0, 1.0], "opset": 17, "architecture": "2 convolutions (test model)",
        "parameters": sum(p.numel() for p in den.parameters()), "data": "none (random weights)",
        "training": {}, "command": "python3 tools/make_tiny_onnx.py",
        "fixture": {"x": name + ".fixture-x.npy", "t": name + ".fixture-t.npy", "out": name + ".fixture-out.npy"},
    })


def main():
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 1, 8, 8)).astype(np.float32)
    t = np.array([0.9, 0.5, 0.05], dtype=np.float32)

    den = TinyDenoiser().eval()
    name = "tiny-flow"
    torch.onnx.export(den, (torch.from_numpy(x), torch.from_numpy(t)), os.path.join(OUT, name + ".onnx"),
                      input_names=["x", "t"], output_names=["out"],
                      dynamic_axes={"x": {0: "batch"}, "t": {0: "batch"}, "out": {0: "batch"}}, opset_version=17)
    with torch.no_grad():
        out = den(torch.from_numpy(x), torch.from_numpy(t)).numpy()
    write_denoiser(name, "float32", x, t, out, den)

    # The same network behind float16 inputs and output (Cast nodes at the boundary): tests the fp16 conversion.
    m = onnx.load(os.path.join(OUT, name + ".onnx"))
    g = m.graph
    for node in g.node:
        node.input[:] = [{"x": "x32", "t": "t32"}.get(i, i) for i in node.input]
        node.output[:] = ["out32" if o == "out" else o for o in node.output]
    casts = [helper.make_node("Cast", ["x"], ["x32"], to=TensorProto.FLOAT),
             helper.make_node("Cast", ["t"], ["t32"], to=TensorProto.FLOAT)]
    g.node.insert(0, casts[1])
    g.node.insert(0, casts[0])
    g.node.append(helper.make_node("Cast", ["out32"], ["out"], to=TensorProto.FLOAT16))
    for v in list(g.input) + list(g.output):
        v.type.tensor_type.elem_type = TensorProto.FLOAT16
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(OUT, name + "-fp16.onnx"))
    x16, t16 = x.astype(np.float16), t.astype(np.float16)
    with torch.no_grad():
        out16 = den(torch.from_numpy(x16.astype(np.float32)), torch.from_numpy(t16.astype(np.float32))).numpy().astype(np.float16)
    write_denoiser(name + "-fp16", "float16", x16.astype(np.float32), t16.astype(np.float32), out16.astype(np.float32), den)

    cls = TinyClassifier().eval()
    xc = torch.from_numpy(x)
    torch.onnx.export(cls, (xc,), os.path.join(OUT, "tiny-classifier.onnx"), input_names=["x"], output_names=["features", "logits"],
                      dynamic_axes={"x": {0: "batch"}, "features": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17)
    with torch.no_grad():
        f, l = cls(xc)
    np.save(os.path.join(OUT, "tiny-classifier.fixture-x.npy"), x)
    np.save(os.path.join(OUT, "tiny-classifier.fixture-features.npy"), f.numpy())
    np.save(os.path.join(OUT, "tiny-classifier.fixture-logits.npy"), l.numpy())
    np.save(os.path.join(OUT, "tiny-classifier.stats-mean.npy"), np.zeros(4))
    np.save(os.path.join(OUT, "tiny-classifier.stats-cov.npy"), np.eye(4))
    save("tiny-classifier", {
        "name": "tiny-classifier", "onnx": "tiny-classifier.onnx", "kind": "classifier",
        "inputs": {"image": "x"}, "outputs": {"features": "features", "logits": "logits"}, "feature_dim": 4,
        "num_classes": 3, "classes": ["zero", "one", "two"], "layout": "NCHW", "sample_shape": [1, 8, 8], "dtype": "float32", "data_range": [-1.0, 1.0], "opset": 17,
        "test_accuracy": 0.0,
        "fixture": {"x": "tiny-classifier.fixture-x.npy", "features": "tiny-classifier.fixture-features.npy",
                    "logits": "tiny-classifier.fixture-logits.npy"},
        "test_stats": {"mean": "tiny-classifier.stats-mean.npy", "cov": "tiny-classifier.stats-cov.npy",
                       "images": 3, "dtype": "float64", "cov_ddof": 1},
        "fixture_labels": [0, 1, 2],
    })


if __name__ == "__main__":
    main()
