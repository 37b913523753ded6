"""Small CNN classifier on Fashion-MNIST -> models/fashion-classifier.onnx (+ test-set feature statistics)

Input x: float32 [batch,1,28,28] in [-1,1] (x/127.5 - 1). Outputs: features [batch,128] (the penultimate
layer: output of the 128-unit linear layer, before its ReLU) and logits [batch,10].
Also writes the float64 mean [128] and covariance [128,128] (np.cov, ddof=1) of the features of the
10,000 test images, for FID-like metrics.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fashion_data  # noqa: E402

NAME = "fashion-classifier"
MODELS_DIR = os.path.join(os.path.dirname(HERE), "models")
OPSET = 17
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


class Classifier(nn.Module):
    def __init__(self, feature_dim=128):
        super().__init__()
        self.feature_dim = feature_dim

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        self.body = nn.Sequential(
            *block(1, 32), nn.MaxPool2d(2),                   # 14x14
            *block(32, 64), *block(64, 64), nn.MaxPool2d(2),  # 7x7
            *block(64, 128),
        )
        self.fc = nn.Linear(128 * 7 * 7, feature_dim)
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(feature_dim, 10)

    def forward(self, x):
        h = self.body(x).flatten(1)
        features = self.fc(h)
        logits = self.head(self.drop(F.relu(features)))
        return features, logits


class PooledClassifier(nn.Module):
    """A second, differently built feature extractor for cross-checking Frechet distances: residual stages
    32/64/128 with strided downsampling and the features taken Inception-style, as the global average pool of
    the last stage after its ReLU (128-d), not a trained linear layer."""

    def __init__(self, width=32):
        super().__init__()

        def conv(cin, cout, stride=1):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout))

        class Res(nn.Module):
            def __init__(self, cin, cout, stride):
                super().__init__()
                self.a = conv(cin, cout, stride)
                self.b = conv(cout, cout)
                self.skip = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
                             if stride != 1 or cin != cout else nn.Identity())

            def forward(self, x):
                return F.relu(self.b(F.relu(self.a(x))) + self.skip(x))

        w = width
        self.stem = nn.Sequential(conv(1, w), nn.ReLU())
        self.body = nn.Sequential(Res(w, w, 1), Res(w, 2 * w, 2), Res(2 * w, 4 * w, 2))  # 28 -> 14 -> 7
        self.feature_dim = 4 * w
        self.head = nn.Linear(4 * w, 10)

    def forward(self, x):
        features = self.body(self.stem(x)).mean(dim=(2, 3))
        return features, self.head(features)


@torch.no_grad()
def evaluate(model, x, y, batch=500):
    model.eval()
    feats, correct = [], 0
    for i in range(0, x.shape[0], batch):
        f, lg = model(x[i:i + batch])
        feats.append(f)
        correct += (lg.argmax(1) == y[i:i + batch]).sum().item()
    return torch.cat(feats).double().numpy(), correct / x.shape[0]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--models-dir", default=MODELS_DIR)
    p.add_argument("--name", default=NAME)
    p.add_argument("--arch", choices=["cnn", "pooled"], default="cnn",
                   help="cnn: the shipped classifier; pooled: residual stages with global-average-pooled features")
    p.add_argument("--flip", type=int, default=1, help="random horizontal flips in training (1) or none (0)")
    p.add_argument("--max-iters", type=int, default=0, help="smoke test only: stop after this many iterations")
    args = p.parse_args()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    tr_im, tr_lb = fashion_data.load("train")
    te_im, te_lb = fashion_data.load("test")
    xtr = torch.from_numpy(fashion_data.to_unit_range(tr_im))
    ytr = torch.from_numpy(tr_lb.astype(np.int64))
    xte = torch.from_numpy(fashion_data.to_unit_range(te_im))
    yte = torch.from_numpy(te_lb.astype(np.int64))
    gen = torch.Generator().manual_seed(args.seed + 1)

    model = Classifier() if args.arch == "cnn" else PooledClassifier()
    nparams = sum(q.numel() for q in model.parameters())
    print(f"[{args.name}] parameters: {nparams}", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    n = xtr.shape[0]
    per_epoch = n // args.batch
    total = per_epoch * args.epochs
    it = 0
    t0 = time.time()
    losses = []
    for ep in range(args.epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        for b in range(per_epoch):
            idx = perm[b * args.batch:(b + 1) * args.batch]
            xb = xtr[idx]
            # light augmentation: random horizontal flip
            flip = (torch.rand(xb.shape[0], generator=gen) < 0.5) & bool(args.flip)
            xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            lr = args.lr * 0.5 * (1 + math.cos(math.pi * it / total))
            for g in opt.param_groups:
                g["lr"] = lr
            _, logits = model(xb)
            loss = F.cross_entropy(logits, ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            it += 1
            if it % 100 == 0 or it == 1:
                print(f"[{args.name}] ep {ep + 1} it {it}/{total} loss {np.mean(losses[-100:]):.4f} "
                      f"elapsed {time.time() - t0:.1f}s", flush=True)
            if args.max_iters and it >= args.max_iters:
                break
        if args.max_iters and it >= args.max_iters:
            break
        _, acc = evaluate(model, xte, yte)
        print(f"[{args.name}] epoch {ep + 1} test accuracy {acc:.4f}", flush=True)
    wall = time.time() - t0
    model.eval()
    feats, acc = evaluate(model, xte, yte)
    print(f"[{args.name}] training done in {wall / 60:.2f} min; final test accuracy {acc:.4f}", flush=True)
    torch.save(model.state_dict(), os.path.join(HERE, f"{args.name}.pt"))

    os.makedirs(args.models_dir, exist_ok=True)
    mean = feats.mean(axis=0)
    cov = np.cov(feats, rowvar=False)
    np.save(os.path.join(args.models_dir, f"{args.name}.test-mean.npy"), np.ascontiguousarray(mean, dtype=np.float64))
    np.save(os.path.join(args.models_dir, f"{args.name}.test-cov.npy"), np.ascontiguousarray(cov, dtype=np.float64))
    ev = np.linalg.eigvalsh(cov)
    print(f"[{args.name}] test features: mean norm {np.linalg.norm(mean):.3f}, cov eig min {ev.min():.3e} "
          f"max {ev.max():.3e}", flush=True)

    onnx_path = os.path.join(args.models_dir, f"{args.name}.onnx")
    with torch.no_grad():
        torch.onnx.export(model, (torch.randn(3, 1, 28, 28),), onnx_path, opset_version=OPSET,
                          input_names=["x"], output_names=["features", "logits"],
                          dynamic_axes={"x": {0: "batch"}, "features": {0: "batch"}, "logits": {0: "batch"}},
                          do_constant_folding=True)
    import onnx
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)
    print(f"[{args.name}] exported {onnx_path} ({os.path.getsize(onnx_path) / 2 ** 20:.2f} MiB), ops "
          f"{sorted(set(nd.op_type for nd in m.graph.node))}", flush=True)

    # fixture: the first two test images
    fx_x = fashion_data.to_unit_range(te_im[:2]).astype(np.float32)
    with torch.no_grad():
        f, lg = model(torch.from_numpy(fx_x))
    fx = {"x": f"{args.name}.fixture-x.npy", "features": f"{args.name}.fixture-features.npy",
          "logits": f"{args.name}.fixture-logits.npy"}
    np.save(os.path.join(args.models_dir, fx["x"]), fx_x)
    np.save(os.path.join(args.models_dir, fx["features"]), f.numpy().astype(np.float32))
    np.save(os.path.join(args.models_dir, fx["logits"]), lg.numpy().astype(np.float32))
    print(f"[{args.name}] fixture: labels {te_lb[:2].tolist()} predicted {lg.argmax(1).tolist()}", flush=True)

    card = {
        "name": args.name,
        "kind": "classifier",
        "onnx": f"{args.name}.onnx",
        "inputs": {"image": "x"},
        "outputs": {"features": "features", "logits": "logits"},
        "feature_dim": model.feature_dim,
        "num_classes": 10,
        "classes": CLASSES,
        "layout": "NCHW",
        "sample_shape": [1, 28, 28],
        "dtype": "float32",
        "data_range": [-1.0, 1.0],
        "opset": OPSET,
        "architecture": ("CNN: conv32-BN-ReLU, maxpool, conv64-BN-ReLU, conv64-BN-ReLU, maxpool, conv128-BN-ReLU, "
                         "flatten(6272) -> linear 128 = features (pre-ReLU), ReLU, dropout 0.3, linear 10 = logits")
        if args.arch == "cnn" else
        (f"ResNet-style: conv{model.feature_dim // 4}-BN-ReLU stem, residual blocks {model.feature_dim // 4}/"
         f"{model.feature_dim // 2} (stride 2)/{model.feature_dim} (stride 2), global average pool after ReLU = "
         f"features ({model.feature_dim}-d), linear 10 = logits"),
        "parameters": nparams,
        "test_accuracy": round(acc, 4),
        "data": "Fashion-MNIST training set (60,000 images), Debian package dataset-fashion-mnist; "
                "test statistics from the 10,000-image test set",
        "training": {"epochs": args.epochs, "iterations": it, "batch": args.batch,
                     "optimizer": "AdamW(weight_decay=1e-4), cosine lr decay to 0" + (", random horizontal flips" if args.flip else ""),
                     "lr": args.lr, "seed": args.seed, "final_loss": round(float(np.mean(losses[-100:])), 6),
                     "wall_minutes": round(wall / 60.0, 2), "threads": args.threads},
        "command": "python3 tools/train_classifier.py" + (f" --threads {args.threads}" if args.threads != 2 else "")
        + ("" if args.arch == "cnn" else f" --arch {args.arch}") + (f" --name {args.name}" if args.name != NAME else "")
        + (f" --seed {args.seed}" if args.seed != 0 else "") + (f" --epochs {args.epochs}" if args.epochs != 2 else "")
        + ("" if args.flip else " --flip 0"),
        "fixture": fx,
        "fixture_labels": te_lb[:2].tolist(),
        "test_stats": {"mean": f"{args.name}.test-mean.npy", "cov": f"{args.name}.test-cov.npy",
                       "images": 10000, "dtype": "float64", "cov_ddof": 1},
    }
    with open(os.path.join(args.models_dir, f"{args.name}.json"), "w") as fh:
        json.dump(card, fh, indent=2)
        fh.write("\n")
    print(f"[{args.name}] wrote card", flush=True)


if __name__ == "__main__":
    main()
