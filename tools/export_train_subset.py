"""Writes the first 1000 Fashion-MNIST training images (the empirical data set used by the C# side).

models/fashion-mnist-train1000.npy         uint8 [1000,28,28] (raw pixels 0..255; scale with x/127.5 - 1)
models/fashion-mnist-train1000-labels.npy  uint8 [1000]
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fashion_data  # noqa: E402

MODELS_DIR = os.path.join(os.path.dirname(HERE), "models")


def main(n=1000):
    images, labels = fashion_data.load("train")
    os.makedirs(MODELS_DIR, exist_ok=True)
    im = np.ascontiguousarray(images[:n], dtype=np.uint8)
    lb = np.ascontiguousarray(labels[:n], dtype=np.uint8)
    np.save(os.path.join(MODELS_DIR, f"fashion-mnist-train{n}.npy"), im)
    np.save(os.path.join(MODELS_DIR, f"fashion-mnist-train{n}-labels.npy"), lb)
    print(f"saved {im.shape} {im.dtype} images (mean {im.mean():.2f}) and {lb.shape} labels, "
          f"class counts {np.bincount(lb, minlength=10).tolist()}")


if __name__ == "__main__":
    main()
