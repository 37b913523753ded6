"""Fashion-MNIST loader (IDX gz files from the Debian package dataset-fashion-mnist).

No torchvision: plain gzip + numpy.
"""
import gzip
import os

import numpy as np

DATA_DIR = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    dtype_code = (magic >> 8) & 0xFF
    if dtype_code != 0x08:
        raise ValueError(f"{path}: unsupported IDX dtype 0x{dtype_code:02x}")
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    arr = np.frombuffer(data, dtype=np.uint8, offset=offset)
    return arr.reshape(shape).copy()


def load(split="train"):
    """Returns (images uint8 [N,28,28], labels uint8 [N]). split: 'train' or 'test'."""
    prefix = {"train": "train", "test": "t10k"}[split]
    images = _read_idx(os.path.join(DATA_DIR, f"{prefix}-images-idx3-ubyte.gz"))
    labels = _read_idx(os.path.join(DATA_DIR, f"{prefix}-labels-idx1-ubyte.gz"))
    assert images.shape[0] == labels.shape[0]
    return images, labels


def to_unit_range(images_uint8):
    """uint8 [N,28,28] -> float32 [N,1,28,28] in [-1,1] via x/127.5 - 1."""
    x = images_uint8.astype(np.float32) / 127.5 - 1.0
    return x[:, None, :, :]


if __name__ == "__main__":
    for s in ("train", "test"):
        im, lb = load(s)
        print(s, im.shape, im.dtype, lb.shape, lb.min(), lb.max(), im.mean())
