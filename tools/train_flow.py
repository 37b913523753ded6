"""Rectified-flow (velocity-prediction) UNet on Fashion-MNIST -> models/fashion-flow-unet.onnx

Path: x_s = (1 - s) * x0 + s * e, x0 = data in [-1,1], e ~ N(0, I), s ~ U(0, 1) (uniform).
Target velocity v = e - x0 (= dx_s/ds), MSE loss. The network gets s ("sigma", float in [0,1]).
Sampling convention: integrate dx/ds = v(x, s) from s = 1 (pure noise) to s = 0 (data).
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_common as tc  # noqa: E402

NAME = "fashion-flow-unet"
DEFAULT_ITERS = 2200


def flow_loss(model, x0, gen):
    e = torch.randn(x0.shape, generator=gen)
    s = torch.rand(x0.shape[0], generator=gen)
    sb = s[:, None, None, None]
    xs = (1.0 - sb) * x0 + sb * e
    return F.mse_loss(model(xs, s), e - x0)


@torch.no_grad()
def euler_sample(model, n, steps=50, seed=123):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((n, 1, 28, 28), generator=g)
    s_grid = torch.linspace(1.0, 0.0, steps + 1)
    for i in range(steps):
        s, s_next = s_grid[i].item(), s_grid[i + 1].item()
        v = model(x, torch.full((n,), s))
        x = x + (s_next - s) * v
    return x.numpy()


CARD = {"prediction": "flow", "schedule": {"type": "rectified-flow"}, "time_input": "sigma"}
EXTRA_INFO = {"sigma_sampling": "uniform U(0,1)",
              "ema_note": "EMA decay min(0.999, (1+k)/(10+k)); exported weights are the EMA weights"}


def finish(ema_model, info, nparams, models_dir, name=NAME):
    """Export the EMA model (ONNX + fixture + card) and run the sampling sanity check."""
    info = dict(info)
    info.update(EXTRA_INFO)
    cmd = tc.training_command("train_flow.py", DEFAULT_ITERS, info)
    tc.export_unet(ema_model, name, models_dir, CARD, info, nparams, cmd)
    torch.manual_seed(0)
    tc.sample_report(name, euler_sample(ema_model, 16, steps=50))


def main():
    p = tc.base_args(__doc__, DEFAULT_ITERS)
    args = p.parse_args()
    name = args.name or NAME
    ema_model, info, nparams = tc.train(args, flow_loss, name)
    finish(ema_model, info, nparams, args.models_dir, name)


if __name__ == "__main__":
    main()
