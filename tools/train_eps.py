"""Continuous-time VP epsilon-prediction UNet on Fashion-MNIST -> models/fashion-eps-unet.onnx

Noise path (linear betas as in the STORK paper / DDPM): beta(t) = b0 + t (b1 - b0), b0 = 0.1, b1 = 20
(= diffusers' linear betas 1e-4..0.02 times 1000).
log alpha(t) = -t^2 (b1 - b0) / 4 - t b0 / 2, alpha = exp(log alpha), sigma = sqrt(1 - alpha^2).
t ~ U(1e-3, 1), x_t = alpha x0 + sigma e. The network gets t (float in [0,1], not rounded).

--parameterization eps (the first shipped model): the UNet predicts e, MSE loss on e.
--parameterization v: the UNet predicts v = alpha e - sigma x0 (MSE loss on v), and the exported graph converts it to
  epsilon, e = sigma x_t + alpha v, so the model's interface stays epsilon prediction. Why: near t = 1 alpha is 0.0066,
  and the clean image implied by an epsilon output, x0 = (x_t - sigma e) / alpha, carries the network's error times
  1/alpha (x150). A directly predicted epsilon has to be that accurate; the epsilon model trained that way keeps
  pixels far outside [-1, 1] from its first steps (the "speckle"). Through v the implied x0 = alpha x_t - sigma v
  carries the network's error times sigma <= 1.
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_common as tc  # noqa: E402

NAME = "fashion-eps-unet"
DEFAULT_ITERS = 1700
B0, B1 = 0.1, 20.0
T_MIN, T_MAX = 1e-3, 1.0


def log_alpha(t):
    return -t * t * (B1 - B0) / 4.0 - t * B0 / 2.0


def alpha_sigma(t):
    la = log_alpha(t)
    a = torch.exp(la)
    s = torch.sqrt(-torch.expm1(2.0 * la))  # sqrt(1 - alpha^2), accurate for small t
    return a, s


class EpsilonFromV(torch.nn.Module):
    """Epsilon-prediction interface over a v-prediction UNet: e = sigma x_t + alpha v (exported as one graph)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x, t):
        # alpha_sigma's expm1 has no ONNX export at opset 17; 1 - exp(2 log alpha) loses nothing here (sigma >= 0.01).
        la = log_alpha(t.float())
        a = torch.exp(la)[:, None, None, None]
        s = torch.sqrt(1.0 - torch.exp(2.0 * la))[:, None, None, None]
        return s * x + a * self.net(x, t)


def eps_loss(model, x0, gen):
    e = torch.randn(x0.shape, generator=gen)
    t = T_MIN + (T_MAX - T_MIN) * torch.rand(x0.shape[0], generator=gen)
    a, s = alpha_sigma(t)
    a, s = a[:, None, None, None], s[:, None, None, None]
    xt = a * x0 + s * e
    if isinstance(model, EpsilonFromV):
        return F.mse_loss(model.net(xt, t), a * e - s * x0)
    return F.mse_loss(model(xt, t), e)


@torch.no_grad()
def ddim_sample(model, n, steps=50, seed=123):
    """Deterministic DDIM on the continuous VP path, t uniform from 1 to 1e-3 (sanity check only)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((n, 1, 28, 28), generator=g)
    ts = torch.linspace(T_MAX, T_MIN, steps + 1)
    for i in range(steps):
        t, tn = ts[i], ts[i + 1]
        a, s = alpha_sigma(t)
        an, sn = alpha_sigma(tn)
        eps = model(x, torch.full((n,), t.item()))
        x0 = (x - s * eps) / a
        x = an * x0 + sn * eps
    # final denoise at t_min
    a, s = alpha_sigma(ts[-1])
    eps = model(x, torch.full((n,), ts[-1].item()))
    return ((x - s * eps) / a).numpy()


CARD = {"prediction": "epsilon",
        "schedule": {"type": "vp-linear", "beta_min": B0, "beta_max": B1, "t_min": T_MIN, "t_max": T_MAX},
        "time_input": "t"}
EXTRA_INFO = {"t_sampling": "uniform U(0.001, 1)",
              "ema_note": "EMA decay min(0.999, (1+k)/(10+k)); exported weights are the EMA weights"}


def finish(ema_model, info, nparams, models_dir, name=NAME):
    """Export the EMA model (ONNX + fixture + card) and run the sampling sanity check."""
    info = dict(info)
    info.update(EXTRA_INFO)
    param = info.get("parameterization", "eps")
    if param == "v":
        info["parameterization_note"] = ("the UNet predicts v = alpha e - sigma x0 (MSE on v); the graph outputs "
                                         "e = sigma x_t + alpha v")
    cmd = tc.training_command("train_eps.py", DEFAULT_ITERS, info,
                              f" --parameterization {param}" if param != "eps" else "")
    tc.export_unet(ema_model, name, models_dir, CARD, info, nparams, cmd)
    torch.manual_seed(0)
    tc.sample_report(name, ddim_sample(ema_model, 16, steps=50))


def main():
    p = tc.base_args(__doc__, DEFAULT_ITERS)
    p.add_argument("--parameterization", choices=["eps", "v"], default="eps",
                   help="what the UNet predicts (the exported graph always outputs epsilon; see the module docstring)")
    args = p.parse_args()
    name = args.name or NAME
    wrap = EpsilonFromV if args.parameterization == "v" else None
    ema_model, info, nparams = tc.train(args, eps_loss, name, wrap=wrap,
                                        extra_info={"parameterization": args.parameterization})
    finish(ema_model, info, nparams, args.models_dir, name)


if __name__ == "__main__":
    main()
