"""Re-export a trained UNet from its checkpoint (tools/<name>.pt, written by train_flow.py / train_eps.py)
without retraining: ONNX + fixture + model card in models/, plus the sampling sanity check.

usage: python3 tools/export_onnx.py flow|eps
(The training scripts already do this at the end of training; the classifier exports itself.)
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train_common as tc  # noqa: E402
from unet import UNet, count_parameters  # noqa: E402


def main():
    which = sys.argv[1]
    mod = {"flow": "train_flow", "eps": "train_eps"}[which]
    module = __import__(mod)
    torch.set_num_threads(2)
    ckpt = torch.load(os.path.join(HERE, f"{module.NAME}.pt"), map_location="cpu")
    model = UNet(base=ckpt["info"].get("base_width", 32))
    if ckpt["info"].get("parameterization", "eps") == "v":
        model = module.EpsilonFromV(model)
    model.load_state_dict(ckpt["ema"])
    model.eval()
    module.finish(model, ckpt["info"], count_parameters(model), tc.MODELS_DIR)


if __name__ == "__main__":
    main()
